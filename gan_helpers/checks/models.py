"""Checks of the model builders: the MLP GAN (notebooks 02, 03), the DCGAN (07) and the dogs DCGAN (08).

One engine serves them all. A :class:`ModelReference` holds what a builder must
make: its plan (the reference architecture step by step, see
:mod:`gan_helpers.checks.values`), fixed inputs and the expected outputs on them.
:func:`check_model` builds the learner's model, runs it, compares its output
shape, layers and weights with the plan, then loads fixed weights and compares
its outputs. Where the outputs differ it runs the plan with other activations
(:func:`forward`) to name the one the learner used.
"""

import dataclasses
import itertools
import math
from typing import Callable

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from gan_helpers.checks import values
from gan_helpers.checks.engine import (MISTAKE_MATCH_TOLERANCE, MODEL_TOLERANCE, accepts, call_student,
                                       expected_values, fail, passed, scaled_error, student_error,
                                       tensor_values)
from gan_helpers.models import NOISE_DIM


def _leaky(slope):
    return lambda z: np.where(z > 0, z, slope * z)


# name -> numpy function, for explaining which activation a model seems to use
ACTIVATIONS = {
    "leaky ReLU (slope 0.01)": _leaky(0.01),
    "leaky ReLU (slope 0.2)": _leaky(0.2),
    "leaky ReLU (slope 0.3)": _leaky(0.3),
    "ReLU": _leaky(0.0),
    "no activation": lambda z: z,
    "tanh": np.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
}

# (activation found, activation wanted) -> what to say; {where} is the place in the model.
MLP_HINTS = {
    ("leaky ReLU (slope 0.3)", "leaky ReLU (slope 0.01)"): "slope 0.3 {where}: Keras's LeakyReLU default, the course uses 0.01 (layers.LeakyReLU(negative_slope=0.01))",
    ("leaky ReLU (slope 0.2)", "leaky ReLU (slope 0.01)"): "slope 0.2 {where}: the default of keras.activations.leaky_relu, the course uses 0.01",
    ("ReLU", "leaky ReLU (slope 0.01)"): "plain ReLU {where}: the discriminator uses leaky ReLU with slope 0.01",
    ("no activation", "leaky ReLU (slope 0.01)"): "missing activation {where}: add the leaky ReLU (slope 0.01)",
    ("no activation", "ReLU"): "missing activation {where}: add the ReLU",
    ("sigmoid", "no activation"): "a sigmoid {where}: the discriminator returns logits, the loss applies the sigmoid (stably)",
    ("no activation", "tanh"): "no tanh {where}: outputs fall outside [-1, 1], forgot tanh",
    ("sigmoid", "tanh"): "a sigmoid {where} gives values in (0, 1): images are in [-1, 1], use tanh",
    ("ReLU", "tanh"): "ReLU {where} gives no negative values: images are in [-1, 1], use tanh",
}  # fmt: skip
_LEAKY_IN_G = "a leaky ReLU {where}: the DCGAN generator uses plain ReLU (leaky ReLU belongs in the discriminator)"
DCGAN_HINTS = {
    **MLP_HINTS,
    ("leaky ReLU (slope 0.3)", "leaky ReLU (slope 0.2)"): "slope 0.3 {where}: Keras's LeakyReLU default; the DCGAN discriminator uses 0.2 (layers.LeakyReLU(negative_slope=0.2))",
    ("leaky ReLU (slope 0.01)", "leaky ReLU (slope 0.2)"): "slope 0.01 {where}: that is the MLP GAN's slope; the DCGAN discriminator uses 0.2",
    ("ReLU", "leaky ReLU (slope 0.2)"): "plain ReLU {where}: the DCGAN discriminator uses leaky ReLU with slope 0.2",
    ("no activation", "leaky ReLU (slope 0.2)"): "missing activation {where}: add the leaky ReLU (slope 0.2)",
    ("tanh", "no activation"): "a tanh {where}: the discriminator returns logits, nothing after its last Dense layer",
    ("leaky ReLU (slope 0.2)", "ReLU"): _LEAKY_IN_G,
    ("leaky ReLU (slope 0.3)", "ReLU"): _LEAKY_IN_G,
    ("leaky ReLU (slope 0.01)", "ReLU"): _LEAKY_IN_G,
    ("tanh", "ReLU"): "tanh {where}: the generator's hidden layers use ReLU; tanh only on the output",
}  # fmt: skip

