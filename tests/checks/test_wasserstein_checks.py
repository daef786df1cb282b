"""The gradient penalty's check (notebook 11): right answers written many ways pass, each known mistake fails
with its hint, and the verdict does not depend on the draw."""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from check_helpers import fails_with, stub
from gan_helpers import checks, losses
from gan_helpers.checks import wasserstein

check = checks.test_gradient_penalty


def penalty(critic, real, fake, weight=10.0, *, draw=None, mix=None, norm=None, gradient_of=None, finish=None,
            call=None):
    """A learner's gradient penalty; each keyword replaces one part of the right one with another way (or a mistake).

    draw(real) -> weights broadcastable to real; mix(eps, real, fake) -> x_hat; call(critic, x_hat) -> scores;
    gradient_of(tape, scores, x_hat, real, fake) -> gradients; norm(g) -> (B,) norms; finish(norms, weight) -> scalar.
    """
    batch = tf.shape(real)[0]
    eps = draw(real) if draw else tf.random.uniform((batch, 1, 1, 1))
    with tf.GradientTape(persistent=gradient_of is not None) as tape:
        tape.watch([real, fake])
        x_hat = mix(eps, real, fake) if mix else eps * real + (1.0 - eps) * fake
        tape.watch(x_hat)
        scores = call(critic, x_hat) if call else critic(x_hat, training=True)
    g = gradient_of(tape, scores, x_hat, real, fake) if gradient_of else tape.gradient(scores, x_hat)
    norms = norm(g) if norm else tf.sqrt(tf.reduce_sum(tf.square(g), axis=[1, 2, 3]) + 1e-12)
    return finish(norms, weight) if finish else weight * tf.reduce_mean(tf.square(norms - 1.0))


def variant(**parts):
    return lambda critic, real, fake, weight=10.0: penalty(critic, real, fake, weight, **parts)


def flat(g):
    return tf.reshape(g, (tf.shape(g)[0], -1))


def keras_ops_penalty(critic, real, fake, weight=10.0):
    ops = keras.ops
    eps = keras.random.uniform((ops.shape(real)[0], 1, 1, 1))
    x_hat = real + eps * (fake - real)  # the official code's form: eps weighs the fake here, same distribution
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat, training=True)
    g = tape.gradient(scores, x_hat)
    norms = ops.sqrt(ops.sum(ops.square(g), axis=[1, 2, 3]) + 1e-10)
    return weight * ops.mean((norms - 1.0) ** 2)


@tf.function
def compiled_penalty(critic, real, fake, weight=10.0):
    return losses.gradient_penalty(critic, real, fake, weight)


def penalty_with_unused_scores(critic, real, fake, weight=10.0):
    """Scores the real and fake batches too (and ignores them): the critic sees three batches."""
    critic(real), critic(fake)
    return losses.gradient_penalty(critic, real, fake, weight)


def batch_jacobian_penalty(critic, real, fake, weight=10.0):
    eps = tf.random.uniform((tf.shape(real)[0], 1, 1, 1))
    x_hat = fake + eps * (real - fake)
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat, training=True)
    jacobian = tape.batch_jacobian(scores, x_hat)  # (B, 1, H, W, C)
    norms = tf.sqrt(tf.reduce_sum(tf.square(flat(jacobian)), axis=1) + 1e-12)
    return weight * tf.reduce_mean((norms - 1.0) ** 2)


RIGHT = {
    "the library's": losses.gradient_penalty,
    "reshape to (B, -1)": variant(norm=lambda g: tf.sqrt(tf.reduce_sum(flat(g) ** 2, axis=1) + 1e-12)),
    "tf.norm of g + epsilon": variant(norm=lambda g: tf.norm(flat(g) + 1e-12, axis=1)),
    "epsilon 1e-8 in tf.sqrt": variant(norm=lambda g: tf.sqrt(tf.reduce_sum(g**2, axis=[1, 2, 3]) + 1e-8)),
    "epsilon 1e-6 in tf.sqrt": variant(norm=lambda g: tf.sqrt(tf.reduce_sum(g**2, axis=[1, 2, 3]) + 1e-6)),
    "tf.maximum under the root": variant(norm=lambda g: tf.sqrt(tf.maximum(tf.reduce_sum(g**2, axis=[1, 2, 3]), 1e-12))),
    "weights of shape (B,), reshaped": variant(draw=lambda r: tf.reshape(tf.random.uniform(tf.shape(r)[:1]), (-1, 1, 1, 1))),
    "weights of shape (B,), indexed": variant(draw=lambda r: tf.random.uniform(tf.shape(r)[:1])[:, None, None, None]),
    "keras.ops and keras.random": keras_ops_penalty,
    "a tf.function": compiled_penalty,
    "scores of real and fake computed too": penalty_with_unused_scores,
    "batch_jacobian": batch_jacobian_penalty,
    "(norm - 1) ** 2 via tf.math.squared_difference": variant(
        finish=lambda n, w: w * tf.reduce_mean(tf.math.squared_difference(n, 1.0))),
}


