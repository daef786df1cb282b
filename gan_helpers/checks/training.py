"""Checks of notebook 05: the two optimizers (``get_solvers``) and the training step (``train_step``);
of notebook 13: the moving average of the generator's weights (``ema_update``, at the end).

``test_get_solvers`` reads the optimizers' settings. ``test_train_step`` runs the
learner's step once on the small models of :func:`values.train_step_models`
(fixed weights, a fixed batch, fixed noise) and compares both losses and each
network's update with what the library's compiled step (the one ``run_a_gan``
runs) gave on the same inputs, stored in ``checks.npz``. When they differ it runs
known mistakes (:func:`reference_step` with one thing changed) to name the one the
learner's step matches; an exception of the learner's step is explained from its
message.
"""

import functools
import inspect
import re

import keras
import numpy as np
import tensorflow as tf

from gan_helpers import losses
from gan_helpers.checks import values
from gan_helpers.checks.engine import (MISTAKE_MATCH_TOLERANCE, accepts, call_student, expected_values, fail,
                                       is_stub, passed, scaled_error, stub_failure, student_error)
LEARNING_RATE, BETA_1 = 1e-3, 0.5
# What the check passes to see that the arguments are used: values no default has.
OTHER_LEARNING_RATE, OTHER_BETA_1 = 2e-4, 0.3
# Adam's settings that the course leaves at Keras's defaults.
_ADAM_DEFAULTS = {
    "beta_2": 0.999, "weight_decay": None, "amsgrad": False, "clipnorm": None, "clipvalue": None,
    "global_clipnorm": None, "use_ema": False, "gradient_accumulation_steps": None,
}  # fmt: skip
_SETTING_TOLERANCE = 1e-6  # float32 stores 1e-3 as 0.0010000000475


def _close(a, b):
    return abs(float(a) - float(b)) <= _SETTING_TOLERANCE * max(abs(float(b)), 1e-12)


def _solver_pair(check, call, result):
    """The two optimizers ``call`` returned, after checking that they are two distinct Keras optimizers."""
    if result is None:
        fail(check, f"{call} returned None.", "did you forget `return D_solver, G_solver`?")
    if isinstance(result, keras.optimizers.Optimizer):
        fail(check, f"{call} returned one optimizer, expected two: (D_solver, G_solver).",
             "each network needs its own optimizer: make two Adam optimizers and `return D_solver, G_solver`.")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        what = f"{len(result)} values" if isinstance(result, (tuple, list)) else f"a {type(result).__name__}"
        fail(check, f"{call} returned {what}, expected a pair (D_solver, G_solver).", "`return D_solver, G_solver`.")
    for name, solver in zip(("D_solver", "G_solver"), result):
        if not isinstance(solver, keras.optimizers.Optimizer):
            hint = "make it with keras.optimizers.Adam(...)."
            if type(solver).__name__ == "Adam":
                hint = ("this Adam is not a Keras 3 optimizer (tf_keras or tf.compat.v1?): the course's models are "
                        "Keras 3 models, so use keras.optimizers.Adam (after `import keras`).")
            fail(check, f"{call} returned a {type(solver).__name__} as {name}, expected a Keras optimizer.", hint)
    if result[0] is result[1]:
        fail(check, f"{call} returned the same optimizer twice.",
             "an optimizer keeps state for the weights it updates (Adam's running averages of the gradient and of "
             "its square, its step count): D and G each need their own. Create two: "
             "D_solver = keras.optimizers.Adam(...) and G_solver = keras.optimizers.Adam(...).")
    return tuple(result)


