"""Check of notebook 11: WGAN-GP's gradient penalty, ``gradient_penalty(critic, real, fake, weight=10.0)``.

The penalty draws random interpolation weights, so a right answer returns a different
number at every call, and no stored value can be compared with it. The check gives a
verdict that does not depend on the draw all the same, because it hands the learner's
function critics of its own whose gradient is known in closed form, and which keep the
images they are called on:

1. **A linear critic**, D(x) = <w, x> + b on MNIST-shaped batches (8, 28, 28, 1). Its
   gradient is w at every point, so the penalty is weight * (||w|| - 1)^2 exactly,
   whatever the draw: the norm, the square, the mean and the weight are checked
   against one number (and the gradient of the penalty with respect to w against
   2 weight (||w|| - 1) w / ||w||, which is how the penalty trains the critic). Like a
   critic with dropout, it behaves differently outside training: called without
   ``training=True`` it scores with w / 2, so a penalty that forgets ``training=True``
   (and would penalise such a critic in the mode it is not trained in) returns
   weight * (||w|| / 2 - 1)^2, and is named.
2. **A bowl-shaped critic**, D(x) = a/2 ||x - c||^2 on (1024, 4, 4, 3) batches, whose
   gradient a (x - c) changes along each line from a fake to a real image, with norms
   below 1 near the fakes and above 1 near the reals. From the images it was called
   on the check reads back the draw itself: for example i, the point x_hat_i lies at
   eps_i = (x_hat_i - fake_i) / (real_i - fake_i) (every pixel of real and fake differ
   by at least 0.3, so each pixel gives eps_i to float32 rounding). The draw must put
   each x_hat_i on its segment with one weight for all of its pixels, the weights in
   [0, 1], not all equal, new at every call, and uniform: the empirical distribution
   of the 1024 weights within 0.12 of U[0, 1]'s (Kolmogorov-Smirnov). Then the value is
   compared with the penalty computed in float64 for that very draw, and its gradient
   with respect to a likewise. The same is repeated in a ``tf.function`` whose batch
   size is unknown when traced, as in ``run_a_gan``'s compiled step, twice, which shows
   draws frozen at tracing (numpy's) and a batch size read from a static shape.
3. **A flat critic**, w = 0: the gradient is 0 at every point, where the square root of
   the squared norm has an infinite derivative. The penalty's gradient with respect to
   w must be finite, which takes a small epsilon under the square root.

Only the uniformity test is statistical. For a right answer its false alarm rate is
below 2 exp(-2 * 1024 * 0.12^2) < 1e-12 (the Dvoretzky-Kiefer-Wolfowitz inequality),
whatever the draw; every listed mistake fails a structural test that no draw can
pass: Gaussian weights leave [0, 1] (all 1024 inside has probability 0.34^1024), one
weight for the batch makes them equal, the penalty on the real (fake) images only puts
every x_hat on its real (fake) end, and the other mistakes change the value computed
for the draw itself, by far more than rounding.
"""

import keras
import numpy as np
import tensorflow as tf

from gan_helpers.checks.engine import (LOSS_TOLERANCE, fail, is_stub, matching_mistake, passed, scaled_error,
                                       stub_failure, student_error, tensor_values)

CHECK = "test_gradient_penalty"
DEFAULT_WEIGHT = 10.0
OTHER_WEIGHT = 2.5

LINEAR_BATCH, LINEAR_SHAPE, LINEAR_NORM = 8, (28, 28, 1), 2.5
BOWL_BATCH, BOWL_SHAPE, BOWL_SCALE = 1024, (4, 4, 3), 0.6
# Every pixel of a real image differs from its fake by at least this much.
MIN_PIXEL_GAP = 0.3
# Largest distance of the empirical distribution of the weights from U[0, 1]'s that passes.
UNIFORM_TOLERANCE = 0.12
# How far a pixel's interpolation weight may be from its example's mean (float32 rounding: ~1e-6).
WEIGHT_TOLERANCE = 1e-4
# On gradients with respect to the critic's weights (second derivatives, in float32).
GRADIENT_TOLERANCE = 1e-3
# A flat critic's penalty is weight * (sqrt(epsilon) - 1)^2: epsilons up to 1e-6 pass.
FLAT_TOLERANCE = 1e-2
# The linear critic's kernel is scaled by this in calls without training=True.
INFERENCE_SCALE = 0.5

