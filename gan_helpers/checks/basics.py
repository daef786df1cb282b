"""Checks of notebook 01: ``leaky_relu`` and ``sample_noise``."""

import contextlib

import numpy as np
import tensorflow as tf
from tensorflow.python.eager import context as eager

from gan_helpers.checks.engine import (ELEMENTWISE_TOLERANCE, accepts, call_student, expected_values, fail,
                                       passed, scaled_error, tensor_values)


def test_leaky_relu(leaky_relu):
    """Check ``leaky_relu(x, alpha=0.01)``: x where x > 0, alpha * x elsewhere."""
    check = "test_leaky_relu"
    expected = expected_values()
    x = expected["leaky_relu_x"]
    output = call_student(check, "leaky_relu", leaky_relu, tf.constant(x))
    values = tensor_values(check, "leaky_relu", output, x.shape)
    error = scaled_error(values, expected["leaky_relu_out"])
    if error > ELEMENTWISE_TOLERANCE:
        fail(check, f"wrong values (max relative error {error:.1e}).", _leaky_relu_hint(x, values, 0.01))

    if accepts(leaky_relu, "alpha"):
        output = call_student(check, "leaky_relu", leaky_relu, tf.constant(x), alpha=0.2)
        values = tensor_values(check, "leaky_relu(x, alpha=0.2)", output, x.shape)
        alpha_error = scaled_error(values, expected["leaky_relu_out_alpha_0.2"])
        if alpha_error > ELEMENTWISE_TOLERANCE:
            fail(
                check,
                f"leaky_relu(x, alpha=0.2) gives wrong values (max relative error {alpha_error:.1e}).",
                _leaky_relu_hint(x, values, 0.2),
            )
        error = max(error, alpha_error)
    passed(check, error)


def _leaky_relu_hint(x, values, alpha):
    positive, negative = x > 0, x < 0
    if not np.allclose(values[positive], x[positive], rtol=1e-5):
        if np.allclose(values[positive], alpha * x[positive], rtol=1e-5):
            return "positive inputs are multiplied by alpha too: they must pass through unchanged (max(x, alpha * x))."
        return "positive inputs must pass through unchanged."
    slope = float(np.median(values[negative] / x[negative]))
    if abs(slope) < 1e-6:
        return "negative inputs give 0: this is ReLU, not leaky ReLU. Multiply negative inputs by alpha."
    if abs(slope - alpha) > 1e-4 * abs(alpha):
        if abs(slope + 1) < 1e-4:
            return "negative inputs come out positive: this is abs(x), not leaky ReLU. Use max(x, alpha * x)."
        if abs(slope - 1) < 1e-4:
            return "negative inputs come out unchanged: the function returns x as it is."
        if abs(slope - 0.3) < 1e-4:
            return f"slope 0.3 for negative inputs: Keras's LeakyReLU default; the course uses alpha (here {alpha:g})."
        if abs(slope - 0.2) < 1e-4:
            return (
                f"slope 0.2 for negative inputs: the default of tf.nn.leaky_relu and keras.ops.leaky_relu; "
                f"pass alpha (here {alpha:g}) on."
            )
        if abs(slope - 0.01) < 1e-6:
            return "slope 0.01 although alpha was 0.2: the function ignores its alpha argument."
        return f"negative inputs are multiplied by {slope:.3g}, expected alpha = {alpha:g}."
    return "values differ from max(x, alpha * x) in some entries."


NOISE_BATCH, NOISE_DIM_CHECKED = 1024, 96
_UNIFORM_STD = 1.0 / np.sqrt(3.0)

_RESEEDS_HINT = (
    "tf.random.set_seed (or keras.utils.set_random_seed) inside sample_noise resets the global seed of the whole "
    "notebook, not just of this function: a seed set at the top of the notebook no longer holds, and with a fixed "
    "seed every unseeded random op after it (tf.random.*, tf.data shuffling) starts again from the same numbers "
    "each time sample_noise runs. Leave the global seed alone: draw with tf.random.uniform, and for the same noise "
    "every time use a stateless op, tf.random.stateless_uniform(shape, seed=(seed, 0), ...)."
)