def _check_adam(check, call, name, solver, learning_rate, beta_1):
    """One optimizer's class and settings."""
    where = f"{call}: {name}"
    if isinstance(solver, keras.optimizers.AdamW):
        fail(check, f"{where} is AdamW.",
             "AdamW is Adam with decoupled weight decay, which the course does not use: keras.optimizers.Adam.")
    if not isinstance(solver, keras.optimizers.Adam):
        fail(check, f"{where} is {type(solver).__name__}, expected Adam.",
             "the course trains both networks with Adam (Kingma and Ba, 2015), as the DCGAN paper does: "
             "keras.optimizers.Adam(learning_rate=..., beta_1=...).")
    config = solver.get_config()
    rate = config["learning_rate"]
    if isinstance(rate, dict):
        fail(check, f"{where} has a learning-rate schedule ({rate.get('class_name', 'a schedule')}).",
             f"the course trains with a constant learning rate: pass the number, learning_rate=learning_rate "
             f"({learning_rate:g} by default).")
    if not _close(rate, learning_rate):
        hint = f"pass learning_rate=learning_rate to Adam (the default argument is {LEARNING_RATE:g})."
        if _close(rate, 2e-4) and learning_rate == LEARNING_RATE:
            hint = ("2e-4 is the DCGAN paper's learning rate (notebook 07); the fully connected GAN of this notebook "
                    f"trains with {LEARNING_RATE:g}: " + hint)
        elif _close(rate, LEARNING_RATE):
            hint = ("the function ignores its learning_rate argument (Adam's own default is 1e-3): pass "
                    "learning_rate=learning_rate to both optimizers.")
        fail(check, f"{where} has learning rate {float(rate):g}, expected {learning_rate:g}.", hint)
    found = float(config["beta_1"])
    if not _close(found, beta_1):
        hint = "pass beta_1=beta1 to Adam."
        if _close(found, 0.9) and beta_1 == BETA_1:
            hint = ("beta_1 is left at Adam's default 0.9: pass beta_1=beta1 (0.5, the DCGAN paper's value, "
                    "a shorter memory of past gradients).")
            if _close(config["beta_2"], BETA_1):
                hint = "beta_2 is 0.5 and beta_1 0.9: it is beta_1, the first-moment decay, that is 0.5; beta_2 stays 0.999."
        elif _close(found, 0.9) or _close(found, BETA_1):
            hint = "the function ignores its beta1 argument: pass beta_1=beta1 to both optimizers."
        fail(check, f"{where} has beta_1 = {found:g}, expected {beta_1:g}.", hint)
    for setting, default in _ADAM_DEFAULTS.items():
        value = config.get(setting, default)
        same = value == default if not isinstance(default, float) else _close(value, default)
        if not same:
            fail(check, f"{where} sets {setting}={value!r}; Adam's default is {default!r}.",
                 "set only learning_rate and beta_1; the course keeps Adam's other settings at their defaults.")


def _check_solvers(check, get_solvers, **arguments):
    """Call ``get_solvers(**arguments)``; check that it returns two Adams set as the arguments ask; return them."""
    call = f"get_solvers({', '.join(f'{name}={value:g}' for name, value in arguments.items())})"
    solvers = _solver_pair(check, call, call_student(check, "get_solvers", get_solvers, **arguments))
    for name, solver in zip(("D_solver", "G_solver"), solvers):
        _check_adam(check, call, name, solver, arguments.get("learning_rate", LEARNING_RATE),
                    arguments.get("beta1", BETA_1))
    return solvers


def test_get_solvers(get_solvers):
    """Check ``get_solvers(learning_rate=1e-3, beta1=0.5)``: two separate Adam optimizers, ``(D_solver, G_solver)``.

    Each must be Adam with a constant learning rate of 1e-3 and beta_1 = 0.5 (Adam's
    other settings at their defaults); each call must make new ones; where the
    function takes ``learning_rate`` and ``beta1``, it must use them.
    """
    check = "test_get_solvers"
    if isinstance(get_solvers, (keras.optimizers.Optimizer, tuple, list)):
        fail(check, "got optimizers, expected the function that makes them.",
             "pass the function itself: test_get_solvers(get_solvers), not test_get_solvers(get_solvers()).")
    solvers = _check_solvers(check, get_solvers)
    again = _solver_pair(check, "get_solvers()", call_student(check, "get_solvers", get_solvers))
    if any(new is old for new in again for old in solvers):
        fail(check, "two calls of get_solvers() returned the same optimizer objects.",
             "create the optimizers inside the function, so that each call makes new ones: a new GAN must not "
             "start from the state (step count, running averages) of an optimizer that trained another.")
    checked = []
    for argument, value in (("learning_rate", OTHER_LEARNING_RATE), ("beta1", OTHER_BETA_1)):
        if accepts(get_solvers, argument):
            _check_solvers(check, get_solvers, **{argument: value})
            checked.append(argument)
    arguments = f"; {' and '.join(checked)} used" if checked else ""
    print(f"{check} passed (two Adam optimizers, learning rate {LEARNING_RATE:g}, beta_1 {BETA_1:g}{arguments})")


