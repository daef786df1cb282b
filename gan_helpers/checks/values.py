"""The fixed inputs and expected outputs that ``gan_helpers.checks`` compares against.

They live in ``gan_helpers/reference/checks.npz``, shipped with the package, and
are recomputed from the reference implementations (``ops``, ``models``,
``losses``) by one command::

    python -m gan_helpers regenerate-checks            # rewrites the shipped file
    python -m gan_helpers regenerate-checks -o x.npz   # writes elsewhere

Inputs come from seeded numpy generators (the same numbers on every platform);
model weights are not stored but drawn the same way by :func:`fixed_weights`
(MLP models) and :func:`fixed_model_weights` (the DCGAN models, whose weights are
listed with their kinds, e.g. :data:`DC_DISCRIMINATOR_WEIGHTS`).
Running the command twice gives identical arrays.
"""

import contextlib
import pathlib

import numpy as np
import tensorflow as tf

from gan_helpers import losses, models, ops

# The file the checks read.
CHECKS_FILE = pathlib.Path(__file__).resolve().parents[1] / "reference" / "checks.npz"

# Seed of the deterministic weights the model checks load into a student's model.
WEIGHTS_SEED = 231
# Seed of the fixed inputs.
INPUTS_SEED = 2014

# Layer shapes (kernel, bias, kernel, bias, ...) of the reference MLP models.
DISCRIMINATOR_SHAPES = [(784, 256), (256,), (256, 256), (256,), (256, 1), (1,)]


def generator_shapes(noise_dim=models.NOISE_DIM):
    """Weight shapes of the reference MLP generator for a given noise size."""
    return [(noise_dim, 1024), (1024,), (1024, 1024), (1024,), (1024, 784), (784,)]


def fixed_weights(shapes, seed=WEIGHTS_SEED):
    """Deterministic float32 weights for a model whose weights have these shapes.

    Kernels (2-D) are uniform in +/- sqrt(6 / fan_in), which keeps activations of
    order 1 through the layers; biases (1-D) are uniform in [-0.5, 0.5], so a
    missing bias shows. Each weight has its own stream, seeded by ``(seed, index)``.
    """
    weights = []
    for index, shape in enumerate(shapes):
        rng = np.random.default_rng((seed, index))
        limit = np.sqrt(6.0 / shape[0]) if len(shape) == 2 else 0.5
        weights.append(rng.uniform(-limit, limit, size=shape).astype(np.float32))
    return weights


@contextlib.contextmanager
def full_float32_matmuls():
    """Run TensorFlow matmuls in true float32 (no TF32 on recent NVIDIA GPUs).

    TF32 keeps only 10 bits of mantissa, which would blur the differences the
    checks look for (a leaky ReLU slope of 0.01 against 0). Restores the setting.
    """
    was_enabled = tf.config.experimental.tensor_float_32_execution_enabled()
    tf.config.experimental.enable_tensor_float_32_execution(False)
    try:
        yield
    finally:
        tf.config.experimental.enable_tensor_float_32_execution(was_enabled)


def _inputs():
    """The fixed inputs of every check, float32, from one seeded generator."""
    rng = np.random.default_rng(INPUTS_SEED)
    leaky_x = rng.normal(0.0, 2.0, size=(4, 6))
    leaky_x[0, 0] = 0.0
    return {
        "leaky_relu_x": leaky_x.astype(np.float32),
        "discriminator_x": rng.uniform(-1.0, 1.0, size=(16, 784)).astype(np.float32),
        "generator_z": rng.uniform(-1.0, 1.0, size=(8, models.NOISE_DIM)).astype(np.float32),
        "logits_real": rng.normal(0.5, 2.0, size=(10, 1)).astype(np.float32),
        "logits_fake": rng.normal(-0.5, 2.0, size=(10, 1)).astype(np.float32),
        # Large logits: a loss computed as log(sigmoid(x)) gives inf here.
        "logits_real_extreme": np.array([[200.0], [-200.0], [100.0], [-100.0]], np.float32),
        "logits_fake_extreme": np.array([[-200.0], [200.0], [-100.0], [100.0]], np.float32),
        "scores_real": rng.normal(0.6, 1.0, size=(10, 1)).astype(np.float32),
        "scores_fake": rng.normal(0.3, 1.0, size=(10, 1)).astype(np.float32),
    }


def _model_output(model, shapes, x):
    model.set_weights(fixed_weights(shapes))
    return model(tf.constant(x), training=False).numpy()


