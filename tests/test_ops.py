"""ops: leaky ReLU, uniform noise, and the [0, 1] <-> [-1, 1] image scaling."""

import numpy as np
import pytest
import tensorflow as tf

from gan_helpers.ops import deprocess_img, leaky_relu, preprocess_img, sample_noise


def test_leaky_relu_keeps_positives_and_scales_negatives_by_0_01():
    x = tf.constant([[-2.0, -0.5, 0.0], [0.5, 3.0, -100.0]])
    y = leaky_relu(x)
    assert isinstance(y, tf.Tensor)
    assert y.shape == x.shape and y.dtype == tf.float32
    np.testing.assert_allclose(y.numpy(), [[-0.02, -0.005, 0.0], [0.5, 3.0, -1.0]], rtol=1e-6)


def test_leaky_relu_takes_another_slope_and_numpy_input():
    y = leaky_relu(np.array([-1.0, 2.0], dtype=np.float32), alpha=0.3)
    np.testing.assert_allclose(y.numpy(), [-0.3, 2.0], rtol=1e-6)


def test_leaky_relu_has_the_right_gradient():
    x = tf.constant([-3.0, 4.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(leaky_relu(x))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [0.01, 1.0], rtol=1e-6)


def test_sample_noise_is_uniform_in_minus_one_to_one():
    z = sample_noise(2000, 96)
    assert z.shape == (2000, 96) and z.dtype == tf.float32
    values = z.numpy()
    assert values.min() >= -1.0 and values.max() <= 1.0
    assert values.min() < -0.99 and values.max() > 0.99  # fills the whole interval
    assert abs(values.mean()) < 0.01
    assert abs(values.var() - 1.0 / 3.0) < 0.01  # variance of U(-1, 1); a Gaussian gives 1
    counts, _ = np.histogram(values, bins=10, range=(-1, 1))
    assert counts.min() > 0.9 * counts.mean()


def test_sample_noise_with_a_seed_is_reproducible():
    np.testing.assert_array_equal(sample_noise(4, 8, seed=3).numpy(), sample_noise(4, 8, seed=3).numpy())
    assert not np.array_equal(sample_noise(4, 8, seed=3).numpy(), sample_noise(4, 8, seed=4).numpy())
    assert not np.array_equal(sample_noise(4, 8).numpy(), sample_noise(4, 8).numpy())


@pytest.mark.parametrize("batch_size, dim", [(1, 1), (128, 96), (3, 100)])
def test_sample_noise_shape(batch_size, dim):
    assert sample_noise(batch_size, dim).shape == (batch_size, dim)


def test_preprocess_and_deprocess_map_the_ranges_and_undo_each_other():
    x = np.array([0.0, 0.25, 0.5, 1.0], dtype=np.float32)
    np.testing.assert_allclose(preprocess_img(x), [-1.0, -0.5, 0.0, 1.0])
    np.testing.assert_allclose(deprocess_img(preprocess_img(x)), x)
    t = tf.constant([-1.0, 1.0])
    np.testing.assert_allclose(deprocess_img(t).numpy(), [0.0, 1.0])