def _saturating_generator_loss(logits_fake):
    """The minimax generator loss E[log(1 - D(G(z)))] = -E[softplus(s)], minimised."""
    return -tf.reduce_mean(tf.nn.softplus(logits_fake))


def reference_step(D, G, D_solver, G_solver, real, noise_d, noise_g, *, d_noise="d", g_noise="g",
                   d_step_training=(True, True), g_step_training=(True, True), one_d_call=False,
                   swapped_logits=False, simultaneous=False, d_descends="d_loss", g_descends="g_loss"):
    """One alternating GAN step, eagerly, the way notebook 05 writes it; the keywords make known mistakes.

    Returns ``(d_loss, g_loss)`` as floats. The defaults give the right step:

    - ``d_noise``, ``g_noise``: the noise each step makes its fakes from ("d" for
      noise_d, "g" for noise_g).
    - ``d_step_training``, ``g_step_training``: the ``training`` flags of the
      (G, D) calls in each step.
    - ``one_d_call``: D called once on real and fake images concatenated.
    - ``swapped_logits``: discriminator_loss(logits_fake, logits_real).
    - ``simultaneous``: G's loss and gradient taken before D's update is applied.
    - ``d_descends``: "d_loss", or "g_loss" (D follows the generator's loss).
    - ``g_descends``: "g_loss", "d_loss" (G follows the discriminator's loss on its
      fakes) or "saturating" (the minimax loss log(1 - D(G(z)))).
    """
    noise = {"d": noise_d, "g": noise_g}
    g_training, d_training = d_step_training
    with tf.GradientTape() as tape:
        fake = G(noise[d_noise], training=g_training)
        if one_d_call:
            logits = D(tf.concat([real, fake], axis=0), training=d_training)
            logits_real, logits_fake = logits[: tf.shape(real)[0]], logits[tf.shape(real)[0]:]
        else:
            logits_real, logits_fake = D(real, training=d_training), D(fake, training=d_training)
        if swapped_logits:
            logits_real, logits_fake = logits_fake, logits_real
        d_loss = losses.discriminator_loss(logits_real, logits_fake)
        d_objective = d_loss if d_descends == "d_loss" else losses.generator_loss(logits_fake)
    d_grads = tape.gradient(d_objective, D.trainable_variables)

    def generator_half():
        g_training, d_training = g_step_training
        with tf.GradientTape() as tape:
            logits_fake = D(G(noise[g_noise], training=g_training), training=d_training)
            if g_descends == "d_loss":
                g_loss = losses.discriminator_loss(D(real, training=d_training), logits_fake)
            elif g_descends == "saturating":
                g_loss = _saturating_generator_loss(logits_fake)
            else:
                g_loss = losses.generator_loss(logits_fake)
        return g_loss, tape.gradient(g_loss, G.trainable_variables)

    if simultaneous:
        g_loss, g_grads = generator_half()
    D_solver.apply_gradients(zip(d_grads, D.trainable_variables))
    if not simultaneous:
        g_loss, g_grads = generator_half()
    G_solver.apply_gradients(zip(g_grads, G.trainable_variables))
    return float(d_loss), float(g_loss)


_TRAINING = "every call of G and D in the step takes training=True"
_BATCH_NORM = ("without it, batch normalization normalises with its running averages instead of the batch's own "
               "statistics (and does not update them)")


