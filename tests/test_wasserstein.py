"""The Wasserstein GAN's pieces: its two losses, the gradient penalty, and the MNIST critic."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from gan_helpers import losses, models


def linear_critic(kernel, shape=(28, 28, 1)):
    """D(x) = <w, x> + 0.3: gradient w everywhere, so the penalty is weight * (||w|| - 1)^2 whatever the draw."""
    critic = keras.Sequential([keras.Input(shape), layers.Flatten(), layers.Dense(1)])
    critic.layers[-1].set_weights([kernel.reshape(-1, 1).astype(np.float32), np.array([0.3], np.float32)])
    return critic


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    return tuple(tf.constant(x, tf.float32) for x in rng.uniform(-1, 1, size=(2, 16, 28, 28, 1)))


def test_wasserstein_losses_are_differences_of_means():
    real, fake = np.array([[1.0], [3.0], [2.0]]), np.array([[-1.0], [0.5]])
    assert float(losses.wasserstein_critic_loss(real, fake)) == pytest.approx(-0.25 - 2.0)
    assert float(losses.wasserstein_generator_loss(fake)) == pytest.approx(0.25)
    for value in (losses.wasserstein_critic_loss(real[:, 0], fake[:, 0]), losses.wasserstein_generator_loss(fake[:, 0])):
        assert value.dtype == tf.float32 and value.shape == ()


def test_the_critic_loss_is_minus_the_wasserstein_estimate_and_unbounded():
    """No sigmoid, no log: scores of +-1000 give a loss of -2000, the critic's estimate is 2000."""
    assert float(losses.wasserstein_critic_loss(tf.fill((4, 1), 1000.0), tf.fill((4, 1), -1000.0))) == -2000.0


@pytest.mark.parametrize("weight", [10.0, 2.5])
def test_the_penalty_of_a_linear_critic_is_exact_and_trains_its_weights(images, weight):
    real, fake = images
    w = np.random.default_rng(1).normal(size=(28, 28, 1))
    w *= 2.5 / np.linalg.norm(w)
    critic = linear_critic(w)
    with tf.GradientTape() as tape:
        penalty = losses.gradient_penalty(critic, real, fake, weight)
    assert penalty.dtype == tf.float32 and penalty.shape == ()
    assert float(penalty) == pytest.approx(weight * 1.5**2, rel=1e-5)
    kernel_gradient, bias_gradient = tape.gradient(penalty, critic.trainable_variables)
    assert bias_gradient is None  # the gradient of D does not depend on b
    np.testing.assert_allclose(kernel_gradient.numpy()[:, 0], 2 * weight * 1.5 * w.ravel() / 2.5, rtol=1e-4, atol=1e-7)


def test_a_flat_critic_gives_a_finite_gradient(images):
    """sqrt(sum of squares) has an infinite derivative at 0: the epsilon under it keeps the weights' gradient finite."""
    real, fake = images
    critic = linear_critic(np.zeros((28, 28, 1)))
    with tf.GradientTape() as tape:
        penalty = losses.gradient_penalty(critic, real, fake)
    assert float(penalty) == pytest.approx(10.0, rel=1e-5)
    assert np.all(np.isfinite(tape.gradient(penalty, critic.trainable_variables[0]).numpy()))


def test_one_weight_per_example_uniform_in_0_1():
    """Read the draw back from the points a critic is called on: on the segments, one weight per example, uniform."""
    seen = []

    class Spy(keras.Model):
        def call(self, x, training=False):
            seen.append(x.numpy())
            return tf.reduce_sum(x, axis=[1, 2, 3])[:, None]

    real, fake = tf.ones((4000, 2, 2, 3)), -tf.ones((4000, 2, 2, 3))
    losses.gradient_penalty(Spy(), real, fake)
    eps = (seen[0] + 1.0) / 2.0  # x_hat = eps * 1 + (1 - eps) * -1
    assert np.allclose(eps, eps[:, :1, :1, :1], atol=1e-6)  # one per example, for all its values
    eps = eps[:, 0, 0, 0]
    assert 0.0 <= eps.min() and eps.max() <= 1.0
    assert abs(eps.mean() - 0.5) < 0.03 and abs(eps.var() - 1 / 12) < 0.01


def test_the_penalty_on_flat_images_and_inside_a_compiled_step_with_unknown_batch():
    critic = keras.Sequential([keras.Input((784,)), layers.Dense(8, activation="tanh"), layers.Dense(1)])
    spec = tf.TensorSpec((None, 784), tf.float32)
    step = tf.function(lambda r, f: losses.gradient_penalty(critic, r, f), input_signature=[spec, spec])
    real, fake = tf.random.uniform((5, 784), -1, 1), tf.random.uniform((5, 784), -1, 1)
    first, second = float(step(real, fake)), float(step(real, fake))
    assert np.isfinite(first) and first > 0 and first != second  # new weights at every call


def test_a_conditional_critic_through_a_function_of_the_images(images):
    """run_a_gan hands a conditional D to the penalty as images -> D([images, labels])."""
    real, fake = images
    image = keras.Input((28, 28, 1))
    label = keras.Input((), dtype="int32")
    score = layers.Dot(axes=1)([layers.Flatten()(image), layers.Embedding(10, 28 * 28)(label)])
    D = keras.Model([image, label], score)
    labels = tf.constant(np.arange(16) % 10, tf.int32)
    penalty = losses.gradient_penalty(lambda x, training=None: D([x, labels], training=training), real, fake)
    # D(x, y) = <x, e_y>: the gradient is e_y, so the penalty is 10 * mean over the batch of (||e_y|| - 1)^2.
    embeddings = next(layer for layer in D.layers if isinstance(layer, layers.Embedding)).embeddings.numpy()
    norms = np.linalg.norm(embeddings[labels.numpy()], axis=1)
    assert float(penalty) == pytest.approx(10 * np.mean((norms - 1) ** 2), rel=1e-5)


def test_a_critic_that_is_a_plain_function_of_the_images(images):
    real, fake = images
    w = tf.constant(np.random.default_rng(2).normal(size=(1, 28, 28, 1)) * 0.1, tf.float32)
    penalty = losses.gradient_penalty(lambda x: tf.reduce_sum(x * w, axis=[1, 2, 3]), real, fake)
    assert float(penalty) == pytest.approx(10 * (float(tf.norm(w)) - 1) ** 2, rel=1e-5)


def test_the_critic_is_the_dcgan_discriminator_without_anything_that_mixes_examples():
    critic = models.critic()
    assert critic.name == "critic" and critic.count_params() == models.dc_discriminator().count_params() == 36_513
    assert critic.input_shape == (None, 28, 28, 1) and critic.output_shape == (None, 1)
    assert not any(isinstance(layer, (layers.BatchNormalization, layers.LayerNormalization)) for layer in critic.layers)
    assert critic.layers[-1].activation is keras.activations.linear  # scores, not probabilities


def test_the_critic_with_layer_norm_normalises_each_example_on_its_own():
    critic = models.critic(layer_norm=True)
    norms = [layer for layer in critic.layers if isinstance(layer, layers.LayerNormalization)]
    assert len(norms) == 1 and critic.count_params() == 36_513 + 2 * 7 * 7 * 64
    x = tf.random.stateless_uniform((6, 28, 28, 1), seed=(3, 4), minval=-1, maxval=1)
    alone = critic(x[:1], training=True).numpy()
    together = critic(x, training=True).numpy()[:1]
    np.testing.assert_allclose(alone, together, rtol=1e-4, atol=1e-5)  # an example's score ignores its batch
