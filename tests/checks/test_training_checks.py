"""The checks of notebook 05 (get_solvers, train_step): right answers pass, plausible mistakes fail with their hint."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from check_helpers import fails_with, stub
from gan_helpers import checks, losses, training
from gan_helpers.checks import engine
from gan_helpers.checks import training as training_checks
from gan_helpers.checks import values as check_values

# ---------------------------------------------------------------- get_solvers


def solvers_keyword_names(learning_rate=1e-3, beta1=0.5):
    D_solver = keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta1)
    G_solver = keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta1)
    return D_solver, G_solver


def solvers_as_list(learning_rate=1e-3, beta1=0.5):
    return [tf.keras.optimizers.Adam(learning_rate, beta1) for _ in range(2)]


def solvers_without_arguments():
    return keras.optimizers.Adam(1e-3, beta_1=0.5), keras.optimizers.Adam(1e-3, beta_1=0.5)


def solvers_with_pytorch_epsilon(learning_rate=1e-3, beta1=0.5):
    return tuple(keras.optimizers.Adam(learning_rate, beta_1=beta1, epsilon=1e-8) for _ in "DG")


CORRECT_SOLVERS = [training.get_solvers, solvers_keyword_names, solvers_as_list, solvers_without_arguments,
                   solvers_with_pytorch_epsilon]


@pytest.mark.parametrize("get_solvers", CORRECT_SOLVERS)
def test_right_solvers_pass(get_solvers, capsys):
    checks.test_get_solvers(get_solvers)
    assert capsys.readouterr().out.startswith("test_get_solvers passed (two Adam optimizers")


def shared(learning_rate=1e-3, beta1=0.5):
    solver = keras.optimizers.Adam(learning_rate, beta_1=beta1)
    return solver, solver


_GLOBAL_PAIR = solvers_keyword_names()


def made_once(learning_rate=1e-3, beta1=0.5):
    return _GLOBAL_PAIR


def adam(**settings):
    def get_solvers(learning_rate=1e-3, beta1=0.5):
        options = {"learning_rate": learning_rate, "beta_1": beta1, **settings}
        return keras.optimizers.Adam(**options), keras.optimizers.Adam(**options)

    return get_solvers


def two(make):
    def get_solvers(learning_rate=1e-3, beta1=0.5):
        return make(learning_rate, beta1), make(learning_rate, beta1)

    return get_solvers


SOLVER_MISTAKES = [
    (shared, "returned the same optimizer twice.*Adam's running averages"),
    (lambda learning_rate=1e-3, beta1=0.5: keras.optimizers.Adam(learning_rate, beta_1=beta1),
     "returned one optimizer, expected two"),
    (lambda learning_rate=1e-3, beta1=0.5: None, "returned None"),
    (lambda learning_rate=1e-3, beta1=0.5: tuple(keras.optimizers.Adam(learning_rate, beta_1=beta1) for _ in range(3)),
     "returned 3 values, expected a pair"),
    (adam(beta_1=0.9), "beta_1 is left at Adam's default 0.9"),
    (two(lambda lr, b1: keras.optimizers.Adam(lr)), "beta_1 is left at Adam's default 0.9"),
    (two(lambda lr, b1: keras.optimizers.Adam(lr, beta_2=0.5)), "beta_2 is 0.5 and beta_1 0.9"),
    (adam(learning_rate=2e-4), "learning rate 0.0002, expected 0.001.*DCGAN paper's learning rate"),
    (adam(learning_rate=1e-4), "learning rate 0.0001, expected 0.001"),
    (two(lambda lr, b1: keras.optimizers.Adam(beta_1=b1)), r"get_solvers\(learning_rate=0.0002\): D_solver has "
     r"learning rate 0.001, expected 0.0002.*ignores its learning_rate argument"),
    (two(lambda lr, b1: keras.optimizers.Adam(lr, beta_1=0.5)), r"get_solvers\(beta1=0.3\).*ignores its beta1"),
    (two(lambda lr, b1: keras.optimizers.SGD(lr)), "is SGD, expected Adam"),
    (two(lambda lr, b1: keras.optimizers.RMSprop(lr)), "is RMSprop, expected Adam"),
    (two(lambda lr, b1: keras.optimizers.AdamW(lr, beta_1=b1)), "is AdamW.*decoupled weight decay"),
    (two(lambda lr, b1: keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(lr, 1000, 0.9), b1)),
     "learning-rate schedule \\(ExponentialDecay\\).*constant learning rate"),
    (adam(amsgrad=True), "sets amsgrad=True"),
    (adam(beta_2=0.9), "sets beta_2=0.9"),
    (adam(clipnorm=1.0), "sets clipnorm=1.0"),
    (made_once, "two calls of get_solvers\\(\\) returned the same optimizer objects"),
    (lambda learning_rate=1e-3, beta1=0.5: (keras.optimizers.Adam(learning_rate, beta_1=beta1), "G"),
     "returned a str as G_solver"),
    (stub, "get_solvers is not implemented yet"),
]


@pytest.mark.parametrize("wrong, hint", SOLVER_MISTAKES)
def test_solver_mistakes_fail_with_hint(wrong, hint):
    fails_with(checks.test_get_solvers, wrong, match=f"(?s){hint}")


def test_solvers_instead_of_the_function_are_refused():
    fails_with(checks.test_get_solvers, training.get_solvers(), match="pass the function itself")


# ---------------------------------------------------------------- train_step: right steps


def step_as_in_the_notebook(D, G, D_solver, G_solver, real_images, noise_d, noise_g):
    with tf.GradientTape() as tape:
        fake_images = G(noise_d, training=True)
        d_loss = losses.discriminator_loss(D(real_images, training=True), D(fake_images, training=True))
    d_grads = tape.gradient(d_loss, D.trainable_variables)
    D_solver.apply_gradients(zip(d_grads, D.trainable_variables))
    with tf.GradientTape() as tape:
        g_loss = losses.generator_loss(D(G(noise_g, training=True), training=True))
    g_grads = tape.gradient(g_loss, G.trainable_variables)
    G_solver.apply_gradients(zip(g_grads, G.trainable_variables))
    return d_loss, g_loss


def fakes_outside_the_tape_and_apply(D, G, D_solver, G_solver, real_images, noise_d, noise_g):
    fake_images = G(noise_d, training=True)  # D's gradient does not need G's graph
    with tf.GradientTape() as tape:
        logits_fake = D(fake_images, training=True)  # fakes first, then the real images
        logits_real = D(real_images, training=True)
        d_loss = losses.discriminator_loss(logits_real, logits_fake)
    D_solver.apply(tape.gradient(d_loss, D.trainable_variables), D.trainable_variables)
    with tf.GradientTape() as tape:
        fake_images = G(noise_g, training=True)
        g_loss = losses.generator_loss(D(fake_images, training=True))
    G_solver.apply(tape.gradient(g_loss, G.trainable_variables), G.trainable_variables)
    return float(d_loss), float(g_loss)


def written_with_keras_ops(D, G, D_solver, G_solver, real_images, noise_d, noise_g):
    ops = keras.ops
    with tf.GradientTape() as tape:
        real, fake = D(real_images, training=True), D(G(noise_d, training=True), training=True)
        d_loss = ops.mean(ops.softplus(-real)) + ops.mean(ops.softplus(fake))
    D_solver.apply_gradients(zip(tape.gradient(d_loss, D.trainable_weights), D.trainable_weights))
    with tf.GradientTape() as tape:
        g_loss = ops.mean(ops.binary_crossentropy(ops.ones((8, 1)), D(G(noise_g, training=True), training=True),
                                                  from_logits=True))
    G_solver.apply_gradients(zip(tape.gradient(g_loss, G.trainable_weights), G.trainable_weights))
    return d_loss, g_loss


def one_persistent_tape(D, G, D_solver, G_solver, real_images, noise_d, noise_g):
    with tf.GradientTape(persistent=True) as tape:
        fake_images = G(noise_d, training=True)
        d_loss = losses.discriminator_loss(D(real_images, training=True), D(fake_images, training=True))
        d_grads = tape.gradient(d_loss, D.trainable_variables)
        D_solver.apply_gradients(zip(d_grads, D.trainable_variables))
        g_loss = losses.generator_loss(D(G(noise_g, training=True), training=True))
    g_grads = tape.gradient(g_loss, G.trainable_variables)
    G_solver.apply_gradients(zip(g_grads, G.trainable_variables))
    del tape
    return d_loss, g_loss


def returns_a_list_of_numpy_scalars(D, G, D_solver, G_solver, real_images, noise_d, noise_g):
    d_loss, g_loss = step_as_in_the_notebook(D, G, D_solver, G_solver, real_images, noise_d, noise_g)
    return [d_loss.numpy(), np.float32(g_loss)]


@pytest.mark.parametrize("right", [
    step_as_in_the_notebook, fakes_outside_the_tape_and_apply, written_with_keras_ops, one_persistent_tape,
    returns_a_list_of_numpy_scalars,
])
def test_right_steps_pass(right, capsys):
    checks.test_train_step(right)
    assert capsys.readouterr().out.startswith("test_train_step passed (max relative error")


def test_a_compiled_step_passes_and_passes_again():
    step = tf.function(step_as_in_the_notebook)
    checks.test_train_step(step)
    checks.test_train_step(step)  # the cell run twice: new models, a new trace, no new variables


def test_the_reference_step_is_the_stored_library_step():
    """reference_step (which makes the mistakes) is, with its defaults, the step run_a_gan ran for checks.npz."""
    models, before = training_checks._fresh()
    with check_values.full_float32_matmuls():
        d_loss, g_loss = training_checks.reference_step(*models, *training_checks._inputs())
    outcome = training_checks._outcome(d_loss, g_loss, models[0], models[1], before)
    expected = {key: check_values.load_expected()[f"step_{key}"] for key in training_checks._STAGES}
    assert max(training_checks._errors(outcome, expected).values()) < training_checks.STEP_TOLERANCE / 10


# ---------------------------------------------------------------- train_step: mistakes


def step(**mistake):
    def train_step(D, G, D_solver, G_solver, real_images, noise_d, noise_g):
        return training_checks.reference_step(D, G, D_solver, G_solver, real_images, noise_d, noise_g, **mistake)

    return train_step


def d_move(D, G, D_solver, real_images, noise_d, variables=None):
    """The right D half of a step (updating ``variables``, D's by default); returns d_loss."""
    variables = D.trainable_variables if variables is None else variables
    with tf.GradientTape() as tape:
        d_loss = losses.discriminator_loss(D(real_images, training=True), D(G(noise_d, training=True), training=True))
    D_solver.apply_gradients(zip(tape.gradient(d_loss, variables), variables))
    return d_loss


def g_move(D, G, G_solver, noise_g, variables=None, loss=losses.generator_loss):
    """The right G half of a step (updating ``variables``, G's by default); returns g_loss."""
    variables = G.trainable_variables if variables is None else variables
    with tf.GradientTape() as tape:
        g_loss = loss(D(G(noise_g, training=True), training=True))
    G_solver.apply_gradients(zip(tape.gradient(g_loss, variables), variables))
    return g_loss


def d_step_updates_g_too(D, G, D_solver, G_solver, real_images, noise_d, noise_g):
    d_loss = d_move(D, G, D_solver, real_images, noise_d, D.trainable_variables + G.trainable_variables)
    return d_loss, g_move(D, G, G_solver, noise_g)


def g_step_updates_d_too(D, G, D_solver, G_solver, real_images, noise_d, noise_g):
    d_loss = d_move(D, G, D_solver, real_images, noise_d)
    return d_loss, g_move(D, G, G_solver, noise_g, G.trainable_variables + D.trainable_variables)


def swapped_optimizers(D, G, D_solver, G_solver, real_images, noise_d, noise_g):
    return step_as_in_the_notebook(D, G, G_solver, D_solver, real_images, noise_d, noise_g)


def reuses_the_fakes(D, G, D_solver, G_solver, real_images, noise_d, noise_g):
    with tf.GradientTape() as tape:
        fake_images = G(noise_d, training=True)
        d_loss = losses.discriminator_loss(D(real_images, training=True), D(fake_images, training=True))
    D_solver.apply_gradients(zip(tape.gradient(d_loss, D.trainable_variables), D.trainable_variables))
    with tf.GradientTape() as tape:
        g_loss = losses.generator_loss(D(fake_images, training=True))  # no new fakes: no path to G's weights
    G_solver.apply_gradients(zip(tape.gradient(g_loss, G.trainable_variables), G.trainable_variables))
    return d_loss, g_loss


def one_tape_for_both_losses(D, G, D_solver, G_solver, real_images, noise_d, noise_g):
    """The TensorFlow DCGAN tutorial's step: one noise batch, both losses, then both updates."""
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
        fake_images = G(noise_d, training=True)
        fake_logits = D(fake_images, training=True)
        d_loss = losses.discriminator_loss(D(real_images, training=True), fake_logits)
        g_loss = losses.generator_loss(fake_logits)
    G_solver.apply_gradients(zip(g_tape.gradient(g_loss, G.trainable_variables), G.trainable_variables))
    D_solver.apply_gradients(zip(d_tape.gradient(d_loss, D.trainable_variables), D.trainable_variables))
    return d_loss, g_loss


def one_tape_gradients_twice(D, G, D_solver, G_solver, real_images, noise_d, noise_g):
    with tf.GradientTape() as tape:
        d_loss = losses.discriminator_loss(D(real_images, training=True), D(G(noise_d, training=True), training=True))
        g_loss = losses.generator_loss(D(G(noise_g, training=True), training=True))
    D_solver.apply_gradients(zip(tape.gradient(d_loss, D.trainable_variables), D.trainable_variables))
    G_solver.apply_gradients(zip(tape.gradient(g_loss, G.trainable_variables), G.trainable_variables))
    return d_loss, g_loss


def no_training_flags(D, G, D_solver, G_solver, real_images, noise_d, noise_g):
    with tf.GradientTape() as tape:
        d_loss = losses.discriminator_loss(D(real_images), D(G(noise_d)))
    D_solver.apply_gradients(zip(tape.gradient(d_loss, D.trainable_variables), D.trainable_variables))
    with tf.GradientTape() as tape:
        g_loss = losses.generator_loss(D(G(noise_g)))
    G_solver.apply_gradients(zip(tape.gradient(g_loss, G.trainable_variables), G.trainable_variables))
    return d_loss, g_loss


def saturating(D, G, D_solver, G_solver, real_images, noise_d, noise_g):
    d_loss = d_move(D, G, D_solver, real_images, noise_d)
    minimax = lambda logits: tf.reduce_mean(tf.math.log(1.0 - tf.sigmoid(logits)))  # noqa: E731
    return d_loss, g_move(D, G, G_solver, noise_g, loss=minimax)


def minimax_as_minus_d_loss(D, G, D_solver, G_solver, real_images, noise_d, noise_g):
    d_loss = d_move(D, G, D_solver, real_images, noise_d)
    minus_d_loss = lambda logits: -losses.discriminator_loss(D(real_images, training=True), logits)  # noqa: E731
    return d_loss, g_move(D, G, G_solver, noise_g, loss=minus_d_loss)


def g_follows_d_loss(D, G, D_solver, G_solver, real_images, noise_d, noise_g):
    d_loss = d_move(D, G, D_solver, real_images, noise_d)
    with tf.GradientTape() as tape:
        logits_fake = D(G(noise_g, training=True), training=True)
        g_loss = losses.generator_loss(logits_fake)
        wrong = losses.discriminator_loss(D(real_images, training=True), logits_fake)
    G_solver.apply_gradients(zip(tape.gradient(wrong, G.trainable_variables), G.trainable_variables))
    return d_loss, g_loss


def freezes_d_for_the_g_step(D, G, D_solver, G_solver, real_images, noise_d, noise_g):
    """The Keras 2 habit: D.trainable = False while G trains."""
    d_loss = d_move(D, G, D_solver, real_images, noise_d)
    D.trainable = False
    g_loss = g_move(D, G, G_solver, noise_g)
    D.trainable = True
    return d_loss, g_loss


def draws_its_own_noise(D, G, D_solver, G_solver, real_images, noise_d, noise_g):
    return step_as_in_the_notebook(D, G, D_solver, G_solver, real_images,
                                   tf.random.uniform(noise_d.shape, -1, 1), tf.random.uniform(noise_g.shape, -1, 1))


def uses_the_notebooks_noise_size(D, G, D_solver, G_solver, real_images, noise_d, noise_g):
    noise = tf.random.uniform((real_images.shape[0], 96), -1, 1)
    return step_as_in_the_notebook(D, G, D_solver, G_solver, real_images, noise, noise)


def applies_d_twice(D, G, D_solver, G_solver, real_images, noise_d, noise_g):
    d_loss = d_move(D, G, D_solver, real_images, noise_d)
    d_move(D, G, D_solver, real_images, noise_d)
    return d_loss, g_move(D, G, G_solver, noise_g)


def forgets_g_update(D, G, D_solver, G_solver, real_images, noise_d, noise_g):
    d_loss = d_move(D, G, D_solver, real_images, noise_d)
    return d_loss, generator_loss_only(D, G, noise_g)


def generator_loss_only(D, G, noise_g):
    return losses.generator_loss(D(G(noise_g, training=True), training=True))


def returns(value):
    def train_step(D, G, D_solver, G_solver, real_images, noise_d, noise_g):
        d_loss, g_loss = step_as_in_the_notebook(D, G, D_solver, G_solver, real_images, noise_d, noise_g)
        return value(d_loss, g_loss)

    return train_step


def old_signature(D, G, D_solver, G_solver, real_images):
    return step_as_in_the_notebook(D, G, D_solver, G_solver, real_images, None, None)


TRAINING = r"training=True.*batch normalization normalises with its running averages"
STEP_MISTAKES = [
    (d_step_updates_g_too, "D_solver was handed G's weights.*does the D step update G's weights too"),
    (g_step_updates_d_too, "G_solver was handed D's weights.*does the G step update D's weights too"),
    (swapped_optimizers, "G_solver was handed D's weights.*Are the two optimizers swapped"),
    (reuses_the_fakes, r"No gradients provided.*Hint: the gradient of the G step's loss.*reuses the fakes the D step"),
    (step(g_noise="d"), "the G step scores the fakes the D step made"),
    (one_tape_for_both_losses, "G's loss is computed on the D step's fakes, before D's update.*TensorFlow DCGAN"),
    (step(simultaneous=True), "G's loss is computed before D's update is applied"),
    (one_tape_gradients_twice, "non-persistent GradientTape.*Hint: a GradientTape gives gradients once"),
    (no_training_flags, "the step calls G and D without training=True anywhere"),
    (step(d_step_training=(False, True)), "the D step calls G without " + TRAINING),
    (step(d_step_training=(True, False)), "the D step calls D without " + TRAINING),
    (step(g_step_training=(False, False)), "the G step calls G and D without " + TRAINING),
    (step(g_step_training=(True, False)), "the G step calls D without " + TRAINING),
    (step(g_step_training=(False, True)), "the G step calls G without " + TRAINING),
    (freezes_d_for_the_g_step, "the G step calls D without training=True.*Setting D.trainable = False for the G step"),
    (saturating, r"saturating \(minimax\) generator loss"),
    (minimax_as_minus_d_loss, r"the generator's loss is .*saturating \(minimax\) generator loss"),
    (g_follows_d_loss, "G's update follows the gradient of the discriminator's loss"),
    (step(d_descends="g_loss"), "D's update follows the gradient of the generator's loss"),
    (step(swapped_logits=True), "discriminator_loss gets its arguments the wrong way round"),
    (step(one_d_call=True), "D is called once on the real and the fake images together"),
    (step(d_noise="g"), "the D step makes its fakes from noise_g"),
    (step(d_noise="g", g_noise="d"), "noise_d and noise_g are swapped"),
    (draws_its_own_noise, "two runs from the same weights and inputs gave different results"),
    (uses_the_notebooks_noise_size, "your train_step raised.*Hint: the check runs your step on its own small models"),
    (applies_d_twice, "D_solver applied 2 updates, expected one"),
    (forgets_g_update, "G_solver applied no update"),
    (returns(lambda d, g: None), "train_step returned None"),
    (returns(lambda d, g: d), "train_step returned a EagerTensor, expected two"),
    (returns(lambda d, g: (g, d)), "the two losses come back the wrong way round"),
    (returns(lambda d, g: (tf.fill((8,), d), g)), r"returned d_loss of shape \(8,\), expected a scalar"),
    (returns(lambda d, g: (d, g, 0)), "returned 3 values, expected two"),
    (old_signature, "train_step cannot be called with the seven arguments"),
    (stub, "train_step is not implemented yet"),
]


@pytest.mark.parametrize("wrong, hint", STEP_MISTAKES, ids=lambda v: getattr(v, "__name__", None))
def test_step_mistakes_fail_with_hint(wrong, hint):
    fails_with(checks.test_train_step, wrong, match=f"(?s){hint}")


def test_known_mistakes_are_far_outside_the_tolerance_and_told_apart():
    expected = {key: check_values.load_expected()[f"step_{key}"] for key in training_checks._STAGES}
    mistakes = training_checks._mistake_outcomes()
    for index, (hint, outcome) in enumerate(mistakes):
        errors = training_checks._errors(outcome, expected)
        assert max(errors.values()) > 20 * training_checks.STEP_TOLERANCE, hint
        same = [other for other, result in mistakes
                if all(training_checks._matches(outcome[s], result[s]) for s in training_checks._STAGES)]
        assert same == [hint]


def test_the_small_models_follow_their_plans_and_start_from_fixed_weights():
    D, G, D_solver, G_solver = check_values.train_step_models()
    again = check_values.train_step_models()
    for model, plan, copy in ((D, check_values.STEP_DISCRIMINATOR_PLAN, again[0]),
                              (G, check_values.STEP_GENERATOR_PLAN, again[1])):
        assert [tuple(w.shape) for w in model.weights] == check_values.weight_shapes(plan)
        assert all(a.tobytes() == b.tobytes() for a, b in zip(model.get_weights(), copy.get_weights()))
        gamma = model.get_layer(index=1).gamma.numpy()
        assert 0.5 <= gamma.min() and gamma.max() <= 1.5  # batch norm keeps activations of order 1 in training
    assert float(D_solver.learning_rate) != float(G_solver.learning_rate)  # swapped optimizers would show


# ---------------------------------------------------------------------------
# Notebook 13: ema_update
# ---------------------------------------------------------------------------


def ema_assign(average, weights, decay):
    for a, w in zip(average, weights):
        a.assign(decay * a + (1 - decay) * w)


def ema_assign_sub_returning(average, weights, decay):
    for a, w in zip(average, weights):
        a.assign_sub((1.0 - decay) * (a - w))
    return average


def ema_keras_ops(average, weights, decay):
    for a, w in zip(average, weights):
        a.assign(keras.ops.add(keras.ops.multiply(decay, a), keras.ops.multiply(1.0 - decay, w)))


def test_right_moving_averages_pass(capsys):
    for right in (ema_assign, ema_assign_sub_returning, ema_keras_ops):
        checks.test_ema_update(right)
    assert capsys.readouterr().out.count("test_ema_update passed") == 3


def ema_rule(rule):
    def ema_update(average, weights, decay):
        for a, w in zip(average, weights):
            a.assign(rule(a, w, decay))

    return ema_update


def ema_returns_first(average, weights, decay):
    for a, w in zip(average, weights):
        a.assign(decay * a + (1 - decay) * w)
        return average


def ema_rebinds(average, weights, decay):
    for a, w in zip(average, weights):
        a = decay * a + (1 - decay) * w  # noqa: F841


def ema_returns_values(average, weights, decay):
    return [decay * a + (1 - decay) * w for a, w in zip(average, weights)]


def ema_moves_the_weights(average, weights, decay):
    for a, w in zip(average, weights):
        w.assign(decay * w + (1 - decay) * a)


def ema_through_numpy(average, weights, decay):
    for a, w in zip(average, weights):
        a.assign(decay * a.numpy() + (1 - decay) * np.asarray(w))


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (ema_rule(lambda a, w, d: (1 - d) * a + d * w), "the decay multiplies the weights instead of the average"),
        (ema_rule(lambda a, w, d: w + 0 * a), "a copy of the weights: the decay is not used"),
        (ema_rule(lambda a, w, d: 0.5 * (a + w)), "the mean of the old average and the weights"),
        (ema_rule(lambda a, w, d: a + (1 - d) * w), "the old average is not scaled by the decay"),
        (ema_rule(lambda a, w, d: d * a + w), r"not scaled by \(1 - decay\)"),
        (ema_returns_first, "only the first variable was updated.*`return` inside the loop"),
        (ema_rebinds, r"left the averages unchanged.*`a = \.\.\.` only renames"),
        (ema_returns_values, "returned new values but left the variables as they were"),
        (ema_moves_the_weights, "changed the weights it follows"),
        (ema_through_numpy, r"works eagerly, but inside a tf.function.*\.numpy\(\)"),
        (stub, "ema_update is not implemented yet"),
    ],
)
def test_ema_mistakes_fail_with_their_hint(wrong, hint):
    fails_with(checks.test_ema_update, wrong, match=f"(?s){hint}")