_FORMULA = "weight * mean over the examples of (||gradient of the critic at x_hat_i|| - 1)^2"
_DRAW = ("draw one weight per example, eps = tf.random.uniform((tf.shape(real)[0], 1, 1, 1)), and set "
         "x_hat = eps * real + (1 - eps) * fake")
_ALL_THE_WAY = ("compute the norm from the critic's gradient with TensorFlow operations all the way, so that the "
                "penalty's own gradient reaches the critic's weights.")
_NOT_TRAINING = ("the critic was called without training=True, so the penalty is taken on the critic as it "
                 "behaves outside training: for a critic with dropout, or any layer that behaves differently in "
                 "training, that is not the critic its loss trains. Call critic(x_hat, training=True) inside the "
                 "tape, as the training step calls it.")
_EPSILON = ("the square root of the squared norm has an infinite derivative at 0, so where the critic is flat "
            "(gradient exactly 0) its gradient is 0 * inf = NaN, and NaN reaches the critic's weights. tf.norm does "
            "the same. Put a small epsilon under the square root: "
            "tf.sqrt(tf.reduce_sum(tf.square(g), axis=[1, 2, 3]) + 1e-12).")


class _Recorder:
    """Keeps every batch a critic is called on, eagerly or inside a ``tf.function``."""

    def __init__(self, example_shape):
        self.example_shape = tuple(example_shape)
        self.seen = tf.Variable(tf.zeros((0, *self.example_shape)), shape=tf.TensorShape([None, *self.example_shape]),
                                trainable=False)

    def reset(self):
        self.seen.assign(tf.zeros((0, *self.example_shape)))

    def record(self, images):
        self.seen.assign(tf.concat([self.seen, tf.cast(images, tf.float32)], axis=0))

    def batches(self, batch_size):
        """The batches seen, as a list of float64 arrays of ``batch_size`` examples (None if they do not split so)."""
        seen = self.seen.numpy().astype(np.float64)
        if len(seen) % batch_size:
            return None
        return [seen[i:i + batch_size] for i in range(0, len(seen), batch_size)]


class _LinearCritic(keras.Model):
    """D(x) = <w, x> + b per example in training calls (gradient w everywhere), <w / 2, x> + b in the others,
    as a layer that behaves differently in training would make it. Scores (N, 1)."""

    def __init__(self, kernel, bias, recorder):
        super().__init__(name="linear_critic")
        self.recorder = recorder
        self.kernel = self.add_weight(shape=kernel.shape, initializer=keras.initializers.Constant(kernel), name="w")
        self.bias = self.add_weight(shape=(), initializer=keras.initializers.Constant(bias), name="b")

    def call(self, images, training=False):
        self.recorder.record(images)
        kernel = self.kernel if training else INFERENCE_SCALE * self.kernel
        return tf.reduce_sum(images * kernel, axis=[1, 2, 3])[:, None] + self.bias


class _BowlCritic(keras.Model):
    """D(x) = a/2 ||x - c||^2 per example: gradient a (x - c). Scores (N, 1)."""

    def __init__(self, scale, centre, recorder):
        super().__init__(name="bowl_critic")
        self.recorder = recorder
        self.centre = tf.constant(centre, tf.float32)
        self.scale = self.add_weight(shape=(), initializer=keras.initializers.Constant(scale), name="a")

    def call(self, images, training=False):
        self.recorder.record(images)
        return 0.5 * self.scale * tf.reduce_sum(tf.square(images - self.centre), axis=[1, 2, 3])[:, None]


def _linear_inputs():
    """(real, fake, w) for the linear and flat critics: (8, 28, 28, 1) images in [-1, 1], ||w|| = 2.5."""
    rng = np.random.default_rng(1704)
    real, fake = rng.uniform(-1.0, 1.0, size=(2, LINEAR_BATCH, *LINEAR_SHAPE))
    w = rng.normal(size=LINEAR_SHAPE)
    return real.astype(np.float32), fake.astype(np.float32), (LINEAR_NORM * w / np.linalg.norm(w)).astype(np.float32)


