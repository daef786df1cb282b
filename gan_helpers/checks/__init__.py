"""Checks a student runs on their own code, with hints when it is wrong.

Each ``test_*`` function takes the student's function, runs it on fixed inputs
and compares with the expected values the package ships
(``gan_helpers/reference/checks.npz``, see :mod:`gan_helpers.checks.values` for
how to regenerate them). A pass prints one line with the largest relative error.
A failure raises ``AssertionError`` saying what is wrong and, where the wrong
value matches a known mistake, what the mistake probably is.

Tolerances are loose enough for float32 on any CPU or GPU and tight enough that
every known mistake is far outside them.
"""

import functools
import inspect
import re

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from gan_helpers.checks import values as check_values
from gan_helpers.models import NOISE_DIM

# Pass thresholds on the (floored) relative error. Float32 rounding reaches about
# 1e-4 on model outputs and 1e-6 on losses; the nearest known mistake is at least
# 2e-2 away (tests/test_checks.py checks both margins).
ELEMENTWISE_TOLERANCE = 1e-5
MODEL_TOLERANCE = 1e-3
LOSS_TOLERANCE = 1e-4
# A wrong answer is attributed to a known mistake when it matches that mistake this closely.
MISTAKE_MATCH_TOLERANCE = 1e-3

_STUB_HINT = (
    "not implemented yet: fill in the exercise cell (between ### BEGIN SOLUTION and "
    "### END SOLUTION, or where it says # YOUR CODE HERE, deleting the "
    "`raise NotImplementedError` line), run that cell, then run this check again."
)


def rel_error(x, y, floor=1e-8):
    """Largest elementwise relative error ``|x - y| / max(floor, |x| + |y|)``.

    ``floor`` keeps entries where both values are close to 0 from dominating:
    the checks pass 1% of the largest expected magnitude, so that float32
    rounding on a value near 0 does not count as a large relative error.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(floor, np.abs(x) + np.abs(y))))


def _scaled_error(actual, expected):
    """rel_error with a floor of 1% of the largest expected magnitude."""
    scale = float(np.max(np.abs(expected))) if np.size(expected) else 0.0
    return rel_error(actual, expected, floor=max(1e-8, 0.01 * scale))


@functools.lru_cache(maxsize=1)
def _expected_cached():
    return check_values.load_expected()


def _expected():
    return _expected_cached()


def _fail(check, problem, hint=None):
    message = f"{check} failed: {problem}"
    if hint:
        message += f"\nHint: {hint}"
    raise AssertionError(message)


def _passed(check, error, what="max relative error"):
    print(f"{check} passed ({what} {error:.1e})")


def _call_student(check, name, function, *args, **kwargs):
    """Call the student's function; turn any exception into a clear AssertionError."""
    try:
        return function(*args, **kwargs)
    except NotImplementedError as error:
        raise AssertionError(f"{check} failed: {name} is {_STUB_HINT}") from error
    except Exception as error:
        raise AssertionError(
            f"{check} failed: your {name} raised {type(error).__name__}: {_plain(error)}\n"
            "(the traceback above this message shows where, in your code)"
        ) from error


def _plain(error):
    """An exception's message without the terminal colour codes Keras puts in."""
    return re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip()


def _accepts(function, parameter):
    try:
        return parameter in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


def _tensor_values(check, name, output, shape=None):
    """Check that ``output`` is a float32 tf tensor of ``shape``; return it as numpy."""
    if output is None:
        _fail(check, f"{name} returned None.", "did you forget the `return` statement?")
    if isinstance(output, (np.ndarray, np.generic, float, int)):
        _fail(
            check,
            f"{name} returned a {type(output).__name__} instead of a TensorFlow tensor.",
            "compute it with TensorFlow operations (tf.* or keras.ops.*), not numpy, "
            "so that it runs inside a compiled train step and gradients flow through it.",
        )
    if not tf.is_tensor(output):
        _fail(check, f"{name} returned a {type(output).__name__}, expected a tf.Tensor.")
    if output.dtype != tf.float32:
        _fail(
            check,
            f"{name} returned dtype {output.dtype.name}, expected float32.",
            "a float64 constant or numpy value mixed in? Keep everything float32 "
            "(e.g. tf.constant(..., dtype=tf.float32) or tf.cast(x, tf.float32)).",
        )
    if shape is not None and tuple(output.shape) != tuple(shape):
        _fail(check, f"{name} returned shape {tuple(output.shape)}, expected {tuple(shape)}.", _shape_hint(shape, tuple(output.shape)))
    values = np.asarray(output)
    if not np.all(np.isfinite(values)):
        _fail(check, f"{name} returned values that are not finite (nan or inf).")
    return values


def _shape_hint(expected, actual):
    if expected == () and len(actual) >= 1 and max(actual, default=1) > 1:
        return "that is one value per example: take the mean over the batch (tf.reduce_mean) to return a scalar."
    if expected == ():
        return "a loss is a scalar (shape ()): reduce with tf.reduce_mean, which returns shape () without keepdims."
    if tuple(reversed(expected)) == tuple(actual):
        return "the two dimensions are swapped: the shape is (batch_size, dim)."
    return None


def _matching_mistake(actual, mistakes):
    """The hint of the first known mistake whose value matches ``actual``, else None."""
    for hint, value in mistakes:
        value = np.asarray(value, dtype=np.float64)
        if value.shape == np.shape(actual) and np.all(np.isfinite(value)):
            if _scaled_error(actual, value) < MISTAKE_MATCH_TOLERANCE:
                return hint
    return None


# ---------------------------------------------------------------------------
# Leaky ReLU and noise
# ---------------------------------------------------------------------------


def test_leaky_relu(leaky_relu):
    """Check ``leaky_relu(x, alpha=0.01)``: x where x > 0, alpha * x elsewhere."""
    check = "test_leaky_relu"
    expected = _expected()
    x = expected["leaky_relu_x"]
    output = _call_student(check, "leaky_relu", leaky_relu, tf.constant(x))
    values = _tensor_values(check, "leaky_relu", output, x.shape)
    error = _scaled_error(values, expected["leaky_relu_out"])
    if error > ELEMENTWISE_TOLERANCE:
        _fail(check, f"wrong values (max relative error {error:.1e}).", _leaky_relu_hint(x, values, 0.01))

    if _accepts(leaky_relu, "alpha"):
        output = _call_student(check, "leaky_relu", leaky_relu, tf.constant(x), alpha=0.2)
        values = _tensor_values(check, "leaky_relu(x, alpha=0.2)", output, x.shape)
        alpha_error = _scaled_error(values, expected["leaky_relu_out_alpha_0.2"])
        if alpha_error > ELEMENTWISE_TOLERANCE:
            _fail(
                check,
                f"leaky_relu(x, alpha=0.2) gives wrong values (max relative error {alpha_error:.1e}).",
                _leaky_relu_hint(x, values, 0.2),
            )
        error = max(error, alpha_error)
    _passed(check, error)


def _leaky_relu_hint(x, values, alpha):
    positive, negative = x > 0, x < 0
    if not np.allclose(values[positive], x[positive], rtol=1e-5):
        if np.allclose(values[positive], alpha * x[positive], rtol=1e-5):
            return "positive inputs are multiplied by alpha too: they must pass through unchanged (max(x, alpha * x))."
        return "positive inputs must pass through unchanged."
    slope = float(np.median(values[negative] / x[negative]))
    if abs(slope) < 1e-6:
        return "negative inputs give 0: this is ReLU, not leaky ReLU. Multiply negative inputs by alpha."
    if abs(slope - alpha) > 1e-4 * abs(alpha):
        if abs(slope + 1) < 1e-4:
            return "negative inputs come out positive: this is abs(x), not leaky ReLU. Use max(x, alpha * x)."
        if abs(slope - 1) < 1e-4:
            return "negative inputs come out unchanged: the function returns x as it is."
        if abs(slope - 0.3) < 1e-4:
            return f"slope 0.3 for negative inputs: Keras's LeakyReLU default; the course uses alpha (here {alpha:g})."
        if abs(slope - 0.2) < 1e-4:
            return (
                f"slope 0.2 for negative inputs: the default of tf.nn.leaky_relu and keras.ops.leaky_relu; "
                f"pass alpha (here {alpha:g}) on."
            )
        if abs(slope - 0.01) < 1e-6:
            return "slope 0.01 although alpha was 0.2: the function ignores its alpha argument."
        return f"negative inputs are multiplied by {slope:.3g}, expected alpha = {alpha:g}."
    return "values differ from max(x, alpha * x) in some entries."


