"""The fixed inputs and expected outputs that ``gan_helpers.checks`` compares against.

They live in ``gan_helpers/reference/checks.npz``, shipped with the package, and
are recomputed from the reference implementations (``ops``, ``models``,
``losses``, ``metrics``, and the train step of ``run_a_gan``, ``gan.GAN.train_step``) by one command::

    python -m gan_helpers regenerate-checks            # rewrites the shipped file
    python -m gan_helpers regenerate-checks -o x.npz   # writes elsewhere

Inputs come from seeded numpy generators (the same numbers on every platform).
Model weights are not stored but drawn the same way by :func:`fixed_weights`
from the model's *plan*, its reference architecture step by step (below), which
the model checks also run to explain a wrong output. Running the command twice
gives identical arrays.
"""

import contextlib
import pathlib

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from gan_helpers import losses, metrics, models, ops

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


# The scores at which the gradient factors of the generator losses are compared:
# fakes that D rejects (negative), is unsure of, and accepts (positive), none at 0,
# where the minimax and non-saturating factors are equal.
FACTOR_SCORES = np.array([-5.3, -2.9, -1.2, -0.4, 0.3, 0.9, 1.7, 3.1, 4.6], np.float32)


def _factor_values():
    factors = losses.generator_gradient_factors(FACTOR_SCORES)
    minimax, non_saturating, least_squares = (np.asarray(factor) for factor in factors)
    return {
        "factor_scores": FACTOR_SCORES,
        "factor_minimax": minimax,
        "factor_non_saturating": non_saturating,
        "factor_least_squares": least_squares,
    }


# The Gaussians the Frechet distance check measures, in the order it tries them.
FID_CASES = ("general", "singular", "same")


def _fid_inputs():
    """(mu1, sigma1, mu2, sigma2) of each case of FID_CASES, float64, from one seeded generator.

    "general": 6 dimensions, full-rank covariances of different shapes (every known
    mistake lands at least 2e-2 away from the right distance and from the others);
    "singular": covariances estimated from 4 and 5 samples in 8 dimensions (ranks 3
    and 4, as FID gets from fewer samples than features), where rounding makes zero
    eigenvalues slightly negative; "same": one singular Gaussian twice, at distance 0.
    """
    rng = np.random.default_rng((INPUTS_SEED, 9, 6))
    a, b = rng.normal(size=(2, 6, 6))
    b = b * rng.uniform(0.3, 2.0, size=(6, 1))
    inputs = {"general": (rng.normal(0.3, 0.5, 6), a @ a.T / 6, rng.normal(-0.3, 0.5, 6), b @ b.T / 6)}
    x, y = rng.normal(size=(4, 8)), 1.5 * rng.normal(size=(5, 8))
    inputs["singular"] = (x.mean(axis=0), np.cov(x, rowvar=False), y.mean(axis=0), np.cov(y, rowvar=False))
    inputs["same"] = (x.mean(axis=0), np.cov(x, rowvar=False), x.mean(axis=0), np.cov(x, rowvar=False))
    return inputs


def _fid_values():
    values = {}
    for case, arguments in _fid_inputs().items():
        for name, array in zip(("mu1", "sigma1", "mu2", "sigma2"), arguments):
            values[f"fid_{case}_{name}"] = np.asarray(array, np.float64)
        values[f"fid_{case}"] = np.array(metrics.frechet_distance(*arguments), np.float64)
    return values


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


def _train_step_inputs():
    rng = np.random.default_rng((INPUTS_SEED, 5))
    return {
        "step_real": rng.uniform(-1.0, 1.0, size=(STEP_BATCH, STEP_IMAGE_SIZE)).astype(np.float32),
        "step_noise_d": rng.uniform(-1.0, 1.0, size=(STEP_BATCH, STEP_NOISE_SIZE)).astype(np.float32),
        "step_noise_g": rng.uniform(-1.0, 1.0, size=(STEP_BATCH, STEP_NOISE_SIZE)).astype(np.float32),
    }


def _train_step_expected():
    """One step of run_a_gan's compiled step (``gan.GAN.train_step``) on the small models: its losses and
    each network's update."""
    from gan_helpers.gan import GAN

    values = _train_step_inputs()
    D, G, D_solver, G_solver = train_step_models()
    d_before, g_before = flat_weights(D.trainable_variables), flat_weights(G.trainable_variables)
    gan = GAN(D, G, STEP_NOISE_SIZE, data_shape=(STEP_IMAGE_SIZE,))
    gan.compile(D_solver, G_solver, losses.discriminator_loss, losses.generator_loss)
    batch = {name: tf.constant(values[key])
             for name, key in (("real", "step_real"), ("z_d", "step_noise_d"), ("z_g", "step_noise_g"))}
    with full_float32_matmuls():
        logs = tf.function(gan.train_step)(batch)
    values["step_d_loss"], values["step_g_loss"] = np.float32(logs["d_loss"]), np.float32(logs["g_loss"])
    values["step_d_update"] = flat_weights(D.trainable_variables) - d_before
    values["step_g_update"] = flat_weights(G.trainable_variables) - g_before
    return values


