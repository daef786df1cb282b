"""The loss checks (notebooks 04, 06): other right losses pass, plausible mistakes fail with the right hint."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from check_helpers import fails_with, stub
from gan_helpers import checks, losses
from gan_helpers.checks import engine
from gan_helpers.checks import losses as loss_checks
from gan_helpers.checks import values as check_values


def sce(labels_like, value, logits):
    return tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.fill(tf.shape(logits), value), logits=logits)


def mean_bce(logits, label):
    return tf.reduce_mean(sce(None, label, logits))


def stable_bce(logits, label):
    """max(s, 0) - s y + log(1 + exp(-|s|)), written out."""
    return tf.maximum(logits, 0.0) - logits * label + tf.math.log1p(tf.exp(-tf.abs(logits)))


def reshaped_first(r, f):
    r, f = tf.reshape(r, [-1]), tf.reshape(f, [-1])
    real = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones(tf.shape(r)), logits=r)
    fake = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros_like(f), logits=f)
    return tf.reduce_mean(real) + tf.reduce_mean(fake)


bce_layer = keras.losses.BinaryCrossentropy(from_logits=True)
CORRECT_DISCRIMINATOR_LOSSES = [
    lambda r, f: bce_layer(tf.ones_like(r), r) + bce_layer(tf.zeros_like(f), f),
    lambda r, f: tf.reduce_mean(stable_bce(r, 1.0)) + tf.reduce_mean(stable_bce(f, 0.0)),
    lambda r, f: keras.ops.mean(keras.ops.softplus(-r)) + keras.ops.mean(keras.ops.softplus(f)),
    lambda r, f: -tf.reduce_mean(tf.math.log_sigmoid(r)) - tf.reduce_mean(tf.math.log_sigmoid(-f)),
    lambda r, f: keras.ops.mean(keras.ops.binary_crossentropy(keras.ops.ones_like(r), r, from_logits=True))
    + keras.ops.mean(keras.ops.binary_crossentropy(keras.ops.zeros_like(f), f, from_logits=True)),
    lambda r, f: tf.reduce_mean(keras.losses.binary_crossentropy(tf.ones_like(r), r, from_logits=True))
    + tf.reduce_mean(keras.losses.binary_crossentropy(tf.zeros_like(f), f, from_logits=True)),
    reshaped_first,
]
CORRECT_GENERATOR_LOSSES = [
    lambda f: bce_layer(tf.ones_like(f), f),
    lambda f: tf.reduce_mean(tf.nn.softplus(-f)),
    lambda f: keras.ops.mean(keras.ops.softplus(-f)),
    lambda f: tf.reduce_mean(stable_bce(tf.reshape(f, [-1]), 1.0)),
]
CORRECT_LSGAN_LOSSES = [
    (lambda r, f: 0.5 * tf.reduce_mean((r - 1) ** 2) + 0.5 * tf.reduce_mean(f**2),
     lambda f: tf.reduce_mean(tf.square(f - 1)) / 2),
    (lambda r, f: 0.5 * keras.losses.MeanSquaredError()(tf.ones_like(r), r) + 0.5 * keras.losses.MeanSquaredError()(tf.zeros_like(f), f),
     lambda f: 0.5 * keras.ops.mean(keras.ops.square(f - 1))),
    (lambda r, f: 0.5 * tf.reduce_mean(tf.math.squared_difference(tf.reshape(r, [-1]), 1.0)) + 0.5 * tf.reduce_mean(tf.reshape(f, [-1]) ** 2),
     lambda f: 0.5 * tf.reduce_mean(tf.math.squared_difference(f, tf.ones_like(f)))),
]


def test_other_correct_losses_pass(capsys):
    for loss in CORRECT_DISCRIMINATOR_LOSSES:
        checks.test_discriminator_loss(loss)
    for loss in CORRECT_GENERATOR_LOSSES:
        checks.test_generator_loss(loss)
    for d_loss, g_loss in CORRECT_LSGAN_LOSSES:
        checks.test_lsgan_loss(d_loss, g_loss)
    expected = len(CORRECT_DISCRIMINATOR_LOSSES) + len(CORRECT_GENERATOR_LOSSES) + len(CORRECT_LSGAN_LOSSES)
    assert capsys.readouterr().out.count("passed") == expected


DISCRIMINATOR_LOSS_MISTAKES = [
    (lambda r, f: mean_bce(tf.sigmoid(r), 1.0) + mean_bce(tf.sigmoid(f), 0.0), "applies sigmoid to logits twice"),
    (lambda r, f: mean_bce(r, 0.0) + mean_bce(f, 1.0), "real and fake labels look swapped"),
    (lambda r, f: tf.reduce_sum(sce(None, 1.0, r)) + tf.reduce_sum(sce(None, 0.0, f)), "sum over the batch instead of a mean"),
    (lambda r, f: keras.losses.BinaryCrossentropy()(tf.ones_like(r), r) + keras.losses.BinaryCrossentropy()(tf.zeros_like(f), f), "from_logits=True"),
    (lambda r, f: tf.reduce_mean(tf.concat([sce(None, 1.0, r), sce(None, 0.0, f)], 0)), "half the expected value"),
    (lambda r, f: -mean_bce(r, 1.0) - mean_bce(f, 0.0), "sign is flipped"),
    (lambda r, f: mean_bce(r, 1.0), "only the real-image term"),
    (lambda r, f: -tf.reduce_mean(tf.math.log(tf.sigmoid(r))) - tf.reduce_mean(tf.math.log(1 - tf.sigmoid(f))), "not finite for large logits"),
    (lambda r, f: sce(None, 1.0, r) + sce(None, 0.0, f), "one value per example: take the mean over the batch"),
    (lambda r, f: np.mean(sce(None, 1.0, r)) + np.mean(sce(None, 0.0, f)), "instead of a TensorFlow tensor"),
    (lambda r, f: tf.cast(mean_bce(r, 1.0) + mean_bce(f, 0.0), tf.float64), "dtype float64"),
    (lambda r, f: mean_bce(r, 0.9) + mean_bce(f, 0.0), "real images get label 0.9: that is one-sided label smoothing"),
    (lambda r, f: bce_layer(tf.fill(tf.shape(r), 0.9), r) + bce_layer(tf.zeros_like(f), f), "one-sided label smoothing"),
    (lambda r, f: mean_bce(r, 0.9) + mean_bce(f, 0.1), "smoothed to 0.9 and 0.1.*one-sided form smooths only the real"),
    (stub, "discriminator_loss is not implemented yet"),
]


@pytest.mark.parametrize("wrong, hint", DISCRIMINATOR_LOSS_MISTAKES)
def test_discriminator_loss_mistakes_fail_with_hint(wrong, hint):
    fails_with(checks.test_discriminator_loss, wrong, match=hint)


GENERATOR_LOSS_MISTAKES = [
    (lambda f: -tf.reduce_mean(tf.nn.softplus(f)), r"saturating \(minimax\) loss"),
    (lambda f: tf.reduce_mean(tf.math.log(1 - tf.sigmoid(f))), r"saturating \(minimax\) loss"),
    (lambda f: mean_bce(f, 0.0), "labels look swapped"),
    (lambda f: tf.reduce_sum(sce(None, 1.0, f)), "sum over the batch instead of a mean"),
    (lambda f: mean_bce(tf.sigmoid(f), 1.0), "applies sigmoid to logits twice"),
    (lambda f: keras.losses.BinaryCrossentropy()(tf.ones_like(f), f), "from_logits=True"),
    (lambda f: -tf.reduce_mean(tf.math.log(tf.sigmoid(f))), "not finite for large logits"),
    (lambda f: sce(None, 1.0, f), "mean over the batch"),
    (lambda f: mean_bce(f, 0.9), "generator's target is 0.9: label smoothing"),
    (stub, "generator_loss is not implemented yet"),
]


@pytest.mark.parametrize("wrong, hint", GENERATOR_LOSS_MISTAKES)
def test_generator_loss_mistakes_fail_with_hint(wrong, hint):
    fails_with(checks.test_generator_loss, wrong, match=hint)


def ls_d(r, f):
    return losses.ls_discriminator_loss(r, f)


def ls_g(f):
    return losses.ls_generator_loss(f)


LSGAN_MISTAKES = [
    (lambda r, f: tf.reduce_mean((r - 1) ** 2) + tf.reduce_mean(f**2), ls_g, "the 1/2 factor is missing"),
    (lambda r, f: 0.5 * tf.reduce_mean(r**2) + 0.5 * tf.reduce_mean((f - 1) ** 2), ls_g, "targets look swapped"),
    (lambda r, f: 0.5 * tf.reduce_sum((r - 1) ** 2) + 0.5 * tf.reduce_sum(f**2), ls_g, "sum over the batch instead of a mean"),
    (lambda r, f: 0.5 * tf.reduce_mean((tf.sigmoid(r) - 1) ** 2) + 0.5 * tf.reduce_mean(tf.sigmoid(f) ** 2), ls_g, "sigmoid is applied"),
    (lambda r, f: 0.5 * (r - 1) ** 2 + 0.5 * f**2, ls_g, "mean over the batch"),
    (stub, ls_g, "ls_discriminator_loss is not implemented yet"),
    (ls_d, lambda f: tf.reduce_mean((f - 1) ** 2), "the 1/2 factor is missing"),
    (ls_d, lambda f: 0.5 * tf.reduce_mean(f**2), "target looks swapped"),
    (ls_d, lambda f: 0.5 * tf.reduce_sum((f - 1) ** 2), "sum over the batch instead of a mean"),
    (ls_d, lambda f: 0.5 * tf.reduce_mean(tf.abs(f - 1)), "absolute values instead of squares"),
    (ls_d, stub, "ls_generator_loss is not implemented yet"),
    (lambda r, f: 0.5 * tf.reduce_mean((r - 1) ** 2) + 0.5 * tf.reduce_mean((f + 1) ** 2), ls_g,
     r"pulled to -1: that is the \(-1, 1, 0\) coding of Mao et al\..*the course uses their 0-1 coding"),
    (ls_d, lambda f: 0.5 * tf.reduce_mean(f**2), r"target looks swapped.*\(-1, 1, 0\) coding of Mao et al\."),
]


@pytest.mark.parametrize("wrong_d, wrong_g, hint", LSGAN_MISTAKES)
def test_lsgan_loss_mistakes_fail_with_hint(wrong_d, wrong_g, hint):
    fails_with(checks.test_lsgan_loss, wrong_d, wrong_g, match=hint)


# ---------------------------------------------------------------- margins


def test_known_mistakes_are_far_outside_the_tolerances():
    expected = check_values.load_expected()
    real, fake = expected["logits_real"].astype(float), expected["logits_fake"].astype(float)
    scores_real, scores_fake = expected["scores_real"].astype(float), expected["scores_fake"].astype(float)
    cases = [
        (loss_checks._d_loss_mistakes(real, fake), expected["d_loss"]),
        (loss_checks._g_loss_mistakes(fake), expected["g_loss"]),
        (loss_checks._ls_d_mistakes(scores_real, scores_fake), expected["ls_d_loss"]),
        (loss_checks._ls_g_mistakes(scores_fake), expected["ls_g_loss"]),
    ]
    for mistakes, correct in cases:
        values = [float(value) for _, value in mistakes]
        assert min(engine.scaled_error(value, correct) for value in values) > 100 * engine.LOSS_TOLERANCE
        for i, a in enumerate(values):  # each mistake is told apart from every other
            assert all(engine.rel_error(a, b) > 10 * engine.MISTAKE_MATCH_TOLERANCE for b in values[i + 1 :])


# ---------------------------------------------------------------- logits of shape (N,) as well as (N, 1)


def unpacks_the_shape(logits_real, logits_fake):
    N, _ = logits_real.shape  # CS231n style: fine on (N, 1), a ValueError on (N,)
    labels = tf.ones((N, 1))
    return mean_bce(logits_real, 1.0) + tf.reduce_mean(sce(None, 0.0, logits_fake)) * tf.reduce_mean(labels)


def fixed_label_shape(logits_real, logits_fake):
    N = logits_real.shape[0]
    real = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones((N, 1)), logits=logits_real)
    fake = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros((N, 1)), logits=logits_fake)
    return tf.reduce_mean(real) + tf.reduce_mean(fake)


def generator_unpacks_the_shape(logits_fake):
    N, _ = logits_fake.shape
    return tf.reduce_mean(tf.nn.softplus(-logits_fake))


def ls_unpacks_the_shape(scores_fake):
    batch, _ = scores_fake.shape
    return 0.5 * tf.reduce_sum((scores_fake - 1) ** 2) / batch


def squeezes(r, f):
    return mean_bce(tf.squeeze(r, axis=1), 1.0) + mean_bce(tf.squeeze(f, axis=1), 0.0)


@pytest.mark.parametrize(
    "check, arguments, hint",
    [
        (checks.test_discriminator_loss, (unpacks_the_shape,),
         r"works on logits of shape \(N, 1\), but on shape \(N,\) it raised ValueError: not enough values to unpack.*"
         r"\nIn your code: N, _ = logits_real.shape .*\nHint: `N, _ = logits.shape` needs two dimensions"),
        (checks.test_generator_loss, (generator_unpacks_the_shape,), r"In your code: N, _ = logits_fake.shape\n"),
        (checks.test_lsgan_loss, (losses.ls_discriminator_loss, ls_unpacks_the_shape),
         r"ls_generator_loss works on scores of shape \(N, 1\).*In your code: batch, _ = scores_fake.shape.*"
         r"`N, _ = scores.shape` needs two dimensions"),
        (checks.test_discriminator_loss, (fixed_label_shape,),
         r"on shape \(N,\) it raised ValueError.*In your code: real = tf.nn.sigmoid_cross_entropy_with_logits.*"
         r"rather than with a fixed shape such as \(N, 1\)"),
        (checks.test_discriminator_loss, (squeezes,), r"on shape \(N,\) it raised .*rather than tf.squeeze\(x, axis=1\)"),
    ],
)
def test_a_loss_that_only_works_on_shape_n_1_fails_naming_its_line(check, arguments, hint):
    error = fails_with(check, *arguments, match=f"(?s){hint}")
    assert error.__cause__ is not None


# ---------------------------------------------------------------- gradient factors (notebook 06)


def per_sample_losses_on_the_tape(scores):
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(scores)
        minimax = tf.math.log(1.0 - tf.sigmoid(scores))
        non_saturating = -tf.math.log(tf.sigmoid(scores))
        least_squares = 0.5 * tf.square(scores - 1.0)
    return tuple(tape.gradient(loss, scores) for loss in (minimax, non_saturating, least_squares))


def library_losses_times_n(scores):
    """The library's batch-mean losses (the minimax one as minus D's loss on fakes), times N."""
    n = tf.cast(tf.size(scores), tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(scores)
        minimax = -losses.discriminator_loss(tf.ones_like(scores), scores)
        non_saturating = losses.generator_loss(scores)
        least_squares = losses.ls_generator_loss(scores)
    return [n * tape.gradient(loss, scores) for loss in (minimax, non_saturating, least_squares)]


def summed_stable_losses(scores):
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(scores)
        totals = [tf.reduce_sum(-tf.nn.softplus(scores)), tf.reduce_sum(tf.nn.softplus(-scores)),
                  tf.reduce_sum((scores - 1.0) ** 2) / 2]
    return tf.stack([tape.gradient(total, scores) for total in totals])


def jacobian_diagonal(scores):
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(scores)
        per_sample = [keras.ops.log(1 - keras.ops.sigmoid(scores)), -keras.ops.log_sigmoid(scores),
                      0.5 * keras.ops.square(scores - 1)]
    return tuple(tf.linalg.diag_part(tape.jacobian(loss, scores)) for loss in per_sample)


def analytic_in_numpy(scores):
    s = np.asarray(scores, np.float64)
    p = 1 / (1 + np.exp(-s))
    return [-p, p - 1, s - 1]


def test_right_gradient_factors_pass(capsys):
    rights = [per_sample_losses_on_the_tape, library_losses_times_n, summed_stable_losses, jacobian_diagonal, analytic_in_numpy]
    for right in rights:
        checks.test_generator_gradient_factors(right)
    assert capsys.readouterr().out.count("test_generator_gradient_factors passed") == len(rights)


def factors(minimax=None, non_saturating=None, least_squares=None):
    """The right factors, any of them replaced by a function of (s, sigmoid(s))."""
    def compute(scores):
        s, p = scores, tf.sigmoid(scores)
        return ((minimax or (lambda s, p: -p))(s, p), (non_saturating or (lambda s, p: p - 1))(s, p),
                (least_squares or (lambda s, p: s - 1))(s, p))
    return compute


def with_respect_to_probability(scores):
    with tf.GradientTape(persistent=True) as tape:
        probability = tf.sigmoid(scores)
        tape.watch(probability)
        minimax, non_saturating = tf.math.log(1 - probability), -tf.math.log(probability)
    return tape.gradient(minimax, probability), tape.gradient(non_saturating, probability), scores - 1


def gradient_of_the_batch_mean(scores):
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(scores)
        means = [-losses.discriminator_loss(tf.ones_like(scores), scores), losses.generator_loss(scores),
                 losses.ls_generator_loss(scores)]
    return tuple(tape.gradient(mean, scores) for mean in means)


def forgot_to_watch(scores):
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.nn.softplus(-scores))
    return tape.gradient(loss, scores), scores, scores


def through_numpy(scores):
    with tf.GradientTape() as tape:
        tape.watch(scores)
        loss = np.log(1 - 1 / (1 + np.exp(-np.asarray(scores))))
    return tape.gradient(tf.constant(loss), scores), scores, scores


GRADIENT_FACTOR_MISTAKES = [
    (with_respect_to_probability, r"minimax factor .* is wrong.*-1/\(1 - D\): that is the derivative with respect to the probability"),
    (factors(non_saturating=lambda s, p: -1 / p), r"non-saturating factor .* is wrong.*-1/D: that is the derivative with respect to the probability"),
    (factors(minimax=lambda s, p: p - 1, non_saturating=lambda s, p: -p), "the minimax and non-saturating factors are swapped"),
    (lambda scores: factors()(scores)[::-1], r"right but in the order \(least_squares, non_saturating, minimax\)"),
    (factors(minimax=lambda s, p: p), r"minimax factor .*the sign is flipped"),
    (factors(non_saturating=lambda s, p: 1 - p), r"non-saturating factor .*the sign is flipped"),
    (factors(least_squares=lambda s, p: 1 - s), r"least-squares factor .*the sign is flipped"),
    (factors(minimax=lambda s, p: p - 1), "this is the non-saturating factor sigmoid\\(s\\) - 1"),
    (gradient_of_the_batch_mean, "1/N of the expected values: the gradient of a batch mean"),
    (factors(least_squares=lambda s, p: (s - 1) / 9), r"least-squares factor .*1/N of the expected values"),
    (factors(least_squares=lambda s, p: 2 * (s - 1)), "the 1/2 in 1/2 \\(s - 1\\)\\^2 is dropped"),
    (factors(least_squares=lambda s, p: s), "target 0.*c = 1 in the course's 0-1 coding"),
    (factors(least_squares=lambda s, p: (p - 1) * p * (1 - p)), "a sigmoid is applied to the scores"),
    (forgot_to_watch, r"the minimax factor is None.*call tape.watch\(scores\)"),
    (through_numpy, "the minimax factor is None.*numpy.*cuts the tape"),
    (lambda scores: tf.stack(factors()(scores), axis=1), r"shape \(9, 3\).*the two dimensions are swapped"),
    (lambda scores: factors()(scores)[:2], "returned 2 values, expected 3"),
    (lambda scores: [tf.reshape(f, (-1, 1)) for f in factors()(scores)], r"has shape \(9, 1\), expected \(9,\)"),
    (lambda scores: dict(zip(("minimax", "non_saturating", "least_squares"), factors()(scores))), "returned a dict"),
    (lambda scores: None, "returned None"),
    (stub, "generator_gradient_factors is not implemented yet"),
]


@pytest.mark.parametrize("wrong, hint", GRADIENT_FACTOR_MISTAKES)
def test_gradient_factor_mistakes_fail_with_hint(wrong, hint):
    fails_with(checks.test_generator_gradient_factors, wrong, match=f"(?s){hint}")


def test_gradient_factor_mistakes_are_far_from_the_right_factors_and_from_each_other():
    expected = check_values.load_expected()
    mistakes = loss_checks._factor_mistakes(expected["factor_scores"])
    for name, wrong in mistakes.items():
        right = expected[f"factor_{name}"]
        values = [np.asarray(value, np.float64) for _, value in wrong]
        assert min(engine.scaled_error(value, right) for value in values) > 100 * engine.ELEMENTWISE_TOLERANCE
        for i, a in enumerate(values):
            assert all(engine.scaled_error(a, b) > 10 * engine.MISTAKE_MATCH_TOLERANCE for b in values[i + 1 :])
    right = [expected[f"factor_{name}"] for name in ("minimax", "non_saturating", "least_squares")]
    assert engine.scaled_error(right[0], right[1]) > 100 * engine.ELEMENTWISE_TOLERANCE  # no score at 0
    np.testing.assert_allclose(right[0], -1 / (1 + np.exp(-expected["factor_scores"].astype(float))), rtol=1e-6)
    np.testing.assert_allclose(right[2], expected["factor_scores"] - 1.0, rtol=1e-6)


# ---------------------------------------------------------------------------
# Notebook 13: the hinge losses
# ---------------------------------------------------------------------------

hinge_layer = keras.losses.Hinge()
CORRECT_HINGE_LOSSES = [
    (lambda r, f: tf.reduce_mean(tf.nn.relu(1.0 - r)) + tf.reduce_mean(tf.nn.relu(1.0 + f)),
     lambda f: -tf.reduce_mean(f)),
    (lambda r, f: keras.ops.mean(keras.ops.maximum(0.0, 1.0 - r)) + keras.ops.mean(keras.ops.maximum(0.0, 1.0 + f)),
     lambda f: keras.ops.mean(-f)),
    (lambda r, f: -tf.reduce_mean(tf.minimum(0.0, -1.0 + r)) - tf.reduce_mean(tf.minimum(0.0, -1.0 - f)),
     lambda f: tf.negative(tf.reduce_mean(tf.reshape(f, [-1])))),
    (lambda r, f: hinge_layer(tf.ones_like(r), r) + hinge_layer(-tf.ones_like(f), f),
     lambda f: -keras.ops.mean(f)),
]


def test_other_correct_hinge_losses_pass(capsys):
    for d_loss, g_loss in CORRECT_HINGE_LOSSES:
        checks.test_hinge_loss(d_loss, g_loss)
    assert capsys.readouterr().out.count("test_hinge_loss passed") == len(CORRECT_HINGE_LOSSES)


def relu_mean(x):
    return tf.reduce_mean(tf.nn.relu(x))


RIGHT_G = CORRECT_HINGE_LOSSES[0][1]
RIGHT_D = CORRECT_HINGE_LOSSES[0][0]


@pytest.mark.parametrize(
    "d_loss, g_loss, hint",
    [
        (lambda r, f: tf.reduce_mean(1 - r) + tf.reduce_mean(1 + f), RIGHT_G, r"without max\(0, \.\)"),
        (lambda r, f: relu_mean(1 + r) + relu_mean(1 - f), RIGHT_G, "real and generated scores look swapped"),
        (lambda r, f: relu_mean(1 - r) + relu_mean(1 - f), RIGHT_G, "generated images has the wrong sign"),
        (lambda r, f: relu_mean(1 + r) + relu_mean(1 + f), RIGHT_G, "real images has the wrong sign"),
        (lambda r, f: relu_mean(1 - tf.sigmoid(r)) + relu_mean(1 + tf.sigmoid(f)), RIGHT_G, "a sigmoid is applied"),
        (lambda r, f: tf.reduce_sum(tf.nn.relu(1 - r)) + tf.reduce_sum(tf.nn.relu(1 + f)), RIGHT_G, "sum over the batch"),
        (lambda r, f: tf.reduce_mean(tf.concat([tf.nn.relu(1 - r), tf.nn.relu(1 + f)], 0)), RIGHT_G, "half the expected"),
        (lambda r, f: relu_mean(-r) + relu_mean(f), RIGHT_G, "the margin is missing"),
        (lambda r, f: tf.reduce_mean(tf.minimum(0.0, -1 + r)) + tf.reduce_mean(tf.minimum(0.0, -1 - f)), RIGHT_G,
         "the value D maximises as Miyato et al. write it"),
        (lambda r, f: tf.reduce_mean(tf.nn.relu(1 - r) ** 2) + tf.reduce_mean(tf.nn.relu(1 + f) ** 2), RIGHT_G,
         "the hinges are squared"),
        (lambda r, f: relu_mean(1 - r), RIGHT_G, "only the term of the real images"),
        (lambda r, f: relu_mean(1 + f), RIGHT_G, "only the term of the generated images"),
        (losses.discriminator_loss, RIGHT_G, "the cross-entropy loss of notebook 04"),
        (RIGHT_D, lambda f: relu_mean(1 - f), "the generator's loss is not a hinge"),
        (RIGHT_D, lambda f: tf.reduce_mean(f), "the sign is flipped: the generator wants D to score its images high"),
        (RIGHT_D, losses.generator_loss, "non-saturating cross-entropy loss of notebook 04"),
        (RIGHT_D, lambda f: -tf.reduce_sum(f), "sum over the batch"),
        (RIGHT_D, lambda f: -tf.reduce_mean(tf.sigmoid(f)), "a sigmoid is applied"),
        (RIGHT_D, lambda f: tf.reduce_mean(1 - f), "the same gradient but not the same value"),
        (lambda r, f: relu_mean(1 - r[:, 0]) + relu_mean(1 + f[:, 0]), RIGHT_G, r"on shape \(N,\) it raised"),
        (stub, RIGHT_G, "hinge_discriminator_loss is not implemented yet"),
        (RIGHT_D, stub, "hinge_generator_loss is not implemented yet"),
    ],
)
def test_hinge_mistakes_fail_with_their_hint(d_loss, g_loss, hint):
    fails_with(checks.test_hinge_loss, d_loss, g_loss, match=f"(?s){hint}")
