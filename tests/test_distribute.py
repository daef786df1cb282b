"""run_a_gan under tf.distribute: MirroredStrategy over two logical CPU devices.

TensorFlow splits a CPU into logical devices only before it first touches a device,
which the test process has long done (other tests, conftest). So the training runs in
a fresh interpreter: this file, run as a script (``python tests/test_distribute.py
OUT.json``), configures two logical CPUs, trains, and writes what it measured; the
tests below read it and assert.

What it measures:
- one step of the MLP GAN (no batch norm) trained on one device and under
  MirroredStrategy over two replicas, from the same initial weights, on the same
  64 images with the same noise (same seed): the weights after the step must agree
  to float32 rounding, far closer than the step moved them;
- the DCGAN (batch norm in G) trains for a few steps under the strategy with finite losses;
- every option of run_a_gan at once (a conditional GAN, two critic updates per step, a
  gradient penalty, augmentation, the moving average of G's weights): one step on one
  device and under the strategy must agree as closely, the average included.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BATCH = 64
DCGAN_STEPS = 4


def _worker(output_path):
    """Runs in a fresh interpreter: two logical CPUs, then single-device vs mirrored training."""
    import time

    started = time.perf_counter()
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras

    from gan_helpers import losses, models, training
    from gan_helpers.data import load_mnist

    imported = time.perf_counter()
    (x_train, y_train), _ = load_mnist()
    images = x_train[:BATCH].astype(np.float32) / 127.5 - 1.0
    keras.utils.set_random_seed(0)
    initial_D, initial_G = models.discriminator().get_weights(), models.generator().get_weights()

    def one_step(strategy):
        D, G, D_solver, G_solver = training.build_gan(models.discriminator, models.generator, strategy=strategy)
        D.set_weights(initial_D)
        G.set_weights(initial_G)
        history = training.run_a_gan(D, G, D_solver, G_solver, losses.discriminator_loss, losses.generator_loss,
                                     batch_size=BATCH, num_epochs=1, print_every=1, show_every=10**6,
                                     dataset=images.reshape(BATCH, 784), seed=3, verbose=False, strategy=strategy)
        return history, D.get_weights() + G.get_weights()

    devices = [device.name for device in tf.config.list_logical_devices("CPU")]
    mirrored = tf.distribute.MirroredStrategy(devices)
    single_history, single = one_step(None)
    mirrored_history, distributed = one_step(mirrored)
    initial = initial_D + initial_G
    moved = max(float(np.max(np.abs(a - b))) for a, b in zip(single, initial))
    difference = max(float(np.max(np.abs(a - b))) for a, b in zip(single, distributed))

    compared = time.perf_counter()
    D, G, D_solver, G_solver = training.build_gan(models.dc_discriminator, models.dc_generator, strategy=mirrored)
    before = G.get_weights()
    dc_images = x_train[: BATCH * DCGAN_STEPS, :, :, None]  # uint8: run_a_gan rescales it
    dc_history = training.run_a_gan(D, G, D_solver, G_solver, losses.discriminator_loss, losses.generator_loss,
                                    batch_size=BATCH, num_epochs=1, print_every=1, show_every=10**6,
                                    dataset=dc_images, seed=0, verbose=False, strategy=mirrored)
    dc_moved = max(float(np.max(np.abs(a - b))) for a, b in zip(G.get_weights(), before))
    result = {
        "devices": devices,
        "replicas": mirrored.num_replicas_in_sync,
        "single": {"steps": single_history.steps_done, "d_loss": single_history.d_loss, "g_loss": single_history.g_loss},
        "mirrored": {"steps": mirrored_history.steps_done, "d_loss": mirrored_history.d_loss,
                     "g_loss": mirrored_history.g_loss},
        "weights_moved": moved,
        "weights_max_abs_difference": difference,
        "dcgan": {"steps": dc_history.steps_done, "stopped": dc_history.stopped, "d_loss": dc_history.d_loss,
                  "g_loss": dc_history.g_loss, "generator_moved": dc_moved,
                  "sample_shape": list(dc_history.samples[-1][1].shape)},
    }
    dcgan_done = time.perf_counter()
    result["options"] = _every_option(training, losses, x_train, y_train, mirrored)
    result["seconds"] = {"import": imported - started, "one_step_each": compared - imported,
                         "dcgan": dcgan_done - compared, "options": time.perf_counter() - dcgan_done}
    Path(output_path).write_text(json.dumps(result))


def _every_option(training, losses, x_train, y_train, mirrored):
    """One step with every option, on one device and under ``mirrored``: how far apart the weights end."""
    import keras
    import tensorflow as tf
    from keras import layers

    def conditional_models():
        keras.utils.set_random_seed(1)
        image, label = keras.Input(shape=(784,)), keras.Input(shape=(), dtype="int32")
        features = layers.Dense(32, activation="relu")(image)
        projection = layers.Dot(axes=1)([layers.Embedding(10, 32)(label), features])
        D = keras.Model([image, label], layers.Add()([layers.Dense(1)(features), projection]))
        noise, g_label = keras.Input(shape=(16,)), keras.Input(shape=(), dtype="int32")
        made = layers.Concatenate()([noise, layers.Flatten()(layers.Embedding(10, 4)(g_label))])
        G = keras.Model([noise, g_label], layers.Dense(784, activation="tanh")(layers.Dense(32, "relu")(made)))
        return D, G

    initial_D, initial_G = (model.get_weights() for model in conditional_models())

    def penalty(critic, real, fake):  # a gradient penalty at the real images: no randomness
        with tf.GradientTape() as tape:
            tape.watch(real)
            scores = critic(real)
        norms = tf.sqrt(tf.reduce_sum(tf.square(tape.gradient(scores, real)), axis=1) + 1e-12)
        return 10.0 * tf.reduce_mean(tf.square(norms - 1.0))

    def one_step(strategy):
        D, G, D_solver, G_solver = training.build_gan(lambda: conditional_models()[0],
                                                      lambda: conditional_models()[1], strategy=strategy)
        D.set_weights(initial_D)
        G.set_weights(initial_G)
        data = (x_train[: 2 * BATCH].reshape(-1, 784), y_train[: 2 * BATCH])
        history = training.run_a_gan(D, G, D_solver, G_solver, losses.discriminator_loss, losses.generator_loss,
                                     batch_size=BATCH, num_epochs=1, print_every=1, show_every=10**6, noise_size=16,
                                     dataset=data, seed=3, verbose=False, strategy=strategy, d_steps=2,
                                     discriminator_penalty=penalty, augment=lambda x: -x, ema=0.5)
        return history, D.get_weights() + G.get_weights() + history.ema_generator.get_weights()

    single_history, single = one_step(None)
    mirrored_history, distributed = one_step(mirrored)
    initial = initial_D + initial_G + initial_G
    return {"steps": [single_history.steps_done, mirrored_history.steps_done],
            "d_loss": [single_history.d_loss, mirrored_history.d_loss],
            "penalty": [single_history.penalty, mirrored_history.penalty],
            "weights_moved": max(float(np.max(np.abs(a - b))) for a, b in zip(single, initial)),
            "weights_max_abs_difference": max(float(np.max(np.abs(a - b))) for a, b in zip(single, distributed))}


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    output = tmp_path_factory.mktemp("distribute") / "result.json"
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")  # the logical devices are CPUs, whatever the machine has
    process = subprocess.run([sys.executable, __file__, str(output)], capture_output=True, text=True, env=env,
                             timeout=300, cwd=Path(__file__).resolve().parents[1])
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-5000:]
    return json.loads(output.read_text())


def test_mirrored_strategy_runs_on_two_logical_cpus(measured):
    assert measured["replicas"] == 2 and len(measured["devices"]) == 2
    assert measured["single"]["steps"] == measured["mirrored"]["steps"] == 1


def test_one_mirrored_step_matches_single_device_training(measured):
    single, mirrored = measured["single"], measured["mirrored"]
    # the losses are global batch means on both sides
    np.testing.assert_allclose(mirrored["d_loss"], single["d_loss"], rtol=1e-5)
    np.testing.assert_allclose(mirrored["g_loss"], single["g_loss"], rtol=1e-5)
    # Adam's first step moves weights by up to the learning rate (1e-3) ...
    assert 5e-4 < measured["weights_moved"] <= 1.1e-3
    # ... and both runs moved them the same way, to float32 rounding of the gradient sums
    assert measured["weights_max_abs_difference"] < 1e-5, measured
    assert measured["weights_max_abs_difference"] < 0.01 * measured["weights_moved"]


def test_the_dcgan_trains_under_mirrored_strategy(measured):
    dcgan = measured["dcgan"]
    assert dcgan["steps"] == DCGAN_STEPS and dcgan["stopped"] == "completed"
    assert np.all(np.isfinite(dcgan["d_loss"])) and np.all(np.isfinite(dcgan["g_loss"]))
    assert dcgan["generator_moved"] > 1e-4
    assert dcgan["sample_shape"] == [16, 28, 28, 1]


def test_every_option_of_run_a_gan_matches_single_device_training(measured):
    options = measured["options"]
    assert options["steps"] == [1, 1]
    np.testing.assert_allclose(options["d_loss"][1], options["d_loss"][0], rtol=1e-5)
    np.testing.assert_allclose(options["penalty"][1], options["penalty"][0], rtol=1e-5)
    assert options["penalty"][0][0] > 0
    assert options["weights_moved"] > 5e-4
    assert options["weights_max_abs_difference"] < 0.01 * options["weights_moved"], options


if __name__ == "__main__":
    _worker(sys.argv[1])
