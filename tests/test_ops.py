"""ops: leaky ReLU, uniform noise, and the [0, 1] <-> [-1, 1] image scaling."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_helpers.ops import deprocess_img, ema_update, interpolate_noise, leaky_relu, preprocess_img, sample_noise, scale_pixels


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


def test_scale_pixels_maps_0_255_to_minus_one_one_for_numpy_and_tensors():
    pixels = np.array([[0, 51, 255]], dtype=np.uint8)
    scaled = scale_pixels(pixels)
    assert isinstance(scaled, np.ndarray) and scaled.dtype == np.float32
    np.testing.assert_allclose(scaled, [[-1.0, -0.6, 1.0]], atol=1e-6)
    in_graph = tf.function(scale_pixels)(tf.constant(pixels))
    assert tf.is_tensor(in_graph) and in_graph.dtype == tf.float32
    np.testing.assert_allclose(in_graph.numpy(), scaled)


# ---------------------------------------------------------------- walks through noise space


def test_interpolate_noise_walks_in_equal_steps_from_end_to_end():
    rng = np.random.default_rng(7)
    z0, z1 = rng.uniform(-1, 1, 96), rng.uniform(-1, 1, 96)
    path = interpolate_noise(z0, z1, steps=5)
    assert path.shape == (5, 96) and path.dtype == np.float32
    np.testing.assert_allclose(path[0], z0, atol=1e-7)
    np.testing.assert_allclose(path[-1], z1, atol=1e-7)
    np.testing.assert_allclose(np.diff(path, axis=0), np.tile((z1 - z0) / 4, (4, 1)), atol=1e-6)


def test_interpolate_noise_walks_pairs_side_by_side_at_given_points():
    z0, z1 = tf.fill((3, 4), -0.5), tf.fill((3, 4), 0.5)
    path = interpolate_noise(z0, z1, [0.0, 0.25, 1.0])
    assert path.shape == (3, 3, 4)
    np.testing.assert_allclose(path[:, 0, 0], [-0.5, -0.25, 0.5])
    np.testing.assert_allclose(interpolate_noise(z0, z1, [0.5]), np.zeros((1, 3, 4)))


def test_slerp_keeps_the_ends_and_moves_along_the_circle():
    z0, z1 = np.array([3.0, 0.0]), np.array([0.0, 3.0])
    path = interpolate_noise(z0, z1, steps=3, method="slerp")
    np.testing.assert_allclose(path, [[3, 0], [3 / np.sqrt(2), 3 / np.sqrt(2)], [0, 3]], atol=1e-6)
    # a linear path's midpoint is shorter (|(1.5, 1.5)| = 2.12); slerp keeps the length
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 3.0, atol=1e-6)


def test_slerp_walks_each_pair_on_its_own_circle():
    z0 = np.array([[3.0, 0.0], [1.0, 1.0]])
    z1 = np.array([[0.0, 3.0], [2.0, 2.0]])  # the second pair points one way: slerp is linear there
    path = interpolate_noise(z0, z1, steps=3, method="slerp")
    np.testing.assert_allclose(path[1, 0], [3 / np.sqrt(2), 3 / np.sqrt(2)], atol=1e-6)
    np.testing.assert_allclose(path[:, 1], [[1, 1], [1.5, 1.5], [2, 2]], atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [({"steps": 1}, "steps must be an integer >= 2"), ({"steps": []}, "or a list of t values"),
     ({"steps": True}, "or a list of t values"), ({"method": "cubic"}, "'linear' or 'slerp'"),
     ({"z1": np.zeros(5)}, "same shape"), ({"method": "slerp", "z1": np.zeros(4)}, "non-zero vectors")],
)
def test_interpolate_noise_refuses_bad_arguments(kwargs, message):
    arguments = {"z0": np.ones(4), "z1": np.ones(4) * 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        interpolate_noise(**arguments)


def test_ema_update_moves_every_average_a_step_towards_the_weights_in_place():
    average = [tf.Variable([[1.0, 2.0], [3.0, 4.0]]), keras.Variable(np.array([10.0, -10.0], np.float32))]
    weights = [tf.constant([[0.0, 0.0], [0.0, 8.0]]), keras.Variable(np.array([0.0, 10.0], np.float32))]
    ema_update(average, weights, 0.75)
    np.testing.assert_allclose(average[0].numpy(), [[0.75, 1.5], [2.25, 5.0]], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(average[1]), [7.5, -5.0], rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(weights[1]), [0.0, 10.0])  # the weights are left alone
    ema_update(average, weights, 0.0)  # decay 0: the average becomes the weights
    np.testing.assert_array_equal(average[0].numpy(), weights[0].numpy())


def test_ema_update_of_a_model_inside_a_compiled_step_follows_batch_norm_statistics_too():
    def model():
        return keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.BatchNormalization()])

    live, averaged = model(), model()
    averaged.set_weights([np.zeros_like(w) for w in live.get_weights()])
    live(tf.ones((8, 3)) * 5.0, training=True)  # moves the batch norm's moving mean

    @tf.function
    def update(decay):
        ema_update(averaged.weights, live.weights, decay)

    for _ in range(3):
        update(tf.constant(0.5))
    for mean, value in zip(averaged.get_weights(), live.get_weights()):
        np.testing.assert_allclose(mean, 0.875 * value, rtol=1e-5, atol=1e-7)  # 1 - 0.5^3 of the way


def test_ema_update_copies_counters_and_refuses_mismatched_lists():
    counter, average = tf.Variable(3, dtype=tf.int64), tf.Variable(0.0)
    ema_update([counter, average], [tf.constant(7, tf.int64), tf.constant(1.0)], 0.9)
    assert int(counter.numpy()) == 7 and float(average.numpy()) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="2 averages for 1 weights"):
        ema_update([average, average], [tf.constant(1.0)], 0.9)
    with pytest.raises(ValueError, match=r"shape \(2,\) cannot follow weights of shape \(3,\)"):
        ema_update([tf.Variable([0.0, 0.0])], [tf.constant([1.0, 2.0, 3.0])], 0.9)
