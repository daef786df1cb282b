"""The fixed inputs and expected outputs that ``gan_helpers.checks`` compares against.

They live in ``gan_helpers/reference/checks.npz``, shipped with the package, and
are recomputed from the reference implementations (``ops``, ``models``,
``losses``) by one command::

    python -m gan_helpers regenerate-checks            # rewrites the shipped file
    python -m gan_helpers regenerate-checks -o x.npz   # writes elsewhere

Inputs come from seeded numpy generators (the same numbers on every platform);
model weights are not stored but drawn the same way by :func:`fixed_weights`.
Running the command twice gives identical arrays.
"""

import contextlib
import pathlib

import numpy as np
import tensorflow as tf

from gan_helpers import losses, models, ops

# The file the checks read.
CHECKS_FILE = pathlib.Path(__file__).parent / "reference" / "checks.npz"

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


# Command line: python -m gan_helpers regenerate-checks


def add_arguments(parser):
    parser.add_argument(
        "-o", "--output", default=str(CHECKS_FILE),
        help="where to write the .npz (default: the file the package ships)",
    )


def run(args):
    path = write_expected(args.output)
    print(f"wrote {path}")
    return 0