def test_sample_noise(sample_noise):
    """Check ``sample_noise(batch_size, dim)``: uniform noise in [-1, 1], float32, new every call.

    Also checks that it leaves TensorFlow's global seed alone, and, when it takes
    a ``seed``, that the same seed gives the same noise and another seed other noise.
    """
    check = "test_sample_noise"
    shape = (NOISE_BATCH, NOISE_DIM_CHECKED)

    def draw(*args, **kwargs):
        with _global_seed_kept(check):
            return call_student(check, "sample_noise", sample_noise, *args, **kwargs)

    values = tensor_values(check, "sample_noise", draw(*shape), shape)
    _check_uniform(check, values)
    statistics_error = _uniform_statistics_error(values)

    again = tensor_values(check, "sample_noise", draw(*shape), shape)
    if np.array_equal(values, again):
        fail(check, "two calls returned the same noise.",
             "each call must draw new noise: is a fixed seed set inside the function "
             "(a stateless op with a constant seed, or tf.random.set_seed)?")
    if accepts(sample_noise, "seed"):
        _check_seed(check, draw)
    passed(check, statistics_error, "max relative error of the mean, spread and histogram")


@contextlib.contextmanager
def _global_seed_kept(check):
    """Fail when the code inside resets TensorFlow's global seed; put the seed back as it was.

    tf.random.set_seed (in eager mode) replaces the eager context's global seed and
    the generator its unseeded ops draw their op seeds from (even when the seed is
    the same, or None); nothing else replaces that generator. These are TensorFlow
    internals: where a version lacks them, the check cannot tell and says nothing.
    """
    context = eager.context()
    seed, op_seeds = getattr(context, "_seed", None), getattr(context, "_rng", None)
    yield
    if getattr(context, "_rng", None) is not op_seeds:
        context._seed, context._rng = seed, op_seeds
        fail(check, "your sample_noise resets TensorFlow's global random seed.", _RESEEDS_HINT)


def _check_uniform(check, values):
    low, high = float(values.min()), float(values.max())
    std = float(values.std())
    if low < -1.0 or high > 1.0:
        if abs(std - 1.0) < 0.05:
            hint = "this looks like Gaussian noise (tf.random.normal): the course samples uniformly, tf.random.uniform(minval=-1, maxval=1)."
        else:
            hint = "the noise must lie in [-1, 1]: tf.random.uniform(shape, minval=-1, maxval=1)."
        fail(check, f"values outside [-1, 1] (min {low:.3f}, max {high:.3f}).", hint)
    if low >= 0.0:
        fail(check, f"no negative values (min {low:.3f}, max {high:.3f}).",
             "this looks like uniform noise on [0, 1), tf.random.uniform's default range: "
             "pass minval=-1 and maxval=1 (or use 2 * u - 1).")
    if low > -0.9 or high < 0.9:
        fail(check, f"values span only [{low:.3f}, {high:.3f}], expected all of [-1, 1].", "use minval=-1, maxval=1.")
    mean = float(values.mean())
    if abs(mean) > 0.02:
        fail(check, f"mean {mean:.3f}, expected about 0.", "uniform noise on [-1, 1] is centred at 0.")
    histogram = _histogram(values)
    if abs(std - _UNIFORM_STD) > 0.02 or np.max(np.abs(histogram - 0.1)) > 0.015:
        fractions = ", ".join(f"{f:.2f}" for f in histogram)
        fail(
            check,
            f"values are not spread evenly over [-1, 1]: std {std:.3f} (expected {_UNIFORM_STD:.3f}), "
            f"fraction in each tenth of [-1, 1]: {fractions} (expected 0.10 each).",
            "sample uniformly (tf.random.uniform), not from a normal distribution clipped or squashed into [-1, 1].",
        )


def _histogram(values):
    counts, _ = np.histogram(values, bins=10, range=(-1.0, 1.0))
    return counts / values.size


def _uniform_statistics_error(values):
    errors = [abs(values.std() - _UNIFORM_STD) / _UNIFORM_STD, abs(values.mean()) / _UNIFORM_STD]
    errors.extend(np.abs(_histogram(values) - 0.1) / 0.1)
    return float(max(errors))


def _check_seed(check, draw):
    def seeded(seed):
        return tensor_values(check, f"sample_noise(16, 8, seed={seed})", draw(16, 8, seed=seed), (16, 8))

    if not np.array_equal(seeded(0), seeded(0)):
        fail(check, "the same seed gave different noise.", "use a stateless op, e.g. tf.random.stateless_uniform(shape, seed=(seed, 0), ...).")
    if np.array_equal(seeded(0), seeded(1)):
        fail(check, "seeds 0 and 1 gave the same noise.", "the seed argument seems to be ignored.")