# Every combination of candidate activations is tried when there are at most this many;
# beyond that (the dogs models), one changed activation or the same one in every hidden layer.
MAX_COMBINATIONS = 300

_PLACES = {"dense": "Dense layer", "conv": "convolution", "deconv": "transposed convolution", "bn": "batch norm"}
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}
_LAYER_CLASSES = {"dense": "Dense", "conv": "Conv2D", "deconv": "Conv2DTranspose", "bn": "BatchNormalization"}
_WEIGHTS_PER_STEP = {"dense": 2, "conv": 2, "deconv": 2, "bn": 4}


@dataclasses.dataclass(frozen=True)
class ModelReference:
    """What a builder must make, and how to explain where a learner's model differs."""

    builder_name: str  # "dc_discriminator"
    role: str  # "discriminator" or "generator"
    args: tuple  # what the check calls the builder with
    plan: list  # the reference architecture (gan_helpers.checks.values)
    x: np.ndarray  # fixed inputs, (batch, *input shape)
    expected: np.ndarray  # the reference's outputs on x with fixed weights (the compared part)
    output_shape: tuple  # per example
    hidden: list  # activations to try in the hidden layers, the right one first
    output: list  # activations to try on the output, the right one first
    hints: dict  # (found, wanted) -> what to say
    compare: Callable = lambda outputs: outputs  # the part of the outputs that is compared

    @property
    def slots(self):
        """The activations to try at each ("act",) step of the plan."""
        return [self.hidden] * (sum(step == ("act",) for step in self.plan) - 1) + [self.output]

    @property
    def correct(self):
        return [options[0] for options in self.slots]

    @property
    def positions(self):
        """Where each activation is, in words: 'after the second convolution', 'on the output'."""
        places, seen = [], {}
        for previous, step in zip(self.plan, self.plan[1:]):
            if step == ("act",):
                name = _PLACES.get(previous[0], previous[0])
                seen[name] = seen.get(name, 0) + 1
                places.append(f"after the {_ORDINALS[seen[name]]} {name}")
        projection = self.role == "generator" and self.plan[1][0] == "bn"
        return [places[0] + " (the projection)" if projection else places[0]] + places[1:-1] + ["on the output"]

    @property
    def params(self):
        return sum(math.prod(shape) for shape in values.weight_shapes(self.plan))

    @property
    def convs(self):
        """(layer class, filters, kernel, stride) of each convolution."""
        return [(_LAYER_CLASSES[s[0]], s[3], s[1], s[4]) for s in self.plan if s[0] in ("conv", "deconv")]

    @property
    def batch_norms(self):
        return sum(step[0] == "bn" for step in self.plan)

    @property
    def dense_kernels(self):
        return [(step[1], step[2]) for step in self.plan if step[0] == "dense"]

    @property
    def layer_classes(self):
        """The classes of the layers with weights, in order of first appearance."""
        return list(dict.fromkeys(_LAYER_CLASSES[step[0]] for step in self.plan if step[0] in _LAYER_CLASSES))


def check_model(check, builder, ref):
    """Build the learner's model and compare it with ``ref``; return the max relative error of its outputs."""
    name = ref.builder_name
    model = build_model(check, name, builder, *ref.args)
    _check_no_resampling_layers(check, name, model)
    output = run_model(check, name, model, ref.x)
    _check_output_shape(check, name, model, ref, output)
    if ref.convs:
        check_conv_layers(check, name, model, ref)
        _check_batch_norms(check, name, model, ref)
    _check_weights(check, name, model, ref)
    error = _check_values(check, name, model, ref)
    _check_output_range(check, name, model, ref)
    return error


def build_model(check, name, builder, *args):
    """Call the learner's builder; it must return a keras.Model."""
    if isinstance(builder, keras.Model):
        fail(check, "got a model, expected the function that builds it.",
             f"pass the function itself: {check}({name}), not {check}({name}()).")
    model = call_student(check, f"{name}()", builder, *args)
    if model is None:
        fail(check, f"{name}() returned None.", "did you forget `return model`?")
    if not isinstance(model, keras.Model):
        fail(check, f"{name}() returned a {type(model).__name__}, expected a keras.Model.", "return keras.Sequential([...]) or keras.Model(inputs, outputs).")
    return model


