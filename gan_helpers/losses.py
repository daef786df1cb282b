"""GAN losses: the original (binary cross-entropy) GAN, the least-squares GAN and the hinge loss.

Every loss takes the discriminator's outputs for a batch, shape (N, 1) or
(N,), and returns a float32 scalar: a mean over the batch, so that the loss (and
the size of a gradient step) does not grow with the batch size.
``generator_gradient_factors`` says what each generator loss sends back per sample.
"""

import tensorflow as tf


def _as_float32(x):
    """The discriminator outputs as a float32 tensor (accepts lists and numpy too)."""
    return tf.cast(tf.convert_to_tensor(x), tf.float32)


def _bce_with_logits(logits, label):
    """Mean binary cross-entropy of ``sigmoid(logits)`` against a constant label.

    Computed from the logits directly (``max(s, 0) - s*y + log(1 + exp(-|s|))``),
    so logits of +/-100 give exact, finite losses where ``log(sigmoid(s))`` would
    give ``log(0) = -inf``.
    """
    logits = _as_float32(logits)
    labels = tf.fill(tf.shape(logits), tf.constant(label, tf.float32))
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))


def discriminator_loss(logits_real, logits_fake):
    """The discriminator's loss: label real images 1 and generated images 0.

    loss = -E_x[log D(x)] - E_z[log(1 - D(G(z)))], with D = sigmoid(logits).

    Args:
        logits_real: D's logits on real images, shape (N, 1) or (N,).
        logits_fake: D's logits on generated images, shape (M, 1) or (M,).
    Returns:
        float32 scalar: the sum of the two batch-mean cross-entropies.
    """
    return _bce_with_logits(logits_real, 1.0) + _bce_with_logits(logits_fake, 0.0)


def generator_loss(logits_fake):
    """The generator's non-saturating loss: make D call generated images real.

    loss = -E_z[log D(G(z))], with D = sigmoid(logits). Its gradient is large
    exactly when D confidently rejects the samples, unlike the minimax form
    E_z[log(1 - D(G(z)))], which saturates there.

    Args:
        logits_fake: D's logits on generated images, shape (N, 1) or (N,).
    Returns:
        float32 scalar, the batch mean.
    """
    return _bce_with_logits(logits_fake, 1.0)


def ls_discriminator_loss(scores_real, scores_fake):
    """The least-squares GAN discriminator loss (Mao et al., 2017).

    loss = 1/2 E_x[(D(x) - 1)^2] + 1/2 E_z[D(G(z))^2]: pull scores of real
    images to 1 and of generated images to 0. Scores are D's raw outputs (no sigmoid).

    Args:
        scores_real: D's scores on real images, shape (N, 1) or (N,).
        scores_fake: D's scores on generated images, shape (M, 1) or (M,).
    Returns:
        float32 scalar.
    """
    scores_real = _as_float32(scores_real)
    scores_fake = _as_float32(scores_fake)
    return 0.5 * tf.reduce_mean(tf.square(scores_real - 1.0)) + 0.5 * tf.reduce_mean(
        tf.square(scores_fake)
    )


def ls_generator_loss(scores_fake):
    """The least-squares GAN generator loss: 1/2 E_z[(D(G(z)) - 1)^2].

    Args:
        scores_fake: D's scores on generated images, shape (N, 1) or (N,).
    Returns:
        float32 scalar.
    """
    scores_fake = _as_float32(scores_fake)
    return 0.5 * tf.reduce_mean(tf.square(scores_fake - 1.0))


def hinge_discriminator_loss(scores_real, scores_fake):
    """The hinge loss of the discriminator (Lim and Ye, 2017; used with spectral normalisation by
    Miyato et al., 2018, and by SAGAN and BigGAN).

    loss = E_x[max(0, 1 - D(x))] + E_z[max(0, 1 + D(G(z)))]: D is trained like a margin
    classifier on its raw scores (no sigmoid). Real images scored above +1 and generated ones
    below -1 add nothing: D stops pushing on what it already separates by the margin.

    Args:
        scores_real: D's scores on real images, shape (N, 1) or (N,).
        scores_fake: D's scores on generated images, shape (M, 1) or (M,).
    Returns:
        float32 scalar, the sum of the two batch means.
    """
    scores_real = _as_float32(scores_real)
    scores_fake = _as_float32(scores_fake)
    return tf.reduce_mean(tf.nn.relu(1.0 - scores_real)) + tf.reduce_mean(tf.nn.relu(1.0 + scores_fake))


def hinge_generator_loss(scores_fake):
    """The generator's loss paired with the hinge loss: -E_z[D(G(z))].

    Linear in D's score, not a hinge: its gradient does not vanish however sure D is. (The
    same as the Wasserstein GAN's generator loss; the discriminators' losses differ.)

    Args:
        scores_fake: D's scores on generated images, shape (N, 1) or (N,).
    Returns:
        float32 scalar, the batch mean.
    """
    return -tf.reduce_mean(_as_float32(scores_fake))


def generator_gradient_factors(scores):
    """The derivative of each sample's generator loss with respect to D's output on it.

    The generator learns through these factors: by the chain rule its gradient is
    the batch mean of factor_i * d(score_i)/d(weights). (Notebook 06.)

    Args:
        scores: D's outputs s on N generated images, shape (N,).
    Returns:
        (minimax, non_saturating, least_squares), three float32 tensors of shape (N,):
        the derivatives of log(1 - sigmoid(s)), -log sigmoid(s) and 1/2 (s - 1)^2,
        that is -sigmoid(s), sigmoid(s) - 1 and s - 1 (least squares with the 0-1 coding).
    """
    scores = _as_float32(scores)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(scores)
        per_sample = (-tf.nn.softplus(scores), tf.nn.softplus(-scores), 0.5 * tf.square(scores - 1.0))
    return tuple(tape.gradient(loss, scores) for loss in per_sample)
