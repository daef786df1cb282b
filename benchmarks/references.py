"""Faithful re-creations of the two GAN tutorials the course is measured against.

Both are rewritten here for Keras 3 with the tutorials' own architectures,
hyper-parameters and training loops, changing only what Keras 3 requires
(``keras.Input`` instead of ``input_shape=``, ``negative_slope`` instead of
``alpha``) and what a benchmark needs (a wall-clock budget, no plotting, a seed).

- **CS231n** (Stanford, assignment 3, "GANs-TensorFlow"): the MLP GAN. Discriminator
  784 -> 256 -> LeakyReLU(0.01) -> 256 -> LeakyReLU(0.01) -> 1; generator
  96 -> 1024 ReLU -> 1024 ReLU -> 784 tanh; uniform noise in [-1, 1] of size 96;
  binary cross-entropy on logits; Adam(1e-3, beta1=0.5) for both; batch 128. Its
  ``run_a_gan`` is an eager Python loop (no ``tf.function``): per batch, one
  discriminator update, then one generator update on fresh noise. Its ``MNIST``
  helper draws a shuffled index array but then slices the data in file order; that
  quirk is kept.
- **TensorFlow DCGAN tutorial** (tensorflow.org/tutorials/generative/dcgan):
  generator Dense 7*7*256 (no bias) BN LeakyReLU -> ConvT 128 5x5 s1 BN LeakyReLU
  -> ConvT 64 5x5 s2 BN LeakyReLU -> ConvT 1 5x5 s2 tanh; discriminator Conv 64 5x5
  s2 LeakyReLU Dropout 0.3 -> Conv 128 5x5 s2 LeakyReLU Dropout 0.3 -> Dense 1;
  LeakyReLU at Keras's default slope 0.3; normal noise of size 100; Adam(1e-4) for
  both; batch 256; a ``tf.function`` step updating both networks at once from one
  tape pair; data shuffled with a 60,000 buffer.

Each ``train_*`` function returns ``(G, stats)``; ``sample_*`` draws images in
[-1, 1] from a trained G with that tutorial's own noise.
"""

import time

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from gan_helpers.data import load_mnist

# ---------------------------------------------------------------- CS231n MLP GAN

CS231N_NOISE_DIM = 96
CS231N_BATCH_SIZE = 128


def cs231n_discriminator():
    return keras.Sequential(
        [
            keras.Input(shape=(784,)),
            layers.Dense(256),
            layers.LeakyReLU(negative_slope=0.01),
            layers.Dense(256),
            layers.LeakyReLU(negative_slope=0.01),
            layers.Dense(1),
        ]
    )


def cs231n_generator(noise_dim=CS231N_NOISE_DIM):
    return keras.Sequential(
        [
            keras.Input(shape=(noise_dim,)),
            layers.Dense(1024),
            layers.ReLU(),
            layers.Dense(1024),
            layers.ReLU(),
            layers.Dense(784, activation=tf.nn.tanh),
        ]
    )


def _cs231n_sample_noise(batch_size, dim):
    return tf.random.uniform([batch_size, dim], minval=-1, maxval=1)


def _cs231n_discriminator_loss(logits_real, logits_fake):
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
    return cross_entropy(tf.ones_like(logits_real), logits_real) + cross_entropy(tf.zeros_like(logits_fake), logits_fake)


def _cs231n_generator_loss(logits_fake):
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
    return cross_entropy(tf.ones_like(logits_fake), logits_fake)


class _CS231nMNIST:
    """The assignment's MNIST iterator: (B, 784) float32 batches in [0, 1]."""

    def __init__(self, batch_size, shuffle=False):
        (X, y), _ = load_mnist()
        self.X = X.astype(np.float32).reshape((X.shape[0], -1)) / 255
        self.y = y
        self.batch_size, self.shuffle = batch_size, shuffle

    def __iter__(self):
        N, B = self.X.shape[0], self.batch_size
        idxs = np.arange(N)
        if self.shuffle:
            np.random.shuffle(idxs)  # drawn but unused, as in the assignment
        return iter((self.X[i : i + B], self.y[i : i + B]) for i in range(0, N, B))


def train_cs231n(budget_s=None, max_steps=None, seed=0):
    """Train the CS231n MLP GAN with the assignment's eager loop.

    Stops at the first of ``budget_s`` seconds (checked after every step, counting
    model building) and ``max_steps`` steps.
    Returns:
        (G, stats) with stats: steps, images_seen, seconds, images_per_sec (after the first step).
    """
    start = time.perf_counter()
    keras.utils.set_random_seed(seed)
    D, G = cs231n_discriminator(), cs231n_generator()
    D_solver = keras.optimizers.Adam(learning_rate=1e-3, beta_1=0.5)
    G_solver = keras.optimizers.Adam(learning_rate=1e-3, beta_1=0.5)
    batch_size, noise_size = CS231N_BATCH_SIZE, CS231N_NOISE_DIM
    mnist = _CS231nMNIST(batch_size=batch_size, shuffle=True)
    steps, images, steady = 0, 0, None
    while True:
        for x, _ in mnist:
            with tf.GradientTape() as tape:
                logits_real = D(2 * x - 1.0)
                fake_images = G(_cs231n_sample_noise(batch_size, noise_size))
                logits_fake = D(tf.reshape(fake_images, [batch_size, 784]))
                d_total_error = _cs231n_discriminator_loss(logits_real, logits_fake)
                d_gradients = tape.gradient(d_total_error, D.trainable_variables)
                D_solver.apply_gradients(zip(d_gradients, D.trainable_variables))
            with tf.GradientTape() as tape:
                fake_images = G(_cs231n_sample_noise(batch_size, noise_size))
                gen_logits_fake = D(tf.reshape(fake_images, [batch_size, 784]))
                g_error = _cs231n_generator_loss(gen_logits_fake)
                g_gradients = tape.gradient(g_error, G.trainable_variables)
                G_solver.apply_gradients(zip(g_gradients, G.trainable_variables))
            steps += 1
            images += len(x)
            if steady is None:
                float(g_error)
                steady = (time.perf_counter(), images)
            if _done(start, budget_s, steps, max_steps):
                float(g_error)
                return G, _stats(start, steps, images, steady)