def run_model(check, name, model, x):
    """The model's outputs on ``x``; a failure says which input shape the model should take."""
    try:
        return model(tf.constant(x), training=False)
    except Exception as error:
        shape = tuple(x.shape[1:])
        hint = f"it should take inputs of shape {_batch_of(shape)}, e.g. keras.Input(shape={shape})."
        declared = _declared_input_shape(model)
        if declared is not None and declared != shape:
            hint += f" Yours takes {_batch_of(declared)}."
        raise student_error(check, f"calling your {name} on a batch of shape {x.shape} raised", error, hint) from error


def _batch_of(shape):
    return f"(batch, {', '.join(str(d) for d in shape)})"


def _declared_input_shape(model):
    try:
        return tuple(model.inputs[0].shape[1:])
    except Exception:  # a model built on its first call has no declared inputs
        return None


def all_layers(model):
    """A model's layers, nested models opened up, input layers left out."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from all_layers(layer)
        elif not isinstance(layer, layers.InputLayer):
            yield layer


def pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _describe_layer(layer):
    kind = type(layer).__name__
    activation = getattr(getattr(layer, "activation", None), "__name__", str(getattr(layer, "activation", "")))
    with_activation = "" if activation == "linear" else f", {activation}"
    if isinstance(layer, layers.Dense):
        return f"Dense({layer.units}{with_activation})"
    if isinstance(layer, (layers.Conv2D, layers.Conv2DTranspose)):
        kh, kw = pair(layer.kernel_size)
        stride = pair(layer.strides)
        text = f"{kind}({layer.filters}, {kh}x{kw}, stride {stride[0] if stride[0] == stride[1] else stride}"
        if layer.padding != "same":
            text += f", padding '{layer.padding}'"
        return text + with_activation + ")"
    if isinstance(layer, layers.Reshape):
        return f"Reshape({tuple(layer.target_shape)})"
    if hasattr(layer, "negative_slope"):
        return f"{kind}({float(layer.negative_slope):g})"
    if kind == "Activation":
        return f"Activation({activation})"
    return kind


def describe_layers(model):
    """A one-line summary of a model's layers, e.g. 'Dense(256) -> LeakyReLU(0.3) -> Dense(1)'."""
    return " -> ".join(_describe_layer(layer) for layer in all_layers(model)) or "(no layers)"


def _layers_text(model):
    return f" Your model's layers: {describe_layers(model)}."


def _check_no_resampling_layers(check, name, model):
    for layer in all_layers(model):
        kind = type(layer).__name__
        if "Pool" in kind:
            fail(check, f"your {name} has a {kind} layer.",
                 "DCGANs learn their own downsampling: use strided convolutions (Conv2D(..., strides=2, "
                 "padding='same')) and no pooling layers." + _layers_text(model))
        if "UpSampling" in kind:
            fail(check, f"your {name} has an {kind} layer.",
                 "the DCGAN generator learns its upsampling: use transposed convolutions "
                 "(Conv2DTranspose(..., strides=2, padding='same')) instead of UpSampling2D + Conv2D."
                 + _layers_text(model))


def _check_output_shape(check, name, model, ref, output):
    if not tf.is_tensor(output):
        tensor_values(check, name, output)  # fails, saying what came back instead
    actual = tuple(output.shape[1:])
    if actual != ref.output_shape:
        fail(
            check,
            f"your {name} returned shape {tuple(output.shape)}, expected {(len(ref.x), *ref.output_shape)}.",
            _output_shape_hint(ref, actual, model),
        )


def _output_shape_hint(ref, actual, model):
    """Why a model's output has the wrong shape (``actual`` and ``ref.output_shape`` are per example)."""
    expected, layers_text = ref.output_shape, _layers_text(model)
    if ref.role == "discriminator":
        if len(actual) == 1:
            return f"the last Dense layer has {actual[0]} units: one logit per image, Dense(1)." + layers_text
        return "end with Flatten() and Dense(1): one logit per image, shape (batch, 1)." + layers_text
    if len(expected) == 1 and len(actual) == 1:
        return f"the last Dense layer has {actual[0]} units, expected {expected[0]}: one value per pixel." + layers_text
    if len(actual) == 1 and actual[0] == math.prod(expected):
        return f"the images come out flat: the last layer is a transposed convolution making {expected}." + layers_text
    if len(actual) == len(expected) == 3:
        if actual[:-1] == expected[:-1]:
            channels = "1 channel (greyscale)" if expected[-1] == 1 else f"{expected[-1]} channels (RGB)"
            return (f"wrong channels: your images have {actual[-1]}, the images have {channels}. Give the last "
                    f"Conv2DTranspose {expected[-1]} filter{'s' if expected[-1] > 1 else ''}." + layers_text)
        if actual[0] < expected[0]:
            return ("the images are too small: each Conv2DTranspose with strides=2 and padding='same' doubles the "
                    "size; is one missing, or a stride 1?" + layers_text)
        if actual[0] > expected[0]:
            return "the images are too large: check the reshape size and the strides." + layers_text
    return layers_text.strip()


