"""Checks of notebooks 04 and 06: the GAN losses on logits, the least-squares GAN losses, and the
per-sample gradient each generator loss gives a fake.

Each loss is run on fixed discriminator outputs of shape (N, 1), as the
discriminator returns them, then of shape (N,), which the docstrings allow too,
and compared with stored values; a wrong value is matched against the values of
known mistakes (written out here in float64 numpy) to name the mistake.
"""

import itertools

import numpy as np
import tensorflow as tf

from gan_helpers.checks.engine import (ELEMENTWISE_TOLERANCE, LOSS_TOLERANCE, array_values, call_student,
                                       expected_values, fail, matching_mistake, passed, scaled_error,
                                       student_error, tensor_values)


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


_SUM = "looks like a sum over the batch instead of a mean: use tf.reduce_mean."
_TWICE = ("the loss looks like it applies sigmoid to logits twice: pass the logits themselves to "
          "tf.nn.sigmoid_cross_entropy_with_logits (it applies the sigmoid).")
_FLIPPED = "the sign is flipped: cross-entropy is minus the log-likelihood."
_FROM_LOGITS = "the logits are treated as probabilities: with keras.losses.BinaryCrossentropy pass from_logits=True."
_LS_SIGMOID = "a sigmoid is applied to the scores: the least-squares loss works on D's raw outputs."
_SUM_NO_HALF = "looks like a sum instead of a mean, and the 1/2 factor is missing."
_SMOOTHING = "label smoothing (Salimans et al., 2016) is a training trick, not part of this loss"


def _d_loss_mistakes(real, fake):
    correct = _bce_mean(real, 1) + _bce_mean(fake, 0)
    return [
        ("real and fake labels look swapped: real images get label 1, generated images label 0.",
         _bce_mean(real, 0) + _bce_mean(fake, 1)),
        (_SUM, np.sum(_softplus(-real)) + np.sum(_softplus(fake))),
        (_TWICE, _bce_mean(_sigmoid(real), 1) + _bce_mean(_sigmoid(fake), 0)),
        (_FROM_LOGITS, _bce_from_probabilities(real, 1) + _bce_from_probabilities(fake, 0)),
        ("half the expected value: one mean over real and fake together? The loss adds the two batch means.",
         0.5 * correct),
        (_FLIPPED, -correct),
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
        (_SUM, np.sum(_softplus(-fake))),
        (_TWICE, _bce_mean(_sigmoid(fake), 1)),
        (_FROM_LOGITS, _bce_from_probabilities(fake, 1)),
        (_FLIPPED, -correct),
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
        (_SUM, 0.5 * np.sum((real - 1) ** 2) + 0.5 * np.sum(fake**2)),
        (_SUM_NO_HALF, np.sum((real - 1) ** 2) + np.sum(fake**2)),
        (_LS_SIGMOID, 0.5 * np.mean((_sigmoid(real) - 1) ** 2) + 0.5 * np.mean(_sigmoid(fake) ** 2)),
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
        (_SUM, 0.5 * np.sum((fake - 1) ** 2)),
        (_SUM_NO_HALF, np.sum((fake - 1) ** 2)),
        (_LS_SIGMOID, 0.5 * np.mean((_sigmoid(fake) - 1) ** 2)),
        ("the differences are not squared.", 0.5 * np.mean(fake - 1)),
        ("absolute values instead of squares.", 0.5 * np.mean(np.abs(fake - 1))),
    ]


