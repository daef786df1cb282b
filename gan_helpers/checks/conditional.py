"""Checks of notebook 12's exercises: the conditional generator G([z, y]) and discriminator D([x, y]).

The model checks of notebooks 02-08 (:mod:`gan_helpers.checks.models`) compare a model
with one architecture under fixed weights. Here several designs are right: the label may
become a one-hot vector or a learned embedding, and the discriminator may concatenate
it to the image or its features, or project it onto the features (Miyato & Koyama,
2018). So these checks test what every right design does, and what each plausible
mistake breaks. Each builds the learner's model, gives it deterministic weights
(:func:`set_fixed_weights`: the same numbers on every run, whatever Keras drew) and
checks:

- it takes two inputs, ``[noise or images, labels]``, labels int32 of shape (N,), and
  returns images in [-1, 1] (G) or one logit per image (D);
- the label is used: another label, another output;
- each class is its own vector: a label fed as a number makes class 9 "further" from
  class 0 than class 1 is; with one vector per class every pair is as far apart;
- the same inputs give the same output; the noise is used (G); the label's effect
  depends on the image (D: a label that only shifts the score cannot judge a pair);
- logits out of D (no sigmoid), ``noise_dim`` and ``num_classes`` respected.
"""

import math
import re

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from gan_helpers.checks.engine import fail, is_stub, student_error, tensor_values
from gan_helpers.checks.models import all_layers, build_model, describe_layers, pair
from gan_helpers.checks.values import full_float32_matmuls
from gan_helpers.models import NOISE_DIM, NUM_CLASSES

# Seed of the weights the checks load into a learner's model, and of their inputs.
WEIGHTS_SEED = 1411
INPUTS_SEED = 1784
# A label "changes the output" when the largest difference it makes is at least this
# share of the output's typical size; float32 rounding alone stays below 1e-6.
CHANGE_TOLERANCE = 1e-4
# The largest ratio of distances between outputs, labels far apart over neighbours, that passes
# (_check_one_vector_per_class: about 1 with one vector per class, about 7 for a label as a number).
ORDER_RATIO_LIMIT = 3.0
# Probing images are scaled by this much to tell logits (which grow with the input, the
# network being nearly linear in it) from an output squashed by a sigmoid or tanh.
PROBE_SCALE = 1000.0

_TWO_INPUTS = ("keras.Model([noise, labels], images) with labels = keras.Input(shape=(), dtype='int32'): "
               "class indices, shape (batch,).")
_AS_VECTORS = ("classes have no order: give each class its own vector, a one-hot vector (tf.one_hot(labels, "
               "num_classes), layers.CategoryEncoding(num_classes, output_mode='one_hot')) or a learned one "
               "(layers.Embedding(num_classes, dim)).")
_JOIN_AXIS = "join along the last axis, the features: layers.Concatenate() (axis=-1, the default), not axis=0 (the batch)."
_FLATTEN = ("labels declared with shape (1,) give an Embedding output of shape (batch, 1, dim): flatten it "
            "(layers.Flatten()) or declare the labels with keras.Input(shape=(), dtype='int32').")


def _kernel_fan_in(layer, shape):
    if isinstance(layer, layers.Conv2DTranspose):
        return shape[0] * shape[1] * shape[3] / math.prod(pair(layer.strides))
    return float(np.prod(shape[:-1]))


def set_fixed_weights(model, seed=WEIGHTS_SEED):
    """Give ``model`` weights drawn from ``seed``, whatever its design, so that a check sees the same numbers every run.

    Kernels uniform in +/- sqrt(3 / fan_in) (activations of order 1 through the layers),
    embedding tables standard normal (as large as a one-hot vector's entries), biases and
    shifts small, batch norm's scales and variances near 1. Weights of other kinds keep
    the values Keras gave them.
    """
    for index, (layer, variable) in enumerate((layer, variable) for layer in all_layers(model)
                                              for variable in layer.weights):
        rng = np.random.default_rng((seed, index))
        shape, name = tuple(variable.shape), variable.name.split("/")[-1]
        if name == "kernel" and len(shape) >= 2:
            limit = np.sqrt(3.0 / max(_kernel_fan_in(layer, shape), 1.0))
            value = rng.uniform(-limit, limit, shape)
        elif name == "embeddings":
            value = rng.normal(0.0, 1.0, shape)
        elif name in ("bias", "beta", "moving_mean"):
            value = rng.uniform(-0.1, 0.1, shape)
        elif name in ("gamma", "moving_variance"):
            value = rng.uniform(0.8, 1.2, shape)
        else:
            continue
        variable.assign(value.astype(variable.dtype))