def _conv_signature(layer):
    return (type(layer).__name__, layer.filters, pair(layer.kernel_size), pair(layer.strides), layer.padding)


def check_conv_layers(check, name, model, ref):
    """The convolutions' kinds, filters, kernels, strides and padding, in order."""
    convs = [layer for layer in all_layers(model) if isinstance(layer, (layers.Conv2D, layers.Conv2DTranspose))]
    expected = [(kind, filters, (k, k), (s, s), "same") for kind, filters, k, s in ref.convs]
    if len(convs) != len(expected):
        fail(check, f"your {name} has {len(convs)} convolution layers, expected {len(expected)} "
                    f"({ref.convs[0][0]} layers).", describe_layers(model))
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
        fail(check, f"your {name}'s convolutions differ from the table.", hint + _layers_text(model))


def _check_batch_norms(check, name, model, ref):
    count = sum(isinstance(layer, layers.BatchNormalization) for layer in all_layers(model))
    if count == ref.batch_norms:
        return
    if ref.batch_norms == 0:
        hint = (f"the course's {name} has no batch norm (the DCGAN paper's discriminator has some; this one is "
                "small enough to train without): remove the BatchNormalization layers.")
    elif count == 0:
        hint = ("no batch norm: the DCGAN generator normalises after the projection and after every "
                "transposed convolution but the last, layers.BatchNormalization() before each ReLU.")
    else:
        hint = (f"{count} BatchNormalization layers, expected {ref.batch_norms}: one after the projection and one "
                "after every transposed convolution but the last (none on the output).")
    fail(check, f"your {name} has {count} batch-norm layers, expected {ref.batch_norms}.", hint + _layers_text(model))


def _chain(kernels):
    if not kernels:
        return "(no Dense layers)"
    return " -> ".join([str(kernels[0][0])] + [str(kernel[1]) for kernel in kernels])


def _dense_hints(model, ref):
    kernels = [tuple(layer.kernel.shape) for layer in all_layers(model) if isinstance(layer, layers.Dense)]
    expected = ref.dense_kernels
    if len(kernels) < len(expected):
        return [f"missing a layer: your Dense layers go {_chain(kernels)}, expected {_chain(expected)}."]
    if len(kernels) > len(expected):
        return [f"a layer too many: your Dense layers go {_chain(kernels)}, expected {_chain(expected)}."]
    hints = []
    for index, (kernel, want) in enumerate(zip(kernels, expected), start=1):
        if index == 1 and kernel[0] != want[0]:
            hints.append(f"the first Dense layer takes inputs of size {kernel[0]}, expected {want[0]}.")
        if kernel[1] != want[1]:
            hints.append(f"wrong width: Dense layer {index} has {kernel[1]} units, expected {want[1]}.")
    return hints


def _check_weights(check, name, model, ref):
    """The weights' shapes and the parameter count, against the plan's."""
    shapes = [tuple(weight.shape) for weight in model.weights]
    if shapes == values.weight_shapes(ref.plan) and model.count_params() == ref.params:
        return
    hints = _dense_hints(model, ref)
    model_layers = list(all_layers(model))
    without_bias = [type(layer).__name__ for layer in model_layers
                    if isinstance(layer, (layers.Dense, layers.Conv2D, layers.Conv2DTranspose)) and not layer.use_bias]
    if without_bias:
        hints.append(f"{', '.join(dict.fromkeys(without_bias))} without bias (use_bias=False): keep the biases"
                     + ("; a bias just before batch norm is redundant, but the course's table counts it."
                        if ref.batch_norms else "."))
    expected_classes = ref.layer_classes
    other = [type(layer).__name__ for layer in model_layers if layer.weights and type(layer).__name__ not in expected_classes]
    if other:
        hints.append(f"layers with weights other than {' and '.join(expected_classes)} "
                     f"({', '.join(dict.fromkeys(other))}): the course's {name} has none.")
    if not hints:
        hints.append("check the layer sizes against the table.")
    fail(check, f"your {name} has {model.count_params():,} parameters, expected {ref.params:,}.",
         " ".join(hints) + _layers_text(model))