def _check_loss(check, name, loss, input_keys, output_key, mistakes, what="logits"):
    """Run ``loss`` on stored inputs of shape (N, 1), then (N,); compare with the stored value; return the error."""
    stored = expected_values()
    inputs, expected = [stored[key] for key in input_keys], stored[output_key]
    value = tensor_values(check, name, call_student(check, name, loss, *[tf.constant(x) for x in inputs]), ())
    error = scaled_error(value, expected)
    if error > LOSS_TOLERANCE:
        arguments = [np.asarray(x, np.float64) for x in inputs]
        hint = matching_mistake(value, mistakes(*arguments))
        fail(check, f"{name} returned {float(value):.6g}, expected {float(expected):.6g} (relative error "
                    f"{error:.1e}).", hint)
    try:
        flat_output = loss(*[tf.constant(x[:, 0]) for x in inputs])
    except Exception as failure:
        raise student_error(check, f"your {name} works on {what} of shape (N, 1), but on shape (N,) it raised",
                            failure, _flat_failure_hint(failure, what)) from failure
    flat_value = tensor_values(check, f"{name} on {what} of shape (N,)", flat_output, ())
    flat_error = scaled_error(flat_value, expected)
    if flat_error > LOSS_TOLERANCE:
        fail(check, f"{name} gives {float(flat_value):.6g} on {what} of shape (N,) but {float(value):.6g} on shape "
                    "(N, 1).",
             "broadcasting between shapes (N,) and (N, 1) makes an (N, N) matrix: build targets with "
             f"tf.ones_like({what}) / tf.zeros_like({what}).")
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


def _check_extreme_logits(check, name, loss, input_keys, output_key):
    """Run ``loss`` on the stored large logits (+/-100, +/-200); compare with the stored value; return the error."""
    stored = expected_values()
    inputs, expected = [stored[f"{key}_extreme"] for key in input_keys], stored[f"{output_key}_extreme"]
    output = call_student(check, name, loss, *[tf.constant(x) for x in inputs])
    if tf.is_tensor(output) and not np.all(np.isfinite(np.asarray(output))):
        fail(check, f"{name} is not finite for large logits (+/-100, +/-200): {float(np.asarray(output)):.6g}.",
             "log(sigmoid(x)) underflows to log(0): compute the loss from the logits with "
             "tf.nn.sigmoid_cross_entropy_with_logits (or BinaryCrossentropy(from_logits=True)).")
    value = tensor_values(check, name, output, ())
    error = scaled_error(value, expected)
    if error > LOSS_TOLERANCE:
        fail(check, f"for large logits (+/-100, +/-200) {name} returns {float(value):.6g}, expected "
                    f"{float(expected):.6g}.",
             "clipping probabilities or computing log(sigmoid(x)) loses accuracy for large logits: compute the "
             "loss from the logits with tf.nn.sigmoid_cross_entropy_with_logits.")
    return error


def _check_gan_loss(check, name, loss, input_keys, output_key, mistakes):
    """The loss on the stored logits, then on large logits (+/-100, +/-200)."""
    error = _check_loss(check, name, loss, input_keys, output_key, mistakes)
    passed(check, max(error, _check_extreme_logits(check, name, loss, input_keys, output_key)))


def test_discriminator_loss(discriminator_loss):
    """Check ``discriminator_loss(logits_real, logits_fake)``, logits of shape (N, 1) or (N,), large logits included."""
    _check_gan_loss("test_discriminator_loss", "discriminator_loss", discriminator_loss,
                    ["logits_real", "logits_fake"], "d_loss", _d_loss_mistakes)


def test_generator_loss(generator_loss):
    """Check ``generator_loss(logits_fake)`` (non-saturating), logits of shape (N, 1) or (N,), large logits included."""
    _check_gan_loss("test_generator_loss", "generator_loss", generator_loss, ["logits_fake"], "g_loss",
                    _g_loss_mistakes)


def test_lsgan_loss(ls_discriminator_loss, ls_generator_loss):
    """Check both least-squares GAN losses (0-1 coding), scores of shape (N, 1) or (N,), against stored values."""
    check = "test_lsgan_loss"
    d_error = _check_loss(check, "ls_discriminator_loss", ls_discriminator_loss, ["scores_real", "scores_fake"],
                          "ls_d_loss", _ls_d_mistakes, what="scores")
    g_error = _check_loss(check, "ls_generator_loss", ls_generator_loss, ["scores_fake"], "ls_g_loss",
                          _ls_g_mistakes, what="scores")
    passed(check, max(d_error, g_error))