NOISE_BATCH, NOISE_DIM_CHECKED = 1024, 96
_UNIFORM_STD = 1.0 / np.sqrt(3.0)


def test_sample_noise(sample_noise):
    """Check ``sample_noise(batch_size, dim)``: uniform noise in [-1, 1], float32, new every call."""
    check = "test_sample_noise"
    shape = (NOISE_BATCH, NOISE_DIM_CHECKED)
    output = _call_student(check, "sample_noise", sample_noise, *shape)
    values = _tensor_values(check, "sample_noise", output, shape)
    _check_uniform(check, values)
    statistics_error = _uniform_statistics_error(values)

    again = _tensor_values(check, "sample_noise", _call_student(check, "sample_noise", sample_noise, *shape), shape)
    if np.array_equal(values, again):
        _fail(
            check,
            "two calls returned the same noise.",
            "each call must draw new noise: is a fixed seed set inside the function "
            "(tf.random.set_seed or a stateless op with a constant seed)?",
        )
    if _accepts(sample_noise, "seed"):
        _check_seed(check, sample_noise)
    _passed(check, statistics_error, "max relative error of the mean, spread and histogram")


def _check_uniform(check, values):
    low, high = float(values.min()), float(values.max())
    std = float(values.std())
    if low < -1.0 or high > 1.0:
        if abs(std - 1.0) < 0.05:
            hint = "this looks like Gaussian noise (tf.random.normal): the course samples uniformly, tf.random.uniform(minval=-1, maxval=1)."
        else:
            hint = "the noise must lie in [-1, 1]: tf.random.uniform(shape, minval=-1, maxval=1)."
        _fail(check, f"values outside [-1, 1] (min {low:.3f}, max {high:.3f}).", hint)
    if low >= 0.0:
        _fail(
            check,
            f"no negative values (min {low:.3f}, max {high:.3f}).",
            "this looks like uniform noise on [0, 1), tf.random.uniform's default range: "
            "pass minval=-1 and maxval=1 (or use 2 * u - 1).",
        )
    if low > -0.9 or high < 0.9:
        _fail(check, f"values span only [{low:.3f}, {high:.3f}], expected all of [-1, 1].", "use minval=-1, maxval=1.")
    mean = float(values.mean())
    if abs(mean) > 0.02:
        _fail(check, f"mean {mean:.3f}, expected about 0.", "uniform noise on [-1, 1] is centred at 0.")
    histogram = _histogram(values)
    if abs(std - _UNIFORM_STD) > 0.02 or np.max(np.abs(histogram - 0.1)) > 0.015:
        fractions = ", ".join(f"{f:.2f}" for f in histogram)
        _fail(
            check,
            f"values are not spread evenly over [-1, 1]: std {std:.3f} (expected {_UNIFORM_STD:.3f}), "
            f"fraction in each tenth of [-1, 1]: {fractions} (expected 0.10 each).",
            "sample uniformly (tf.random.uniform), not from a normal distribution clipped or squashed into [-1, 1].",
        )


def _histogram(values):
    counts, _ = np.histogram(values, bins=10, range=(-1.0, 1.0))
    return counts / values.size


def _uniform_statistics_error(values):
    errors = [abs(values.std() - _UNIFORM_STD) / _UNIFORM_STD, abs(values.mean()) / _UNIFORM_STD]
    errors.extend(np.abs(_histogram(values) - 0.1) / 0.1)
    return float(max(errors))


def _check_seed(check, sample_noise):
    def draw(seed):
        output = _call_student(check, "sample_noise", sample_noise, 16, 8, seed=seed)
        return _tensor_values(check, f"sample_noise(16, 8, seed={seed})", output, (16, 8))

    if not np.array_equal(draw(0), draw(0)):
        _fail(check, "the same seed gave different noise.", "use a stateless op, e.g. tf.random.stateless_uniform(shape, seed=(seed, 0), ...).")
    if np.array_equal(draw(0), draw(1)):
        _fail(check, "seeds 0 and 1 gave the same noise.", "the seed argument seems to be ignored.")


# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------


def _leaky(slope):
    return lambda z: np.where(z > 0, z, slope * z)


# name -> numpy function, for explaining which activation a model seems to use
_ACTIVATIONS = {
    "leaky ReLU (slope 0.01)": _leaky(0.01),
    "leaky ReLU with slope 0.3": _leaky(0.3),
    "leaky ReLU with slope 0.2": _leaky(0.2),
    "ReLU": _leaky(0.0),
    "no activation": lambda z: z,
    "tanh": np.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
}


def _build_model(check, name, builder, *args):
    if isinstance(builder, keras.Model):
        _fail(
            check,
            "got a model, expected the function that builds it.",
            f"pass the function itself: {check}({name}), not {check}({name}()).",
        )
    model = _call_student(check, f"{name}()", builder, *args)
    if model is None:
        _fail(check, f"{name}() returned None.", "did you forget `return model`?")
    if not isinstance(model, keras.Model):
        _fail(check, f"{name}() returned a {type(model).__name__}, expected a keras.Model.", "return keras.Sequential([...]) or keras.Model(inputs, outputs).")
    return model


def _run_model(check, name, model, x):
    try:
        return model(tf.constant(x), training=False)
    except Exception as error:
        raise AssertionError(
            f"{check} failed: calling your {name} on a batch of shape {x.shape} raised "
            f"{type(error).__name__}: {_plain(error)}\nHint: it should take inputs of shape (batch, {x.shape[1]})."
        ) from error


def describe_layers(model):
    """A one-line summary of a model's layers, e.g. 'Dense(256) -> LeakyReLU(0.3) -> Dense(1)'."""
    return " -> ".join(_describe_layer(layer) for layer in model.layers) or "(no layers)"


def _describe_layer(layer):
    kind = type(layer).__name__
    if isinstance(layer, layers.Dense):
        activation = getattr(layer.activation, "__name__", str(layer.activation))
        return f"Dense({layer.units})" if activation == "linear" else f"Dense({layer.units}, {activation})"
    if hasattr(layer, "negative_slope"):
        return f"{kind}({float(layer.negative_slope):g})"
    if kind == "Activation":
        return f"Activation({getattr(layer.activation, '__name__', layer.activation)})"
    return kind


def _chain(kernel_shapes):
    if not kernel_shapes:
        return "(no Dense layers)"
    return " -> ".join([str(kernel_shapes[0][0])] + [str(shape[1]) for shape in kernel_shapes])


