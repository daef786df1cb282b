"""Recompute the checks' expected values: ``python -m gan_course regenerate-checks``.

    python -m gan_course regenerate-checks            # rewrites gan_helpers/reference/checks.npz
    python -m gan_course regenerate-checks -o x.npz   # writes elsewhere

The values come from the library's reference implementations (``ops``, ``models``,
``losses``, ``metrics``, and run_a_gan's train step, ``gan.GAN.train_step``) on the
fixed inputs, plans and weights that ``gan_helpers.checks.values`` defines for the
checks. Running the command twice gives identical arrays. A maintainers' tool: the checks
only read the file, so they load neither the trainer nor the metrics.
"""

import pathlib
import sys

import numpy as np
import tensorflow as tf

from gan_helpers import losses, metrics, models, ops
from gan_helpers.gan import GAN
from gan_helpers.checks.values import (
    CHECKS_FILE,
    DC_DISCRIMINATOR_PLAN,
    DISCRIMINATOR_PLAN,
    DOG_STRIDE,
    EMA_COMPILED_STEPS,
    EMA_DECAY,
    INPUTS_SEED,
    STEP_BATCH,
    STEP_IMAGE_SIZE,
    STEP_NOISE_SIZE,
    WEIGHTS_SEED,
    dc_discriminator_input,
    dc_generator_plan,
    dog_discriminator_plan,
    dog_generator_plan,
    dog_inputs,
    ema_inputs,
    fixed_weights,
    flat_weights,
    full_float32_matmuls,
    generator_plan,
    train_step_models,
)


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


# ----------------------------------------------------------------------------------------
# Command line


def add_arguments(parser):
    parser.add_argument("-o", "--output", type=pathlib.Path, default=None,
                        help="where to write the .npz (default: the file the package ships)")


def run(args):
    try:
        path = write_expected(args.output) if args.output else write_expected()
    except OSError as error:
        print(f"regenerate-checks: {error}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0