_FACTOR_NAMES = ("minimax", "non_saturating", "least_squares")
_FACTOR_WORDS = {
    "minimax": "the minimax factor (d/ds of log(1 - sigmoid(s)))",
    "non_saturating": "the non-saturating factor (d/ds of -log sigmoid(s))",
    "least_squares": "the least-squares factor (d/ds of 1/2 (s - 1)^2)",
}
_PER_SAMPLE = ("1/N of the expected values: the gradient of a batch mean gives each score 1/N of its own derivative. "
               "Differentiate the per-sample losses (tape.gradient of a vector of losses, or of their sum, gives each "
               "score the derivative of its own loss), or multiply by N.")
_WITH_RESPECT_TO_D = ("that is the derivative with respect to the probability D = sigmoid(s); take it with respect to "
                      "the score s itself (watch the scores, compute the loss from them).")


def _factor_mistakes(scores):
    """(hint, (minimax, non-saturating, least squares) value or None) of known mistakes, per factor."""
    s = np.asarray(scores, np.float64)
    n, p = len(s), _sigmoid(s)
    return {
        "minimax": [
            ("the sign is flipped: the minimax generator minimises log(1 - D(G(z))), whose derivative is -sigmoid(s).", p),
            ("this is the non-saturating factor sigmoid(s) - 1: the minimax loss is log(1 - sigmoid(s)).", p - 1),
            ("-1/(1 - D): " + _WITH_RESPECT_TO_D, -1 / (1 - p)),
            (_PER_SAMPLE, -p / n),
        ],
        "non_saturating": [
            ("the sign is flipped: the generator minimises -log D(G(z)), whose derivative is sigmoid(s) - 1.", 1 - p),
            ("this is the minimax factor -sigmoid(s): the non-saturating loss is -log sigmoid(s).", -p),
            ("-1/D: " + _WITH_RESPECT_TO_D, -1 / p),
            (_PER_SAMPLE, (p - 1) / n),
        ],
        "least_squares": [
            ("the sign is flipped: the derivative of 1/2 (s - 1)^2 is s - 1.", 1 - s),
            ("twice the expected values: the 1/2 in 1/2 (s - 1)^2 is dropped (the course's loss keeps it, and then "
             "the factor is s - 1).", 2 * (s - 1)),
            ("the factor of the target 0, 1/2 s^2: the generator pulls its scores to c = 1 in the course's 0-1 "
             "coding (0 is the target of the (-1, 1, 0) coding).", s),
            ("a sigmoid is applied to the scores: the least-squares loss works on D's raw outputs, 1/2 (s - 1)^2.",
             (p - 1) * p * (1 - p)),
            (_PER_SAMPLE, (s - 1) / n),
        ],
    }


def _factor_parts(check, output, count):
    """The learner's three factors as float64 arrays of shape (count,); a failure says what is wrong."""
    if output is None:
        fail(check, "generator_gradient_factors returned None.", "did you forget the `return` statement?")
    if isinstance(output, dict):
        fail(check, "generator_gradient_factors returned a dict.",
             "return a tuple of three: (minimax, non_saturating, least_squares).")
    if isinstance(output, (tuple, list)):
        parts = list(output)
    elif tf.is_tensor(output) or isinstance(output, np.ndarray):
        parts = list(np.asarray(output)) if np.ndim(output) == 2 and np.shape(output)[0] == 3 else None
        if parts is None:
            hint = "the two dimensions are swapped: one row per loss." if np.shape(output) == (count, 3) else None
            fail(check, f"generator_gradient_factors returned one array of shape {np.shape(output)}, expected three "
                        f"of shape ({count},).", hint or "return (minimax, non_saturating, least_squares).")
    else:
        fail(check, f"generator_gradient_factors returned a {type(output).__name__}, expected a tuple of three tensors.")
    if len(parts) != 3:
        fail(check, f"generator_gradient_factors returned {len(parts)} values, expected 3: "
                    "(minimax, non_saturating, least_squares).")
    arrays = []
    for name, part in zip(_FACTOR_NAMES, parts):
        if part is None:
            fail(check, f"the {name} factor is None.",
                 "tape.gradient returns None when the loss does not depend on the watched tensor: call "
                 "tape.watch(scores) inside the `with tf.GradientTape() as tape:` block, then compute the loss from "
                 "scores with TensorFlow operations (numpy, or a float() on the way, cuts the tape).")
        values = array_values(check, f"the {name} factor", part)
        if values.shape != (count,):
            fail(check, f"the {name} factor has shape {values.shape}, expected ({count},): one number per score.",
                 "the tape gives the gradient in the scores' own shape; for scores of shape (N,) that is (N,)."
                 if values.size == count else None)
        arrays.append(values)
    return arrays


