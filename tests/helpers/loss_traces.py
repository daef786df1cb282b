"""Short real runs of ``run_a_gan`` whose losses ``tests/test_loss_traces.py`` compares with recorded ones.

Run as a script in a fresh interpreter, ``python tests/helpers/loss_traces.py OUT.json``: it
writes every scenario's traces to OUT.json, computed with one thread in each of
TensorFlow's pools (how an operation splits its work among threads changes how it rounds,
so the same operations give the same bits only with the same pools, on any machine) and
with constant folding off (it rewrites a graph's arithmetic according to the graph's
shape, so the same operations round differently inside another loop: measured, the
LSGAN's losses then differ by up to 7e-4 relative after 9 steps, the others not at all).
"""

import json
import os
import sys

os.environ.update(TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

from gan_helpers import diff_augment, discriminator, generator, get_solvers, load_mnist, losses, run_a_gan  # noqa: E402

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


def trace(name, seed):
    """One run of a scenario: its losses per step, and numbers that pin its sample grids and average."""
    make_models, data, (d_loss, g_loss), options, _, _ = SCENARIOS[name]
    D, G, D_solver, G_solver = make_models(seed)
    history = run_a_gan(D, G, D_solver, G_solver, d_loss, g_loss, dataset=data(), seed=seed, verbose=False,
                        show_every=10**6, **options)
    assert history.stopped == "completed", history.message
    result = {"d_loss": history.d_loss, "g_loss": history.g_loss, "penalty": history.penalty,
              "last_samples_mean": float(np.mean(history.samples[-1][1]))}
    if history.ema_generator is not None:
        result["ema_weights_sum"] = float(sum(np.sum(w, dtype=np.float64) for w in history.ema_generator.get_weights()))
    return result


def all_traces():
    """``{scenario: {seed: trace}}`` of every scenario and seed."""
    return {name: {str(seed): trace(name, seed) for seed in scenario[4]} for name, scenario in SCENARIOS.items()}


if __name__ == "__main__":
    tf.config.optimizer.set_experimental_options({"constant_folding": False})
    traces = all_traces()
    with open(sys.argv[1], "w") as file:
        json.dump(traces, file, indent=1)
        file.write("\n")