def _check_structure(check, name, model, expected_shapes, expected_params):
    shapes = [tuple(weight.shape) for weight in model.weights]
    if shapes == [tuple(s) for s in expected_shapes] and model.count_params() == expected_params:
        return
    kernels = [s for s in shapes if len(s) == 2]
    expected_kernels = [tuple(s) for s in expected_shapes if len(s) == 2]
    problems = [f"{model.count_params():,} parameters, expected {expected_params:,}."]
    hints = []
    if len(kernels) < len(expected_kernels):
        hints.append(f"missing a layer: your Dense layers go {_chain(kernels)}, expected {_chain(expected_kernels)}.")
    elif len(kernels) > len(expected_kernels):
        hints.append(f"a layer too many: your Dense layers go {_chain(kernels)}, expected {_chain(expected_kernels)}.")
    else:
        for index, (kernel, expected) in enumerate(zip(kernels, expected_kernels), start=1):
            if kernel[0] != expected[0] and index == 1:
                hints.append(f"the first layer takes inputs of size {kernel[0]}, expected {expected[0]}.")
            if kernel[1] != expected[1]:
                hints.append(f"wrong width: Dense layer {index} has {kernel[1]} units, expected {expected[1]}.")
    vectors = [s for s in shapes if len(s) == 1]
    if len(vectors) < len(kernels):
        hints.append("some Dense layers have no bias (use_bias=False?): keep the biases.")
    extra = [type(layer).__name__ for layer in model.layers if layer.weights and not isinstance(layer, layers.Dense)]
    if extra or len(vectors) > len(kernels) or any(len(s) > 2 for s in shapes):
        hints.append(f"layers with weights other than Dense ({', '.join(extra) or 'unknown'}): the MLP {name} has only Dense layers.")
    hints.append(f"your model's layers: {describe_layers(model)}.")
    _fail(check, f"your {name} has the wrong structure: " + " ".join(problems), " ".join(hints))


def _forward_candidates(weights, x, activation_slots):
    """Outputs of a dense stack under every combination of candidate activations.

    Yields (list of activation names, output) in float64, for explaining which
    activations a student's model computed.
    """
    kernels, biases = weights[0::2], weights[1::2]

    def walk(layer, h, names):
        z = h @ kernels[layer].astype(np.float64) + biases[layer]
        for name in activation_slots[layer]:
            out = _ACTIVATIONS[name](z)
            if layer + 1 == len(kernels):
                yield names + [name], out
            else:
                yield from walk(layer + 1, out, names + [name])

    yield from walk(0, x.astype(np.float64), [])


def _activation_hint(found, correct, position_names, special):
    phrases = []
    for position, (got, want) in enumerate(zip(found, correct)):
        if got == want:
            continue
        where = position_names[position]
        phrase = special.get((got, want)) or f"{got} {where}, expected {want}"
        phrases.append(phrase.format(where=where))
    return "; ".join(phrases) + "."


_HIDDEN_SLOTS_D = ["leaky ReLU (slope 0.01)", "leaky ReLU with slope 0.3", "leaky ReLU with slope 0.2", "ReLU", "no activation", "tanh", "sigmoid"]
_MODEL_HINTS = {
    ("leaky ReLU with slope 0.3", "leaky ReLU (slope 0.01)"): "slope 0.3 {where}: Keras's LeakyReLU default, the course uses 0.01 (layers.LeakyReLU(negative_slope=0.01))",
    ("leaky ReLU with slope 0.2", "leaky ReLU (slope 0.01)"): "slope 0.2 {where}: the default of keras.activations.leaky_relu, the course uses 0.01",
    ("ReLU", "leaky ReLU (slope 0.01)"): "plain ReLU {where}: the discriminator uses leaky ReLU with slope 0.01",
    ("no activation", "leaky ReLU (slope 0.01)"): "missing activation {where}: add the leaky ReLU (slope 0.01)",
    ("no activation", "ReLU"): "missing activation {where}: add the ReLU",
    ("sigmoid", "no activation"): "a sigmoid {where}: the discriminator returns logits, the loss applies the sigmoid (stably)",
    ("no activation", "tanh"): "no tanh {where}: outputs fall outside [-1, 1], forgot tanh",
    ("sigmoid", "tanh"): "a sigmoid {where} gives values in (0, 1): images are in [-1, 1], use tanh",
    ("ReLU", "tanh"): "ReLU {where} gives no negative values: images are in [-1, 1], use tanh",
}


def _value_hint(weights, x, values, correct, slots, position_names):
    for found, output in _forward_candidates(weights, x, slots):
        if found != correct and _scaled_error(values, output) < MISTAKE_MATCH_TOLERANCE:
            return "wrong activation: " + _activation_hint(found, correct, position_names, _MODEL_HINTS)
    return None


def _check_model_values(check, name, model, shapes, x, expected, correct, slots, position_names, extra_hint=None):
    weights = check_values.fixed_weights(shapes, int(_expected()["weights_seed"]))
    with check_values.full_float32_matmuls():
        model.set_weights(weights)
        output = _run_model(check, name, model, x)
    values = _tensor_values(check, name, output, expected.shape)
    error = _scaled_error(values, expected)
    if error > MODEL_TOLERANCE:
        hint = _value_hint(weights, x, values, correct, slots, position_names)
        if hint is None and extra_hint is not None:
            hint = extra_hint(values)
        _fail(
            check,
            f"with fixed weights, your {name}'s outputs differ from the expected ones (max relative error {error:.1e}).",
            (hint or "the layer sizes are right, so check the activations and the order of the layers.")
            + f" Your model's layers: {describe_layers(model)}.",
        )
    return error


def test_discriminator(discriminator):
    """Check the MLP discriminator builder: structure, parameters, and outputs with fixed weights."""
    check = "test_discriminator"
    expected = _expected()
    shapes = check_values.DISCRIMINATOR_SHAPES
    x = expected["discriminator_x"]
    model = _build_model(check, "discriminator", discriminator)
    output = _run_model(check, "discriminator", model, x)
    _check_structure(check, "discriminator", model, shapes, _count(shapes))
    _tensor_values(check, "discriminator", output, (len(x), 1))
    error = _check_model_values(
        check, "discriminator", model, shapes, x, expected["discriminator_out"],
        correct=["leaky ReLU (slope 0.01)", "leaky ReLU (slope 0.01)", "no activation"],
        slots=[_HIDDEN_SLOTS_D, _HIDDEN_SLOTS_D, ["no activation", "sigmoid", "leaky ReLU (slope 0.01)", "leaky ReLU with slope 0.3", "ReLU", "tanh"]],
        position_names=["after the first Dense layer", "after the second Dense layer", "on the output"],
    )
    _passed(check, error)


def _generator_range_hint(values):
    if np.max(np.abs(values)) > 1.0:
        return "output outside [-1, 1]: forgot the tanh on the last layer?"
    return None


def test_generator(generator):
    """Check the MLP generator builder: structure, parameters, outputs with fixed weights, noise_dim."""
    check = "test_generator"
    expected = _expected()
    shapes = check_values.generator_shapes(NOISE_DIM)
    z = expected["generator_z"]
    model = _build_model(check, "generator", generator, NOISE_DIM)
    output = _run_model(check, "generator", model, z)
    _check_structure(check, "generator", model, shapes, _count(shapes))
    _tensor_values(check, "generator", output, (len(z), 784))
    hidden = ["ReLU", "leaky ReLU (slope 0.01)", "leaky ReLU with slope 0.3", "no activation", "tanh", "sigmoid"]
    error = _check_model_values(
        check, "generator", model, shapes, z, expected["generator_out"],
        correct=["ReLU", "ReLU", "tanh"],
        slots=[hidden, hidden, ["tanh", "no activation", "sigmoid", "ReLU"]],
        position_names=["after the first Dense layer", "after the second Dense layer", "on the output"],
        extra_hint=_generator_range_hint,
    )
    _check_noise_dim(check, generator)
    _passed(check, error)


def _check_noise_dim(check, generator):
    """The builder must use its noise_dim argument as the input size."""
    small = 8
    model = _build_model(check, "generator", generator, small)
    if not model.weights:  # built on first call (no keras.Input)
        _run_model(check, f"generator({small})", model, np.zeros((2, small), np.float32))
    first_kernel = next((tuple(w.shape) for w in model.weights if len(w.shape) == 2), None)
    if first_kernel != (small, 1024):
        _fail(
            check,
            f"generator({small}) has a first layer of shape {first_kernel}, expected ({small}, 1024).",
            "use noise_dim as the input size (keras.Input(shape=(noise_dim,))).",
        )
    output = _run_model(check, f"generator({small})", model, np.zeros((2, small), np.float32))
    _tensor_values(check, f"generator({small})", output, (2, 784))