def _bowl_inputs():
    """(real, fake, centre): fakes near the bowl's centre (gradient norms about 0.4), reals far (about 2)."""
    rng = np.random.default_rng(28)
    centre = rng.uniform(-0.2, 0.2, size=BOWL_SHAPE)
    fake = centre + rng.uniform(-0.15, 0.15, size=(BOWL_BATCH, *BOWL_SHAPE))
    gap = rng.choice([-1.0, 1.0], size=fake.shape) * rng.uniform(MIN_PIXEL_GAP, 0.7, size=fake.shape)
    real = fake + gap
    return real.astype(np.float32), fake.astype(np.float32), centre.astype(np.float32)


def _error_hint(error):
    text = str(error)
    if "NoneType" in text or "(None)" in text or "None values not supported" in text:
        return ("a gradient came back None: the tape did not follow x_hat to the critic's scores. Inside "
                "`with tf.GradientTape() as tape:`, call tape.watch(x_hat) (a tape follows variables by itself, not "
                "tensors) and then the critic on x_hat; take tape.gradient(scores, x_hat) after the block.")
    if "'axis' must be None, an integer, or a tuple of 2" in text:
        return ("tf.norm takes at most two axes: sum the squares over the three axes of an image, "
                "tf.sqrt(tf.reduce_sum(tf.square(g), axis=[1, 2, 3]) + 1e-12), or reshape g to "
                "(batch size, -1) first.")
    if "Incompatible shapes" in text or "not compatible" in text or "Dimensions must be equal" in text:
        return ("shapes that do not broadcast: the weights need one entry per example and ones elsewhere, "
                "shape (batch size, 1, 1, 1), so that each multiplies all of its example's pixels; take the batch "
                "size from the images, tf.shape(real)[0] (the check uses batches of 8 and 1024).")
    if "None" in text and ("shape" in text.lower() or "Dimension" in text):
        return ("inside run_a_gan's compiled step the batch size is not known when the step is traced "
                "(real.shape[0] is None): take it from the tensor at run time, tf.shape(real)[0].")
    if ".numpy()" in text or "numpy" in text and "Tensor" in text:
        return ("the penalty runs inside run_a_gan's compiled step, where tensors have no values to read: keep to "
                "TensorFlow operations (tf.* or keras.ops.*), without .numpy() or numpy functions.")
    return None


def _call(function, critic, real, fake, weight=None, where="on the check's critic"):
    """The learner's penalty as a float, from an eager call; exceptions explained."""
    args = (critic, tf.constant(real), tf.constant(fake)) + (() if weight is None else (weight,))
    try:
        return function(*args)
    except Exception as error:
        if is_stub(error):
            raise stub_failure(CHECK, "gradient_penalty") from error
        if weight is not None and isinstance(error, TypeError) and "positional argument" in str(error):
            raise student_error(CHECK, "gradient_penalty(critic, real, fake, weight) raised", error,
                                "the function takes the penalty's weight lambda as a fourth argument, "
                                "gradient_penalty(critic, real, fake, weight=10.0).") from error
        raise student_error(CHECK, f"your gradient_penalty {where} raised", error, _error_hint(error)) from error


def _value(output, what):
    if tf.is_tensor(output) and output.dtype == tf.float32 and output.shape == () and not np.isfinite(output.numpy()):
        fail(CHECK, f"gradient_penalty {what} returned {float(output.numpy())}.",
             "a NaN or infinite penalty: is there a division by the norm, or a log? " + _FORMULA + ".")
    return float(tensor_values(CHECK, f"gradient_penalty {what}", output, ()))


def _gradient(function, critic, variable, real, fake, weight, where):
    """The penalty and its gradient with respect to one of the critic's weights (numpy), eagerly."""
    with tf.GradientTape() as tape:
        output = _call(function, critic, real, fake, weight, where)
    value = _value(output, where)
    gradient = tape.gradient(output, variable)
    if gradient is None:
        fail(CHECK, f"gradient_penalty {where} does not depend on the critic's weights: its gradient with respect to "
                    "them is None, so the penalty cannot train the critic.",
             "the penalty must stay a TensorFlow computation from the critic's gradient to the result: no numpy, no "
             ".numpy(), no tf.stop_gradient, and the inner tape's gradient taken while the caller's tape is "
             "recording (call the critic and tape.gradient inside the function, as written).")
    return value, gradient.numpy().astype(np.float64)


