"""Small pure functions on tensors: leaky ReLU, noise, image scaling."""

import numpy as np
import tensorflow as tf


def leaky_relu(x, alpha=0.01):
    """Leaky ReLU: ``x`` where ``x > 0``, ``alpha * x`` elsewhere.

    Args:
        x: a float tensor of any shape.
        alpha: slope for negative inputs (the course uses 0.01; note that
            Keras 3's ``LeakyReLU`` layer defaults to 0.3).
    Returns:
        a tensor of the same shape and dtype as ``x``.
    """
    x = tf.convert_to_tensor(x)
    return tf.maximum(x, alpha * x)


def sample_noise(batch_size, dim, seed=None):
    """Uniform noise in [-1, 1], shape ``(batch_size, dim)``, float32.

    The same ``seed`` gives the same noise every time (a stateless draw), so a
    fixed seed is how to watch the *same* latent codes evolve during training.
    """
    shape = (batch_size, dim)
    if seed is None:
        return tf.random.uniform(shape, minval=-1.0, maxval=1.0, dtype=tf.float32)
    return tf.random.stateless_uniform(
        shape, seed=(seed, 0), minval=-1.0, maxval=1.0, dtype=tf.float32
    )


def scale_pixels(images):
    """uint8 pixels 0..255 as float32 in [-1, 1], the range of a tanh generator.

    A numpy array gives a numpy array; a tensor (e.g. inside a ``tf.data`` map) gives a tensor.
    """
    if tf.is_tensor(images):
        return tf.cast(images, tf.float32) / 127.5 - 1.0
    return np.asarray(images, dtype=np.float32) / 127.5 - 1.0


def preprocess_img(x):
    """Map images from [0, 1] to [-1, 1], the range of a tanh generator."""
    return 2.0 * x - 1.0


def deprocess_img(x):
    """Map images from [-1, 1] back to [0, 1] for display."""
    return (x + 1.0) / 2.0
