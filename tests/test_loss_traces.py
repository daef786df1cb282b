"""The losses run_a_gan produced before the loop moved onto Keras's ``fit``, reproduced.

``loss_traces.json`` (beside this file) holds the per-step losses of short real runs,
recorded with the course's own training loop at commit d70c562, before it was replaced
by ``keras.Model.fit`` (issue 19): a few seeds each of the vanilla GAN, the LSGAN, a
WGAN-GP with five critic updates per step, a conditional GAN, a moving average of G's
weights, and DiffAugment. A training loop that draws the same numbers must reproduce
them bit for bit: the same initial weights (``keras.utils.set_random_seed``), the same
data order and noise (``run_a_gan(seed=...)``), the same operations. Both record and
compare with TensorFlow's constant folding off: it rewrites the arithmetic of a graph
according to the graph's shape, so that the same operations round differently inside
another loop (measured: the LSGAN's losses then differ by up to 7e-4 relative after 9
steps, the others not at all).

Two of the options draw random numbers inside the step from TensorFlow's global
random state, whose per-operation seeds depend on how the step's graph is built:
the gradient penalty (one interpolation weight per image) and DiffAugment. A rewritten
step draws other numbers there, so those runs are compared in distribution: the mean
loss over several seeds, step by step, must stay within half the seed-to-seed spread of
the recorded mean (root mean square over the steps). Measured by re-running the recorded loop: other draws (another global
seed after the models are built) move it by a quarter of the spread or less; leaving the
penalty out moves D's loss by 0.9 spreads, leaving the augmentation out by 1.1.

    python tests/test_loss_traces.py --record    # rewrite loss_traces.json with the current loop
"""
import contextlib

import json
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from gan_helpers import diff_augment, discriminator, generator, get_solvers, load_mnist, losses, run_a_gan

TRACES = Path(__file__).with_name("loss_traces.json")
NOISE = 16


def mnist(count, flat=True, labels=False):
    (images, digits), _ = load_mnist()
    images = images[:count].reshape(count, 784) if flat else images[:count, :, :, None]
    return (images, digits[:count]) if labels else images


def course_mlp(seed):
    keras.utils.set_random_seed(seed)
    return discriminator(), generator(), *get_solvers()


def small_convolutional(seed, learning_rate=1e-3, beta1=0.5, beta2=0.999):
    """A critic and a generator for 28x28x1 images, a few thousand weights each."""
    keras.utils.set_random_seed(seed)
    D = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(8, 4, strides=4), layers.LeakyReLU(0.2),
                          layers.Flatten(), layers.Dense(1)])
    G = keras.Sequential([keras.Input((NOISE,)), layers.Dense(7 * 7 * 4, activation="relu"), layers.Reshape((7, 7, 4)),
                          layers.Conv2DTranspose(1, 4, strides=4, activation="tanh")])
    return D, G, *get_solvers(learning_rate, beta1, beta2=beta2)


def small_conditional(seed):
    keras.utils.set_random_seed(seed)
    noise, label = keras.Input((NOISE,)), keras.Input((), dtype="int32")
    code = layers.Flatten()(layers.Embedding(10, 4)(label))
    G = keras.Model([noise, label], layers.Dense(784, activation="tanh")(layers.Concatenate()([noise, code])))
    image, d_label = keras.Input((784,)), keras.Input((), dtype="int32")
    features = layers.Dense(32, activation="relu")(image)
    projection = layers.Dot(axes=1)([layers.Embedding(10, 32)(d_label), features])
    D = keras.Model([image, d_label], layers.Add()([layers.Dense(1)(features), projection]))
    return D, G, *get_solvers()


def small_mlp_with_batch_norm(seed):
    keras.utils.set_random_seed(seed)
    G = keras.Sequential([keras.Input((NOISE,)), layers.Dense(64), layers.BatchNormalization(), layers.ReLU(),
                          layers.Dense(784, activation="tanh")])
    D = keras.Sequential([keras.Input((784,)), layers.Dense(64), layers.LeakyReLU(0.2), layers.Dense(1)])
    return D, G, *get_solvers()


