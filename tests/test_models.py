"""The MLP discriminator and generator: structure, shapes, ranges, and use in a compiled step."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from gan_helpers import models


@pytest.fixture(scope="module")
def discriminator():
    return models.discriminator()


@pytest.fixture(scope="module")
def generator():
    return models.generator()


def test_discriminator_structure(discriminator):
    assert isinstance(discriminator, keras.Model) and discriminator.name == "discriminator"
    assert discriminator.count_params() == 784 * 256 + 256 + 256 * 256 + 256 + 256 + 1 == 267_009
    assert [tuple(w.shape) for w in discriminator.weights] == [(784, 256), (256,), (256, 256), (256,), (256, 1), (1,)]
    slopes = [layer.negative_slope for layer in discriminator.layers if isinstance(layer, layers.LeakyReLU)]
    assert slopes == pytest.approx([0.01, 0.01])
    assert discriminator.layers[-1].activation is keras.activations.linear


def test_discriminator_returns_unbounded_logits(discriminator):
    x = tf.random.stateless_uniform((32, 784), seed=(0, 1), minval=-1, maxval=1)
    logits = discriminator(x)
    assert logits.shape == (32, 1) and logits.dtype == tf.float32
    # Scale the last layer up: logits are not squashed into (0, 1) by a sigmoid.
    kernel, bias = discriminator.layers[-1].get_weights()
    discriminator.layers[-1].set_weights([kernel * 100, bias])
    try:
        assert np.max(np.abs(discriminator(x))) > 1.0
    finally:
        discriminator.layers[-1].set_weights([kernel, bias])


def test_discriminator_leaky_slope_is_0_01():
    model = models.discriminator()
    model.set_weights([np.eye(784, 256, dtype=np.float32), np.zeros(256, np.float32),
                       np.eye(256, dtype=np.float32), np.zeros(256, np.float32),
                       np.ones((256, 1), np.float32), np.zeros(1, np.float32)])
    x = np.zeros((1, 784), np.float32)
    x[0, 0] = -1.0  # passes through two leaky ReLUs: -1 * 0.01 * 0.01
    assert float(model(x)[0, 0]) == pytest.approx(-1e-4, rel=1e-5)


def test_generator_structure(generator):
    assert isinstance(generator, keras.Model) and generator.name == "generator"
    assert models.NOISE_DIM == 96
    assert generator.count_params() == 96 * 1024 + 1024 + 1024 * 1024 + 1024 + 1024 * 784 + 784 == 1_952_528
    activations = [layer.activation.__name__ for layer in generator.layers]
    assert activations == ["relu", "relu", "tanh"]


def test_generator_images_are_in_minus_one_one(generator):
    z = tf.random.stateless_uniform((16, 96), seed=(0, 2), minval=-1, maxval=1)
    images = generator(z)
    assert images.shape == (16, 784) and images.dtype == tf.float32
    kernel, bias = generator.layers[-1].get_weights()
    generator.layers[-1].set_weights([kernel * 1000, bias])  # drive tanh into saturation
    try:
        big = generator(z).numpy()
        assert big.min() >= -1.0 and big.max() <= 1.0 and np.abs(big).max() > 0.99
    finally:
        generator.layers[-1].set_weights([kernel, bias])


def test_generator_takes_its_noise_dim():
    small = models.generator(noise_dim=4)
    assert small.input_shape == (None, 4)
    assert small(tf.zeros((3, 4))).shape == (3, 784)


def test_each_call_builds_a_fresh_model():
    a, b = models.discriminator(), models.discriminator()
    assert a is not b
    assert not np.array_equal(a.weights[0].numpy(), b.weights[0].numpy())


def test_models_work_in_a_compiled_step(discriminator, generator):
    @tf.function
    def step(z):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(discriminator(generator(z)))
        return tape.gradient(loss, generator.trainable_variables)

    gradients = step(tf.zeros((4, 96)) + 0.5)
    assert len(gradients) == 6 and all(g is not None for g in gradients)


@pytest.mark.parametrize("builder, kernels", [
    (models.dc_discriminator, 3), (models.cifar_discriminator, 4), (models.dog_discriminator, 5),
])
def test_spectral_norm_wraps_every_kernel_of_a_dcgan_discriminator(builder, kernels):
    plain, normalised = builder(), builder(spectral_norm=True)
    wrapped = [layer for layer in normalised.layers if isinstance(layer, layers.SpectralNormalization)]
    assert len(wrapped) == kernels and all(isinstance(layer.layer, (layers.Conv2D, layers.Dense)) for layer in wrapped)
    assert [layer.name for layer in wrapped][-1] == "spectral_norm_logits" and normalised.name == plain.name
    # The same layers, plus one power-iteration vector u per kernel (not trained)
    extra = sum(int(np.prod(layer.vector_u.shape)) for layer in wrapped)
    assert normalised.count_params() == plain.count_params() + extra
    assert len(normalised.trainable_weights) == len(plain.trainable_weights)
    assert not any(isinstance(layer, layers.SpectralNormalization) for layer in plain.layers)


def test_spectral_norm_brings_each_kernels_largest_singular_value_to_one_in_training_calls_only():
    D = models.dc_discriminator(spectral_norm=True)
    x = tf.random.stateless_uniform((8, 28, 28, 1), seed=(0, 2), minval=-1, maxval=1)

    def largest_singular_values():
        return [np.linalg.svd(np.reshape(layer.layer.kernel.numpy(), (-1, layer.layer.kernel.shape[-1])),
                              compute_uv=False)[0] for layer in D.layers if isinstance(layer, layers.SpectralNormalization)]

    before = largest_singular_values()
    D(x, training=False)
    assert largest_singular_values() == before  # inference calls leave the kernels alone
    assert not np.allclose(before, 1.0, atol=0.05)

    @tf.function
    def training_call(images):
        return D(images, training=True)

    for _ in range(100):  # one power iteration per call: the estimate converges over calls (20 left 5% at times)
        training_call(x)
    np.testing.assert_allclose(largest_singular_values(), 1.0, atol=0.02)


def test_a_spectrally_normalised_discriminator_trains_in_a_compiled_step():
    D, G = models.dc_discriminator(spectral_norm=True), models.dc_generator()
    optimizer = keras.optimizers.Adam(1e-3)
    optimizer.build(D.trainable_variables)

    @tf.function
    def step(z, real):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(D(G(z), training=True)) - tf.reduce_mean(D(real, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, D.trainable_variables), D.trainable_variables))
        return loss

    real = tf.random.stateless_uniform((4, 28, 28, 1), seed=(1, 2), minval=-1, maxval=1)
    losses_seen = [float(step(tf.fill((4, 96), 0.1), real)) for _ in range(3)]
    assert all(np.isfinite(losses_seen)) and losses_seen[0] != losses_seen[-1]
