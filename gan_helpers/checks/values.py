"""The fixed inputs of the checks, the reference models' plans and weights, and the expected values' file.

The expected outputs live in ``gan_helpers/reference/checks.npz``, shipped with the
package and read by :func:`load_expected`. The maintainers recompute them from the
reference implementations with ``python -m gan_course regenerate-checks``
(``gan_course/expected_values.py``, which builds on what this module defines).

Inputs come from seeded numpy generators (the same numbers on every platform).
Model weights are not stored but drawn the same way by :func:`fixed_weights`
from the model's *plan*, its reference architecture step by step (below), which
the model checks also run to explain a wrong output. Imports neither the trainer nor
the metrics: the checks load without them.
"""

import contextlib
import pathlib

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from gan_helpers import models

# The file the checks read.
CHECKS_FILE = pathlib.Path(__file__).resolve().parents[1] / "reference" / "checks.npz"

# Seed of the deterministic weights the model checks load into a student's model.
WEIGHTS_SEED = 231
# Seed of the fixed inputs.
INPUTS_SEED = 2014

# A plan lists a model's steps in the order of ``model.weights``:
#   ("dense", units_in, units_out)                          Dense
#   ("conv", kernel, channels_in, channels_out, stride)     Conv2D, padding "same"
#   ("deconv", kernel, channels_in, channels_out, stride)   Conv2DTranspose, padding "same"
#   ("bn", size)                                            BatchNormalization
#   ("act",)                                                the next activation
#   ("flatten",), ("reshape", shape)                        no weights


def dense_plan(*sizes):
    """A stack of Dense layers, each followed by an activation: dense_plan(784, 256, 1)."""
    return [step for n_in, n_out in zip(sizes, sizes[1:]) for step in (("dense", n_in, n_out), ("act",))]


DISCRIMINATOR_PLAN = dense_plan(784, 256, 256, 1)


def generator_plan(noise_dim=models.NOISE_DIM):
    """The MLP generator for a given noise size."""
    return dense_plan(noise_dim, 1024, 1024, 784)


DC_DISCRIMINATOR_PLAN = [
    ("conv", 4, 1, 32, 2), ("act",), ("conv", 4, 32, 64, 2), ("act",), ("flatten",), ("dense", 7 * 7 * 64, 1), ("act",),
]  # fmt: skip


def dc_generator_plan(noise_dim=models.NOISE_DIM):
    """The DCGAN generator (28x28x1) for a given noise size."""
    return [
        ("dense", noise_dim, 7 * 7 * 64), ("bn", 7 * 7 * 64), ("act",), ("reshape", (7, 7, 64)),
        ("deconv", 4, 64, 32, 2), ("bn", 32), ("act",), ("deconv", 4, 32, 1, 2), ("act",),
    ]  # fmt: skip


def dog_discriminator_plan(width=32):
    """The dogs discriminator (64x64x3): four strided convolutions, then one logit."""
    channels = [3, width, 2 * width, 4 * width, 8 * width]
    plan = [step for n_in, n_out in zip(channels, channels[1:]) for step in (("conv", 4, n_in, n_out, 2), ("act",))]
    return plan + [("flatten",), ("dense", 4 * 4 * 8 * width, 1), ("act",)]


def dog_generator_plan(noise_dim=models.NOISE_DIM, width=32):
    """The dogs generator (noise -> 64x64x3): a projection, then four transposed convolutions."""
    plan = [("dense", noise_dim, 4 * 4 * 8 * width), ("bn", 4 * 4 * 8 * width), ("act",), ("reshape", (4, 4, 8 * width))]
    channels = [8 * width, 4 * width, 2 * width, width]
    for n_in, n_out in zip(channels, channels[1:]):
        plan += [("deconv", 4, n_in, n_out, 2), ("bn", n_out), ("act",)]
    return plan + [("deconv", 4, width, 3, 2), ("act",)]


_BATCH_NORM = ("gamma", "beta", "mean", "variance")


def weight_spec(plan):
    """(shape, kind, fan_in) of each weight of a plan, in the order of ``model.weights``.

    Kinds: "kernel", "bias", and batch norm's "gamma", "beta", "mean", "variance".
    ``fan_in`` (kernels only) is how many inputs reach one output: for a stride-s
    transposed convolution each output pixel gets 1/s^2 of the kernel's taps.
    """
    spec = []
    for step in plan:
        kind = step[0]
        if kind == "dense":
            _, n_in, n_out = step
            spec += [((n_in, n_out), "kernel", n_in), ((n_out,), "bias", None)]
        elif kind == "conv":
            _, k, n_in, n_out, _ = step
            spec += [((k, k, n_in, n_out), "kernel", k * k * n_in), ((n_out,), "bias", None)]
        elif kind == "deconv":
            _, k, n_in, n_out, stride = step
            spec += [((k, k, n_out, n_in), "kernel", k * k * n_in / stride**2), ((n_out,), "bias", None)]
        elif kind == "bn":
            spec += [((step[1],), name, None) for name in _BATCH_NORM]
    return spec


def weight_shapes(plan):
    return [shape for shape, _, _ in weight_spec(plan)]


# Ranges of the 1-D weights: biases and shifts around 0, so that a missing bias shows.
# Batch norm's moving variances are large (about 1000) and its scales about their
# square root, so that a layer still keeps activations of order 1, while batch norm's
# epsilon (1e-3 in Keras, 1e-5 in TensorFlow) changes the outputs by about 1e-6:
# either is accepted.
_VECTOR_RANGES = {
    "bias": (-0.5, 0.5), "beta": (-0.5, 0.5), "mean": (-0.5, 0.5),
    "gamma": (10.0, 40.0), "variance": (400.0, 1600.0),
}  # fmt: skip