def _count(shapes):
    return int(sum(np.prod(shape) for shape in shapes))


# ---------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------


def _softplus(x):
    return np.logaddexp(0.0, x)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _bce_mean(logits, label):
    """Mean cross-entropy of sigmoid(logits) against a constant label, float64."""
    return np.mean(_softplus(-logits) if label == 1 else _softplus(logits))


def _bce_from_probabilities(p, label, epsilon=1e-7):
    """Keras's BinaryCrossentropy without from_logits: clips the 'probabilities' (in float32, as Keras does)."""
    one, epsilon = np.float32(1.0), np.float32(epsilon)
    p = np.clip(np.asarray(p, np.float32), epsilon, one - epsilon)
    return np.mean(-np.log(p) if label == 1 else -np.log(one - p), dtype=np.float64)


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
    ]


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
    ]


def _ls_g_mistakes(fake):
    correct = 0.5 * np.mean((fake - 1) ** 2)
    return [
        ("the 1/2 factor is missing: 1/2 E[(D(G(z)) - 1)^2].", 2 * correct),
        ("the target looks swapped: the generator pulls D's scores on its samples to 1, not 0.",
         0.5 * np.mean(fake**2)),
        ("looks like a sum over the batch instead of a mean: use tf.reduce_mean.", 0.5 * np.sum((fake - 1) ** 2)),
        ("looks like a sum instead of a mean, and the 1/2 factor is missing.", np.sum((fake - 1) ** 2)),
        ("a sigmoid is applied to the scores: the least-squares loss works on D's raw outputs.",
         0.5 * np.mean((_sigmoid(fake) - 1) ** 2)),
        ("the differences are not squared.", 0.5 * np.mean(fake - 1)),
        ("absolute values instead of squares.", 0.5 * np.mean(np.abs(fake - 1))),
    ]


def _check_loss(check, name, loss, inputs, expected, mistakes):
    """Run ``loss(*inputs)``; compare with ``expected``; return the relative error."""
    tensors = [tf.constant(x) for x in inputs]
    value = _tensor_values(check, name, _call_student(check, name, loss, *tensors), ())
    error = _scaled_error(value, expected)
    if error > LOSS_TOLERANCE:
        arguments = [np.asarray(x, np.float64) for x in inputs]
        hint = _matching_mistake(value, [(h, v) for h, v in mistakes(*arguments)])
        _fail(check, f"{name} returned {float(value):.6g}, expected {float(expected):.6g} (relative error {error:.1e}).", hint)

    flat = [tf.constant(x[:, 0]) for x in inputs]
    flat_value = _tensor_values(check, f"{name} on inputs of shape (N,)", _call_student(check, name, loss, *flat), ())
    flat_error = _scaled_error(flat_value, expected)
    if flat_error > LOSS_TOLERANCE:
        _fail(
            check,
            f"{name} gives {float(flat_value):.6g} on inputs of shape (N,) but {float(value):.6g} on shape (N, 1).",
            "broadcasting between shapes (N,) and (N, 1) makes an (N, N) matrix: build targets with tf.ones_like(x) / tf.zeros_like(x).",
        )
    return max(error, flat_error)


def _check_extreme_logits(check, name, loss, inputs, expected):
    tensors = [tf.constant(x) for x in inputs]
    output = _call_student(check, name, loss, *tensors)
    if tf.is_tensor(output) and not np.all(np.isfinite(np.asarray(output))):
        _fail(
            check,
            f"{name} is not finite for large logits (+/-100, +/-200): {float(np.asarray(output)):.6g}.",
            "log(sigmoid(x)) underflows to log(0): compute the loss from the logits with "
            "tf.nn.sigmoid_cross_entropy_with_logits (or BinaryCrossentropy(from_logits=True)).",
        )
    value = _tensor_values(check, name, output, ())
    error = _scaled_error(value, expected)
    if error > LOSS_TOLERANCE:
        _fail(
            check,
            f"for large logits (+/-100, +/-200) {name} returns {float(value):.6g}, expected {float(expected):.6g}.",
            "clipping probabilities or computing log(sigmoid(x)) loses accuracy for large logits: compute the "
            "loss from the logits with tf.nn.sigmoid_cross_entropy_with_logits.",
        )
    return error


def test_discriminator_loss(discriminator_loss):
    """Check ``discriminator_loss(logits_real, logits_fake)`` against stored values, large logits included."""
    check = "test_discriminator_loss"
    expected = _expected()
    error = _check_loss(
        check, "discriminator_loss", discriminator_loss,
        [expected["logits_real"], expected["logits_fake"]], expected["d_loss"], _d_loss_mistakes,
    )
    extreme_error = _check_extreme_logits(
        check, "discriminator_loss", discriminator_loss,
        [expected["logits_real_extreme"], expected["logits_fake_extreme"]], expected["d_loss_extreme"],
    )
    _passed(check, max(error, extreme_error))


def test_generator_loss(generator_loss):
    """Check ``generator_loss(logits_fake)`` (non-saturating) against stored values, large logits included."""
    check = "test_generator_loss"
    expected = _expected()
    error = _check_loss(check, "generator_loss", generator_loss, [expected["logits_fake"]], expected["g_loss"], _g_loss_mistakes)
    extreme_error = _check_extreme_logits(
        check, "generator_loss", generator_loss, [expected["logits_fake_extreme"]], expected["g_loss_extreme"]
    )
    _passed(check, max(error, extreme_error))


def test_lsgan_loss(ls_discriminator_loss, ls_generator_loss):
    """Check both least-squares GAN losses against stored values."""
    check = "test_lsgan_loss"
    expected = _expected()
    d_error = _check_loss(
        check, "ls_discriminator_loss", ls_discriminator_loss,
        [expected["scores_real"], expected["scores_fake"]], expected["ls_d_loss"], _ls_d_mistakes,
    )
    g_error = _check_loss(
        check, "ls_generator_loss", ls_generator_loss, [expected["scores_fake"]], expected["ls_g_loss"], _ls_g_mistakes
    )
    _passed(check, max(d_error, g_error))


# ---------------------------------------------------------------------------
# Exploring a generator (notebook 09): interpolation and nearest neighbours
# ---------------------------------------------------------------------------


def _array_values(check, name, output):
    """A student's numpy array or tensor as a finite float64 numpy array."""
    if output is None:
        _fail(check, f"{name} returned None.", "did you forget the `return` statement?")
    try:
        values = np.asarray(output, dtype=np.float64)
    except (TypeError, ValueError):
        _fail(check, f"{name} returned a {type(output).__name__}, expected an array of numbers (numpy or a tensor).")
    if not np.all(np.isfinite(values)):
        _fail(check, f"{name} returned values that are not finite (nan or inf).")
    return values


def _interpolate_mistakes(z0, z1, steps):
    t = np.arange(steps)[:, None]
    return [
        ("the last vector must be z1 itself: t runs from 0 to 1 with both ends included, "
         "t = i / (steps - 1), as np.linspace(0, 1, steps) gives.", z0 + t / steps * (z1 - z0)),
        ("both ends must be included: the first vector is z0 and the last is z1 "
         "(t = i / (steps - 1), not i / (steps + 1)).", z0 + (t + 1) / (steps + 1) * (z1 - z0)),
        ("the path runs the wrong way: it starts at z0 (t = 0) and ends at z1 (t = 1).",
         z1 + t / (steps - 1) * (z0 - z1)),
    ]