def _norm_mistakes(gradients, weight, eps_real=None):
    """(hint, value) of the known mistakes, from the per-example gradients (N, ...) at the points the critic saw.

    ``eps_real``: each example's weight on its real image, for the gradients taken with
    respect to real or fake instead of x_hat (the chain rule scales them by eps or 1 - eps).
    """
    n = len(gradients)
    flat = gradients.reshape(n, -1)
    norms = np.linalg.norm(flat, axis=1)
    mistakes = [
        ("the norm is taken over the whole batch at once (tf.norm(g) without an axis): each example has its own "
         "gradient norm, the square root of the sum of its squared values over axes [1, 2, 3].",
         weight * (np.sqrt(np.sum(norms**2)) - 1.0) ** 2),
        ("(norm - 1) is not squared: the penalty is " + _FORMULA + ".", weight * np.mean(norms - 1.0)),
        ("(norm - 1) is not squared (|norm - 1| instead of (norm - 1)^2): the penalty is " + _FORMULA + ".",
         weight * np.mean(np.abs(norms - 1.0))),
        ("the squared norm is used (no square root): ||g|| = tf.sqrt(sum of squares + 1e-12), and the penalty is "
         "(||g|| - 1)^2.", weight * np.mean((norms**2 - 1.0) ** 2)),
        ("a one-sided penalty, only on norms above 1: WGAN-GP's penalty is two-sided, (||g|| - 1)^2 for every "
         "example, pulling norms below 1 up as well (Gulrajani et al. found it slightly better).",
         weight * np.mean(np.maximum(norms - 1.0, 0.0) ** 2)),
        ("a sum over the batch instead of a mean: use tf.reduce_mean, so that the penalty does not grow with "
         "the batch size.", weight * np.sum((norms - 1.0) ** 2)),
        ("the norms are averaged before the square, (mean(||g||) - 1)^2: square each example's (||g_i|| - 1) "
         "first, then average.", weight * (np.mean(norms) - 1.0) ** 2),
        ("each gradient is 1/N of the critic's: tape.gradient of the mean of the scores. Take the gradient of the "
         "scores themselves (tape.gradient(scores, x_hat)), which gives each example its own gradient.",
         weight * np.mean((norms / n - 1.0) ** 2)),
        ("the weight lambda is not applied: multiply the mean by weight.", np.mean((norms - 1.0) ** 2)),
    ]
    if weight != DEFAULT_WEIGHT:
        mistakes.append((f"the weight is always 10: gradient_penalty(..., weight={weight:g}) must use the weight "
                         "it is given.", DEFAULT_WEIGHT * np.mean((norms - 1.0) ** 2)))
    if gradients.ndim == 4:
        per_pixel = np.sqrt(np.sum(gradients**2, axis=3))
        mistakes.append(("the norm is taken over the last axis only (per pixel): sum the squares over all three "
                         "axes of an image, [1, 2, 3].", weight * np.mean((per_pixel - 1.0) ** 2)))
    if gradients.ndim == 4 and gradients.shape[-1] > 1:
        per_channel = np.sqrt(np.sum(gradients**2, axis=(1, 2)))
        mistakes.append(("the norm is taken per channel (over axes [1, 2] only): sum the squares over all three "
                         "axes of an image, [1, 2, 3]. (On MNIST's single channel the two agree; on colour images "
                         "they do not.)", weight * np.mean((per_channel - 1.0) ** 2)))
    if eps_real is not None:
        mistakes += [
            ("the gradient is taken with respect to the real images, not x_hat (the chain rule scales it by eps): "
             "watch x_hat itself and take tape.gradient(scores, x_hat).",
             weight * np.mean((eps_real * norms - 1.0) ** 2)),
            ("the gradient is taken with respect to the fake images, not x_hat (the chain rule scales it by "
             "1 - eps): watch x_hat itself and take tape.gradient(scores, x_hat).",
             weight * np.mean(((1.0 - eps_real) * norms - 1.0) ** 2)),
        ]
    return mistakes