def _training_hint(step, flags):
    left_out = [name for name, flag in zip(("G", "D"), flags) if not flag]
    calls = " and ".join(left_out)
    hint = (f"the {step} calls {calls} without training=True: {_TRAINING}; {_BATCH_NORM}. (The check's models have a "
            "batch norm layer each, like the DCGAN's.)")
    if step == "G step" and not flags[1]:
        hint += (" Setting D.trainable = False for the G step does the same in Keras 3: it puts D's batch norm in "
                 "inference mode. It is not needed: the G step's gradient, taken with respect to "
                 "G.trainable_variables, leaves D's weights alone.")
    return hint


def _mistakes():
    """(hint, keywords of reference_step) of each known mistake."""
    mistakes = [
        ("discriminator_loss gets its arguments the wrong way round: discriminator_loss(logits_real, logits_fake), "
         "the logits of the real images first.", {"swapped_logits": True}),
        ("D is called once on the real and the fake images together (tf.concat): with batch normalization in D "
         "that normalises the two kinds of images with shared statistics, which tells D which batch is which. Call "
         "D on the real batch and on the fake batch separately, as run_a_gan does (the check's D has a batch norm "
         "layer, like the DCGAN's).", {"one_d_call": True}),
        ("the D step makes its fakes from noise_g: the D step uses noise_d, the G step noise_g.", {"d_noise": "g"}),
        ("noise_d and noise_g are swapped: the D step makes its fakes from noise_d, the G step from noise_g.",
         {"d_noise": "g", "g_noise": "d"}),
        ("the G step scores the fakes the D step made (from noise_d) instead of fresh ones: inside the G step's tape, "
         "generate new fakes, G(noise_g, training=True), so that G learns from new samples scored by the updated D.",
         {"g_noise": "d"}),
        ("G's loss is computed before D's update is applied (both losses in one tape, or both gradients taken before "
         "either update, as in a simultaneous step): in the alternating step the G step is scored by the updated D. "
         "Apply D's update first, then compute G's loss in a new tape.", {"simultaneous": True}),
        ("G's loss is computed on the D step's fakes, before D's update (one tape for both losses, as in the "
         "TensorFlow DCGAN tutorial's simultaneous step): apply D's update first, then make fresh fakes from "
         "noise_g and compute G's loss in a new tape.", {"simultaneous": True, "g_noise": "d"}),
        ("the step calls G and D without training=True anywhere: " + f"{_TRAINING}; {_BATCH_NORM}.",
         {"d_step_training": (False, False), "g_step_training": (False, False)}),
        ("D's update follows the gradient of the generator's loss: the D step takes the gradient of d_loss, "
         "discriminator_loss(D(real_images), D(fakes)), with respect to D's weights.", {"d_descends": "g_loss"}),
        ("G's update follows the gradient of the discriminator's loss, which moves G to help D: the G step takes "
         "the gradient of g_loss = generator_loss(D(G(noise_g))) with respect to G's weights.",
         {"g_descends": "d_loss"}),
        ("this is the saturating (minimax) generator loss log(1 - D(G(z))): G minimises the non-saturating "
         "generator_loss, -log D(G(z)) (notebook 04), whose gradient does not vanish while D rejects the fakes.",
         {"g_descends": "saturating"}),
    ]
    for flags in ((False, False), (False, True), (True, False)):
        mistakes.append((_training_hint("D step", flags), {"d_step_training": flags}))
        mistakes.append((_training_hint("G step", flags), {"g_step_training": flags}))
    return mistakes