def test_interpolate(interpolate):
    """Check ``interpolate(z0, z1, steps)``: ``steps`` vectors from z0 to z1 in equal steps, both ends included."""
    check = "test_interpolate"
    rng = np.random.default_rng(2019)
    z0 = rng.uniform(-1, 1, NOISE_DIM).astype(np.float32)
    z1 = rng.uniform(-1, 1, NOISE_DIM).astype(np.float32)
    worst = 0.0
    for steps in (2, 5, 11):
        values = _array_values(check, "interpolate", _call_student(check, "interpolate", interpolate, z0, z1, steps))
        t = np.linspace(0.0, 1.0, steps)[:, None]
        expected = z0.astype(np.float64) + t * (z1.astype(np.float64) - z0)
        if values.shape != expected.shape:
            transposed = values.shape == expected.shape[::-1]
            hint = "the two dimensions are swapped: one row per step, shape (steps, dim)." if transposed else (
                f"one row per step: stack the {steps} vectors into shape (steps, dim), e.g. "
                "z0 + t[:, None] * (z1 - z0) with t of shape (steps,)."
            )
            _fail(check, f"interpolate(z0, z1, {steps}) returned shape {values.shape}, expected {expected.shape}.", hint)
        error = _scaled_error(values, expected)
        if error > ELEMENTWISE_TOLERANCE:
            mistakes = _interpolate_mistakes(z0.astype(np.float64), z1.astype(np.float64), steps)
            hint = _matching_mistake(values, mistakes) or (
                "vector i is z0 + t_i (z1 - z0) with t_i = i / (steps - 1): equal steps along the straight line."
            )
            _fail(check, f"interpolate(z0, z1, {steps}) is wrong (max relative error {error:.2g}).", hint)
        worst = max(worst, error)
    _passed(check, worst)


def _nearest_mistakes(queries, pool, k):
    distances = np.sum((queries[:, None, :] - pool[None, :, :]) ** 2, axis=2)
    nearest = np.argsort(distances, axis=1)[:, :k]
    return [
        ("these are the farthest images: np.argsort sorts ascending, so the nearest come first "
         "without negating the distances.", np.argsort(-distances, axis=1)[:, :k]),
        ("the right neighbours, farthest first: return them nearest first.", nearest[:, ::-1]),
        ("indices count from 0, as numpy's do: do not add 1.", nearest + 1),
        ("a larger dot product a.b does not mean a nearer image: |a - b|^2 = |a|^2 - 2 a.b + |b|^2, and the "
         "|b|^2 term differs from one pool image to the next, so keep it.", np.argsort(-queries @ pool.T, axis=1)[:, :k]),
    ]


def test_nearest_neighbours(nearest_neighbours):
    """Check ``nearest_neighbours(queries, pool, k)``: indices (N, k) into pool, nearest first."""
    check = "test_nearest_neighbours"
    rng = np.random.default_rng(2020)
    pool = rng.normal(size=(300, 16)) * rng.uniform(0.3, 3.0, size=(300, 1))
    queries = np.concatenate([rng.normal(size=(6, 16)), pool[[17, 230]]])
    pool, queries = pool.astype(np.float32), queries.astype(np.float32)
    k = 4
    pool64, queries64 = pool.astype(np.float64), queries.astype(np.float64)
    expected = np.argsort(np.sum((queries64[:, None, :] - pool64[None, :, :]) ** 2, axis=2), axis=1)[:, :k]
    output = _call_student(check, "nearest_neighbours", nearest_neighbours, queries, pool, k)
    values = _array_values(check, "nearest_neighbours", output)
    if values.shape != expected.shape:
        hint = "one row per query image, k indices into pool in each row."
        if values.shape == expected.shape[::-1]:
            hint = "the two dimensions are swapped: " + hint
        _fail(check, f"nearest_neighbours(queries (8, 16), pool (300, 16), k=4) returned shape {values.shape}, "
                     f"expected {expected.shape}.", hint)
    if not np.array_equal(values, np.round(values)):
        _fail(check, "nearest_neighbours returned fractional numbers: return the indices of the nearest pool "
                     "images (np.argsort gives indices), not their distances.")
    if np.array_equal(values, expected):
        print(f"{check} passed (all {expected.size} neighbours right, nearest first)")
        return
    mistakes = _nearest_mistakes(queries64, pool64, k)
    hint = next((hint for hint, wrong in mistakes if np.array_equal(values, wrong)), None)
    if hint is None and all(set(row) == set(want) for row, want in zip(values.astype(np.int64), expected)):
        hint = "the right neighbours in the wrong order: sort them nearest first (np.argsort; np.argpartition does not sort)."
    if hint is None and not np.array_equal(values[6:, 0], [17, 230]):
        hint = "two queries are copies of pool[17] and pool[230]: each one's nearest image is itself, at distance 0."
    wrong_rows = int(np.sum(np.any(values != expected, axis=1)))
    _fail(check, f"nearest_neighbours gave the wrong indices for {wrong_rows} of 8 queries.", hint)


# ---------------------------------------------------------------------------
# DCGAN models: MNIST (dc_discriminator, dc_generator) and dogs (dog_*)
# ---------------------------------------------------------------------------

# The DCGAN discriminator's slope is 0.2; the name in parentheses marks the right one.
_ACTIVATIONS["leaky ReLU (slope 0.2)"] = _leaky(0.2)

_DC_HIDDEN_D = ["leaky ReLU (slope 0.2)", "leaky ReLU with slope 0.3", "leaky ReLU (slope 0.01)", "ReLU", "no activation", "tanh", "sigmoid"]
_DC_OUTPUT_D = ["no activation", "sigmoid", "tanh", "ReLU", "leaky ReLU (slope 0.2)"]
_DC_HIDDEN_G = ["ReLU", "leaky ReLU (slope 0.2)", "leaky ReLU with slope 0.3", "leaky ReLU (slope 0.01)", "no activation", "tanh", "sigmoid"]
_DC_OUTPUT_G = ["tanh", "no activation", "sigmoid", "ReLU"]

_LEAKY_IN_G = "a leaky ReLU {where}: the DCGAN generator uses plain ReLU (leaky ReLU belongs in the discriminator)"
_DC_HINTS = {
    **_MODEL_HINTS,
    ("leaky ReLU with slope 0.3", "leaky ReLU (slope 0.2)"): "slope 0.3 {where}: Keras's LeakyReLU default; the DCGAN discriminator uses 0.2 (layers.LeakyReLU(negative_slope=0.2))",
    ("leaky ReLU (slope 0.01)", "leaky ReLU (slope 0.2)"): "slope 0.01 {where}: that is the MLP GAN's slope; the DCGAN discriminator uses 0.2",
    ("ReLU", "leaky ReLU (slope 0.2)"): "plain ReLU {where}: the DCGAN discriminator uses leaky ReLU with slope 0.2",
    ("no activation", "leaky ReLU (slope 0.2)"): "missing activation {where}: add the leaky ReLU (slope 0.2)",
    ("tanh", "no activation"): "a tanh {where}: the discriminator returns logits, nothing after its last Dense layer",
    ("leaky ReLU (slope 0.2)", "ReLU"): _LEAKY_IN_G,
    ("leaky ReLU with slope 0.3", "ReLU"): _LEAKY_IN_G,
    ("leaky ReLU (slope 0.01)", "ReLU"): _LEAKY_IN_G,
    ("tanh", "ReLU"): "tanh {where}: the generator's hidden layers use ReLU; tanh only on the output",
}