def fixed_weights(plan, seed=WEIGHTS_SEED):
    """Deterministic float32 weights for a model built to ``plan``.

    Kernels are uniform in +/- sqrt(6 / fan_in), which keeps activations of order 1
    through the layers; 1-D weights follow ``_VECTOR_RANGES``. Each weight has its
    own stream, seeded by ``(seed, index)``.
    """
    weights = []
    for index, (shape, kind, fan_in) in enumerate(weight_spec(plan)):
        rng = np.random.default_rng((seed, index))
        if kind in _VECTOR_RANGES:
            low, high = _VECTOR_RANGES[kind]
        else:
            high = np.sqrt(6.0 / fan_in)
            low = -high
        weights.append(rng.uniform(low, high, size=shape).astype(np.float32))
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


# The Gaussians the Frechet distance check measures, in the order it tries them.
FID_CASES = ("general", "singular", "same")


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


# test_train_step runs a learner's train step once on tiny MLPs, each with a batch
# norm layer (so that a call without training=True changes the losses), from fixed
# weights, on a fixed batch and fixed noise, with two plain SGD optimizers of
# different learning rates (so that an update is proportional to its gradient, and
# swapped optimizers show). The expected values are those of the library's own
# compiled step, the one run_a_gan runs.

STEP_IMAGE_SIZE, STEP_NOISE_SIZE, STEP_HIDDEN, STEP_BATCH = 12, 4, 8, 8
STEP_LEARNING_RATES = {"D_solver": 0.5, "G_solver": 0.2}
STEP_DISCRIMINATOR_PLAN = [
    ("dense", STEP_IMAGE_SIZE, STEP_HIDDEN), ("bn", STEP_HIDDEN), ("act",), ("dense", STEP_HIDDEN, 1), ("act",),
]  # fmt: skip
STEP_GENERATOR_PLAN = [
    ("dense", STEP_NOISE_SIZE, STEP_HIDDEN), ("bn", STEP_HIDDEN), ("act",), ("dense", STEP_HIDDEN, STEP_IMAGE_SIZE),
    ("act",),
]  # fmt: skip


def _step_weights(plan, seed):
    """fixed_weights, with batch norm scales near 1: in training mode they scale activations as they are."""
    weights = fixed_weights(plan, seed)
    for index, (shape, kind, _) in enumerate(weight_spec(plan)):
        if kind == "gamma":
            weights[index] = np.random.default_rng((seed, index, 1)).uniform(0.5, 1.5, size=shape).astype(np.float32)
    return weights


def train_step_models():
    """Fresh ``(D, G, D_solver, G_solver)`` for test_train_step, weights fixed, optimizers built.

    D: 12 values -> Dense(8) -> BatchNormalization -> LeakyReLU(0.2) -> Dense(1), a logit.
    G: 4 noise values -> Dense(8) -> BatchNormalization -> ReLU -> Dense(12) -> tanh.
    The optimizers are built for their own network's weights, as run_a_gan builds
    them, so that a step wrapped in tf.function creates no variable, and an
    optimizer handed the other network's weights says so.
    """
    D = keras.Sequential([
        keras.Input((STEP_IMAGE_SIZE,)), layers.Dense(STEP_HIDDEN, name="d_dense_1"),
        layers.BatchNormalization(name="d_batch_norm"), layers.LeakyReLU(0.2, name="d_leaky_relu"),
        layers.Dense(1, name="d_dense_2"),
    ], name="discriminator")  # fmt: skip
    G = keras.Sequential([
        keras.Input((STEP_NOISE_SIZE,)), layers.Dense(STEP_HIDDEN, name="g_dense_1"),
        layers.BatchNormalization(name="g_batch_norm"), layers.ReLU(name="g_relu"),
        layers.Dense(STEP_IMAGE_SIZE, activation="tanh", name="g_dense_2"),
    ], name="generator")  # fmt: skip
    D.set_weights(_step_weights(STEP_DISCRIMINATOR_PLAN, WEIGHTS_SEED))
    G.set_weights(_step_weights(STEP_GENERATOR_PLAN, WEIGHTS_SEED + 1))
    return (D, G, *train_step_solvers(D, G))


def train_step_solvers(D, G):
    """Two SGD optimizers with different learning rates, built for D's and G's weights."""
    solvers = []
    for name, model in (("D_solver", D), ("G_solver", G)):
        solver = keras.optimizers.SGD(STEP_LEARNING_RATES[name], name=name)
        solver.build(model.trainable_variables)
        solvers.append(solver)
    return solvers


def flat_weights(variables):
    """The values of ``variables`` as one float32 vector."""
    return np.concatenate([np.ravel(v.numpy()) for v in variables]).astype(np.float32)


# The moving average: its decay, and how many updates the check runs in a compiled function after the first.
EMA_DECAY = 0.9
EMA_COMPILED_STEPS = 2
EMA_SHAPES = ((3, 4), (4,), ())


def ema_inputs():
    """(averages, weights): float32 arrays of EMA_SHAPES, the averages around 1, the weights around -1."""
    rng = np.random.default_rng((INPUTS_SEED, 13))
    averages = [rng.uniform(0.5, 1.5, size=shape).astype(np.float32) for shape in EMA_SHAPES]
    weights = [rng.uniform(-1.5, -0.5, size=shape).astype(np.float32) for shape in EMA_SHAPES]
    return averages, weights


def load_expected(path=CHECKS_FILE):
    """The stored expected values, as a dict of numpy arrays."""
    with np.load(path) as data:
        return {key: data[key] for key in data.files}