def sample_cs231n(G, count, seed=0):
    """``count`` images (count, 784) in [-1, 1] from the CS231n generator (uniform noise)."""
    tf.random.set_seed(seed)
    return np.concatenate([np.asarray(G(_cs231n_sample_noise(min(500, count - i), CS231N_NOISE_DIM))) for i in range(0, count, 500)])


# ---------------------------------------------------------------- TensorFlow DCGAN tutorial

TF_NOISE_DIM = 100
TF_BATCH_SIZE = 256


def tf_tutorial_generator():
    return keras.Sequential(
        [
            keras.Input(shape=(TF_NOISE_DIM,)),
            layers.Dense(7 * 7 * 256, use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Reshape((7, 7, 256)),
            layers.Conv2DTranspose(128, (5, 5), strides=(1, 1), padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Conv2DTranspose(64, (5, 5), strides=(2, 2), padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Conv2DTranspose(1, (5, 5), strides=(2, 2), padding="same", use_bias=False, activation="tanh"),
        ]
    )


def tf_tutorial_discriminator():
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(64, (5, 5), strides=(2, 2), padding="same"),
            layers.LeakyReLU(),
            layers.Dropout(0.3),
            layers.Conv2D(128, (5, 5), strides=(2, 2), padding="same"),
            layers.LeakyReLU(),
            layers.Dropout(0.3),
            layers.Flatten(),
            layers.Dense(1),
        ]
    )


def train_tf_tutorial(budget_s=None, max_steps=None, seed=0):
    """Train the TensorFlow DCGAN tutorial's GAN with its own loop; see ``train_cs231n``."""
    start = time.perf_counter()
    keras.utils.set_random_seed(seed)
    generator, discriminator = tf_tutorial_generator(), tf_tutorial_discriminator()
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)

    def discriminator_loss(real_output, fake_output):
        real_loss = cross_entropy(tf.ones_like(real_output), real_output)
        fake_loss = cross_entropy(tf.zeros_like(fake_output), fake_output)
        return real_loss + fake_loss

    def generator_loss(fake_output):
        return cross_entropy(tf.ones_like(fake_output), fake_output)

    generator_optimizer = keras.optimizers.Adam(1e-4)
    discriminator_optimizer = keras.optimizers.Adam(1e-4)
    (train_images, _), _ = load_mnist()
    train_images = train_images.reshape(train_images.shape[0], 28, 28, 1).astype("float32")
    train_images = (train_images - 127.5) / 127.5
    train_dataset = tf.data.Dataset.from_tensor_slices(train_images).shuffle(60000, seed=seed).batch(TF_BATCH_SIZE)

    @tf.function
    def train_step(images):
        noise = tf.random.normal([TF_BATCH_SIZE, TF_NOISE_DIM])
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated_images = generator(noise, training=True)
            real_output = discriminator(images, training=True)
            fake_output = discriminator(generated_images, training=True)
            gen_loss = generator_loss(fake_output)
            disc_loss = discriminator_loss(real_output, fake_output)
        gradients_of_generator = gen_tape.gradient(gen_loss, generator.trainable_variables)
        gradients_of_discriminator = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
        generator_optimizer.apply_gradients(zip(gradients_of_generator, generator.trainable_variables))
        discriminator_optimizer.apply_gradients(zip(gradients_of_discriminator, discriminator.trainable_variables))
        return gen_loss

    steps, images, steady = 0, 0, None
    while True:
        for image_batch in train_dataset:
            gen_loss = train_step(image_batch)
            steps += 1
            images += int(image_batch.shape[0])
            if steady is None:
                float(gen_loss)
                steady = (time.perf_counter(), images)
            if _done(start, budget_s, steps, max_steps):
                float(gen_loss)
                return generator, _stats(start, steps, images, steady)


def sample_tf_tutorial(G, count, seed=0):
    """``count`` images (count, 28, 28, 1) in [-1, 1] from the tutorial's generator (normal noise)."""
    tf.random.set_seed(seed)
    batches = [G(tf.random.normal([min(500, count - i), TF_NOISE_DIM]), training=False) for i in range(0, count, 500)]
    return np.concatenate([np.asarray(batch) for batch in batches])


# ---------------------------------------------------------------- shared


def _done(start, budget_s, steps, max_steps):
    if max_steps is not None and steps >= max_steps:
        return True
    return budget_s is not None and time.perf_counter() - start >= budget_s


def _stats(start, steps, images, steady):
    end = time.perf_counter()
    since, images_then = steady
    return {
        "steps": steps,
        "images_seen": images,
        "seconds": round(end - start, 2),
        "images_per_sec": (images - images_then) / max(end - since, 1e-9) if images > images_then else 0.0,
    }