class _ConvReference:
    """What a convolutional builder must produce, and how to explain where it differs."""

    def __init__(self, *, builder_name, role, args, input_shape, output_shape, convs, batch_norms, dense_units,
                 plan, spec, x, expected, correct, slots, positions, compare=None):
        self.builder_name = builder_name  # "dc_discriminator"
        self.role = role  # "discriminator" or "generator"
        self.args = args  # arguments the check builds the student's model with
        self.input_shape = tuple(input_shape)  # per example
        self.output_shape = tuple(output_shape)  # per example
        self.convs = convs  # [(layer class name, filters, kernel, stride)]
        self.batch_norms = batch_norms
        self.dense_units = dense_units
        self.plan = plan  # the forward pass, for trying out activations (see _plan_forward)
        self.spec = spec  # (shape, kind) of each weight
        self.x = x
        self.expected = expected
        self.correct, self.slots, self.positions = correct, slots, positions
        self.compare = compare or (lambda values: values)

    @property
    def shapes(self):
        return [shape for shape, _ in self.spec]

    @property
    def params(self):
        return _count(self.shapes)


def _all_layers(model):
    """A model's layers, nested models opened up, input layers left out."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)
        elif not isinstance(layer, layers.InputLayer):
            yield layer


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _describe_dc_layer(layer):
    kind = type(layer).__name__
    if isinstance(layer, (layers.Conv2D, layers.Conv2DTranspose)):
        kh, kw = _pair(layer.kernel_size)
        stride = _pair(layer.strides)
        text = f"{kind}({layer.filters}, {kh}x{kw}, stride {stride[0] if stride[0] == stride[1] else stride}"
        if layer.padding != "same":
            text += f", padding '{layer.padding}'"
        activation = getattr(layer.activation, "__name__", str(layer.activation))
        return text + ("" if activation == "linear" else f", {activation}") + ")"
    if isinstance(layer, layers.Reshape):
        return f"Reshape({tuple(layer.target_shape)})"
    return _describe_layer(layer)


def describe_conv_layers(model):
    """A one-line summary of a convolutional model, e.g. 'Conv2D(32, 4x4, stride 2) -> LeakyReLU(0.2) -> ...'."""
    return " -> ".join(_describe_dc_layer(layer) for layer in _all_layers(model)) or "(no layers)"


def _conv_signature(layer):
    return (type(layer).__name__, layer.filters, _pair(layer.kernel_size), _pair(layer.strides), layer.padding)


def _check_no_pooling(check, name, model, ref):
    for layer in _all_layers(model):
        kind = type(layer).__name__
        if "Pool" in kind:
            _fail(
                check,
                f"your {name} has a {kind} layer.",
                "DCGANs learn their own downsampling: use strided convolutions (Conv2D(..., strides=2, "
                "padding='same')) and no pooling layers. "
                f"Your model's layers: {describe_conv_layers(model)}.",
            )
        if "UpSampling" in kind:
            _fail(
                check,
                f"your {name} has an {kind} layer.",
                "the DCGAN generator learns its upsampling: use transposed convolutions "
                "(Conv2DTranspose(..., strides=2, padding='same')) instead of UpSampling2D + Conv2D. "
                f"Your model's layers: {describe_conv_layers(model)}.",
            )


def _run_conv_model(check, name, model, x):
    try:
        return model(tf.constant(x), training=False)
    except Exception as error:
        raise AssertionError(
            f"{check} failed: calling your {name} on a batch of shape {x.shape} raised "
            f"{type(error).__name__}: {_plain(error)}\nHint: it should take inputs of shape (batch, "
            f"{', '.join(str(d) for d in x.shape[1:])}), e.g. keras.Input(shape={tuple(x.shape[1:])})."
        ) from error


def _output_shape_hint(ref, actual, model):
    """Why a model's output has the wrong shape (``actual`` and ``ref.output_shape`` are per example)."""
    expected = ref.output_shape
    layers_text = f" Your model's layers: {describe_conv_layers(model)}."
    if ref.role == "discriminator":
        if len(actual) > 1:
            return "end with Flatten() and Dense(1): one logit per image." + layers_text
        return f"the last Dense layer has {actual[-1]} units: one logit per image, Dense(1)." + layers_text
    if len(actual) == len(expected) and actual[:-1] == expected[:-1]:
        channels = "1 channel (greyscale)" if expected[-1] == 1 else f"{expected[-1]} channels (RGB)"
        return (f"wrong channels: your images have {actual[-1]}, the images have {channels}. Give the last "
                f"Conv2DTranspose {expected[-1]} filter{'s' if expected[-1] > 1 else ''}." + layers_text)
    if len(actual) == 1 and actual[0] == int(np.prod(expected)):
        return f"the images come out flat: the last layer is a transposed convolution making {expected}." + layers_text
    if len(actual) == len(expected) and actual[0] < expected[0]:
        return ("the images are too small: each Conv2DTranspose with strides=2 and padding='same' doubles the size; "
                "is one missing, or a stride 1?" + layers_text)
    if len(actual) == len(expected) and actual[0] > expected[0]:
        return "the images are too large: check the reshape size and the strides." + layers_text
    return layers_text.strip()


def _check_conv_layers(check, name, model, ref):
    convs = [layer for layer in _all_layers(model) if isinstance(layer, (layers.Conv2D, layers.Conv2DTranspose))]
    layers_text = f" Your model's layers: {describe_conv_layers(model)}."
    expected = [(kind, filters, (k, k), (s, s), "same") for kind, filters, k, s in ref.convs]
    kind_name = ref.convs[0][0]
    if len(convs) != len(expected):
        _fail(check, f"your {name} has {len(convs)} convolution layers, expected {len(expected)} "
                     f"({kind_name} layers).", describe_conv_layers(model))
    for index, (layer, want) in enumerate(zip(convs, expected), start=1):
        got = _conv_signature(layer)
        if got == want:
            continue
        where = f"convolution {index} ({got[0]})"
        if got[0] != want[0]:
            hint = (f"{where} should be a {want[0]}: the discriminator downsamples with Conv2D, the generator "
                    "upsamples with Conv2DTranspose.")
        elif got[3] != want[3]:
            hint = (f"{where} has stride {got[3][0] if got[3][0] == got[3][1] else got[3]}, expected {want[3][0]}: "
                    "DCGANs change the image size with strides=2, not with pooling or upsampling layers.")
        elif got[1] != want[1]:
            hint = f"wrong channels: {where} has {got[1]} filters, expected {want[1]}."
        elif got[2] != want[2]:
            hint = f"{where} has a {got[2][0]}x{got[2][1]} kernel, expected {want[2][0]}x{want[2][1]} (kernel_size={want[2][0]})."
        else:
            hint = f"{where} has padding '{got[4]}': use padding='same', so that stride 2 exactly halves (or doubles) the size."
        _fail(check, f"your {name}'s convolutions differ from the table.", hint + layers_text)


def _check_batch_norms(check, name, model, ref):
    count = sum(isinstance(layer, layers.BatchNormalization) for layer in _all_layers(model))
    if count == ref.batch_norms:
        return
    layers_text = f" Your model's layers: {describe_conv_layers(model)}."
    if ref.batch_norms == 0:
        hint = (f"the course's {name} has no batch norm (the DCGAN paper's discriminator has some; this one is "
                "small enough to train without): remove the BatchNormalization layers.")
    elif count == 0:
        hint = ("no batch norm: the DCGAN generator normalises after the projection and after every "
                "transposed convolution but the last, layers.BatchNormalization() before each ReLU.")
    else:
        hint = (f"{count} BatchNormalization layers, expected {ref.batch_norms}: one after the projection and one "
                "after every transposed convolution but the last (none on the output).")
    _fail(check, f"your {name} has {count} batch-norm layers, expected {ref.batch_norms}.", hint + layers_text)