def compute_expected():
    """All fixed inputs and the reference outputs on them, as a dict of numpy arrays."""
    values = _inputs()
    with full_float32_matmuls():
        leaky_x = tf.constant(values["leaky_relu_x"])
        values["leaky_relu_out"] = ops.leaky_relu(leaky_x).numpy()
        values["leaky_relu_out_alpha_0.2"] = ops.leaky_relu(leaky_x, alpha=0.2).numpy()
        values["discriminator_out"] = _model_output(
            models.discriminator(), DISCRIMINATOR_SHAPES, values["discriminator_x"]
        )
        values["generator_out"] = _model_output(
            models.generator(), generator_shapes(), values["generator_z"]
        )
    real, fake = tf.constant(values["logits_real"]), tf.constant(values["logits_fake"])
    values["d_loss"] = losses.discriminator_loss(real, fake).numpy()
    values["g_loss"] = losses.generator_loss(fake).numpy()
    real_x, fake_x = tf.constant(values["logits_real_extreme"]), tf.constant(values["logits_fake_extreme"])
    values["d_loss_extreme"] = losses.discriminator_loss(real_x, fake_x).numpy()
    values["g_loss_extreme"] = losses.generator_loss(fake_x).numpy()
    scores_real, scores_fake = tf.constant(values["scores_real"]), tf.constant(values["scores_fake"])
    values["ls_d_loss"] = losses.ls_discriminator_loss(scores_real, scores_fake).numpy()
    values["ls_g_loss"] = losses.ls_generator_loss(scores_fake).numpy()
    values["weights_seed"] = np.array(WEIGHTS_SEED)
    values.update(compute_dc_expected(values))
    return values


def write_expected(path=CHECKS_FILE):
    """Recompute the expected values and save them to ``path`` (an .npz file)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    values = compute_expected()
    with open(path, "wb") as f:
        np.savez(f, **values)
    return path


def load_expected(path=CHECKS_FILE):
    """The stored expected values, as a dict of numpy arrays."""
    with np.load(path) as data:
        return {key: data[key] for key in data.files}


# ---------------------------------------------------------------------------
# DCGAN models (MNIST 28x28x1 and dogs 64x64x3)
# ---------------------------------------------------------------------------
#
# A convolutional model's weights are listed as (shape, kind) pairs, in the order
# of ``model.weights``; the kind says how ``fixed_model_weights`` draws them:
# "dense" (in, out), "conv" (kh, kw, in, out), "deconv" (kh, kw, out, in) of a
# stride-2 Conv2DTranspose, "bias", and batch norm's "gamma", "beta", "mean", "variance".

DC_DISCRIMINATOR_WEIGHTS = [
    ((4, 4, 1, 32), "conv"), ((32,), "bias"),
    ((4, 4, 32, 64), "conv"), ((64,), "bias"),
    ((7 * 7 * 64, 1), "dense"), ((1,), "bias"),
]  # fmt: skip

_BATCH_NORM = ("gamma", "beta", "mean", "variance")


def _batch_norm(size):
    return [((size,), kind) for kind in _BATCH_NORM]


def dc_generator_weights(noise_dim=models.NOISE_DIM):
    """(shape, kind) of the reference DCGAN generator's weights for a given noise size."""
    return (
        [((noise_dim, 7 * 7 * 64), "dense"), ((7 * 7 * 64,), "bias")] + _batch_norm(7 * 7 * 64)
        + [((4, 4, 32, 64), "deconv"), ((32,), "bias")] + _batch_norm(32)
        + [((4, 4, 1, 32), "deconv"), ((1,), "bias")]
    )


def dog_discriminator_weights(width=32):
    """(shape, kind) of the reference dogs discriminator's weights."""
    spec, channels_in = [], 3
    for channels in (width, 2 * width, 4 * width, 8 * width):
        spec += [((4, 4, channels_in, channels), "conv"), ((channels,), "bias")]
        channels_in = channels
    return spec + [((4 * 4 * 8 * width, 1), "dense"), ((1,), "bias")]


def dog_generator_weights(noise_dim=models.NOISE_DIM, width=32):
    """(shape, kind) of the reference dogs generator's weights."""
    spec = [((noise_dim, 4 * 4 * 8 * width), "dense"), ((4 * 4 * 8 * width,), "bias")] + _batch_norm(4 * 4 * 8 * width)
    channels_in = 8 * width
    for channels in (4 * width, 2 * width, width):
        spec += [((4, 4, channels, channels_in), "deconv"), ((channels,), "bias")] + _batch_norm(channels)
        channels_in = channels
    return spec + [((4, 4, 3, channels_in), "deconv"), ((3,), "bias")]