def _check_values(check, name, model, ref):
    """With fixed weights, the outputs on the fixed inputs against the expected ones."""
    weights = values.fixed_weights(ref.plan, int(expected_values()["weights_seed"]))
    with values.full_float32_matmuls():
        model.set_weights(weights)
        output = run_model(check, name, model, ref.x)
    outputs = tensor_values(check, name, output, (len(ref.x), *ref.output_shape))
    error = scaled_error(ref.compare(outputs), ref.expected)
    if error > MODEL_TOLERANCE:
        with values.full_float32_matmuls():
            hint = _value_hint(ref, weights, outputs)
        fail(
            check,
            f"with fixed weights, your {name}'s outputs differ from the expected ones (max relative error {error:.1e}).",
            (hint or "the layers and their sizes are right, so check the activations and the order of the layers.")
            + _layers_text(model),
        )
    return error


def _check_output_range(check, name, model, ref):
    """With the model's own initial weights: a generator's images lie in [-1, 1]."""
    if ref.role != "generator":
        return
    z = np.random.default_rng(0).uniform(-3.0, 3.0, size=(4, ref.x.shape[1])).astype(np.float32)
    images = np.asarray(run_model(check, name, model, z))
    if np.min(images) < -1.0 or np.max(images) > 1.0:
        fail(check, f"your {name} makes values from {np.min(images):.2f} to {np.max(images):.2f}, outside [-1, 1].",
             "forgot the tanh on the last layer? Images are in [-1, 1]." + _layers_text(model))


def check_noise_dim(check, builder, ref):
    """A generator builder must use its noise_dim argument as the input size."""
    small = 8
    name = f"{ref.builder_name}({small})"
    noise = np.zeros((2, small), np.float32)
    model = build_model(check, ref.builder_name, builder, small)
    if not model.weights:  # built on its first call (no keras.Input)
        run_model(check, name, model, noise)
    first_kernel = next((tuple(w.shape) for w in model.weights if len(w.shape) == 2), None)
    wanted = (small, ref.dense_kernels[0][1])
    if first_kernel != wanted:
        fail(check, f"{name} has a first layer of shape {first_kernel}, expected {wanted}.",
             "use noise_dim as the input size (keras.Input(shape=(noise_dim,))).")
    tensor_values(check, name, run_model(check, name, model, noise), (2, *ref.output_shape))


def _linear(steps, weights, h):
    """Run the steps of a plan between two activations, in float64 (they consume ``weights`` in order)."""
    for step in steps:
        kind = step[0]
        if kind in _WEIGHTS_PER_STEP:
            taken = [next(weights).astype(np.float64) for _ in range(_WEIGHTS_PER_STEP[kind])]
        if kind in ("dense", "conv", "deconv"):
            kernel, bias = taken
        if kind == "dense":
            h = tf.matmul(h, kernel) + bias
        elif kind == "conv":
            h = tf.nn.conv2d(h, kernel, strides=step[4], padding="SAME") + bias
        elif kind == "deconv":
            stride = step[4]
            shape = [h.shape[0], h.shape[1] * stride, h.shape[2] * stride, kernel.shape[2]]
            h = tf.nn.conv2d_transpose(h, kernel, shape, strides=stride, padding="SAME") + bias
        elif kind == "bn":
            gamma, beta, mean, variance = taken
            h = (h - mean) / tf.sqrt(variance + 1e-3) * gamma + beta
        elif kind == "flatten":
            h = tf.reshape(h, (h.shape[0], -1))
        elif kind == "reshape":
            h = tf.reshape(h, (-1, *step[1]))
    return h


