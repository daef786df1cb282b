"""The checks of notebook 01 (leaky ReLU, noise): other right answers pass, mistakes fail with their hint."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers
from tensorflow.python.eager import context

from check_helpers import fails_with, stub
from gan_helpers import checks, ops


# ---------------------------------------------------------------- leaky ReLU


def test_other_correct_leaky_relus_pass(capsys):
    checks.test_leaky_relu(lambda x, alpha=0.01: tf.where(x > 0, x, alpha * x))
    checks.test_leaky_relu(lambda x, alpha=0.01: keras.ops.leaky_relu(x, negative_slope=alpha))
    assert capsys.readouterr().out.count("passed") == 2


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


# ---------------------------------------------------------------- noise


def uniform(b, d):
    return tf.random.uniform((b, d), -1, 1)


def test_other_correct_noise_samplers_pass(capsys):
    checks.test_sample_noise(lambda batch_size, dim: 2 * tf.random.uniform((batch_size, dim)) - 1)
    checks.test_sample_noise(lambda batch_size, dim: keras.random.uniform((batch_size, dim), -1, 1))
    generator = tf.random.Generator.from_seed(7)  # a generator kept outside: new noise on every call
    checks.test_sample_noise(lambda batch_size, dim: generator.uniform((batch_size, dim), -1, 1))
    assert capsys.readouterr().out.count("passed") == 3


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


def reseeds_with_its_seed(b, d, seed=None):
    tf.random.set_seed(seed)  # passes every test of the noise itself, and resets the notebook's seed
    return uniform(b, d)


def reseeds_at_random(b, d):
    tf.random.set_seed(np.random.randint(1_000_000))
    return uniform(b, d)


def reseeds_with_keras(b, d, seed=None):
    if seed is not None:
        keras.utils.set_random_seed(seed)
    return uniform(b, d)


def reseeds_to_zero(b, d):
    tf.random.set_seed(0)
    return uniform(b, d)


@pytest.mark.parametrize("wrong", [reseeds_with_its_seed, reseeds_at_random, reseeds_with_keras, reseeds_to_zero])
def test_resetting_the_global_seed_fails_with_hint_and_the_seed_is_put_back(wrong):
    tf.random.set_seed(1234)
    op_seeds = context.context()._rng
    try:
        fails_with(checks.test_sample_noise, wrong, match="(?s)resets TensorFlow's global random seed.*tf.random.set_seed")
        assert context.global_seed() == 1234
        assert context.context()._rng is op_seeds  # unseeded ops go on drawing their seeds where they were
    finally:
        tf.random.set_seed(None)


def test_a_global_seed_set_outside_sample_noise_is_fine(capsys):
    tf.random.set_seed(5)
    try:
        checks.test_sample_noise(uniform)
        checks.test_sample_noise(ops.sample_noise)
    finally:
        tf.random.set_seed(None)
    assert capsys.readouterr().out.count("passed") == 2