def _build(check, name, make):
    """``build_model`` with fixed weights; the likely cause added when building raised a known kind of error."""
    try:
        model = build_model(check, name, make)
    except AssertionError as failure:
        cause = failure.__cause__
        hint = None if cause is None or is_stub(cause) else _call_hint(cause, building=True)
        if hint is None:
            raise
        raise AssertionError(f"{failure}\nHint: {hint}") from cause
    set_fixed_weights(model)
    return model


def _input_count(model):
    try:
        return len(model.inputs)
    except (AttributeError, TypeError, ValueError):  # built on its first call: no declared inputs
        return None


def _call(check, name, model, first, labels, first_name):
    """The model's output on ``[first, labels]``; errors become failures with the likely cause."""
    batch = (f"[{first_name} of shape {tuple(first.shape)}, labels of shape {tuple(labels.shape)} (int32)]")
    if _input_count(model) == 1:
        fail(check, f"your {name} takes one input; a conditional model takes two, {first_name} and labels.",
             _TWO_INPUTS + f" Your model's layers: {describe_layers(model)}.")
    try:
        with full_float32_matmuls():
            return model([tf.constant(first), tf.constant(labels)], training=False)
    except Exception as error:
        raise student_error(check, f"calling your {name} on {batch} raised", error, _call_hint(error)) from error


def _call_hint(error, building=False):
    text = str(error)
    if "infer the shape of the Lambda" in text:
        return ("Keras works out a Lambda layer's output shape by calling its function on a stand-in float32 "
                "input, and tf.one_hot refuses float indices. Give the Lambda its shape, layers.Lambda(lambda t: "
                "tf.one_hot(t, num_classes), output_shape=(num_classes,)), or use keras.ops.one_hot(t, num_classes), "
                "which takes any indices.")
    if "Concatenate" in text or "concatenat" in text.lower():
        shapes = re.findall(r"\(None(?:, \w+)*\)", text)
        ranks = {shape.count(",") for shape in shapes}
        if len(shapes) >= 2 and len(ranks) > 1:
            return "the tensors to join have different ranks: " + _FLATTEN
        return _JOIN_AXIS if len(shapes) >= 2 else _JOIN_AXIS + " Or: " + _FLATTEN
    if "int32" in text and ("float" in text or "dtype" in text.lower()):
        return ("the labels are int32 class indices: turn them into vectors before joining them to float "
                "tensors; " + _AS_VECTORS)
    if "indices" in text and ("out of range" in text or "not in" in text):
        return "a label is outside the Embedding's table: it needs num_classes rows, layers.Embedding(num_classes, dim)."
    return None if building else "it takes a list of two tensors, " + _TWO_INPUTS


def _values(check, name, output, shape):
    """A float32 output of ``shape`` as numpy (fails with a hint otherwise)."""
    if tf.is_tensor(output) and tuple(output.shape) != shape:
        actual = tuple(output.shape)
        hint = None
        if actual and actual[0] == 2 * shape[0]:
            hint = "twice the batch: the noise and the label's vector were joined along the batch axis: " + _JOIN_AXIS
        elif len(actual) == len(shape) + 1 and 1 in actual[1:]:
            hint = "one dimension too many: " + _FLATTEN
        elif len(shape) == 2 and shape[1] == 1:
            hint = "one logit per image: end with Dense(1) (plus the projection term), shape (batch, 1)."
        fail(check, f"{name} returned shape {actual}, expected {shape}.", hint)
    return tensor_values(check, name, output, shape)


def _changes(a, b):
    """Whether two outputs differ by more than rounding."""
    scale = max(float(np.mean(np.abs(a))), float(np.mean(np.abs(b))), 1e-6)
    return float(np.max(np.abs(a - b))) > CHANGE_TOLERANCE * scale


