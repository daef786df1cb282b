"""The GAN models as Keras models: trained by ``fit`` on a data set of images alone, the way a Keras
user trains any model, with Keras's own callbacks; and what a conditional one draws."""

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from gan_helpers import GAN, ConditionalGAN, get_solvers, losses, models

NOISE = 8


def tiny_models(seed=0):
    keras.utils.set_random_seed(seed)
    D = keras.Sequential([keras.Input((16,)), layers.Dense(8), layers.LeakyReLU(0.2), layers.Dense(1)])
    G = keras.Sequential([keras.Input((NOISE,)), layers.Dense(8, activation="relu"), layers.Dense(16, activation="tanh")])
    return D, G


def test_a_gan_trains_with_fit_on_a_data_set_of_images_alone():
    D, G = tiny_models()
    before = [w.copy() for w in D.get_weights() + G.get_weights()]
    gan = GAN(D, G)
    assert gan.noise_size == NOISE and gan.data_shape == (16,)
    gan.compile(*get_solvers(), losses.discriminator_loss, losses.generator_loss)
    images = np.random.default_rng(0).uniform(-1, 1, (64, 16)).astype(np.float32)
    stop_after_three = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: setattr(gan, "stop_training", batch == 2))
    history = gan.fit(tf.data.Dataset.from_tensor_slices(images).batch(8), epochs=4, verbose=0,
                      callbacks=[stop_after_three])
    assert int(gan.step.numpy()) == 3 and history.epoch == [0]  # Keras's callbacks steer it as any model
    assert set(history.history) == {"d_loss", "g_loss"} and np.isfinite(history.history["d_loss"][0])
    after = D.get_weights() + G.get_weights()
    assert not any(np.array_equal(a, b) for a, b in zip(before, after))  # both networks trained
    assert gan(tf.zeros((2, NOISE))).shape == (2, 16)  # the model itself generates


def test_a_conditional_gan_draws_the_classes_in_turn():
    G = models.conditional_generator(NOISE, num_classes=3)
    gan = ConditionalGAN(models.conditional_discriminator(num_classes=3), G, num_classes=3)
    noise = np.random.default_rng(1).uniform(-1, 1, (4, NOISE)).astype(np.float32)
    want = G([tf.constant(noise), tf.constant([0, 1, 2, 0])], training=False)
    np.testing.assert_allclose(gan.generate(noise), want, atol=1e-6)
