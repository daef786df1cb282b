"""Checks a student runs on their own code, with hints when it is wrong.

Each ``test_*`` function takes the student's function, runs it on fixed inputs
and compares with the expected values the package ships
(``gan_helpers/reference/checks.npz``, see :mod:`gan_helpers.check_values` for
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

from gan_helpers import check_values
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