def _check_one_vector_per_class(check, per_label, model_does):
    """Fail when the label enters as a number; return the ratio of the distances (see ORDER_RATIO_LIMIT).

    ``per_label`` (10, examples, ...): the outputs for labels 0..9. The ratio is the mean distance between
    outputs of labels at least 6 apart (0 and 9, 1 and 7, ...) over that of neighbouring labels (0 and 1,
    1 and 2, ...): about 1 when each class has its own vector, about 7 when the label enters as a number.
    """
    flat = per_label.reshape(per_label.shape[0], per_label.shape[1], -1).astype(np.float64)
    gaps = np.abs(np.arange(len(flat))[:, None] - np.arange(len(flat))[None, :])
    distances = np.linalg.norm(flat[:, None] - flat[None, :], axis=-1).mean(axis=-1)
    ratio = float(distances[gaps >= 6].mean() / max(distances[gaps == 1].mean(), 1e-12))
    if ratio > ORDER_RATIO_LIMIT:
        fail(check, f"the label enters as a number: your {model_does} labels 6 to 9 apart {ratio:.1f} times as "
                    "differently as neighbouring labels (with one vector per class, every pair differs about as "
                    "much).", _AS_VECTORS)
    return ratio


def _inputs():
    """Fixed noise (8, 96), other noise (8, 96) and images (16, 28, 28, 1): smooth blobs in [-1, 1]."""
    rng = np.random.default_rng(INPUTS_SEED)
    noise = rng.uniform(-1.0, 1.0, (8, NOISE_DIM)).astype(np.float32)
    other_noise = rng.uniform(-1.0, 1.0, (8, NOISE_DIM)).astype(np.float32)
    images = np.tanh(3.0 * keras.ops.convert_to_numpy(tf.image.resize(rng.normal(size=(16, 7, 7, 1)), (28, 28))))
    return noise, other_noise, images.astype(np.float32)


def _per_label(check, name, model, first, first_name, labels):
    """Outputs for each label in ``labels`` with the same ``first`` inputs: (len(labels), batch, ...)."""
    return np.stack([np.asarray(_call(check, name, model, first, np.full(len(first), label, np.int32), first_name))
                     for label in labels])


def _model_and_output(check, name, builder, first, first_name, shape):
    """Build the learner's model with fixed weights and run it twice on ``first`` and the labels 0, 1, ...:
    (model, labels, output), the output of shape (batch, *shape) and the same both times."""
    model = _build(check, name, builder)
    labels = np.arange(len(first), dtype=np.int32) % NUM_CLASSES
    outputs = [_values(check, f"{name}()", _call(check, name, model, first, labels, first_name), (len(first), *shape))
               for _ in range(2)]
    if not np.allclose(outputs[0], outputs[1], atol=1e-6):
        fail(check, f"the same {first_name} and labels gave different outputs on two calls.",
             "nothing random inside the model: a GAN's only randomness is its noise input (and no Dropout here).")
    return model, labels, outputs[0]


def _check_classes_argument(check, make, name, first, first_name):
    """Built with num_classes=12, labels 10 and 11 must work and differ."""
    model = _build(check, name, make)
    pair = _per_label(check, f"{name} (built with num_classes=12)", model, first[:2], first_name, [10, 11])
    if not _changes(pair[0], pair[1]):
        fail(check, f"built with num_classes=12, your {name} draws labels 10 and 11 the same.",
             "use the num_classes argument for the size of the label's vector (tf.one_hot(labels, num_classes), "
             "layers.Embedding(num_classes, dim)), not a fixed 10.")