# On losses and updates (relative, floored at 1% of the largest entry). An update is the
# difference of two float32 weights, exact to about 6e-5 of the largest update here;
# the nearest known mistake is more than 2e-2 away.
STEP_TOLERANCE = 1e-3
_STAGES = ("d_loss", "d_update", "g_loss", "g_update")
_STAGE_TEXT = {
    "d_loss": "the discriminator's loss",
    "d_update": "D's weights after the step",
    "g_loss": "the generator's loss",
    "g_update": "G's weights after the step",
}
_STAGE_HINTS = {
    "d_loss": ("d_loss is discriminator_loss(D(real_images, training=True), D(fakes, training=True)), the fakes made "
               "by G(noise_d, training=True), computed before D's update."),
    "d_update": ("D's update is the gradient of d_loss with respect to D.trainable_variables, applied once with "
                 "D_solver; G's update must not change D."),
    "g_loss": ("g_loss is generator_loss(D(G(noise_g, training=True), training=True)), computed after D's update, "
               "on fresh fakes."),
    "g_update": ("G's update is the gradient of g_loss with respect to G.trainable_variables, applied once with "
                 "G_solver, after D's update."),
}
_ARGUMENTS = ("D", "G", "D_solver", "G_solver", "real_images", "noise_d", "noise_g")
_SMALL_MODELS = (
    f"the check runs your step on its own small models (images of {values.STEP_IMAGE_SIZE} values, noise of "
    f"{values.STEP_NOISE_SIZE}, a batch of {values.STEP_BATCH}): use only the arguments it is given (real_images, "
    "noise_d, noise_g, and their batch size), not the notebook's NOISE_DIM, BATCH_SIZE, sample_noise or models."
)


def _inputs():
    expected = expected_values()
    return [tf.constant(expected[key]) for key in ("step_real", "step_noise_d", "step_noise_g")]


def _outcome(d_loss, g_loss, D, G, before):
    return {
        "d_loss": np.float64(d_loss),
        "g_loss": np.float64(g_loss),
        "d_update": values.flat_weights(D.trainable_variables) - before[0],
        "g_update": values.flat_weights(G.trainable_variables) - before[1],
    }


def _fresh():
    D, G, D_solver, G_solver = values.train_step_models()
    return (D, G, D_solver, G_solver), (values.flat_weights(D.trainable_variables),
                                        values.flat_weights(G.trainable_variables))


