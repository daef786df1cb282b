"""Checks of notebook 04: the GAN losses on logits and the least-squares GAN losses.

Each loss is run on fixed discriminator outputs of shape (N, 1), as the
discriminator returns them, then of shape (N,), which the docstrings allow too,
and compared with stored values; a wrong value is matched against the values of
known mistakes (written out here in float64 numpy) to name the mistake.
"""

import numpy as np
import tensorflow as tf

from gan_helpers.checks.engine import (
    LOSS_TOLERANCE,
    call_student,
    expected_values,
    fail,
    matching_mistake,
    passed,
    scaled_error,
    student_error,
    tensor_values,
)


def _softplus(x):
    return np.logaddexp(0.0, x)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _bce_mean(logits, label):
    """Mean cross-entropy of sigmoid(logits) against a constant label in [0, 1], float64."""
    return np.mean(label * _softplus(-logits) + (1 - label) * _softplus(logits))


def _bce_from_probabilities(p, label, epsilon=1e-7):
    """Keras's BinaryCrossentropy without from_logits: clips the 'probabilities' (in float32, as Keras does)."""
    one, epsilon = np.float32(1.0), np.float32(epsilon)
    p = np.clip(np.asarray(p, np.float32), epsilon, one - epsilon)
    return np.mean(-np.log(p) if label == 1 else -np.log(one - p), dtype=np.float64)


_SMOOTHING = "label smoothing (Salimans et al., 2016) is a training trick, not part of this loss"


def _d_loss_mistakes(real, fake):
    correct = _bce_mean(real, 1) + _bce_mean(fake, 0)
    return [
        ("real and fake labels look swapped: real images get label 1, generated images label 0.",
         _bce_mean(real, 0) + _bce_mean(fake, 1)),
        ("looks like a sum over the batch instead of a mean: use tf.reduce_mean.",
         np.sum(_softplus(-real)) + np.sum(_softplus(fake))),
        ("the loss looks like it applies sigmoid to logits twice: pass the logits themselves to "
         "tf.nn.sigmoid_cross_entropy_with_logits (it applies the sigmoid).",
         _bce_mean(_sigmoid(real), 1) + _bce_mean(_sigmoid(fake), 0)),
        ("the logits are treated as probabilities: with keras.losses.BinaryCrossentropy pass from_logits=True.",
         _bce_from_probabilities(real, 1) + _bce_from_probabilities(fake, 0)),
        ("half the expected value: one mean over real and fake together? The loss adds the two batch means.",
         0.5 * correct),
        ("the sign is flipped: cross-entropy is minus the log-likelihood.", -correct),
        ("only the real-image term: add the term for generated images (label 0).", _bce_mean(real, 1)),
        ("only the generated-image term: add the term for real images (label 1).", _bce_mean(fake, 0)),
        (f"real images get label 0.9: that is one-sided label smoothing; {_SMOOTHING}. Real images get label 1.",
         _bce_mean(real, 0.9) + _bce_mean(fake, 0)),
        (f"the labels are smoothed to 0.9 and 0.1; {_SMOOTHING} (and its one-sided form smooths only the real "
         "labels). Real images get label 1, generated images 0.",
         _bce_mean(real, 0.9) + _bce_mean(fake, 0.1)),
    ]


def _g_loss_mistakes(fake):
    correct = _bce_mean(fake, 1)
    return [
        ("this is the saturating (minimax) loss E[log(1 - D(G(z)))]: the course uses the non-saturating "
         "-E[log D(G(z))], cross-entropy with label 1 on the generated images.", -_bce_mean(fake, 0)),
        ("real and fake labels look swapped: the generator wants D to call its samples real (label 1).",
         _bce_mean(fake, 0)),
        ("looks like a sum over the batch instead of a mean: use tf.reduce_mean.", np.sum(_softplus(-fake))),
        ("the loss looks like it applies sigmoid to logits twice: pass the logits themselves to "
         "tf.nn.sigmoid_cross_entropy_with_logits.", _bce_mean(_sigmoid(fake), 1)),
        ("the logits are treated as probabilities: with keras.losses.BinaryCrossentropy pass from_logits=True.",
         _bce_from_probabilities(fake, 1)),
        ("the sign is flipped: cross-entropy is minus the log-likelihood.", -correct),
        (f"the generator's target is 0.9: {_SMOOTHING}, and where it is used it smooths only the "
         "discriminator's labels for real images. The generator's target is 1.", _bce_mean(fake, 0.9)),
    ]