# Scores on both sides of both margins (+1 for real images, -1 for generated ones), none on them,
# so that a missing max(0, .), a margin of 0 or swapped signs each give another value.
HINGE_SCORES_REAL = [2.3, 1.4, 0.9, 0.2, -0.3, -1.2, 0.6, 1.8, -0.7, 0.05, 1.1, 0.4]
HINGE_SCORES_FAKE = [-2.1, -1.3, -0.8, -0.1, 0.5, 1.6, -0.4, 0.9, -1.7, 0.3, 1.2, -0.6]
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


def _stabilising_values():
    real = np.array(HINGE_SCORES_REAL, np.float32)[:, None]
    fake = np.array(HINGE_SCORES_FAKE, np.float32)[:, None]
    values = {
        "hinge_scores_real": real,
        "hinge_scores_fake": fake,
        "hinge_d_loss": losses.hinge_discriminator_loss(tf.constant(real), tf.constant(fake)).numpy(),
        "hinge_g_loss": losses.hinge_generator_loss(tf.constant(fake)).numpy(),
    }
    averages, weights = ema_inputs()
    variables = [tf.Variable(average) for average in averages]
    ops.ema_update(variables, weights, EMA_DECAY)
    values.update({f"ema_after_1_{index}": variable.numpy() for index, variable in enumerate(variables)})
    for _ in range(EMA_COMPILED_STEPS):
        ops.ema_update(variables, weights, EMA_DECAY)
    values.update({f"ema_after_{1 + EMA_COMPILED_STEPS}_{index}": variable.numpy()
                   for index, variable in enumerate(variables)})
    return values


def _model_output(model, plan, x):
    model.set_weights(fixed_weights(plan))
    return model(tf.constant(x), training=False).numpy()


def _model_outputs(values):
    """The reference models' outputs on the fixed inputs, with fixed weights."""
    dogs = dog_inputs()
    with full_float32_matmuls():
        dog_images = _model_output(models.dog_generator(), dog_generator_plan(), dogs["dog_generator_z"])
        return {
            "discriminator_out": _model_output(models.discriminator(), DISCRIMINATOR_PLAN, values["discriminator_x"]),
            "generator_out": _model_output(models.generator(), generator_plan(), values["generator_z"]),
            "dc_discriminator_out": _model_output(models.dc_discriminator(), DC_DISCRIMINATOR_PLAN,
                                                  dc_discriminator_input(values)),
            "dc_generator_out": _model_output(models.dc_generator(), dc_generator_plan(), values["generator_z"]),
            "dog_discriminator_out": _model_output(models.dog_discriminator(), dog_discriminator_plan(),
                                                   dogs["dog_discriminator_x"]),
            "dog_generator_out": np.ascontiguousarray(dog_images[:, ::DOG_STRIDE, ::DOG_STRIDE, :]),
        }


def compute_expected():
    """All fixed inputs and the reference outputs on them, as a dict of numpy arrays."""
    values = _inputs()
    with full_float32_matmuls():
        leaky_x = tf.constant(values["leaky_relu_x"])
        values["leaky_relu_out"] = ops.leaky_relu(leaky_x).numpy()
        values["leaky_relu_out_alpha_0.2"] = ops.leaky_relu(leaky_x, alpha=0.2).numpy()
    real, fake = tf.constant(values["logits_real"]), tf.constant(values["logits_fake"])
    values["d_loss"] = losses.discriminator_loss(real, fake).numpy()
    values["g_loss"] = losses.generator_loss(fake).numpy()
    real_x, fake_x = tf.constant(values["logits_real_extreme"]), tf.constant(values["logits_fake_extreme"])
    values["d_loss_extreme"] = losses.discriminator_loss(real_x, fake_x).numpy()
    values["g_loss_extreme"] = losses.generator_loss(fake_x).numpy()
    scores_real, scores_fake = tf.constant(values["scores_real"]), tf.constant(values["scores_fake"])
    values["ls_d_loss"] = losses.ls_discriminator_loss(scores_real, scores_fake).numpy()
    values["ls_g_loss"] = losses.ls_generator_loss(scores_fake).numpy()
    values.update(_factor_values())
    values.update(_fid_values())
    values["weights_seed"] = np.array(WEIGHTS_SEED)
    values.update(_model_outputs(values))
    values.update(_train_step_expected())
    values.update(_stabilising_values())
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