def forward(plan, weights, x, activations, batch_norm_after_activation=False, cache=None):
    """The plan's forward pass with the given activations, in float64.

    Every ("act",) step applies the next name of ``activations`` (a key of
    ``ACTIVATIONS``). ``cache``, a dict kept between calls with the same plan,
    weights and x, reuses the work done for a common prefix of activations.
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
    counts = [sum(_WEIGHTS_PER_STEP.get(step[0], 0) for step in segment) for segment in segments + [current]]
    starts = np.cumsum([0] + counts)
    h = tf.constant(x, tf.float64)
    for index, segment in enumerate(segments):
        key = tuple(activations[:index])
        if key not in cache:
            cache[key] = np.asarray(_linear(segment, iter(weights[starts[index]:]), h))
        h = tf.constant(ACTIVATIONS[activations[index]](cache[key]), tf.float64)
    return np.asarray(_linear(current, iter(weights[starts[len(segments)]:]), h), np.float64)


def activation_candidates(correct, slots):
    """Wrong activation choices, likeliest first: one changed, or the same in every hidden layer (any output);
    then, when there are at most MAX_COMBINATIONS, every other combination."""
    seen = {tuple(correct)}
    likely = [correct[:i] + [option] + correct[i + 1:] for i, options in enumerate(slots) for option in options]
    hidden = len(correct) - 1
    likely += [[option] * hidden + [out] for option in slots[0] for out in slots[-1]]
    rest = itertools.product(*slots) if math.prod(len(options) for options in slots) <= MAX_COMBINATIONS else ()
    for candidate in itertools.chain(likely, rest):
        if tuple(candidate) not in seen:
            seen.add(tuple(candidate))
            yield list(candidate)


def _activation_hint(found, ref):
    phrases = []
    for position, (got, want) in enumerate(zip(found, ref.correct)):
        if got != want:
            where = ref.positions[position]
            phrases.append((ref.hints.get((got, want)) or f"{got} {where}, expected {want}").format(where=where))
    return "; ".join(phrases) + "."


def _value_hint(ref, weights, outputs):
    compared, cache = ref.compare(outputs), {}
    for found in activation_candidates(ref.correct, ref.slots):
        output = ref.compare(forward(ref.plan, weights, ref.x, found, cache=cache))
        if scaled_error(compared, output) < MISTAKE_MATCH_TOLERANCE:
            return "wrong activation: " + _activation_hint(found, ref)
    if ref.batch_norms:
        output = ref.compare(forward(ref.plan, weights, ref.x, ref.correct, batch_norm_after_activation=True))
        if scaled_error(compared, output) < MISTAKE_MATCH_TOLERANCE:
            return ("batch norm comes after the ReLU: the DCGAN order is Dense or Conv2DTranspose -> "
                    "BatchNormalization -> ReLU.")
    if ref.role == "discriminator" and np.all((outputs > 0) & (outputs < 1)):
        return "all outputs are in (0, 1): a sigmoid on the output? The discriminator returns logits."
    if ref.role == "generator" and np.max(np.abs(outputs)) > 1.0:
        return "outputs outside [-1, 1]: forgot the tanh on the last layer?"
    return None

# Activations to try, the right one first.
_MLP_HIDDEN_D = ["leaky ReLU (slope 0.01)", "leaky ReLU (slope 0.3)", "leaky ReLU (slope 0.2)", "ReLU", "no activation", "tanh", "sigmoid"]
_MLP_OUTPUT_D = ["no activation", "sigmoid", "leaky ReLU (slope 0.01)", "leaky ReLU (slope 0.3)", "ReLU", "tanh"]
_MLP_HIDDEN_G = ["ReLU", "leaky ReLU (slope 0.01)", "leaky ReLU (slope 0.3)", "no activation", "tanh", "sigmoid"]
_DC_HIDDEN_D = ["leaky ReLU (slope 0.2)", "leaky ReLU (slope 0.3)", "leaky ReLU (slope 0.01)", "ReLU", "no activation", "tanh", "sigmoid"]
_DC_OUTPUT_D = ["no activation", "sigmoid", "tanh", "ReLU", "leaky ReLU (slope 0.2)"]
_DC_HIDDEN_G = ["ReLU", "leaky ReLU (slope 0.2)", "leaky ReLU (slope 0.3)", "leaky ReLU (slope 0.01)", "no activation", "tanh", "sigmoid"]
_OUTPUT_G = ["tanh", "no activation", "sigmoid", "ReLU"]
_DOG_SAMPLED = (slice(None), slice(None, None, values.DOG_STRIDE), slice(None, None, values.DOG_STRIDE))


def discriminator_reference():
    expected = expected_values()
    return ModelReference("discriminator", "discriminator", (), values.DISCRIMINATOR_PLAN, expected["discriminator_x"],
                          expected["discriminator_out"], (1,), _MLP_HIDDEN_D, _MLP_OUTPUT_D, MLP_HINTS)


def generator_reference(noise_dim=NOISE_DIM):
    expected = expected_values()
    return ModelReference("generator", "generator", (noise_dim,), values.generator_plan(noise_dim),
                          expected["generator_z"], expected["generator_out"], (784,), _MLP_HIDDEN_G, _OUTPUT_G, MLP_HINTS)


def dc_discriminator_reference():
    expected = expected_values()
    return ModelReference("dc_discriminator", "discriminator", (), values.DC_DISCRIMINATOR_PLAN,
                          values.dc_discriminator_input(expected), expected["dc_discriminator_out"], (1,),
                          _DC_HIDDEN_D, _DC_OUTPUT_D, DCGAN_HINTS)


def dc_generator_reference(noise_dim=NOISE_DIM):
    expected = expected_values()
    return ModelReference("dc_generator", "generator", (noise_dim,), values.dc_generator_plan(noise_dim),
                          expected["generator_z"], expected["dc_generator_out"], (28, 28, 1), _DC_HIDDEN_G, _OUTPUT_G,
                          DCGAN_HINTS)


def dog_discriminator_reference(width=32):
    return ModelReference("dog_discriminator", "discriminator", (), values.dog_discriminator_plan(width),
                          values.dog_inputs()["dog_discriminator_x"], expected_values()["dog_discriminator_out"], (1,),
                          _DC_HIDDEN_D, _DC_OUTPUT_D, DCGAN_HINTS)


def dog_generator_reference(noise_dim=NOISE_DIM, width=32):
    return ModelReference("dog_generator", "generator", (noise_dim,), values.dog_generator_plan(noise_dim, width),
                          values.dog_inputs()["dog_generator_z"], expected_values()["dog_generator_out"], (64, 64, 3),
                          _DC_HIDDEN_G, _OUTPUT_G, DCGAN_HINTS, compare=lambda outputs: outputs[_DOG_SAMPLED])


def _check_builder(check, builder, make_reference, takes_width=False):
    """The whole check of a builder: its model, then a generator's noise_dim, then (dogs) its width argument."""
    reference = make_reference()
    error = check_model(check, builder, reference)
    if reference.role == "generator":
        check_noise_dim(check, builder, reference)
    if takes_width and accepts(builder, "width"):
        small = make_reference(width=8)
        name = f"{small.builder_name}(width=8)"
        check_conv_layers(check, name, build_model(check, name, lambda: builder(*small.args, width=8)), small)
    passed(check, error)