_MAO_CODING = ("the (-1, 1, 0) coding of Mao et al. (a = -1 for generated images, b = 1 for real ones, c = 0 for "
               "the generator), the one under which LSGAN minimises a Pearson chi-squared divergence; the course "
               "uses their 0-1 coding, a = 0, b = c = 1")


def _ls_d_mistakes(real, fake):
    correct = 0.5 * np.mean((real - 1) ** 2) + 0.5 * np.mean(fake**2)
    return [
        ("the 1/2 factor is missing: 1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2].", 2 * correct),
        ("the targets look swapped: real scores are pulled to 1, generated ones to 0.",
         0.5 * np.mean(real**2) + 0.5 * np.mean((fake - 1) ** 2)),
        ("looks like a sum over the batch instead of a mean: use tf.reduce_mean.",
         0.5 * np.sum((real - 1) ** 2) + 0.5 * np.sum(fake**2)),
        ("looks like a sum instead of a mean, and the 1/2 factor is missing.",
         np.sum((real - 1) ** 2) + np.sum(fake**2)),
        ("a sigmoid is applied to the scores: the least-squares loss works on D's raw outputs.",
         0.5 * np.mean((_sigmoid(real) - 1) ** 2) + 0.5 * np.mean(_sigmoid(fake) ** 2)),
        ("half the expected value: 1/2 applied twice, or one mean over real and fake together?", 0.5 * correct),
        ("the differences are not squared.", 0.5 * np.mean(real - 1) + 0.5 * np.mean(fake)),
        ("absolute values instead of squares.", 0.5 * np.mean(np.abs(real - 1)) + 0.5 * np.mean(np.abs(fake))),
        (f"generated images' scores are pulled to -1: that is {_MAO_CODING}: 1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2].",
         0.5 * np.mean((real - 1) ** 2) + 0.5 * np.mean((fake + 1) ** 2)),
    ]


def _ls_g_mistakes(fake):
    correct = 0.5 * np.mean((fake - 1) ** 2)
    return [
        ("the 1/2 factor is missing: 1/2 E[(D(G(z)) - 1)^2].", 2 * correct),
        (f"the target looks swapped: the generator pulls D's scores on its samples to 1, not 0. (A target of 0 "
         f"is {_MAO_CODING}.)", 0.5 * np.mean(fake**2)),
        ("looks like a sum over the batch instead of a mean: use tf.reduce_mean.", 0.5 * np.sum((fake - 1) ** 2)),
        ("looks like a sum instead of a mean, and the 1/2 factor is missing.", np.sum((fake - 1) ** 2)),
        ("a sigmoid is applied to the scores: the least-squares loss works on D's raw outputs.",
         0.5 * np.mean((_sigmoid(fake) - 1) ** 2)),
        ("the differences are not squared.", 0.5 * np.mean(fake - 1)),
        ("absolute values instead of squares.", 0.5 * np.mean(np.abs(fake - 1))),
    ]


def _check_loss(check, name, loss, inputs, expected, mistakes, what="logits"):
    """Run ``loss(*inputs)`` on shape (N, 1), then (N,); compare with ``expected``; return the relative error."""
    value = tensor_values(check, name, call_student(check, name, loss, *[tf.constant(x) for x in inputs]), ())
    error = scaled_error(value, expected)
    if error > LOSS_TOLERANCE:
        arguments = [np.asarray(x, np.float64) for x in inputs]
        hint = matching_mistake(value, mistakes(*arguments))
        fail(check, f"{name} returned {float(value):.6g}, expected {float(expected):.6g} (relative error {error:.1e}).", hint)

    flat = [tf.constant(x[:, 0]) for x in inputs]
    try:
        flat_output = loss(*flat)
    except Exception as failure:
        raise student_error(
            check, f"your {name} works on {what} of shape (N, 1), but on shape (N,) it raised", failure,
            _flat_failure_hint(failure, what),
        ) from failure
    flat_value = tensor_values(check, f"{name} on {what} of shape (N,)", flat_output, ())
    flat_error = scaled_error(flat_value, expected)
    if flat_error > LOSS_TOLERANCE:
        fail(
            check,
            f"{name} gives {float(flat_value):.6g} on {what} of shape (N,) but {float(value):.6g} on shape (N, 1).",
            "broadcasting between shapes (N,) and (N, 1) makes an (N, N) matrix: build targets with "
            f"tf.ones_like({what}) / tf.zeros_like({what}).",
        )
    return max(error, flat_error)


