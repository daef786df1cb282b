"""Small functions on tensors: leaky ReLU, noise and walks through it, image scaling, moving averages."""

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


def interpolate_noise(z0, z1, steps=8, method="linear"):
    """Noise vectors on the way from ``z0`` to ``z1``: a walk through a generator's noise space.

    ``linear``: z0 + t (z1 - z0). For the course's uniform noise in [-1, 1] every
    point with t in [0, 1] stays inside the noise cube, so the generator never sees
    an input it was not trained on.
    ``slerp``: along the great circle between the two directions, with the length
    interpolated linearly (White, 2016, "Sampling generative networks"). It suits
    Gaussian noise, whose samples lie near a sphere and whose linear midpoints are
    atypically short.

    Args:
        z0, z1: the two ends, numpy or tensors of the same shape: one vector (dim,),
            or ``n`` pairs (n, dim) walked side by side.
        steps: how many points, equally spaced from t = 0 to t = 1 (an integer >= 2,
            both ends included), or the t values themselves (a list or array).
    Returns:
        numpy float32 of shape (len(t),) + z0.shape; t = 0 gives z0 and t = 1 gives z1 exactly.
    """
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    if z0.shape != z1.shape or z0.ndim not in (1, 2):
        raise ValueError(f"z0 and z1 must have the same shape, (dim,) or (n, dim); got {z0.shape} and {z1.shape}.")
    if isinstance(steps, (int, np.integer)) and not isinstance(steps, bool) and steps >= 2:
        t = np.linspace(0.0, 1.0, steps)
    elif isinstance(steps, (list, tuple, np.ndarray)) and len(steps) > 0:
        t = np.asarray(steps, np.float64).reshape(-1)
    else:
        raise ValueError(f"steps must be an integer >= 2 (the two ends included) or a list of t values, "
                         f"not {steps!r}.")
    along = t.reshape((-1,) + (1,) * z0.ndim)
    if method == "linear":
        path = z0 + along * (z1 - z0)
    elif method == "slerp":
        norm0 = np.linalg.norm(z0, axis=-1, keepdims=True)
        norm1 = np.linalg.norm(z1, axis=-1, keepdims=True)
        if np.any(norm0 == 0) or np.any(norm1 == 0):
            raise ValueError("slerp needs two non-zero vectors; use method='linear'.")
        u0, u1 = z0 / norm0, z1 / norm1
        angle = np.arccos(np.clip(np.sum(u0 * u1, axis=-1, keepdims=True), -1.0, 1.0))
        parallel = angle < 1e-6  # the same direction: the great circle is a point
        sin_angle = np.where(parallel, 1.0, np.sin(angle))
        directions = np.where(parallel, u0 + along * (u1 - u0),
                              (np.sin((1 - along) * angle) * u0 + np.sin(along * angle) * u1) / sin_angle)
        path = directions * (norm0 + along * (norm1 - norm0))
    else:
        raise ValueError(f"method must be 'linear' or 'slerp', not {method!r}.")
    path[t == 0.0], path[t == 1.0] = z0, z1
    return path.astype(np.float32)


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


def ema_update(average, weights, decay):
    """One step of an exponential moving average, in place: average <- decay * average + (1 - decay) * weights.

    With ``decay`` near 1 the average forgets slowly: it is a weighted mean of the last
    1 / (1 - decay) or so values (1,000 for 0.999). ``run_a_gan(..., ema=0.999)`` calls it after
    every generator step on all of the generator's weights (batch norm's moving statistics
    included) and samples from the averaged copy (Karras et al., 2018; Yazici et al., 2019).
    Works eagerly and inside a compiled step.

    Args:
        average: a list of variables (``tf.Variable`` or ``keras.Variable``), updated in place.
        weights: a list of variables or tensors of the same shapes, in the same order; unchanged.
        decay: a number in [0, 1]: how much of the old average each step keeps.
    """
    average, weights = list(average), list(weights)
    if len(average) != len(weights):
        raise ValueError(f"ema_update got {len(average)} averages for {len(weights)} weights; pass the weights of "
                         "two models of the same architecture, e.g. G_average.weights and G.weights.")
    for mean, value in zip(average, weights):
        if mean.shape != value.shape:
            raise ValueError(f"ema_update: an average of shape {tuple(mean.shape)} cannot follow weights of shape "
                             f"{tuple(value.shape)}; the two lists must be in the same order.")
        if not tf.as_dtype(mean.dtype).is_floating:  # counters and seeds: an average means nothing, keep the latest
            mean.assign(value)
            continue
        # average - (1 - decay) (average - value) is the same as the docstring's formula, in one fewer rounding
        mean.assign_sub((1.0 - decay) * (mean - tf.cast(value, mean.dtype)))