def test_conditional_generator(conditional_generator):
    """Check a conditional generator builder ``conditional_generator(noise_dim=96, num_classes=10)``.

    Its model takes ``[noise (N, noise_dim), labels (N,) int32]`` and returns images
    (N, 28, 28, 1) in [-1, 1]; the label and the noise both change the image, each class
    has its own vector (one-hot or embedding, not the label as a number), the same inputs
    give the same image, and ``noise_dim`` and ``num_classes`` are used.
    """
    check, name = "test_conditional_generator", "conditional_generator"
    noise, other_noise, _ = _inputs()
    model, labels, images = _model_and_output(check, name, conditional_generator, noise, "noise", (28, 28, 1))
    if images.min() < -1.0 or images.max() > 1.0:
        fail(check, f"your generator makes values from {images.min():.2f} to {images.max():.2f}, outside [-1, 1].",
             "forgot the tanh on the last layer? Images are in [-1, 1].")
    per_label = _per_label(check, name, model, noise, "noise", range(NUM_CLASSES))
    if not _changes(per_label[0], per_label[7]):
        fail(check, "the label is ignored: with the same noise, labels 0 and 7 give the same image.",
             "join the label's vector to the noise (layers.Concatenate()([noise, label_vector])) and feed the "
             "joined vector, not the noise alone, to the rest of the generator.")
    other = np.asarray(_call(check, name, model, other_noise, labels, "noise"))
    if not _changes(images, other):
        fail(check, "the noise is ignored: with the same labels, other noise gives the same images.",
             "the generator's input is the noise joined with the label's vector.")
    ratio = _check_one_vector_per_class(check, per_label, "generator draws")
    small = _build(check, name, lambda: conditional_generator(noise_dim=8))
    try:
        with full_float32_matmuls():
            output = small([tf.zeros((2, 8)), tf.constant([1, 2], tf.int32)], training=False)
    except Exception as error:
        raise student_error(check, f"{name}(noise_dim=8) on noise of shape (2, 8) raised", error,
                            "use noise_dim as the size of the noise input: keras.Input(shape=(noise_dim,)).") from error
    _values(check, f"{name}(noise_dim=8)", output, (2, 28, 28, 1))
    _check_classes_argument(check, lambda: conditional_generator(num_classes=12), name, noise, "noise")
    print(f"{check} passed (two inputs, images in [-1, 1]; label and noise both used; one vector per class: "
          f"far-apart labels {ratio:.2f}x as different as neighbours)")


def test_conditional_discriminator(conditional_discriminator):
    """Check a conditional discriminator builder ``conditional_discriminator(num_classes=10)``.

    Its model takes ``[images (N, 28, 28, 1), labels (N,) int32]`` and returns logits
    (N, 1) (no sigmoid); the label changes the score in a way that depends on the image
    (concatenated to the image or features, or projected onto them), each class has its
    own vector, and ``num_classes`` is used.
    """
    check, name = "test_conditional_discriminator", "conditional_discriminator"
    _, _, images = _inputs()
    model, _, _ = _model_and_output(check, name, conditional_discriminator, images, "images", (1,))
    probe = _per_label(check, name, model, PROBE_SCALE * images, "images", range(NUM_CLASSES))
    if np.all((probe >= 0.0) & (probe <= 1.0)):
        fail(check, "the scores stay in [0, 1] even for extreme images: a sigmoid on the output?",
             "the discriminator returns logits; the loss applies the sigmoid itself, stably.")
    if np.all(np.abs(probe) <= 1.0):
        fail(check, "the scores stay in [-1, 1] even for extreme images: a tanh on the output?",
             "the discriminator returns logits, unbounded scores: nothing after the last Dense layer.")
    per_label = _per_label(check, name, model, images, "images", range(NUM_CLASSES))
    if not _changes(per_label[0], per_label[7]):
        fail(check, "the label is ignored: labels 0 and 7 give the same scores for the same images.",
             "let the label reach the score: concatenate its vector to the image (as constant feature maps) or to "
             "the features, or add the projection <embedding(y), features> to the score.")
    shift = per_label[7, :, 0] - per_label[0, :, 0]
    if np.ptp(shift) <= CHANGE_TOLERANCE * max(float(np.mean(np.abs(per_label))), 1e-6):
        fail(check, "the label only shifts the score by the same amount for every image, so D cannot tell "
                    "whether an image matches its label.",
             "the label must meet the image: take the inner product of its embedding with the image's features "
             "(layers.Dot(axes=1)([embedding, features]), a vector as long as the features, not 1), or "
             "concatenate it to the image or features before the layers that follow.")
    ratio = _check_one_vector_per_class(check, per_label, "discriminator scores")
    _check_classes_argument(check, lambda: conditional_discriminator(num_classes=12), name, images, "images")
    print(f"{check} passed (two inputs, logits out; the label's effect depends on the image; one vector per "
          f"class: far-apart labels {ratio:.2f}x as different as neighbours)")