def _check_conv_weights(check, name, model, ref):
    shapes = [tuple(weight.shape) for weight in model.weights]
    if shapes == [tuple(s) for s in ref.shapes] and model.count_params() == ref.params:
        return
    hints = []
    dense = [layer for layer in _all_layers(model) if isinstance(layer, layers.Dense)]
    if [layer.units for layer in dense] != list(ref.dense_units):
        hints.append(f"your Dense layers have {[layer.units for layer in dense]} units, expected {list(ref.dense_units)}.")
    without_bias = [type(layer).__name__ for layer in _all_layers(model)
                    if isinstance(layer, (layers.Dense, layers.Conv2D, layers.Conv2DTranspose)) and not layer.use_bias]
    if without_bias:
        hints.append(f"{', '.join(without_bias)} without bias (use_bias=False): a bias just before batch norm is "
                     "redundant, but the course's table counts it; keep the biases.")
    if not hints:
        hints.append("check the layer sizes against the table.")
    hints.append(f"Your model's layers: {describe_conv_layers(model)}.")
    _fail(check, f"your {name} has {model.count_params():,} parameters, expected {ref.params:,}.", " ".join(hints))


def _plan_linear(steps, weights, h):
    """Run the steps of a plan between two activations (they consume ``weights`` in order)."""
    for step in steps:
        kind = step[0]
        if kind == "dense":
            kernel, bias = next(weights), next(weights)
            h = tf.matmul(h, kernel) + bias
        elif kind == "conv":
            kernel, bias = next(weights), next(weights)
            h = tf.nn.conv2d(h, kernel, strides=step[1], padding="SAME") + bias
        elif kind == "deconv":
            kernel, bias = next(weights), next(weights)
            n, height, width = h.shape[0], h.shape[1], h.shape[2]
            shape = [n, height * step[1], width * step[1], kernel.shape[2]]
            h = tf.nn.conv2d_transpose(h, kernel, shape, strides=step[1], padding="SAME") + bias
        elif kind == "bn":
            gamma, beta, mean, variance = (next(weights) for _ in range(4))
            h = (h - mean) / tf.sqrt(variance + 1e-3) * gamma + beta
        elif kind == "flatten":
            h = tf.reshape(h, (h.shape[0], -1))
        elif kind == "reshape":
            h = tf.reshape(h, (-1, *step[1]))
    return h


def _plan_forward(plan, weights, x, activations, batch_norm_after_activation=False, cache=None):
    """The reference forward pass with the given activations, float32 convolutions, float64 activations.

    ``plan`` lists the steps: ("dense",), ("conv", stride), ("deconv", stride),
    ("bn",), ("act",), ("flatten",), ("reshape", shape); every ("act",) applies
    the next name of ``activations`` (a key of ``_ACTIVATIONS``). ``cache``, a dict
    kept between calls with the same plan, weights and x, reuses the work done for
    a common prefix of activations.
    """
    plan = list(plan)
    if batch_norm_after_activation:
        for i in range(len(plan) - 1):
            if plan[i][0] == "bn" and plan[i + 1][0] == "act":
                plan[i], plan[i + 1] = plan[i + 1], plan[i]
        cache = None
    cache = {} if cache is None else cache
    segments, current = [], []
    for step in plan:
        if step[0] == "act":
            segments.append(current)
            current = []
        else:
            current.append(step)
    counts = [sum({"dense": 2, "conv": 2, "deconv": 2, "bn": 4}.get(step[0], 0) for step in segment)
              for segment in segments + [current]]
    starts = np.cumsum([0] + counts)
    h = tf.constant(x, tf.float32)
    for index, segment in enumerate(segments):
        key = tuple(activations[:index])
        if key not in cache:
            cache[key] = np.asarray(_plan_linear(segment, iter(weights[starts[index]:]), h), np.float64)
        h = tf.constant(_ACTIVATIONS[activations[index]](cache[key]), tf.float32)
    return np.asarray(_plan_linear(current, iter(weights[starts[len(segments)]:]), h), np.float64)


def _activation_variants(correct, slots):
    """Likely wrong activation choices: one slot changed, or every hidden slot the same (any output)."""
    variants, seen = [], {tuple(correct)}
    candidates = [correct[:i] + [option] + correct[i + 1:] for i, options in enumerate(slots) for option in options]
    hidden = len(correct) - 1
    candidates += [[option] * hidden + [out] for option in slots[0] for out in slots[-1]]
    for candidate in candidates:
        if tuple(candidate) not in seen:
            seen.add(tuple(candidate))
            variants.append(candidate)
    return variants


def _conv_value_hint(ref, weights, values):
    compared, cache = ref.compare(values), {}
    for found in _activation_variants(ref.correct, ref.slots):
        output = ref.compare(_plan_forward(ref.plan, weights, ref.x, found, cache=cache))
        if _scaled_error(compared, output) < MISTAKE_MATCH_TOLERANCE:
            return "wrong activation: " + _activation_hint(found, ref.correct, ref.positions, _DC_HINTS)
    if ref.batch_norms:
        output = ref.compare(_plan_forward(ref.plan, weights, ref.x, ref.correct, batch_norm_after_activation=True))
        if _scaled_error(compared, output) < MISTAKE_MATCH_TOLERANCE:
            return ("batch norm comes after the ReLU: the DCGAN order is Dense or Conv2DTranspose -> "
                    "BatchNormalization -> ReLU.")
    if ref.role == "discriminator" and np.all((values > 0) & (values < 1)):
        return "all outputs are in (0, 1): a sigmoid on the output? The discriminator returns logits."
    if ref.role == "generator" and np.max(np.abs(values)) > 1.0:
        return "outputs outside [-1, 1]: forgot the tanh on the last layer?"
    return None


def _check_conv_values(check, name, model, ref):
    weights = check_values.fixed_model_weights(ref.spec, int(_expected()["weights_seed"]))
    with check_values.full_float32_matmuls():
        model.set_weights(weights)
        output = _run_conv_model(check, name, model, ref.x)
    values = _tensor_values(check, name, output, (len(ref.x), *ref.output_shape))
    error = _scaled_error(ref.compare(values), ref.expected)
    if error > MODEL_TOLERANCE:
        with check_values.full_float32_matmuls():
            hint = _conv_value_hint(ref, weights, values)
        _fail(
            check,
            f"with fixed weights, your {name}'s outputs differ from the expected ones (max relative error {error:.1e}).",
            (hint or "the layers and their sizes are right, so check the activations and the order of the layers.")
            + f" Your model's layers: {describe_conv_layers(model)}.",
        )
    return error


def _check_output_range(check, name, model, ref):
    """With the model's own initial weights: a generator's images lie in [-1, 1]."""
    if ref.role != "generator":
        return
    z = np.random.default_rng(0).uniform(-3.0, 3.0, size=(4, ref.input_shape[0])).astype(np.float32)
    images = np.asarray(_run_conv_model(check, name, model, z))
    if np.min(images) < -1.0 or np.max(images) > 1.0:
        _fail(check, f"your {name} makes values from {np.min(images):.2f} to {np.max(images):.2f}, outside [-1, 1].",
              "forgot the tanh on the last layer? Images are in [-1, 1]. "
              f"Your model's layers: {describe_conv_layers(model)}.")


def _test_conv_model(check, builder, ref):
    name = ref.builder_name
    model = _build_model(check, name, builder, *ref.args)
    _check_no_pooling(check, name, model, ref)
    output = _run_conv_model(check, name, model, ref.x)
    if not tf.is_tensor(output) or tuple(output.shape[1:]) != ref.output_shape:
        actual = tuple(output.shape[1:]) if tf.is_tensor(output) else None
        if actual is None:
            _tensor_values(check, name, output)
        _fail(check, f"your {name} returned shape {tuple(output.shape)}, expected {(len(ref.x), *ref.output_shape)}.",
              _output_shape_hint(ref, actual, model))
    _check_conv_layers(check, name, model, ref)
    _check_batch_norms(check, name, model, ref)
    _check_conv_weights(check, name, model, ref)
    _check_output_range(check, name, model, ref)
    return model, _check_conv_values(check, name, model, ref)