# name: (models, data, losses, run_a_gan's options, seeds, compared exactly)
SCENARIOS = {
    "vanilla": (course_mlp, lambda: mnist(300), (losses.discriminator_loss, losses.generator_loss),
                {"batch_size": 128, "num_epochs": 3}, (0, 1), True),
    "lsgan": (course_mlp, lambda: mnist(300), (losses.ls_discriminator_loss, losses.ls_generator_loss),
              {"batch_size": 128, "num_epochs": 3}, (0,), True),
    "conditional": (small_conditional, lambda: mnist(320, labels=True),
                    (losses.hinge_discriminator_loss, losses.hinge_generator_loss),
                    {"batch_size": 64, "num_epochs": 2, "noise_size": NOISE}, (0,), True),
    "ema": (small_mlp_with_batch_norm, lambda: mnist(256), (losses.discriminator_loss, losses.generator_loss),
            {"batch_size": 32, "num_epochs": 2, "noise_size": NOISE, "ema": 0.9}, (0,), True),
    "wgan_gp": (lambda seed: small_convolutional(seed, 1e-3, 0.0, 0.9), lambda: mnist(640, flat=False),
                (losses.wasserstein_critic_loss, losses.wasserstein_generator_loss),
                {"batch_size": 32, "num_epochs": 3, "noise_size": NOISE, "d_steps": 5,
                 "discriminator_penalty": losses.gradient_penalty}, (0, 1, 2, 3), False),
    "augment": (small_convolutional, lambda: mnist(384, flat=False), (losses.discriminator_loss, losses.generator_loss),
                {"batch_size": 32, "num_epochs": 1, "noise_size": NOISE, "augment": diff_augment},
                (0, 1, 2, 3, 4, 5), False),
}


@contextlib.contextmanager
def without_constant_folding():
    before = tf.config.optimizer.get_experimental_options()
    tf.config.optimizer.set_experimental_options({**before, "constant_folding": False})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options(before)


def trace(name, seed):
    """One run of a scenario: its losses per step, and numbers that pin its sample grids and average."""
    make_models, data, (d_loss, g_loss), options, _, _ = SCENARIOS[name]
    D, G, D_solver, G_solver = make_models(seed)
    with without_constant_folding():
        history = run_a_gan(D, G, D_solver, G_solver, d_loss, g_loss, dataset=data(), seed=seed, verbose=False,
                            show_every=10**6, **options)
    assert history.stopped == "completed", history.message
    result = {"d_loss": history.d_loss, "g_loss": history.g_loss, "penalty": history.penalty,
              "last_samples_mean": float(np.mean(history.samples[-1][1]))}
    if history.ema_generator is not None:
        result["ema_weights_sum"] = float(sum(np.sum(w, dtype=np.float64) for w in history.ema_generator.get_weights()))
    return result


def record():
    traces = {name: {str(seed): trace(name, seed) for seed in scenario[4]} for name, scenario in SCENARIOS.items()}
    TRACES.write_text(json.dumps(traces, indent=1) + "\n")


@pytest.fixture(scope="module")
def recorded():
    return json.loads(TRACES.read_text())


EXACT = [(name, seed) for name, scenario in SCENARIOS.items() if scenario[5] for seed in scenario[4]]


@pytest.mark.parametrize("name, seed", EXACT, ids=[f"{name}-{seed}" for name, seed in EXACT])
def test_the_same_draws_give_the_recorded_losses(recorded, name, seed):
    want, got = recorded[name][str(seed)], trace(name, seed)
    assert len(got["d_loss"]) == len(want["d_loss"]) and got["penalty"] == want["penalty"] == []
    for key in ("d_loss", "g_loss", "last_samples_mean", "ema_weights_sum"):
        if key in want:
            np.testing.assert_array_equal(got[key], want[key], err_msg=key)


def seed_to_seed_spread(traces):
    """The root mean square, over steps, of the standard deviation across seeds; traces (seeds, steps)."""
    return float(np.sqrt(np.mean(np.var(traces, axis=0))))


@pytest.mark.parametrize("name", [name for name, scenario in SCENARIOS.items() if not scenario[5]])
def test_other_draws_give_losses_like_the_recorded_ones(recorded, name):
    seeds = SCENARIOS[name][4]
    runs = [trace(name, seed) for seed in seeds]
    for key in ("d_loss", "g_loss") + (("penalty",) if runs[0]["penalty"] else ()):
        want = np.array([recorded[name][str(seed)][key] for seed in seeds])
        got = np.array([run[key] for run in runs])
        assert got.shape == want.shape
        difference = float(np.sqrt(np.mean((got.mean(axis=0) - want.mean(axis=0)) ** 2)))
        spread = seed_to_seed_spread(want)
        assert difference < 0.5 * spread, (f"{key}: the mean over seeds moved by {difference:.4g} (RMS over steps), "
                                           f"the seed-to-seed spread is {spread:.4g}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--record"]:
        sys.exit(__doc__)
    record()