# Ranges of the 1-D weights: biases and shifts around 0. Batch norm's moving variances
# are large (about 1000) and its scales about their square root, so that a layer still
# keeps activations of order 1, while batch norm's epsilon (1e-3 in Keras, 1e-5 in
# TensorFlow) changes the outputs by about 1e-6: either is accepted.
_VECTOR_RANGES = {
    "bias": (-0.5, 0.5), "beta": (-0.5, 0.5), "mean": (-0.5, 0.5),
    "gamma": (10.0, 40.0), "variance": (400.0, 1600.0),
}  # fmt: skip


def _fan_in(shape, kind):
    if kind == "dense":
        return shape[0]
    if kind == "conv":
        return shape[0] * shape[1] * shape[2]
    if kind == "deconv":  # stride 2: each output pixel gets a quarter of the kernel's taps
        return shape[0] * shape[1] * shape[3] / 4
    raise ValueError(f"unknown weight kind {kind!r}")


def fixed_model_weights(spec, seed=WEIGHTS_SEED):
    """Deterministic float32 weights for a model described by (shape, kind) pairs.

    Kernels are uniform in +/- sqrt(6 / fan_in), as in :func:`fixed_weights`
    (which this matches for dense layers); 1-D weights follow ``_VECTOR_RANGES``.
    Each weight has its own stream, seeded by ``(seed, index)``.
    """
    weights = []
    for index, (shape, kind) in enumerate(spec):
        rng = np.random.default_rng((seed, index))
        if kind in _VECTOR_RANGES:
            low, high = _VECTOR_RANGES[kind]
        else:
            high = np.sqrt(6.0 / _fan_in(shape, kind))
            low = -high
        weights.append(rng.uniform(low, high, size=shape).astype(np.float32))
    return weights


# The dogs checks run DOG_SAMPLES images through the discriminator and
# DOG_GENERATOR_SAMPLES noise vectors through the generator, whose images are
# compared on every DOG_STRIDE-th pixel (row and column): a small shipped file.
DOG_SAMPLES = 16
DOG_GENERATOR_SAMPLES = 4
DOG_STRIDE = 4


_CUBE_CORNERS = np.array([[r, g, b] for r in (-1, 1) for g in (-1, 1) for b in (-1, 1)], np.float64)


def dog_inputs():
    """The fixed inputs of the dogs model checks: 64x64x3 images in [-1, 1] and noise.

    Drawn from their own seeded generator when needed (not stored: 200 kB of noise).
    """
    rng = np.random.default_rng((INPUTS_SEED, 4))
    return {
        # The 8 corners of the colour cube (twice), plus pixel noise: with plain noise every
        # image gets about the same, positive logit, and a ReLU on the output would not show.
        "dog_discriminator_x": (
            0.8 * np.tile(_CUBE_CORNERS, (DOG_SAMPLES // 8, 1))[:, None, None, :]
            + rng.uniform(-0.2, 0.2, size=(DOG_SAMPLES, 64, 64, 3))
        ).astype(np.float32),
        "dog_generator_z": rng.uniform(-1.0, 1.0, size=(DOG_GENERATOR_SAMPLES, models.NOISE_DIM)).astype(np.float32),
    }


def dc_discriminator_input(values):
    """The DCGAN discriminator's fixed input: the MLP check's images, as (16, 28, 28, 1)."""
    return values["discriminator_x"].reshape((-1, 28, 28, 1))


def _conv_model_output(model, spec, x):
    model.set_weights(fixed_model_weights(spec))
    return model(tf.constant(x), training=False).numpy()


def compute_dc_expected(values):
    """Expected outputs of the DCGAN models on the fixed inputs (``values`` holds the MLP inputs)."""
    dogs = dog_inputs()
    with full_float32_matmuls():
        dog_images = _conv_model_output(
            models.dog_generator(), dog_generator_weights(), dogs["dog_generator_z"]
        )
        return {
            "dc_discriminator_out": _conv_model_output(
                models.dc_discriminator(), DC_DISCRIMINATOR_WEIGHTS, dc_discriminator_input(values)
            ),
            "dc_generator_out": _conv_model_output(
                models.dc_generator(), dc_generator_weights(), values["generator_z"]
            ),
            "dog_discriminator_out": _conv_model_output(
                models.dog_discriminator(), dog_discriminator_weights(), dogs["dog_discriminator_x"]
            ),
            "dog_generator_out": np.ascontiguousarray(dog_images[:, ::DOG_STRIDE, ::DOG_STRIDE, :]),
        }
