"""The GAN losses against numpy, at large logits, on every accepted input shape."""

import numpy as np
import pytest
import tensorflow as tf

from gan_helpers import losses


def softplus(x):
    return np.logaddexp(0.0, x)


@pytest.fixture
def logits():
    rng = np.random.default_rng(0)
    return rng.normal(0.5, 3.0, size=(64, 1)), rng.normal(-0.5, 3.0, size=(64, 1))


def test_discriminator_loss_matches_numpy(logits):
    real, fake = logits
    # -mean(log sigmoid(real)) - mean(log(1 - sigmoid(fake)))
    expected = np.mean(softplus(-real)) + np.mean(softplus(fake))
    value = losses.discriminator_loss(tf.constant(real, tf.float32), tf.constant(fake, tf.float32))
    assert value.shape == () and value.dtype == tf.float32
    assert float(value) == pytest.approx(expected, rel=1e-5)


def test_generator_loss_is_the_non_saturating_one(logits):
    _, fake = logits
    expected = -np.mean(np.log(1.0 / (1.0 + np.exp(-fake))))  # -mean(log D(G(z)))
    assert float(losses.generator_loss(tf.constant(fake, tf.float32))) == pytest.approx(expected, rel=1e-5)


def test_generator_gradient_does_not_vanish_when_d_rejects_the_samples():
    fake = tf.constant([[-20.0], [-20.0]])  # D is sure these are fake
    with tf.GradientTape() as tape:
        tape.watch(fake)
        loss = losses.generator_loss(fake)
    gradient = tape.gradient(loss, fake).numpy()
    np.testing.assert_allclose(gradient, -0.5, rtol=1e-6)  # d/ds softplus(-s) / N = -sigmoid(-s) / N


def test_least_squares_losses_match_numpy(logits):
    real, fake = logits
    d = losses.ls_discriminator_loss(tf.constant(real, tf.float32), tf.constant(fake, tf.float32))
    g = losses.ls_generator_loss(tf.constant(fake, tf.float32))
    assert d.dtype == g.dtype == tf.float32 and d.shape == g.shape == ()
    assert float(d) == pytest.approx(0.5 * np.mean((real - 1) ** 2) + 0.5 * np.mean(fake**2), rel=1e-5)
    assert float(g) == pytest.approx(0.5 * np.mean((fake - 1) ** 2), rel=1e-5)


def test_least_squares_losses_are_zero_at_their_targets():
    assert float(losses.ls_discriminator_loss(tf.ones((5, 1)), tf.zeros((5, 1)))) == 0.0
    assert float(losses.ls_generator_loss(tf.ones((5, 1)))) == 0.0


@pytest.mark.parametrize("size", [100.0, 1000.0])
def test_large_logits_give_exact_finite_losses_and_gradients(size):
    real = tf.constant([[size], [-size]])
    fake = tf.constant([[-size], [size]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([real, fake])
        d_loss = losses.discriminator_loss(real, fake)
        g_loss = losses.generator_loss(fake)
    assert float(d_loss) == pytest.approx(size)  # one confident mistake in each half: size/2 + size/2
    assert float(g_loss) == pytest.approx(size / 2)
    for gradient in tape.gradient(d_loss, [real, fake]) + [tape.gradient(g_loss, fake)]:
        assert np.all(np.isfinite(gradient.numpy()))


def test_a_perfect_discriminator_has_zero_loss():
    assert float(losses.discriminator_loss(tf.fill((4, 1), 50.0), tf.fill((4, 1), -50.0))) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    "loss, arguments",
    [
        (losses.discriminator_loss, 2),
        (losses.generator_loss, 1),
        (losses.ls_discriminator_loss, 2),
        (losses.ls_generator_loss, 1),
        (losses.hinge_discriminator_loss, 2),
        (losses.hinge_generator_loss, 1),
    ],
)
def test_shapes_n_and_n1_numpy_and_float64_inputs_agree(loss, arguments, logits):
    columns = list(logits)[-arguments:]
    reference = float(loss(*[tf.constant(c, tf.float32) for c in columns]))
    for variant in (
        [tf.constant(c[:, 0], tf.float32) for c in columns],  # (N,)
        [c.astype(np.float32) for c in columns],  # numpy
        [tf.constant(c, tf.float64) for c in columns],  # float64 is cast
    ):
        value = loss(*variant)
        assert value.dtype == tf.float32 and value.shape == ()
        assert float(value) == pytest.approx(reference, rel=1e-6)


def test_losses_are_batch_means_not_sums():
    one = losses.discriminator_loss(tf.constant([[0.3]]), tf.constant([[-0.2]]))
    many = losses.discriminator_loss(tf.fill((50, 1), 0.3), tf.fill((50, 1), -0.2))
    assert float(many) == pytest.approx(float(one), rel=1e-6)
    assert float(losses.ls_generator_loss(tf.fill((50, 1), 0.3))) == pytest.approx(0.5 * 0.7**2, rel=1e-6)


def test_generator_gradient_factors_are_the_per_sample_derivatives_even_for_large_scores():
    scores = np.array([-60.0, -3.0, -0.5, 0.0, 0.7, 2.0, 60.0])
    minimax, non_saturating, least_squares = losses.generator_gradient_factors(scores)
    sigmoid = 1 / (1 + np.exp(-scores))
    for factor, expected in [(minimax, -sigmoid), (non_saturating, sigmoid - 1), (least_squares, scores - 1)]:
        assert factor.shape == (7,) and factor.dtype == tf.float32
        np.testing.assert_allclose(np.asarray(factor), expected, rtol=1e-6, atol=1e-7)


def test_hinge_losses_match_numpy(logits):
    real, fake = logits
    d_loss = losses.hinge_discriminator_loss(tf.constant(real, tf.float32), tf.constant(fake, tf.float32))
    g_loss = losses.hinge_generator_loss(tf.constant(fake, tf.float32))
    expected = np.mean(np.maximum(0, 1 - real)) + np.mean(np.maximum(0, 1 + fake))
    assert float(d_loss) == pytest.approx(expected, rel=1e-6)
    assert float(g_loss) == pytest.approx(-np.mean(fake), rel=1e-6)


def test_hinge_discriminator_loss_ignores_scores_beyond_the_margin():
    """Reals above +1 and fakes below -1 cost nothing and send no gradient; the generator's gradient never vanishes."""
    real, fake = tf.constant([[1.5], [0.5], [3.0]]), tf.constant([[-2.0], [-0.5], [0.4]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([real, fake])
        d_loss = losses.hinge_discriminator_loss(real, fake)
        g_loss = losses.hinge_generator_loss(fake)
    assert float(d_loss) == pytest.approx(0.5 / 3 + (0.5 + 1.4) / 3, rel=1e-6)
    np.testing.assert_allclose(tape.gradient(d_loss, real)[:, 0], [0, -1 / 3, 0], atol=1e-7)
    np.testing.assert_allclose(tape.gradient(d_loss, fake)[:, 0], [0, 1 / 3, 1 / 3], atol=1e-7)
    np.testing.assert_allclose(tape.gradient(g_loss, fake)[:, 0], [-1 / 3] * 3, atol=1e-7)
    assert float(losses.hinge_discriminator_loss(tf.fill((4, 1), 1.0), tf.fill((4, 1), -1.0))) == 0.0
