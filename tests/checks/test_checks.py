"""The checks pass every reference implementation and fail plausible student mistakes with the right hint."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from check_helpers import fails_with, stub
from gan_helpers import checks, losses, models, ops
from gan_helpers.checks import values as check_values
from gan_helpers.cli import main


# ---------------------------------------------------------------- references pass


@pytest.mark.parametrize(
    "check, arguments",
    [
        (checks.test_leaky_relu, (ops.leaky_relu,)),
        (checks.test_sample_noise, (ops.sample_noise,)),
        (checks.test_discriminator, (models.discriminator,)),
        (checks.test_generator, (models.generator,)),
        (checks.test_discriminator_loss, (losses.discriminator_loss,)),
        (checks.test_generator_loss, (losses.generator_loss,)),
        (checks.test_lsgan_loss, (losses.ls_discriminator_loss, losses.ls_generator_loss)),
    ],
)
def test_reference_passes_with_one_line(check, arguments, capsys):
    check(*arguments)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{check.__name__} passed (max relative error")


def test_other_correct_student_solutions_pass(capsys):
    checks.test_leaky_relu(lambda x, alpha=0.01: tf.where(x > 0, x, alpha * x))
    checks.test_leaky_relu(lambda x, alpha=0.01: keras.ops.leaky_relu(x, negative_slope=alpha))
    checks.test_sample_noise(lambda batch_size, dim: 2 * tf.random.uniform((batch_size, dim)) - 1)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    checks.test_discriminator_loss(lambda r, f: bce(tf.ones_like(r), r) + bce(tf.zeros_like(f), f))
    checks.test_generator_loss(lambda f: tf.reduce_mean(tf.nn.softplus(-f)))
    checks.test_lsgan_loss(
        lambda r, f: 0.5 * tf.reduce_mean((r - 1) ** 2) + 0.5 * tf.reduce_mean(f**2),
        lambda f: tf.reduce_mean(tf.square(f - 1)) / 2,
    )

    def functional_discriminator():
        x = keras.Input((784,))
        h = layers.Dense(256, activation=lambda t: ops.leaky_relu(t, 0.01))(x)
        h = layers.Dense(256)(h)
        h = layers.LeakyReLU(negative_slope=0.01)(h)
        return keras.Model(x, layers.Dense(1)(h))

    checks.test_discriminator(functional_discriminator)
    assert capsys.readouterr().out.count("passed") == 7


# ---------------------------------------------------------------- leaky ReLU


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda x, alpha=0.01: tf.nn.relu(x), "this is ReLU, not leaky ReLU"),
        (lambda x, alpha=0.01: layers.LeakyReLU()(x), "slope 0.3 .*Keras's LeakyReLU default"),
        (lambda x, alpha=0.01: tf.nn.leaky_relu(x), "slope 0.2"),
        (lambda x, alpha=0.01: tf.abs(x), r"abs\(x\)"),
        (lambda x, alpha=0.01: tf.maximum(x, 0.01 * x), "ignores its alpha argument"),
        (lambda x, alpha=0.01: alpha * x, "positive inputs are multiplied by alpha"),
        (lambda x, alpha=0.01: tf.where(x > 0, x, 0.1 * x), "multiplied by 0.1, expected alpha = 0.01"),
        (lambda x, alpha=0.01: np.maximum(x, alpha * x), "numpy|ndarray"),
        (lambda x, alpha=0.01: tf.cast(tf.maximum(x, alpha * x), tf.float64), "dtype float64"),
        (lambda x, alpha=0.01: tf.reshape(tf.maximum(x, alpha * x), [-1]), r"shape \(24,\), expected \(4, 6\)"),
        (lambda x, alpha=0.01: None, "returned None"),
        (stub, "not implemented yet: fill in the exercise cell"),
    ],
)
def test_leaky_relu_mistakes_fail_with_hint(wrong, hint):
    fails_with(checks.test_leaky_relu, wrong, match=hint)


def test_a_student_exception_is_named_and_chained():
    def broken(x, alpha=0.01):
        return x + "oops"

    error = fails_with(checks.test_leaky_relu, broken, match="your leaky_relu raised")
    assert error.__cause__ is not None


# ---------------------------------------------------------------- noise


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda b, d: tf.random.uniform((b, d)), r"looks like uniform noise on \[0, 1\)"),
        (lambda b, d: tf.random.normal((b, d)), "Gaussian"),
        (lambda b, d: tf.random.uniform((d, b), -1, 1), "dimensions are swapped"),
        (lambda b, d: tf.random.uniform((b * d,), -1, 1), r"shape \(98304,\)"),
        (lambda b, d: np.random.uniform(-1, 1, (b, d)), "numpy|ndarray"),
        (lambda b, d: tf.random.uniform((b, d), -1, 1, dtype=tf.float64), "dtype float64"),
        (lambda b, d: tf.random.stateless_uniform((b, d), seed=(1, 2), minval=-1, maxval=1), "same noise"),
        (lambda b, d: tf.clip_by_value(tf.random.normal((b, d), stddev=0.5), -1, 1), "not spread evenly"),
        (lambda b, d: tf.tanh(tf.random.normal((b, d))), "not spread evenly"),
        (lambda b, d: tf.random.uniform((b, d), -0.5, 0.5), r"span only"),
        (lambda b, d: tf.round(tf.random.uniform((b, d), -1, 1)), "not spread evenly"),
        (lambda b, d, seed=None: tf.random.uniform((b, d), -1, 1), "same seed gave different noise"),
        (stub, "not implemented yet"),
    ],
)
def test_sample_noise_mistakes_fail_with_hint(wrong, hint):
    fails_with(checks.test_sample_noise, wrong, match=hint)


# ---------------------------------------------------------------- models


def mlp(widths, activations, input_dim, use_bias=True, extra=None):
    """A Sequential of Dense layers; activations[i] follows Dense i (a layer, a name or None)."""

    def build(*args):
        stack = [keras.Input((input_dim,))]
        for index, (width, activation) in enumerate(zip(widths, activations)):
            if isinstance(activation, str) or activation is None:
                stack.append(layers.Dense(width, activation=activation, use_bias=use_bias))
            else:
                stack += [layers.Dense(width, use_bias=use_bias), activation]
            if extra is not None and index == 0:
                stack.append(extra())
        return keras.Sequential(stack)

    return build


def leaky(slope=0.01):
    return layers.LeakyReLU(negative_slope=slope)


DISCRIMINATOR_MISTAKES = [
    (mlp([256, 1], [leaky(), None], 784), "missing a layer: your Dense layers go 784 -> 256 -> 1"),
    (mlp([256, 256, 256, 1], [leaky(), leaky(), leaky(), None], 784), "a layer too many"),
    (mlp([128, 256, 1], [leaky(), leaky(), None], 784), "wrong width: Dense layer 1 has 128 units"),
    (mlp([256, 256, 1], [leaky(), None, None], 784), "missing activation after the second Dense layer"),
    (mlp([256, 256, 1], [leaky(0.3), leaky(0.3), None], 784), "slope 0.3 .*Keras's LeakyReLU default, the course uses 0.01"),
    (mlp([256, 256, 1], ["leaky_relu", "leaky_relu", None], 784), "slope 0.2"),
    (mlp([256, 256, 1], ["relu", "relu", None], 784), "plain ReLU after the first Dense layer"),
    (mlp([256, 256, 1], [leaky(), leaky(), "sigmoid"], 784), "sigmoid on the output: the discriminator returns logits"),
    (mlp([256, 256, 1], [leaky(), leaky(), None], 784, use_bias=False), "no bias"),
    (mlp([256, 256, 1], [leaky(), leaky(), None], 784, extra=layers.BatchNormalization), "other than Dense"),
    (mlp([256, 256, 1], [leaky(), leaky(), None], 28), r"(?s)raised ValueError.*inputs of shape \(batch, 784\)"),
    (lambda: None, "returned None"),
    (lambda: "a model", "expected a keras.Model"),
    (models.discriminator(), "pass the function itself"),
    (stub, r"discriminator\(\) is not implemented yet"),
]


@pytest.mark.parametrize("wrong, hint", DISCRIMINATOR_MISTAKES)
def test_discriminator_mistakes_fail_with_hint(wrong, hint):
    fails_with(checks.test_discriminator, wrong, match=hint)


def generator_mlp(widths, activations, fixed_input=None, **kwargs):
    return lambda noise_dim=models.NOISE_DIM: mlp(widths, activations, fixed_input or noise_dim, **kwargs)()


GENERATOR_MISTAKES = [
    (generator_mlp([1024, 1024, 784], ["relu", "relu", None]), r"no tanh on the output: outputs fall outside \[-1, 1\], forgot tanh"),
    (generator_mlp([1024, 1024, 784], ["relu", "relu", "sigmoid"]), "sigmoid on the output"),
    (generator_mlp([1024, 784], ["relu", "tanh"]), "missing a layer"),
    (generator_mlp([512, 1024, 784], ["relu", "relu", "tanh"]), "wrong width: Dense layer 1 has 512 units"),
    (generator_mlp([1024, 1024, 784], ["relu", None, "tanh"]), "missing activation after the second Dense layer: add the ReLU"),
    (generator_mlp([1024, 1024, 784], ["relu", "relu", "tanh"], fixed_input=96), "use noise_dim as the input size"),
    (generator_mlp([1024, 1024, 784], ["relu", "relu", "tanh"], use_bias=False), "no bias"),
    (lambda: models.generator(), r"raised TypeError"),
    (stub, "not implemented yet"),
]


@pytest.mark.parametrize("wrong, hint", GENERATOR_MISTAKES)
def test_generator_mistakes_fail_with_hint(wrong, hint):
    fails_with(checks.test_generator, wrong, match=hint)


def test_model_failures_describe_the_students_layers():
    error = fails_with(checks.test_discriminator, mlp([256, 256, 1], [leaky(0.3), leaky(), None], 784), match="slope 0.3")
    assert "Dense(256) -> LeakyReLU(0.3) -> Dense(256) -> LeakyReLU(0.01) -> Dense(1)" in str(error)


def test_an_unrecognised_model_mistake_still_fails_clearly():
    wrong = mlp([256, 256, 1], [layers.Activation("softplus"), leaky(), None], 784)
    fails_with(checks.test_discriminator, wrong, match="(?s)outputs differ from the expected ones.*check the activations")


# ---------------------------------------------------------------- losses


def sce(labels_like, value, logits):
    return tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.fill(tf.shape(logits), value), logits=logits)


def mean_bce(logits, label):
    return tf.reduce_mean(sce(None, label, logits))


DISCRIMINATOR_LOSS_MISTAKES = [
    (lambda r, f: mean_bce(tf.sigmoid(r), 1.0) + mean_bce(tf.sigmoid(f), 0.0), "applies sigmoid to logits twice"),
    (lambda r, f: mean_bce(r, 0.0) + mean_bce(f, 1.0), "real and fake labels look swapped"),
    (lambda r, f: tf.reduce_sum(sce(None, 1.0, r)) + tf.reduce_sum(sce(None, 0.0, f)), "sum over the batch instead of a mean"),
    (lambda r, f: keras.losses.BinaryCrossentropy()(tf.ones_like(r), r) + keras.losses.BinaryCrossentropy()(tf.zeros_like(f), f), "from_logits=True"),
    (lambda r, f: tf.reduce_mean(tf.concat([sce(None, 1.0, r), sce(None, 0.0, f)], 0)), "half the expected value"),
    (lambda r, f: -mean_bce(r, 1.0) - mean_bce(f, 0.0), "sign is flipped"),
    (lambda r, f: mean_bce(r, 1.0), "only the real-image term"),
    (lambda r, f: -tf.reduce_mean(tf.math.log(tf.sigmoid(r))) - tf.reduce_mean(tf.math.log(1 - tf.sigmoid(f))), "not finite for large logits"),
    (lambda r, f: sce(None, 1.0, r) + sce(None, 0.0, f), "one value per example: take the mean over the batch"),
    (lambda r, f: np.mean(sce(None, 1.0, r)) + np.mean(sce(None, 0.0, f)), "instead of a TensorFlow tensor"),
    (lambda r, f: tf.cast(mean_bce(r, 1.0) + mean_bce(f, 0.0), tf.float64), "dtype float64"),
    (stub, "discriminator_loss is not implemented yet"),
]


@pytest.mark.parametrize("wrong, hint", DISCRIMINATOR_LOSS_MISTAKES)
def test_discriminator_loss_mistakes_fail_with_hint(wrong, hint):
    fails_with(checks.test_discriminator_loss, wrong, match=hint)


GENERATOR_LOSS_MISTAKES = [
    (lambda f: -tf.reduce_mean(tf.nn.softplus(f)), r"saturating \(minimax\) loss"),
    (lambda f: tf.reduce_mean(tf.math.log(1 - tf.sigmoid(f))), r"saturating \(minimax\) loss"),
    (lambda f: mean_bce(f, 0.0), "labels look swapped"),
    (lambda f: tf.reduce_sum(sce(None, 1.0, f)), "sum over the batch instead of a mean"),
    (lambda f: mean_bce(tf.sigmoid(f), 1.0), "applies sigmoid to logits twice"),
    (lambda f: keras.losses.BinaryCrossentropy()(tf.ones_like(f), f), "from_logits=True"),
    (lambda f: -tf.reduce_mean(tf.math.log(tf.sigmoid(f))), "not finite for large logits"),
    (lambda f: sce(None, 1.0, f), "mean over the batch"),
    (stub, "generator_loss is not implemented yet"),
]


@pytest.mark.parametrize("wrong, hint", GENERATOR_LOSS_MISTAKES)
def test_generator_loss_mistakes_fail_with_hint(wrong, hint):
    fails_with(checks.test_generator_loss, wrong, match=hint)


def ls_d(r, f):
    return losses.ls_discriminator_loss(r, f)


def ls_g(f):
    return losses.ls_generator_loss(f)


LSGAN_MISTAKES = [
    (lambda r, f: tf.reduce_mean((r - 1) ** 2) + tf.reduce_mean(f**2), ls_g, "the 1/2 factor is missing"),
    (lambda r, f: 0.5 * tf.reduce_mean(r**2) + 0.5 * tf.reduce_mean((f - 1) ** 2), ls_g, "targets look swapped"),
    (lambda r, f: 0.5 * tf.reduce_sum((r - 1) ** 2) + 0.5 * tf.reduce_sum(f**2), ls_g, "sum over the batch instead of a mean"),
    (lambda r, f: 0.5 * tf.reduce_mean((tf.sigmoid(r) - 1) ** 2) + 0.5 * tf.reduce_mean(tf.sigmoid(f) ** 2), ls_g, "sigmoid is applied"),
    (lambda r, f: 0.5 * (r - 1) ** 2 + 0.5 * f**2, ls_g, "mean over the batch"),
    (stub, ls_g, "ls_discriminator_loss is not implemented yet"),
    (ls_d, lambda f: tf.reduce_mean((f - 1) ** 2), "the 1/2 factor is missing"),
    (ls_d, lambda f: 0.5 * tf.reduce_mean(f**2), "target looks swapped"),
    (ls_d, lambda f: 0.5 * tf.reduce_sum((f - 1) ** 2), "sum over the batch instead of a mean"),
    (ls_d, lambda f: 0.5 * tf.reduce_mean(tf.abs(f - 1)), "absolute values instead of squares"),
    (ls_d, stub, "ls_generator_loss is not implemented yet"),
]


@pytest.mark.parametrize("wrong_d, wrong_g, hint", LSGAN_MISTAKES)
def test_lsgan_loss_mistakes_fail_with_hint(wrong_d, wrong_g, hint):
    fails_with(checks.test_lsgan_loss, wrong_d, wrong_g, match=hint)


# ---------------------------------------------------------------- tolerances and margins


def test_known_mistakes_are_far_outside_the_tolerances():
    expected = check_values.load_expected()
    real, fake = expected["logits_real"].astype(float), expected["logits_fake"].astype(float)
    scores_real, scores_fake = expected["scores_real"].astype(float), expected["scores_fake"].astype(float)
    cases = [
        (checks._d_loss_mistakes(real, fake), expected["d_loss"]),
        (checks._g_loss_mistakes(fake), expected["g_loss"]),
        (checks._ls_d_mistakes(scores_real, scores_fake), expected["ls_d_loss"]),
        (checks._ls_g_mistakes(scores_fake), expected["ls_g_loss"]),
    ]
    for mistakes, correct in cases:
        values = [float(value) for _, value in mistakes]
        assert min(checks._scaled_error(value, correct) for value in values) > 100 * checks.LOSS_TOLERANCE
        for i, a in enumerate(values):  # each mistake is told apart from every other
            assert all(checks.rel_error(a, b) > 10 * checks.MISTAKE_MATCH_TOLERANCE for b in values[i + 1 :])


def test_wrong_activations_are_far_from_the_reference_model_and_float64_is_close():
    expected = check_values.load_expected()
    weights = check_values.fixed_weights(check_values.DISCRIMINATOR_SHAPES)
    slots = [checks._HIDDEN_SLOTS_D, checks._HIDDEN_SLOTS_D, ["no activation", "sigmoid", "ReLU"]]
    correct = ["leaky ReLU (slope 0.01)", "leaky ReLU (slope 0.01)", "no activation"]
    for found, output in checks._forward_candidates(weights, expected["discriminator_x"], slots):
        error = checks._scaled_error(output, expected["discriminator_out"])
        if found == correct:
            assert error < checks.MODEL_TOLERANCE / 10
        else:
            assert error > 20 * checks.MODEL_TOLERANCE, found


def test_rel_error():
    assert checks.rel_error(np.ones(3), np.ones(3)) == 0.0
    assert checks.rel_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 4.2)
    assert checks.rel_error(0.0, 0.0) == 0.0


# ---------------------------------------------------------------- regeneration


def test_regeneration_is_deterministic_and_matches_the_shipped_file(tmp_path):
    first, second = tmp_path / "first.npz", tmp_path / "second.npz"
    assert main(["regenerate-checks", "--output", str(first)]) == 0
    check_values.write_expected(second)
    a, b = check_values.load_expected(first), check_values.load_expected(second)
    shipped = check_values.load_expected()
    assert sorted(a) == sorted(b) == sorted(shipped)
    for key in a:
        assert a[key].dtype == b[key].dtype and a[key].tobytes() == b[key].tobytes(), key
        np.testing.assert_allclose(a[key], shipped[key], rtol=1e-4, atol=1e-5, err_msg=key)