def test_generator_gradient_factors(generator_gradient_factors):
    """Check ``generator_gradient_factors(scores)``: per-sample d(loss)/ds for three generator losses.

    ``scores``: D's outputs on generated images, a float32 tensor of shape (N,). Expected:
    (minimax, non_saturating, least_squares) = (-sigmoid(s), sigmoid(s) - 1, s - 1),
    each of shape (N,), tensors or numpy arrays.
    """
    check = "test_generator_gradient_factors"
    expected = expected_values()
    scores = expected["factor_scores"]
    wanted = [expected[f"factor_{name}"] for name in _FACTOR_NAMES]
    output = call_student(check, "generator_gradient_factors", generator_gradient_factors, tf.constant(scores))
    actual = _factor_parts(check, output, len(scores))
    errors = [scaled_error(got, want) for got, want in zip(actual, wanted)]
    if max(errors) <= ELEMENTWISE_TOLERANCE:
        passed(check, max(errors))
        return
    for order in itertools.permutations(range(3)):
        if order != (0, 1, 2) and all(scaled_error(actual[i], wanted[j]) <= ELEMENTWISE_TOLERANCE for i, j in enumerate(order)):
            if order == (1, 0, 2):
                fail(check, "the minimax and non-saturating factors are swapped.",
                     "the minimax loss log(1 - sigmoid(s)) gives -sigmoid(s), near 0 while D rejects a fake (s << 0); "
                     "the non-saturating loss -log sigmoid(s) gives sigmoid(s) - 1, near -1 there. Return "
                     "(minimax, non_saturating, least_squares).")
            names = ", ".join(_FACTOR_NAMES[j] for j in order)
            fail(check, f"the three factors are right but in the order ({names}).",
                 "return them as (minimax, non_saturating, least_squares).")
    mistakes = _factor_mistakes(scores)
    shown = [0, len(scores) // 2, len(scores) - 1]  # a rejected fake, an unsure one, an accepted one
    for name, got, want, error in zip(_FACTOR_NAMES, actual, wanted, errors):
        if error > ELEMENTWISE_TOLERANCE:
            at = ", ".join(f"{scores[i]:g}" for i in shown)
            fail(check, f"{_FACTOR_WORDS[name]} is wrong: at s = {at} it is {_numbers(got[shown])}, expected "
                        f"{_numbers(want[shown])}.", matching_mistake(got, mistakes[name]))


def _numbers(values):
    return ", ".join(f"{value:.4g}" for value in values)


def _relu(x):
    return np.maximum(x, 0.0)


def _hinge_d_mistakes(real, fake):
    correct = np.mean(_relu(1 - real)) + np.mean(_relu(1 + fake))
    return [
        ("without max(0, .) the loss is linear in the scores (the Wasserstein critic's loss plus 2): D would push "
         "every score further forever. The hinge stops at the margin: max(0, 1 - D(x)) and max(0, 1 + D(G(z))), "
         "e.g. tf.nn.relu(1.0 - scores_real).", np.mean(1 - real) + np.mean(1 + fake)),
        ("real and generated scores look swapped: real images are pushed above +1, max(0, 1 - D(x)), generated "
         "ones below -1, max(0, 1 + D(G(z))).", np.mean(_relu(1 + real)) + np.mean(_relu(1 - fake))),
        ("the term of the generated images has the wrong sign: D pushes their scores below -1, so it pays "
         "max(0, 1 + D(G(z))).", np.mean(_relu(1 - real)) + np.mean(_relu(1 - fake))),
        ("the term of the real images has the wrong sign: D pushes their scores above +1, so it pays "
         "max(0, 1 - D(x)).", np.mean(_relu(1 + real)) + np.mean(_relu(1 + fake))),
        ("a sigmoid is applied to the scores: the hinge loss works on D's raw scores (logits), as the least-squares "
         "loss does.", np.mean(_relu(1 - _sigmoid(real))) + np.mean(_relu(1 + _sigmoid(fake)))),
        (_SUM, np.sum(_relu(1 - real)) + np.sum(_relu(1 + fake))),
        ("half the expected value: one mean over real and generated scores together? The loss adds the two batch "
         "means.", 0.5 * correct),
        ("the margin is missing: max(0, -D(x)) and max(0, D(G(z))) only ask for the right sign. The hinge asks for "
         "a margin of 1: max(0, 1 - D(x)) + max(0, 1 + D(G(z))).", np.mean(_relu(-real)) + np.mean(_relu(fake))),
        ("the sign is flipped: that is the value D maximises as Miyato et al. write it, "
         "E[min(0, -1 + D(x))] + E[min(0, -1 - D(G(z)))]. As a loss to minimise it is its negative, "
         "E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))].", -correct),
        ("the hinges are squared: the hinge loss is max(0, 1 - D(x)) + max(0, 1 + D(G(z))), not squared.",
         np.mean(_relu(1 - real) ** 2) + np.mean(_relu(1 + fake) ** 2)),
        ("only the term of the real images: add E[max(0, 1 + D(G(z)))] for the generated ones.",
         np.mean(_relu(1 - real))),
        ("only the term of the generated images: add E[max(0, 1 - D(x))] for the real ones.",
         np.mean(_relu(1 + fake))),
        ("that is the cross-entropy loss of notebook 04; the hinge loss is "
         "E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))].", _bce_mean(real, 1) + _bce_mean(fake, 0)),
    ]


def _hinge_g_mistakes(fake):
    correct = -np.mean(fake)
    return [
        ("the generator's loss is not a hinge: -E[D(G(z))], linear in the score, so that its gradient does not "
         "vanish once D scores a sample above 1 (Lim and Ye, 2017; Miyato et al., 2018).", np.mean(_relu(1 - fake))),
        ("the sign is flipped: the generator wants D to score its images high, so it minimises -E[D(G(z))].",
         -correct),
        ("that is the non-saturating cross-entropy loss of notebook 04; with the hinge loss the generator "
         "minimises -E[D(G(z))].", _bce_mean(fake, 1)),
        (_SUM, -np.sum(fake)),
        ("a sigmoid is applied to the scores: the generator's loss uses D's raw scores, -E[D(G(z))].",
         -np.mean(_sigmoid(fake))),
        ("that is E[1 - D(G(z))], which has the same gradient but not the same value: the loss is -E[D(G(z))], "
         "without the constant.", 1 + correct),
    ]


def test_hinge_loss(hinge_discriminator_loss, hinge_generator_loss):
    """Check both hinge losses, scores of shape (N, 1) or (N,), against stored values.

    ``hinge_discriminator_loss(scores_real, scores_fake)`` = E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))];
    ``hinge_generator_loss(scores_fake)`` = -E[D(G(z))].
    """
    check = "test_hinge_loss"
    d_error = _check_loss(check, "hinge_discriminator_loss", hinge_discriminator_loss,
                          ["hinge_scores_real", "hinge_scores_fake"], "hinge_d_loss", _hinge_d_mistakes, what="scores")
    g_error = _check_loss(check, "hinge_generator_loss", hinge_generator_loss, ["hinge_scores_fake"], "hinge_g_loss",
                          _hinge_g_mistakes, what="scores")
    passed(check, max(d_error, g_error))
