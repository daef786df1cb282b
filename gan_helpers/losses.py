"""GAN losses: the original (binary cross-entropy) GAN, the least-squares GAN, the Wasserstein GAN and the hinge loss.

Every loss takes the discriminator's outputs for a batch, shape (N, 1) or
(N,), and returns a float32 scalar: a mean over the batch, so that the loss (and
the size of a gradient step) does not grow with the batch size.
``generator_gradient_factors`` says what each generator loss sends back per sample.
``gradient_penalty`` is WGAN-GP's term on the critic's gradient (Gulrajani et al., 2017),
added to the critic's loss at every critic update (``run_a_gan(..., discriminator_penalty=)``).
"""

import inspect

import keras
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
    return wasserstein_generator_loss(scores_fake)


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


# ---------------------------------------------------------------------------
# The Wasserstein GAN (Arjovsky et al., 2017) with gradient penalty (Gulrajani et al., 2017)
# ---------------------------------------------------------------------------

# Added under the square root of the squared gradient norm: the norm's gradient,
# g / ||g||, is 0 / 0 where the critic is flat (g = 0), and NaN would reach the weights.
GRADIENT_NORM_EPSILON = 1e-12


def wasserstein_critic_loss(scores_real, scores_fake):
    """The critic's loss: E_z[D(G(z))] - E_x[D(x)], to be minimised.

    Its negative, E_x[D(x)] - E_z[D(G(z))], is the critic's estimate of the
    Wasserstein-1 distance between the real and the generated images (up to the
    critic's Lipschitz constant; Kantorovich-Rubinstein duality). Scores are the
    critic's raw outputs: no sigmoid, no logarithm.

    Args:
        scores_real: the critic's scores on real images, shape (N, 1) or (N,).
        scores_fake: its scores on generated images, shape (M, 1) or (M,).
    Returns:
        float32 scalar.
    """
    return tf.reduce_mean(_as_float32(scores_fake)) - tf.reduce_mean(_as_float32(scores_real))


def wasserstein_generator_loss(scores_fake):
    """The generator's loss: -E_z[D(G(z))], to be minimised (raise the critic's scores on fakes).

    Args:
        scores_fake: the critic's scores on generated images, shape (N, 1) or (N,).
    Returns:
        float32 scalar.
    """
    return -tf.reduce_mean(_as_float32(scores_fake))


def gradient_penalty(critic, real, fake, weight=10.0):
    """WGAN-GP's gradient penalty: weight * E[(||grad D(x_hat)||_2 - 1)^2] at points between real and fake.

    For each example i, one weight eps_i ~ U[0, 1] places x_hat_i = eps_i x_i + (1 - eps_i) x~_i
    on the straight line from the fake x~_i to the real x_i (the same eps_i for every
    pixel of the example). The critic's gradient with respect to x_hat_i is taken per
    example; its L2 norm over all of the example's values (with ``GRADIENT_NORM_EPSILON``
    under the square root, so that a flat critic gives a finite gradient, not NaN) is
    pulled towards 1 from both sides (Gulrajani et al., 2017, Eq. 3 and Algorithm 1).
    The result is differentiable with respect to the critic's weights (the gradient of
    a gradient), which is how the penalty trains the critic.

    Args:
        critic: a ``keras.Model`` from images to scores (N, 1) or (N,), called with
            ``training=True`` as in the training step; or any function of the images
            (given ``training=True`` when it takes a ``training`` argument), such as the
            ``lambda x, training=None: D([x, labels], training=training)`` that
            ``run_a_gan`` passes for a conditional critic.
        real, fake: float batches of the same shape (N, ...), e.g. (N, 28, 28, 1) or (N, 784).
        weight: lambda, the penalty's coefficient (10 in the paper, for every experiment).
    Returns:
        float32 scalar.
    """
    real, fake = _as_float32(real), _as_float32(fake)
    batch = tf.shape(real)[0]
    one_per_example = tf.concat([[batch], tf.ones([tf.rank(real) - 1], tf.int32)], axis=0)
    eps = tf.random.uniform(one_per_example)
    x_hat = eps * real + (1.0 - eps) * fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat, training=True) if _takes_training(critic) else critic(x_hat)
    gradients = tf.cast(tape.gradient(scores, x_hat), tf.float32)
    squared_norms = tf.reduce_sum(tf.square(tf.reshape(gradients, [batch, -1])), axis=1)
    norms = tf.sqrt(squared_norms + GRADIENT_NORM_EPSILON)
    return tf.cast(weight, tf.float32) * tf.reduce_mean(tf.square(norms - 1.0))


def _takes_training(function):
    """Whether ``function`` accepts ``training=``: Keras layers and models do, and functions that say so."""
    if isinstance(function, keras.Layer):
        return True
    try:
        return "training" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