def _compare(value, gradients, weight, what, eps_real=None, other_mistakes=()):
    """Fail unless ``value`` is the penalty for the per-example ``gradients``; returns the relative error.

    ``other_mistakes``: (hint, value) of mistakes that the critic's form makes known, looked at first.
    """
    norms = np.linalg.norm(gradients.reshape(len(gradients), -1), axis=1)
    expected = weight * np.mean((norms - 1.0) ** 2)
    error = scaled_error(value, expected)
    if error > LOSS_TOLERANCE:
        hint = matching_mistake(value, [*other_mistakes, *_norm_mistakes(gradients, weight, eps_real)])
        fail(CHECK, f"gradient_penalty {what} returned {value:.6g}, expected {expected:.6g} (relative error "
                    f"{error:.1e}).", hint or f"the penalty is {_FORMULA}.")
    return error


def _interpolates(recorder, real, fake, what):
    """The points the critic saw (N, ...) float64, after checking that they are one batch between real and fake."""
    batches = recorder.batches(len(real))
    if not batches:
        count = int(recorder.seen.shape[0])
        fail(CHECK, f"gradient_penalty {what} called the critic on {count} images in all, for {len(real)} pairs of "
                    "real and fake images.",
             "call the critic once, on the batch of interpolated images x_hat (one per pair)."
             if count else "the penalty is the critic's gradient at x_hat: call critic(x_hat) inside the tape.")
    real, fake = real.astype(np.float64), fake.astype(np.float64)
    kinds = ["real" if np.allclose(b, real, atol=1e-6) else "fake" if np.allclose(b, fake, atol=1e-6) else "between"
             for b in batches]
    between = [b for b, kind in zip(batches, kinds) if kind == "between"]
    if not between:
        if len(set(kinds)) == 1:
            fail(CHECK, f"gradient_penalty {what} evaluates the critic's gradient at the {kinds[0]} images only.",
                 "the penalty is taken at points between real and fake images, where the optimal critic has "
                 "gradient norm 1: " + _DRAW + ".")
        _fail_never_between(what)
    if any(not np.array_equal(b, between[0]) for b in between[1:]):
        fail(CHECK, f"gradient_penalty {what} called the critic on {len(between)} different batches of "
                    "interpolated images.",
             "draw the weights once and call the critic once, on that batch of x_hat.")
    return between[0]


def _fail_never_between(what):
    fail(CHECK, f"gradient_penalty {what} evaluates the critic's gradient at the real and at the fake images, "
                "never between them.",
         "the penalty is taken at random points on the segments from each fake image to its real image: "
         + _DRAW + ".")


def _weights(x_hat, real, fake, what):
    """Each example's interpolation weight on its real image (N,), after checking the points lie on the segments."""
    real, fake = real.astype(np.float64), fake.astype(np.float64)
    per_pixel = ((x_hat - fake) / (real - fake)).reshape(len(x_hat), -1)
    eps = per_pixel.mean(axis=1)
    spread = np.max(np.abs(per_pixel - eps[:, None]))
    if spread > WEIGHT_TOLERANCE:
        if -WEIGHT_TOLERANCE <= per_pixel.min() and per_pixel.max() <= 1 + WEIGHT_TOLERANCE:
            fail(CHECK, f"gradient_penalty {what} mixes each pair with a different weight for every pixel.",
                 "one weight per example, the same for all of its pixels (WGAN-GP samples uniformly along the "
                 "straight line from the fake to the real image): the weights have shape (batch size, 1, 1, 1) "
                 "and broadcast over the pixels.")
        fail(CHECK, f"gradient_penalty {what} calls the critic on points that are not on the segments between "
                    "the real and the fake images.", _DRAW + ".")
    return eps