def _scalar(check, name, value):
    if tf.is_tensor(value) or isinstance(value, (np.ndarray, np.generic)):
        shape = tuple(value.shape)
        if shape != ():
            fail(check, f"train_step returned {name} of shape {shape}, expected a scalar.",
                 "return the loss values themselves, as discriminator_loss and generator_loss give them "
                 "(shape ()): `return d_loss, g_loss`.")
        value = np.asarray(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        fail(check, f"train_step returned a {type(value).__name__} as {name}, expected a number (a scalar tensor).",
             "`return d_loss, g_loss`, the two losses the step computed.")
    if not np.isfinite(number):
        fail(check, f"train_step returned {name} = {number}, which is not finite.")
    return number


def _returned_losses(check, output):
    if output is None:
        fail(check, "train_step returned None.", "end the step with `return d_loss, g_loss`.")
    if not isinstance(output, (tuple, list)) or len(output) != 2:
        what = f"{len(output)} values" if isinstance(output, (tuple, list)) else f"a {type(output).__name__}"
        fail(check, f"train_step returned {what}, expected two: (d_loss, g_loss).",
             "`return d_loss, g_loss`: the discriminator's loss, then the generator's.")
    return _scalar(check, "d_loss", output[0]), _scalar(check, "g_loss", output[1])


def _error_hint(error, D_solver):
    """What an exception of the learner's step most likely means."""
    message = str(error)
    if "Unknown variable" in message and ("generator/" in message or "discriminator/" in message):
        mine, other = ("D", "G") if "generator/" in message else ("G", "D")
        return (f"{mine}_solver was handed {other}'s weights. Each optimizer updates its own network: {mine}_solver "
                f"applies the gradient of {mine.lower()}_loss to {mine}.trainable_variables only, {other}_solver "
                f"that of {other.lower()}_loss to {other}.trainable_variables. Are the two optimizers swapped, or "
                f"does the {mine} step update {other}'s weights too (a gradient with respect to "
                f"{mine}.trainable_variables + {other}.trainable_variables)?")
    if "No gradients provided" in message:
        if int(D_solver.iterations.numpy()) == 0:
            return ("the gradient of the D step's loss with respect to D's weights is missing: compute d_loss inside "
                    "`with tf.GradientTape() as tape:`, from D's outputs on the real and the fake images, and take "
                    "tape.gradient(d_loss, D.trainable_variables).")
        return ("the gradient of the G step's loss with respect to G's weights is missing: the loss was not "
                "computed from G's weights under the G step's tape. Most often the G step reuses the fakes the "
                "D step made (recorded by the D step's tape, or by none): make fresh fakes, "
                "G(noise_g, training=True), inside the G step's `with tf.GradientTape() as tape:`, and take the "
                "gradient of g_loss (not d_loss).")
    if "non-persistent GradientTape can only be used to compute one set of gradients" in message:
        return ("a GradientTape gives gradients once: use one tape for the D step and a new one for the G step "
                "(or tf.GradientTape(persistent=True)).")
    return _SMALL_MODELS


def _shortened(error):
    """Keras's 'Unknown variable' error without the variable's values, which fill the message."""
    found = re.search(r"Unknown variable: <Variable path=([^,>]+)", str(error))
    if not found:
        return error
    short = ValueError(f"Unknown variable {found.group(1)}: this optimizer can only update the variables it was "
                       "built for.")
    return short.with_traceback(error.__traceback__)


def _run_student(check, train_step):
    """Run the learner's step on fresh small models; return what it did (losses, updates)."""
    (D, G, D_solver, G_solver), before = _fresh()
    with values.full_float32_matmuls():
        try:
            output = train_step(D, G, D_solver, G_solver, *_inputs())
        except Exception as error:
            if is_stub(error):
                raise stub_failure(check, "train_step") from error
            hint = _error_hint(error, D_solver)
            raise student_error(check, "your train_step raised", _shortened(error), hint) from error
    d_loss, g_loss = _returned_losses(check, output)
    for name, solver in (("D_solver", D_solver), ("G_solver", G_solver)):
        count = int(solver.iterations.numpy())
        network = name[0]
        if count == 0:
            fail(check, f"{name} applied no update.",
                 f"the {network} step ends with {name}.apply_gradients(zip(grads, {network}.trainable_variables)).")
        if count > 1:
            fail(check, f"{name} applied {count} updates, expected one.",
                 f"one step updates each network once: apply {network}'s gradients once, with all of "
                 f"{network}'s weights in one call.")
    return _outcome(d_loss, g_loss, D, G, before)


def _errors(outcome, expected):
    return {stage: scaled_error(outcome[stage], expected[stage]) for stage in _STAGES}


def _matches(a, b):
    return np.shape(a) == np.shape(b) and scaled_error(a, b) < MISTAKE_MATCH_TOLERANCE


@functools.lru_cache(maxsize=1)
def _mistake_outcomes():
    """(hint, outcome) of every known mistake, each run from the small models' fixed weights (computed once)."""
    results = []
    inputs = _inputs()
    (D, G, _, _), before = _fresh()
    start = D.get_weights(), G.get_weights()
    with values.full_float32_matmuls():
        for hint, keywords in _mistakes():
            D.set_weights(start[0])
            G.set_weights(start[1])
            d_loss, g_loss = reference_step(D, G, *values.train_step_solvers(D, G), *inputs, **keywords)
            results.append((hint, _outcome(d_loss, g_loss, D, G, before)))
    return tuple(results)


def _diagnose(check, train_step, outcome, expected, wrong):
    """The hint for a step whose outcome differs from the expected one in the stages ``wrong``.

    A known mistake that gives the same losses and updates names the mistake; else a
    step that gives other results when run again draws its own noise (before the next
    test: its loss on noise of its own is near the loss of a mistake that swaps the
    noise); else a mistake that matches at a wrong stage (the learner may return
    other loss values than the mistake's); else what that stage should compute.
    """
    if _matches(outcome["d_loss"], expected["g_loss"]) and _matches(outcome["g_loss"], expected["d_loss"]):
        return "the two losses come back the wrong way round: `return d_loss, g_loss`, the discriminator's first."
    mistakes = _mistake_outcomes()
    for hint, mistake in mistakes:
        if all(_matches(outcome[stage], mistake[stage]) for stage in _STAGES):
            return hint
    try:
        again = _run_student(check, train_step)
    except AssertionError:
        again = None
    if again is not None and any(not _matches(again[stage], outcome[stage]) for stage in _STAGES):
        return ("two runs from the same weights and inputs gave different results: does your step draw its own "
                "noise (sample_noise, tf.random)? Make the D step's fakes from noise_d and the G step's from "
                "noise_g, the arguments it is given.")
    for stage in wrong:
        for hint, mistake in mistakes:
            if _matches(outcome[stage], mistake[stage]):
                return hint
    return _STAGE_HINTS[wrong[0]]


def _describe(stage, outcome, expected, error):
    if stage.endswith("loss"):
        return (f"{_STAGE_TEXT[stage]} is {outcome[stage]:.6g}, expected {float(expected[stage]):.6g} "
                f"(relative error {error:.1e}).")
    if not np.any(outcome[stage] != 0):
        return f"{_STAGE_TEXT[stage]} are unchanged: the step did not update them."
    return f"{_STAGE_TEXT[stage]} are wrong (max relative error of the update {error:.1e})."


def _check_signature(check, train_step):
    try:
        inspect.signature(train_step).bind(*_ARGUMENTS)
    except TypeError:
        fail(check, "train_step cannot be called with the seven arguments "
                    f"train_step({', '.join(_ARGUMENTS)}).",
             "keep the exercise's signature: the check hands the step its models, optimizers, a batch of real "
             "images and the noise for each half of the step.")
    except ValueError:  # no signature to read (a compiled or built-in callable): calling it will tell
        pass


def test_train_step(train_step):
    """Check ``train_step(D, G, D_solver, G_solver, real_images, noise_d, noise_g)``, which returns ``(d_loss, g_loss)``.

    Runs it once on small models with fixed weights, a fixed batch and fixed noise,
    and compares both losses and both networks' updates with the library's step.
    """
    check = "test_train_step"
    _check_signature(check, train_step)
    expected = {key: expected_values()[f"step_{key}"] for key in _STAGES}
    outcome = _run_student(check, train_step)
    errors = _errors(outcome, expected)
    wrong = [stage for stage in _STAGES if errors[stage] > STEP_TOLERANCE]
    if wrong:
        problem = _describe(wrong[0], outcome, expected, errors[wrong[0]])
        fail(check, problem, _diagnose(check, train_step, outcome, expected, wrong))
    passed(check, max(errors.values()))


_EMA_RULE = "average <- decay * average + (1 - decay) * weights"


def _ema_variables(arrays):
    """Variables of the kinds ema_update meets: tf.Variable, and keras.Variable (a model's weights)."""
    return [keras.Variable(array) if index == 1 else tf.Variable(array) for index, array in enumerate(arrays)]


def _ema_mistakes(average, weights, decay):
    """(hint, values of every average) of known mistakes, float64."""
    a = [np.asarray(x, np.float64) for x in average]
    w = [np.asarray(x, np.float64) for x in weights]
    return [
        ("the decay multiplies the weights instead of the average: with decay = 0.999 the average must keep "
         f"0.999 of itself and take 0.001 of the new weights, {_EMA_RULE}.",
         [(1 - decay) * x + decay * y for x, y in zip(a, w)]),
        ("the average became a copy of the weights: the decay is not used. " + _EMA_RULE + ".", w),
        ("the average is the mean of the old average and the weights: use the decay, " + _EMA_RULE + ".",
         [0.5 * (x + y) for x, y in zip(a, w)]),
        ("the old average is not scaled by the decay: " + _EMA_RULE + ".", [x + (1 - decay) * y for x, y in zip(a, w)]),
        ("the new weights are not scaled by (1 - decay): " + _EMA_RULE + ".", [decay * x + y for x, y in zip(a, w)]),
        ("only the first variable was updated: is there a `return` inside the loop? Update every pair, then return.",
         [decay * a[0] + (1 - decay) * w[0], *a[1:]]),
    ]


def _ema_values(variables):
    return [np.asarray(variable, np.float64) for variable in variables]


def _ema_fails(check, got, want, mistakes, when):
    errors = [scaled_error(g, w) for g, w in zip(got, want)]
    if max(errors) <= 1e-5:
        return max(errors)
    hint = next((text for text, wrong in mistakes
                 if all(scaled_error(g, w) < MISTAKE_MATCH_TOLERANCE for g, w in zip(got, wrong))), None)
    index = int(np.argmax(errors))
    fail(check, f"{when}, average {index} (of shape {tuple(np.shape(want[index]))}) is "
                f"{np.round(np.ravel(got[index])[:3], 5).tolist()}..., expected "
                f"{np.round(np.ravel(want[index])[:3], 5).tolist()}...", hint or f"{_EMA_RULE}, for every pair.")


def test_ema_update(ema_update):
    """Check ``ema_update(average, weights, decay)``: updates the variables of ``average`` in place.

    ``average`` and ``weights`` are lists of the same length and shapes (variables, or tensors for
    ``weights``); each average moves to decay * average + (1 - decay) * weights; ``weights`` stay as they
    are. Runs it once eagerly, then twice inside a tf.function, as a train step would.
    """
    check = "test_ema_update"
    expected = expected_values()
    starts, weights = values.ema_inputs()
    decay = values.EMA_DECAY
    average = _ema_variables(starts)
    weight_variables = _ema_variables(weights)
    returned = call_student(check, "ema_update", ema_update, average, weight_variables, decay)
    if any(not np.array_equal(np.asarray(v), w) for v, w in zip(weight_variables, weights)):
        fail(check, "ema_update changed the weights it follows.",
             f"only the averages change: {_EMA_RULE}. The generator keeps training with its own weights; the "
             "average is a second copy, used to draw samples.")
    got = _ema_values(average)
    first = [expected[f"ema_after_1_{index}"] for index in range(len(starts))]
    if all(np.array_equal(g, s) for g, s in zip(got, starts)):
        hint = ("assign the new values to the variables: `a.assign(decay * a + (1 - decay) * w)` for each pair "
                "`a, w` (writing `a = ...` only renames the loop's variable, and a list of new values that is "
                "returned is thrown away: the train step keeps the variables).")
        if isinstance(returned, (list, tuple)) and len(returned) == len(starts):
            hint = "ema_update returned new values but left the variables as they were: " + hint
        fail(check, "ema_update left the averages unchanged.", hint)
    error = _ema_fails(check, got, first, _ema_mistakes(starts, weights, decay), "after one update")

    compiled = tf.function(lambda: ema_update(average, [tf.constant(w) for w in weights], decay))
    try:
        for _ in range(values.EMA_COMPILED_STEPS):
            compiled()
    except Exception as failure:
        raise student_error(
            check, "your ema_update works eagerly, but inside a tf.function (as in a train step) it raised", failure,
            "use TensorFlow operations and variable.assign (no .numpy(), no numpy, no get_weights/set_weights): "
            "run_a_gan updates the average inside its compiled step.") from failure
    after = [expected[f"ema_after_{1 + values.EMA_COMPILED_STEPS}_{index}"] for index in range(len(starts))]
    if all(scaled_error(g, f) <= 1e-5 for g, f in zip(_ema_values(average), first)):
        fail(check, "inside a tf.function, ema_update left the averages unchanged.",
             "assign to the variables (a.assign(...)): a value computed in a compiled function and not assigned is "
             "thrown away.")
    error = max(error, _ema_fails(check, _ema_values(average), after, [],
                                  f"after {values.EMA_COMPILED_STEPS} more updates in a tf.function"))
    passed(check, error)