def test_discriminator(discriminator):
    """Check the MLP discriminator builder: layers, parameters (267,009), outputs with fixed weights."""
    _check_builder("test_discriminator", discriminator, discriminator_reference)


def test_generator(generator):
    """Check the MLP generator builder: layers, parameters, outputs with fixed weights, noise_dim."""
    _check_builder("test_generator", generator, generator_reference)


def test_dc_discriminator(dc_discriminator):
    """Check the DCGAN discriminator builder (28x28x1): strided convolutions, no pooling, logits out.

    Checks the layers (two Conv2D 4x4 stride 2 with 32 and 64 filters, no pooling,
    no batch norm, Flatten, Dense(1)), the parameter count (36,513) and the outputs
    with fixed weights (leaky ReLU 0.2 after each convolution, no sigmoid).
    """
    _check_builder("test_dc_discriminator", dc_discriminator, dc_discriminator_reference)


def test_dc_generator(dc_generator):
    """Check the DCGAN generator builder (noise -> 28x28x1): transposed convolutions, batch norm, tanh out.

    Checks the layers (Dense 7*7*64, two Conv2DTranspose 4x4 stride 2 with 32 and 1
    filters, two batch norms), the parameter count (350,177), the outputs with
    fixed weights (ReLU after each batch norm, tanh out), that images lie in
    [-1, 1], and that ``noise_dim`` sets the input size.
    """
    _check_builder("test_dc_generator", dc_generator, dc_generator_reference)


def test_dog_discriminator(dog_discriminator):
    """Check the dogs discriminator builder (64x64x3): four Conv2D 4x4 stride 2, leaky ReLU 0.2, logits out."""
    _check_builder("test_dog_discriminator", dog_discriminator, dog_discriminator_reference, takes_width=True)


def test_dog_generator(dog_generator):
    """Check the dogs generator builder (noise -> 64x64x3): four Conv2DTranspose 4x4 stride 2, batch norm, tanh out."""
    _check_builder("test_dog_generator", dog_generator, dog_generator_reference, takes_width=True)