@pytest.mark.parametrize("name", sorted(RIGHT))
def test_right_answers_pass(name, capsys):
    check(RIGHT[name])
    assert capsys.readouterr().out.startswith("test_gradient_penalty passed (max relative error")


def uniform_per_pixel(r):
    return tf.random.uniform(tf.shape(r))


def static_batch(r):
    return tf.random.uniform((r.shape[0], 1, 1, 1))


def numpy_draw(r):
    return np.random.uniform(size=(8 if r.shape[0] == 8 else 1024, 1, 1, 1)).astype(np.float32)


def numpy_draw_dynamic(r):
    """np.random inside tf.numpy_function would be fine; drawing with numpy at trace time is not."""
    return tf.constant(np.random.uniform(size=(1024, 1, 1, 1)).astype(np.float32))[: tf.shape(r)[0]]


def gradient_wrt(which):
    def gradient_of(tape, scores, x_hat, real, fake):
        return tape.gradient(scores, real if which == "real" else fake)
    return gradient_of


MISTAKES = {
    "Gaussian weights": (variant(draw=lambda r: tf.random.normal((tf.shape(r)[0], 1, 1, 1))), "look Gaussian"),
    "one weight for the batch": (variant(draw=lambda r: tf.random.uniform(())), "one weight for the whole batch"),
    "one weight for the batch, shaped (1, 1, 1, 1)": (
        variant(draw=lambda r: tf.random.uniform((1, 1, 1, 1))), "one weight for the whole batch"),
    "norm over the whole batch": (variant(norm=lambda g: tf.sqrt(tf.reduce_sum(g**2) + 1e-12)), "over the whole batch"),
    "tf.norm over the whole batch": (variant(norm=lambda g: tf.norm(g + 1e-12)), "over the whole batch"),
    "no square": (variant(finish=lambda n, w: w * tf.reduce_mean(n - 1.0)), r"\(norm - 1\) is not squared"),
    "absolute value": (variant(finish=lambda n, w: w * tf.reduce_mean(tf.abs(n - 1.0))), "not squared"),
    "no epsilon": (variant(norm=lambda g: tf.sqrt(tf.reduce_sum(g**2, axis=[1, 2, 3]))), "small epsilon under"),
    "tf.norm without epsilon": (variant(norm=lambda g: tf.norm(flat(g), axis=1)), "small epsilon under"),
    "epsilon outside the root": (
        variant(norm=lambda g: tf.norm(flat(g), axis=1) + 1e-12), "small epsilon under"),
    "real images only": (variant(mix=lambda e, r, f: r), "real images only"),
    "fake images only": (variant(mix=lambda e, r, f: f), "fake images only"),
    "real and fake, no interpolation": (
        variant(mix=lambda e, r, f: tf.concat([r[: tf.shape(r)[0] // 2], f[tf.shape(r)[0] // 2:]], 0)),
        "never between them"),
    "one weight per pixel": (variant(draw=uniform_per_pixel), "different weight for every pixel"),
    "weights in [-1, 1]": (
        variant(draw=lambda r: tf.random.uniform((tf.shape(r)[0], 1, 1, 1), -1.0, 1.0)), r"uniform in \[-1, 1\]"),
    "not uniform": (variant(draw=lambda r: tf.random.uniform((tf.shape(r)[0], 1, 1, 1)) ** 3), "not uniform"),
    "the midpoint": (variant(draw=lambda r: 0.5 * tf.ones((tf.shape(r)[0], 1, 1, 1))), "one weight for the whole batch"),
    "squared norm": (variant(norm=lambda g: tf.reduce_sum(g**2, axis=[1, 2, 3])), "no square root"),
    "one-sided": (variant(finish=lambda n, w: w * tf.reduce_mean(tf.nn.relu(n - 1.0) ** 2)), "one-sided"),
    "sum over the batch": (variant(finish=lambda n, w: w * tf.reduce_sum((n - 1.0) ** 2)), "sum over the batch"),
    "mean of the norms first": (variant(finish=lambda n, w: w * (tf.reduce_mean(n) - 1.0) ** 2), "averaged before"),
    "gradient of the mean score": (
        variant(call=lambda critic, x: tf.reduce_mean(critic(x, training=True))), "1/N of the critic's"),
    "critic called without training=True": (variant(call=lambda critic, x: critic(x)), "without training=True"),
    "critic called with training=False": (
        variant(call=lambda critic, x: critic(x, training=False)), "without training=True"),
    "weight ignored": (variant(finish=lambda n, w: 10.0 * tf.reduce_mean((n - 1.0) ** 2)), "always 10"),
    "weight not applied": (variant(finish=lambda n, w: tf.reduce_mean((n - 1.0) ** 2)), "not applied"),
    "norm per channel": (
        variant(norm=lambda g: tf.sqrt(tf.reduce_sum(g**2, axis=[1, 2]) + 1e-12)), "per channel"),
    "norm per pixel": (variant(norm=lambda g: tf.sqrt(tf.reduce_sum(g**2, axis=3) + 1e-12)), "last axis only"),
    "gradient with respect to the real images": (variant(gradient_of=gradient_wrt("real")), "respect to the real"),
    "gradient with respect to the fake images": (variant(gradient_of=gradient_wrt("fake")), "respect to the fake"),
    "static batch size": (variant(draw=static_batch), r"tf.shape\(real\)\[0\]"),
    "numpy draw": (variant(draw=numpy_draw), "tf.random.uniform"),
    "numpy draw frozen by tracing": (variant(draw=numpy_draw_dynamic), "same interpolation weights at both calls"),
    "a fixed stateless seed": (
        variant(draw=lambda r: tf.random.stateless_uniform((tf.shape(r)[0], 1, 1, 1), seed=(1, 2))),
        "same interpolation weights"),
    "no gradient reaching the critic": (
        variant(norm=lambda g: tf.stop_gradient(tf.sqrt(tf.reduce_sum(g**2, axis=[1, 2, 3]) + 1e-12))),
        "does not depend on the critic's weights"),
}


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_known_mistakes_fail_with_their_hint(name):
    function, hint = MISTAKES[name]
    error = fails_with(check, function, match="test_gradient_penalty failed")
    assert "Hint:" in str(error)
    assert re.search(hint, str(error)), str(error)


def test_a_missing_tape_watch_is_explained():
    def no_watch(critic, real, fake, weight=10.0):
        eps = tf.random.uniform((tf.shape(real)[0], 1, 1, 1))
        x_hat = eps * real + (1.0 - eps) * fake
        with tf.GradientTape() as tape:
            scores = critic(x_hat)
        g = tape.gradient(scores, x_hat)
        return weight * tf.reduce_mean((tf.norm(g, axis=[1, 2]) - 1.0) ** 2)

    fails_with(check, no_watch, match="(?s)raised.*tape.watch")


def test_a_three_axis_tf_norm_is_explained():
    fails_with(check, variant(norm=lambda g: tf.norm(g, axis=[1, 2, 3])), match="(?s)raised.*at most two axes")


def test_a_missing_weight_parameter_is_explained():
    fails_with(check, lambda critic, real, fake: losses.gradient_penalty(critic, real, fake),
               match="(?s)fourth argument")


def test_a_vector_of_penalties_is_explained():
    fails_with(check, variant(finish=lambda n, w: w * (n - 1.0) ** 2), match="(?s)shape.*mean over the batch")


def test_the_unwritten_exercise_is_explained():
    fails_with(check, stub, match="not implemented yet")


def test_a_right_answer_passes_whatever_the_seed(capsys):
    """Different global seeds, different draws: the same verdict (the statistical part's false alarm rate is < 1e-12)."""
    for seed in range(5):
        tf.random.set_seed(seed)
        check(losses.gradient_penalty)
    assert capsys.readouterr().out.count("passed") == 5


def test_the_uniformity_bound_is_as_documented():
    """The Kolmogorov-Smirnov bound's false alarm rate for a right answer (DKW) is below 1e-12."""
    assert 2 * np.exp(-2 * wasserstein.BOWL_BATCH * wasserstein.UNIFORM_TOLERANCE**2) < 1e-12
    real, fake, _ = wasserstein._bowl_inputs()
    assert np.min(np.abs(real - fake)) >= wasserstein.MIN_PIXEL_GAP - 1e-6