def _check_draw(eps, what):
    """The weights (N,) must be one per example, in [0, 1], not all equal, and uniform."""
    low, high = float(eps.min()), float(eps.max())
    if high - low < 1e-6:
        if abs(low - 1.0) < 1e-6:
            hint = "every x_hat is its real image (weight 1): the penalty is taken between real and fake, " + _DRAW
        elif abs(low) < 1e-6:
            hint = "every x_hat is its fake image (weight 0): the penalty is taken between real and fake, " + _DRAW
        else:
            hint = ("one weight for the whole batch: WGAN-GP draws one per example (Algorithm 1). With one for "
                    "all, every x_hat of a step sits at the same fraction of its segment: right on average over "
                    "many steps, but each step's penalty looks at a single slice between the fakes and the reals, "
                    "a much noisier estimate; " + _DRAW)
        fail(CHECK, f"gradient_penalty {what} puts every x_hat at the same place on its segment "
                    f"(weight {low:.4g} on the real image).", hint + ".")
    if np.all(np.minimum(np.abs(eps), np.abs(eps - 1.0)) < 1e-6):
        _fail_never_between(what)
    if low < -1e-6 or high > 1.0 + 1e-6:
        outside = float(np.mean((eps < 0.0) | (eps > 1.0)))
        if low >= -1.0 - 1e-6 and high <= 1.0 + 1e-6:
            hint = ("these look uniform in [-1, 1], like sample_noise's: the weights are uniform in [0, 1], "
                    "tf.random.uniform's default range.")
        elif outside > 0.3 and high > 1.5:
            hint = ("these look Gaussian (tf.random.normal): the weights are uniform in [0, 1] "
                    "(tf.random.uniform), so that every x_hat lies between its fake and its real image.")
        else:
            hint = "the weights are uniform in [0, 1] (tf.random.uniform)."
        fail(CHECK, f"gradient_penalty {what} drew interpolation weights from {low:.3g} to {high:.3g} "
                    f"({outside:.0%} of them outside [0, 1]).", hint)
    ordered = np.sort(eps)
    n = len(ordered)
    distance = max(np.max(np.arange(1, n + 1) / n - ordered), np.max(ordered - np.arange(n) / n))
    if distance > UNIFORM_TOLERANCE:
        fail(CHECK, f"gradient_penalty {what} drew interpolation weights that are not uniform in [0, 1]: their "
                    f"distribution is {distance:.2f} from the uniform one (mean {eps.mean():.3f}, expected 0.5).",
             "draw them with tf.random.uniform, whose default range is [0, 1], unchanged.")


def _linear_stage(gradient_penalty):
    """Linear critic, MNIST shapes: an exact value whatever the draw, with the default and another weight."""
    real, fake, w = _linear_inputs()
    recorder = _Recorder(LINEAR_SHAPE)
    critic = _LinearCritic(w, 0.3, recorder)
    gradients = np.broadcast_to(w.astype(np.float64), (LINEAR_BATCH, *LINEAR_SHAPE))
    worst = 0.0
    for weight in (None, OTHER_WEIGHT):
        value_weight = DEFAULT_WEIGHT if weight is None else weight
        where = (f"for a linear critic D(x) = <w, x> + b (gradient w everywhere, ||w|| = {LINEAR_NORM:g})"
                 + ("" if weight is None else f", weight={weight:g}"))
        recorder.reset()
        value, gradient = _gradient(gradient_penalty, critic, critic.kernel, real, fake, weight, where)
        x_hat = _interpolates(recorder, real, fake, where)
        gap = (real - fake).astype(np.float64).reshape(LINEAR_BATCH, -1)
        eps = np.sum((x_hat.reshape(LINEAR_BATCH, -1) - fake.reshape(LINEAR_BATCH, -1)) * gap, axis=1) / np.sum(
            gap**2, axis=1)
        outside_training = (_NOT_TRAINING, value_weight * (INFERENCE_SCALE * LINEAR_NORM - 1.0) ** 2)
        worst = max(worst, _compare(value, gradients, value_weight, where, eps_real=eps,
                                    other_mistakes=[outside_training]))
        expected = 2.0 * value_weight * (LINEAR_NORM - 1.0) * w / LINEAR_NORM
        if scaled_error(gradient, expected) > GRADIENT_TOLERANCE:
            fail(CHECK, f"the gradient of your penalty {where} with respect to w is wrong, although the value is "
                        "right.", _ALL_THE_WAY)
    return worst


