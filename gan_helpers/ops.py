"""Small pure functions on tensors: leaky ReLU, noise, image scaling."""

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


def preprocess_img(x):
    """Map images from [0, 1] to [-1, 1], the range of a tanh generator."""
    return 2.0 * x - 1.0


def deprocess_img(x):
    """Map images from [-1, 1] back to [0, 1] for display."""
    return (x + 1.0) / 2.0