def _check_conv_noise_dim(check, builder, ref, first_units, **kwargs):
    """The generator builder must use its noise_dim argument as the input size."""
    small = 8
    model = _build_model(check, ref.builder_name, builder, small, **kwargs)
    first_kernel = next((tuple(w.shape) for w in model.weights if len(w.shape) == 2), None)
    if first_kernel != (small, first_units):
        _fail(
            check,
            f"{ref.builder_name}({small}) has a first layer of shape {first_kernel}, expected ({small}, {first_units}).",
            "use noise_dim as the input size (keras.Input(shape=(noise_dim,))).",
        )
    output = _run_conv_model(check, f"{ref.builder_name}({small})", model, np.zeros((2, small), np.float32))
    _tensor_values(check, f"{ref.builder_name}({small})", output, (2, *ref.output_shape))


_DC_D_POSITIONS = ["after the first convolution", "after the second convolution", "on the output"]
_DC_G_POSITIONS = ["after the first batch norm (the projection)", "after the second batch norm", "on the output"]


def _dc_discriminator_reference():
    expected = _expected()
    plan = [("conv", 2), ("act",), ("conv", 2), ("act",), ("flatten",), ("dense",), ("act",)]
    return _ConvReference(
        builder_name="dc_discriminator", role="discriminator", args=(), input_shape=(28, 28, 1), output_shape=(1,),
        convs=[("Conv2D", 32, 4, 2), ("Conv2D", 64, 4, 2)], batch_norms=0, dense_units=[1], plan=plan,
        spec=check_values.DC_DISCRIMINATOR_WEIGHTS, x=check_values.dc_discriminator_input(expected),
        expected=expected["dc_discriminator_out"],
        correct=["leaky ReLU (slope 0.2)", "leaky ReLU (slope 0.2)", "no activation"],
        slots=[_DC_HIDDEN_D, _DC_HIDDEN_D, _DC_OUTPUT_D], positions=_DC_D_POSITIONS,
    )


def _dc_generator_reference(noise_dim=NOISE_DIM):
    expected = _expected()
    plan = [("dense",), ("bn",), ("act",), ("reshape", (7, 7, 64)), ("deconv", 2), ("bn",), ("act",),
            ("deconv", 2), ("act",)]
    return _ConvReference(
        builder_name="dc_generator", role="generator", args=(noise_dim,), input_shape=(noise_dim,),
        output_shape=(28, 28, 1), convs=[("Conv2DTranspose", 32, 4, 2), ("Conv2DTranspose", 1, 4, 2)],
        batch_norms=2, dense_units=[7 * 7 * 64], plan=plan, spec=check_values.dc_generator_weights(noise_dim),
        x=expected["generator_z"], expected=expected["dc_generator_out"], correct=["ReLU", "ReLU", "tanh"],
        slots=[_DC_HIDDEN_G, _DC_HIDDEN_G, _DC_OUTPUT_G], positions=_DC_G_POSITIONS,
    )


def test_dc_discriminator(dc_discriminator):
    """Check the DCGAN discriminator builder (28x28x1): strided convolutions, no pooling, logits out.

    Checks the layers (two Conv2D 4x4 stride 2 with 32 and 64 filters, no pooling,
    no batch norm, Flatten, Dense(1)), the parameter count (36,513) and the outputs
    with fixed weights (leaky ReLU 0.2 after each convolution, no sigmoid).
    """
    check = "test_dc_discriminator"
    _, error = _test_conv_model(check, dc_discriminator, _dc_discriminator_reference())
    _passed(check, error)


def test_dc_generator(dc_generator):
    """Check the DCGAN generator builder (noise -> 28x28x1): transposed convolutions, batch norm, tanh out.

    Checks the layers (Dense 7*7*64, two Conv2DTranspose 4x4 stride 2 with 32 and 1
    filters, two batch norms), the parameter count (350,177), that images lie in
    [-1, 1], the outputs with fixed weights (ReLU after each batch norm, tanh out),
    and that ``noise_dim`` sets the input size.
    """
    check = "test_dc_generator"
    reference = _dc_generator_reference()
    _, error = _test_conv_model(check, dc_generator, reference)
    _check_conv_noise_dim(check, dc_generator, reference, 7 * 7 * 64)
    _passed(check, error)


_DOG_SAMPLED = (slice(None), slice(None, None, check_values.DOG_STRIDE), slice(None, None, check_values.DOG_STRIDE))


def _dog_discriminator_reference(width=32):
    expected, inputs = _expected(), check_values.dog_inputs()
    plan = [step for _ in range(4) for step in (("conv", 2), ("act",))] + [("flatten",), ("dense",), ("act",)]
    return _ConvReference(
        builder_name="dog_discriminator", role="discriminator", args=(), input_shape=(64, 64, 3), output_shape=(1,),
        convs=[("Conv2D", width * m, 4, 2) for m in (1, 2, 4, 8)], batch_norms=0, dense_units=[1], plan=plan,
        spec=check_values.dog_discriminator_weights(width), x=inputs["dog_discriminator_x"],
        expected=expected["dog_discriminator_out"], correct=["leaky ReLU (slope 0.2)"] * 4 + ["no activation"],
        slots=[_DC_HIDDEN_D] * 4 + [_DC_OUTPUT_D],
        positions=[f"after convolution {i}" for i in range(1, 5)] + ["on the output"],
    )


def _dog_generator_reference(noise_dim=NOISE_DIM, width=32):
    expected, inputs = _expected(), check_values.dog_inputs()
    plan = [("dense",), ("bn",), ("act",), ("reshape", (4, 4, 8 * width))]
    plan += [step for _ in range(3) for step in (("deconv", 2), ("bn",), ("act",))] + [("deconv", 2), ("act",)]
    return _ConvReference(
        builder_name="dog_generator", role="generator", args=(noise_dim,), input_shape=(noise_dim,),
        output_shape=(64, 64, 3),
        convs=[("Conv2DTranspose", width * m, 4, 2) for m in (4, 2, 1)] + [("Conv2DTranspose", 3, 4, 2)],
        batch_norms=4, dense_units=[4 * 4 * 8 * width], plan=plan,
        spec=check_values.dog_generator_weights(noise_dim, width), x=inputs["dog_generator_z"],
        expected=expected["dog_generator_out"], correct=["ReLU"] * 4 + ["tanh"],
        slots=[_DC_HIDDEN_G] * 4 + [_DC_OUTPUT_G],
        positions=["after the first batch norm (the projection)"] + [f"after batch norm {i}" for i in (2, 3, 4)]
        + ["on the output"],
        compare=lambda values: values[_DOG_SAMPLED],
    )


def _check_width(check, builder, ref_factory, *args):
    """A builder with a ``width`` argument must scale its channels by it."""
    if not _accepts(builder, "width"):
        return
    small = ref_factory(*args, width=8)
    name = f"{small.builder_name}(width=8)"
    model = _build_model(check, name, lambda: builder(*args, width=8))
    _check_conv_layers(check, name, model, small)


def test_dog_discriminator(dog_discriminator):
    """Check the dogs discriminator builder (64x64x3): four Conv2D 4x4 stride 2, leaky ReLU 0.2, logits out."""
    check = "test_dog_discriminator"
    _, error = _test_conv_model(check, dog_discriminator, _dog_discriminator_reference())
    _check_width(check, dog_discriminator, _dog_discriminator_reference)
    _passed(check, error)


def test_dog_generator(dog_generator):
    """Check the dogs generator builder (noise -> 64x64x3): four Conv2DTranspose 4x4 stride 2, batch norm, tanh out."""
    check = "test_dog_generator"
    reference = _dog_generator_reference()
    _, error = _test_conv_model(check, dog_generator, reference)
    _check_conv_noise_dim(check, dog_generator, reference, 4 * 4 * 8 * 32)
    _check_width(check, dog_generator, _dog_generator_reference, NOISE_DIM)
    _passed(check, error)