def _bowl_stage(gradient_penalty):
    """Bowl critic: the draw read back, the value and the weight's gradient for that draw; eager, then compiled."""
    real, fake, centre = _bowl_inputs()
    recorder = _Recorder(BOWL_SHAPE)
    critic = _BowlCritic(BOWL_SCALE, centre, recorder)
    where = (f"for a critic D(x) = a/2 ||x - c||^2 (gradient a (x - c)) on a batch of {BOWL_BATCH} images of shape "
             f"{BOWL_SHAPE}")
    recorder.reset()
    value, gradient = _gradient(gradient_penalty, critic, critic.scale, real, fake, DEFAULT_WEIGHT, where)
    worst = _check_bowl_call(recorder, real, fake, centre, value, DEFAULT_WEIGHT, where)[0]
    x_hat = _interpolates(recorder, real, fake, where)
    distances = np.linalg.norm((x_hat - centre).reshape(BOWL_BATCH, -1), axis=1)
    expected = DEFAULT_WEIGHT * np.mean(2.0 * (BOWL_SCALE * distances - 1.0) * distances)
    if scaled_error(gradient, expected) > GRADIENT_TOLERANCE:
        fail(CHECK, f"the gradient of your penalty {where} with respect to a is {float(gradient):.6g}, expected "
                    f"{expected:.6g}, although the value is right.", _ALL_THE_WAY)

    spec = tf.TensorSpec((None, *BOWL_SHAPE), tf.float32)
    compiled = tf.function(lambda r, f: gradient_penalty(critic, r, f, OTHER_WEIGHT), input_signature=[spec, spec])
    where = where + f", weight={OTHER_WEIGHT:g}, inside a tf.function as in run_a_gan's compiled step"
    draws = []
    for _ in range(2):
        recorder.reset()
        try:
            output = compiled(tf.constant(real), tf.constant(fake))
        except Exception as error:
            raise student_error(CHECK, f"your gradient_penalty {where} raised", error, _error_hint(error)) from error
        error, eps = _check_bowl_call(recorder, real, fake, centre, _value(output, where), OTHER_WEIGHT, where)
        worst = max(worst, error)
        draws.append(eps)
    if np.allclose(draws[0], draws[1]):
        fail(CHECK, f"gradient_penalty {where} drew the same interpolation weights at both calls.",
             "the weights must be new at every training step. numpy's random numbers are drawn once, when the "
             "step is traced, and a stateless op with a fixed seed repeats itself: draw them with "
             "tf.random.uniform.")
    return worst


def _check_bowl_call(recorder, real, fake, centre, value, weight, where):
    x_hat = _interpolates(recorder, real, fake, where)
    eps = _weights(x_hat, real, fake, where)
    _check_draw(eps, where)
    gradients = BOWL_SCALE * (x_hat - centre.astype(np.float64))
    return _compare(value, gradients, weight, where, eps_real=eps), eps


def _flat_stage(gradient_penalty):
    """A critic with zero gradient everywhere: the penalty's gradient must be finite (epsilon)."""
    real, fake, w = _linear_inputs()
    recorder = _Recorder(LINEAR_SHAPE)
    critic = _LinearCritic(np.zeros_like(w), 0.7, recorder)
    where = "for a flat critic (D(x) = b, gradient 0 everywhere)"
    with tf.GradientTape() as tape:
        output = _call(gradient_penalty, critic, real, fake, where=where)
    if tf.is_tensor(output) and output.shape == () and not np.isfinite(float(output)):
        fail(CHECK, f"gradient_penalty {where} returned {float(output)}.", _EPSILON)
    value = _value(output, where)
    gradient = tape.gradient(output, critic.kernel)
    if gradient is not None and not np.all(np.isfinite(gradient.numpy())):
        fail(CHECK, f"the gradient of your penalty {where} with respect to the critic's weights is NaN.", _EPSILON)
    error = scaled_error(value, DEFAULT_WEIGHT)
    if error > FLAT_TOLERANCE:
        fail(CHECK, f"gradient_penalty {where} returned {value:.6g}, expected {DEFAULT_WEIGHT:g} "
                    "(weight * (0 - 1)^2).", "a large epsilon? 1e-12 under the square root is enough.")
    return error


def test_gradient_penalty(gradient_penalty):
    """Check ``gradient_penalty(critic, real, fake, weight=10.0)``, WGAN-GP's penalty on the critic's gradient.

    Runs it on critics whose gradient is known in closed form (a linear one on MNIST-shaped
    batches, a bowl-shaped one on 1024 small colour images, a flat one), eagerly and
    inside a ``tf.function``, reads the interpolation weights back from the images the
    critic saw, and compares the value and its gradient with what they must be for that
    draw. See the module's docstring for why the verdict does not depend on the draw.
    """
    error = _linear_stage(gradient_penalty)
    error = max(error, _bowl_stage(gradient_penalty))
    _flat_stage(gradient_penalty)
    passed(CHECK, error)