def _flat_failure_hint(failure, what):
    allowed = f"the {what} may have shape (N, 1), as the discriminator returns them, or (N,): the docstring allows both"
    if isinstance(failure, ValueError) and "not enough values to unpack" in str(failure):
        return (f"`N, _ = {what}.shape` needs two dimensions, and {allowed}. Build the targets with "
                f"tf.ones_like({what}) / tf.zeros_like({what}), which take the {what}' shape whatever it is "
                f"(where you need the batch size alone, N = tf.shape({what})[0] works on both).")
    return (f"{allowed}. Build the targets with tf.ones_like({what}) / tf.zeros_like({what}), which take the "
            f"{what}' shape, rather than with a fixed shape such as (N, 1); flatten with tf.reshape(x, [-1]) "
            "rather than tf.squeeze(x, axis=1).")


def _check_extreme_logits(check, name, loss, inputs, expected):
    output = call_student(check, name, loss, *[tf.constant(x) for x in inputs])
    if tf.is_tensor(output) and not np.all(np.isfinite(np.asarray(output))):
        fail(
            check,
            f"{name} is not finite for large logits (+/-100, +/-200): {float(np.asarray(output)):.6g}.",
            "log(sigmoid(x)) underflows to log(0): compute the loss from the logits with "
            "tf.nn.sigmoid_cross_entropy_with_logits (or BinaryCrossentropy(from_logits=True)).",
        )
    value = tensor_values(check, name, output, ())
    error = scaled_error(value, expected)
    if error > LOSS_TOLERANCE:
        fail(
            check,
            f"for large logits (+/-100, +/-200) {name} returns {float(value):.6g}, expected {float(expected):.6g}.",
            "clipping probabilities or computing log(sigmoid(x)) loses accuracy for large logits: compute the "
            "loss from the logits with tf.nn.sigmoid_cross_entropy_with_logits.",
        )
    return error


def test_discriminator_loss(discriminator_loss):
    """Check ``discriminator_loss(logits_real, logits_fake)``, logits of shape (N, 1) or (N,), large logits included."""
    check = "test_discriminator_loss"
    expected = expected_values()
    error = _check_loss(
        check, "discriminator_loss", discriminator_loss,
        [expected["logits_real"], expected["logits_fake"]], expected["d_loss"], _d_loss_mistakes,
    )
    extreme_error = _check_extreme_logits(
        check, "discriminator_loss", discriminator_loss,
        [expected["logits_real_extreme"], expected["logits_fake_extreme"]], expected["d_loss_extreme"],
    )
    passed(check, max(error, extreme_error))


def test_generator_loss(generator_loss):
    """Check ``generator_loss(logits_fake)`` (non-saturating), logits of shape (N, 1) or (N,), large logits included."""
    check = "test_generator_loss"
    expected = expected_values()
    error = _check_loss(check, "generator_loss", generator_loss, [expected["logits_fake"]], expected["g_loss"], _g_loss_mistakes)
    extreme_error = _check_extreme_logits(
        check, "generator_loss", generator_loss, [expected["logits_fake_extreme"]], expected["g_loss_extreme"]
    )
    passed(check, max(error, extreme_error))


def test_lsgan_loss(ls_discriminator_loss, ls_generator_loss):
    """Check both least-squares GAN losses (0-1 coding), scores of shape (N, 1) or (N,), against stored values."""
    check = "test_lsgan_loss"
    expected = expected_values()
    d_error = _check_loss(
        check, "ls_discriminator_loss", ls_discriminator_loss,
        [expected["scores_real"], expected["scores_fake"]], expected["ls_d_loss"], _ls_d_mistakes, what="scores",
    )
    g_error = _check_loss(
        check, "ls_generator_loss", ls_generator_loss, [expected["scores_fake"]], expected["ls_g_loss"],
        _ls_g_mistakes, what="scores",
    )
    passed(check, max(d_error, g_error))
