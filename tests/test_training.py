"""run_a_gan on real MNIST: one compiled step, the history, the NaN guard, interrupts,
checkpoints, code written the way students write it, and clear errors for bad arguments.
Learners' callbacks are Keras callbacks; they see the GAN as ``self.model`` and the
history as ``self.model.history``.

Every run trains the course's MLP GAN for real, on 300 MNIST images with batches of
128: three steps per epoch, the last one on a batch of 44, as at the end of a full
MNIST epoch (60000 = 468 x 128 + 96).
"""

import resource
import shutil
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from gan_helpers import GAN, GanHistory, dc_generator, discriminator, generator, load_mnist, losses, training
from gan_helpers.training import get_solvers, run_a_gan

BATCH = 128
IMAGES = 300
STEPS_PER_EPOCH = 3  # 128 + 128 + 44


@pytest.fixture(scope="module")
def mnist_uint8():
    """The first 300 MNIST training images, uint8 0..255, shape (300, 28, 28)."""
    (x_train, _), _ = load_mnist()
    return np.array(x_train[:IMAGES])


@pytest.fixture(scope="module")
def mnist_flat(mnist_uint8):
    """The same images flattened and scaled to [-1, 1], float32 (300, 784)."""
    return mnist_uint8.reshape(IMAGES, 784).astype(np.float32) / 127.5 - 1.0


def weights(model):
    return [np.array(w) for w in model.get_weights()]


def same_weights(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


class Recorder(keras.callbacks.Callback):
    """Records every call, the models' weights after every step, and the steps done; optionally interrupts."""

    def __init__(self, interrupt_at=None):
        super().__init__()
        self.interrupt_at = interrupt_at
        self.events = []
        self.snapshots = {}  # step -> (D weights, G weights)

    def on_train_begin(self, logs=None):
        self.events.append(("begin", self.params["start_step"]))

    def on_train_batch_end(self, batch, logs=None):
        step = self.model.history.steps_done
        self.events.append(("batch", step, dict(logs)))
        self.snapshots.setdefault(step, (weights(self.model.D), weights(self.model.G)))
        if step == self.interrupt_at:
            raise KeyboardInterrupt

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch", epoch, dict(logs), self.model.history.epochs_done))

    def on_train_end(self, logs=None):
        self.events.append(("end", self.model.history))

    def of(self, kind):
        return [event[1:] for event in self.events if event[0] == kind]


def gan(seed=0):
    """The course's D and G with reproducible initial weights, and two fresh solvers."""
    keras.utils.set_random_seed(seed)
    return (discriminator(), generator(), *get_solvers())


# ----------------------------------------------------------------------------
# A completed run: one trace, the history, the callbacks
# ----------------------------------------------------------------------------


def counting_calls(loss):
    """``loss``, counting the times Python runs it: once per compilation of the step that calls it."""

    def counted(*logits):
        counted.calls += 1
        return loss(*logits)

    counted.calls = 0
    return counted


@pytest.fixture(scope="module")
def completed(mnist_uint8):
    D, G, D_solver, G_solver = gan()
    before = (weights(D), weights(G))
    recorder = Recorder()
    d_loss = counting_calls(losses.discriminator_loss)
    history = run_a_gan(D, G, D_solver, G_solver, d_loss, losses.generator_loss, show_every=4, print_every=2,
                        batch_size=BATCH, num_epochs=2, dataset=mnist_uint8, seed=1, callbacks=[recorder])
    return history, recorder, before, (D, G, D_solver, G_solver), d_loss.calls


def test_the_train_step_is_compiled_once_although_the_last_batch_is_smaller(completed):
    history, recorder, _, _, loss_calls = completed
    assert history.steps_done == 2 * STEPS_PER_EPOCH  # both 44-image batches were trained on
    assert loss_calls == 1  # traced once: Python ran the learner's loss function once, for every batch
    assert not history.model.jit_compile  # too short a run for XLA to pay


def test_the_history_holds_every_step_the_samples_and_the_speed(completed):
    history, _, _, _, _ = completed
    assert isinstance(history, GanHistory) and isinstance(history, keras.callbacks.History)
    assert isinstance(history.model, GAN)
    assert (history.stopped, history.message) == ("completed", "")
    assert history.steps_done == len(history.d_loss) == len(history.g_loss) == 6
    assert history.epochs_done == 2
    assert all(isinstance(x, float) and np.isfinite(x) for x in history.d_loss + history.g_loss)
    assert all(x > 0 for x in history.d_loss + history.g_loss)  # cross-entropies
    assert [step for step, _ in history.samples] == [0, 4, 6]  # before training, every 4 steps, at the end
    for _, images in history.samples:
        assert images.shape == (16, 784) and images.dtype == np.float32
        assert -1.0 <= images.min() and images.max() <= 1.0
    assert not np.array_equal(history.samples[0][1], history.samples[-1][1])  # G learned something
    assert 0 < history.elapsed_s < 120
    assert 0 < history.images_per_sec < 1e6
    assert set(history.to_json()) >= {"d_loss", "g_loss", "steps_done", "epochs_done", "elapsed_s",
                                      "images_per_sec", "stopped", "message"}
    # Keras's History: each epoch's mean losses
    assert history.epoch == [0, 1]
    for epoch, steps in enumerate((slice(0, 3), slice(3, 6))):
        assert history.history["d_loss"][epoch] == pytest.approx(np.mean(history.d_loss[steps]))
        assert history.history["g_loss"][epoch] == pytest.approx(np.mean(history.g_loss[steps]))


def test_both_networks_trained(completed):
    _, _, (d_before, g_before), (D, G, D_solver, G_solver), _ = completed
    assert not same_weights(d_before, weights(D)) and not same_weights(g_before, weights(G))
    assert int(D_solver.iterations.numpy()) == int(G_solver.iterations.numpy()) == 6


def test_callbacks_see_every_step_and_epoch_with_the_history_losses(completed):
    history, recorder, _, _, _ = completed
    assert recorder.events[0] == ("begin", 0)
    assert recorder.events[-1] == ("end", history)
    batches = recorder.of("batch")
    assert [step for step, _ in batches] == [1, 2, 3, 4, 5, 6]
    for step, logs in batches:
        assert logs["d_loss"] == history.d_loss[step - 1] and logs["g_loss"] == history.g_loss[step - 1]
    epochs = recorder.of("epoch")
    assert [(epoch, done) for epoch, _, done in epochs] == [(0, 1), (1, 2)]
    for epoch, logs, _ in epochs:
        steps = slice(epoch * STEPS_PER_EPOCH, (epoch + 1) * STEPS_PER_EPOCH)
        assert logs["d_loss"] == pytest.approx(np.mean(history.d_loss[steps]))
        assert logs["g_loss"] == pytest.approx(np.mean(history.g_loss[steps]))


# ----------------------------------------------------------------------------
# A loss that turns NaN
# ----------------------------------------------------------------------------


def nan_after(loss, finite_calls):
    """``loss`` that returns NaN from its call number ``finite_calls + 1`` on (counted in the graph)."""
    calls = tf.Variable(0, trainable=False)

    def wrapped(*logits):
        calls.assign_add(1)
        return tf.where(calls > finite_calls, tf.constant(np.nan, tf.float32), loss(*logits))

    return wrapped


@pytest.mark.parametrize("which", ["discriminator", "generator"])
def test_a_nan_loss_stops_at_once_and_keeps_the_last_finite_weights(mnist_flat, which, capsys):
    D, G, D_solver, G_solver = gan()
    d_loss, g_loss = cs231n_discriminator_loss, cs231n_generator_loss  # defined below
    if which == "discriminator":
        d_loss = nan_after(d_loss, 4)
    else:
        g_loss = nan_after(g_loss, 4)
    recorder = Recorder()
    history = run_a_gan(D, G, D_solver, G_solver, d_loss, g_loss, print_every=1, show_every=100, batch_size=BATCH,
                        num_epochs=3, dataset=mnist_flat, seed=2, callbacks=[recorder])

    assert history.stopped == "nan"
    assert history.steps_done == len(history.d_loss) == len(history.g_loss) == 4
    assert np.all(np.isfinite(history.d_loss + history.g_loss))
    assert "step 5 (epoch 2)" in history.message and f"the {which} loss is nan" in history.message
    assert "learning rate" in history.message  # likely causes follow
    assert history.message in capsys.readouterr().out
    # Training stops at the failing batch (the fifth, no step applied): the last the callbacks see.
    assert [step for step, _ in recorder.of("batch")] == [1, 2, 3, 4, 4]
    assert recorder.events[-1] == ("end", history)
    assert history.epochs_done == 1

    d_then, g_then = recorder.snapshots[4]
    assert same_weights(weights(D), d_then), "D must keep its weights from the last finite step"
    assert same_weights(weights(G), g_then), "G must keep its weights from the last finite step"
    assert int(D_solver.iterations.numpy()) == int(G_solver.iterations.numpy()) == 4
    assert all(np.all(np.isfinite(w)) for w in weights(D) + weights(G))


# ----------------------------------------------------------------------------
# XLA: used by itself where it pays, and never where it cannot compile
# ----------------------------------------------------------------------------


def test_xla_is_chosen_for_long_runs_of_dense_models_only():
    D, G, _, _ = gan()
    assert training.uses_xla(D, G, training.XLA_MIN_STEPS)
    assert not training.uses_xla(D, G, training.XLA_MIN_STEPS - 1)  # too short to earn back the compilation
    keras.utils.set_random_seed(0)
    assert not training.uses_xla(discriminator(), dc_generator(), training.XLA_MIN_STEPS)


@pytest.fixture()
def xla_from_the_first_step(monkeypatch):
    monkeypatch.setattr(training, "XLA_MIN_STEPS", 1)


def test_an_xla_step_trains_and_its_nan_guard_holds(mnist_flat, xla_from_the_first_step):
    D, G, D_solver, G_solver = gan()
    recorder = Recorder()
    history = run_a_gan(D, G, D_solver, G_solver, losses.discriminator_loss, nan_after(losses.generator_loss, 4),
                        print_every=1, show_every=100, batch_size=BATCH, num_epochs=3, dataset=mnist_flat[:2 * BATCH],
                        seed=2, callbacks=[recorder], verbose=False)  # full batches only: XLA compiles once
    assert history.model.jit_compile
    assert history.stopped == "nan" and history.steps_done == 4 and "generator loss is nan" in history.message
    assert same_weights(weights(D), recorder.snapshots[4][0]) and same_weights(weights(G), recorder.snapshots[4][1])


def test_a_step_xla_cannot_compile_trains_without_it(mnist_flat, xla_from_the_first_step):
    def loss_with_a_string_op(logits_real, logits_fake):  # tf.strings has no XLA kernel
        length = tf.strings.length(tf.strings.as_string(tf.reduce_sum(logits_real)))
        return losses.discriminator_loss(logits_real, logits_fake) + 0.0 * tf.cast(length, tf.float32)

    recorder = Recorder()
    history = run_a_gan(*gan(), loss_with_a_string_op, losses.generator_loss, print_every=1, batch_size=BATCH,
                        num_epochs=1, dataset=mnist_flat, seed=2, callbacks=[recorder], verbose=False)
    assert history.stopped == "completed" and history.steps_done == STEPS_PER_EPOCH  # the smaller batch too
    assert not history.model.jit_compile and np.all(np.isfinite(history.d_loss))


def test_the_later_notebooks_options_train_without_xla(mnist_flat, xla_from_the_first_step):
    history = run_a_gan(*gan(), losses.discriminator_loss, losses.generator_loss, batch_size=BATCH, num_epochs=1,
                        dataset=mnist_flat[:BATCH], seed=2, verbose=False, d_steps=2)
    assert not history.model.jit_compile


# ----------------------------------------------------------------------------
# Interrupt, checkpoint, resume; student-written code
# ----------------------------------------------------------------------------


def checkpointed_steps(directory):
    """The step each checkpoint in ``directory`` holds, oldest first (TensorFlow's record of its checkpoints)."""
    paths = tf.train.get_checkpoint_state(str(directory)).all_model_checkpoint_paths
    return [int(tf.train.load_variable(path, "step/.ATTRIBUTES/VARIABLE_VALUE")) for path in paths]


@pytest.fixture(scope="module")
def interrupted(mnist_flat, tmp_path_factory):
    """A 3-epoch run with a checkpoint directory, interrupted at step 4 (in epoch 2)."""
    directory = tmp_path_factory.mktemp("checkpoint")
    D, G, D_solver, G_solver = gan(seed=5)
    initial = (weights(D), weights(G))
    recorder = Recorder(interrupt_at=4)
    history = run_a_gan(D, G, D_solver, G_solver, losses.discriminator_loss, losses.generator_loss, print_every=2,
                        show_every=2, batch_size=BATCH, num_epochs=3, dataset=mnist_flat, seed=3,
                        callbacks=[recorder], checkpoint_dir=directory)
    shutil.copytree(directory, directory.parent / "as_interrupted")  # for the test of a damaged checkpoint
    return history, recorder, initial, (D, G), directory


def test_an_interrupt_returns_the_history_so_far_and_keeps_the_trained_weights(interrupted, capsys):
    history, recorder, (d_initial, g_initial), (D, G), _ = interrupted
    assert history.stopped == "interrupted" and "step 4" in history.message
    assert history.steps_done == len(history.d_loss) == 4 and history.epochs_done == 1
    assert [step for step, _ in history.samples] == [0, 2, 4]  # step 4's, drawn before the learner's callback ran
    assert recorder.events[-1] == ("end", history)
    d_then, g_then = recorder.snapshots[4]
    assert same_weights(weights(D), d_then) and same_weights(weights(G), g_then)
    assert not same_weights(weights(D), d_initial) and not same_weights(weights(G), g_initial)


# Written the way the notebooks teach (and the way the CS231n assignment does): plain
# functions of TensorFlow ops, a functional-API discriminator, a subclassed generator.


def student_discriminator_loss(logits_real, logits_fake):
    real_loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(logits_real), logits=logits_real)
    fake_loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros_like(logits_fake), logits=logits_fake)
    return tf.reduce_mean(real_loss) + tf.reduce_mean(fake_loss)


def student_generator_loss(logits_fake):
    loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(logits_fake), logits=logits_fake)
    return tf.reduce_mean(loss)


# The CS231n assignment's way: Keras loss objects, built inside the function.


def cs231n_discriminator_loss(logits_real, logits_fake):
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
    return cross_entropy(tf.ones_like(logits_real), logits_real) + cross_entropy(tf.zeros_like(logits_fake),
                                                                                 logits_fake)


def cs231n_generator_loss(logits_fake):
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
    return cross_entropy(tf.ones_like(logits_fake), logits_fake)


def student_discriminator():
    images = keras.Input(shape=(784,))
    x = layers.LeakyReLU(negative_slope=0.01)(layers.Dense(256)(images))
    x = layers.LeakyReLU(negative_slope=0.01)(layers.Dense(256)(x))
    return keras.Model(images, layers.Dense(1)(x))


class StudentGenerator(keras.Model):
    """Subclassed, with no input shape: built on its first call."""

    def __init__(self, noise_dim=96):
        super().__init__()
        self.noise_dim = noise_dim
        self.hidden = [layers.Dense(1024, activation="relu"), layers.Dense(1024, activation="relu")]
        self.out = layers.Dense(784, activation="tanh")

    def call(self, z):
        for layer in self.hidden:
            z = layer(z)
        return self.out(z)


@pytest.fixture(scope="module")
def student_run(mnist_flat, interrupted):
    """The interrupted run's set-up, uninterrupted, with student-written models and losses."""
    _, _, (d_initial, g_initial), _, _ = interrupted
    D, G = student_discriminator(), StudentGenerator()
    G(tf.zeros((1, 96)))
    D.set_weights(d_initial)
    G.set_weights(g_initial)
    D_solver, G_solver = get_solvers()
    d_loss = counting_calls(student_discriminator_loss)
    history = run_a_gan(D, G, D_solver, G_solver, d_loss, student_generator_loss, print_every=2, show_every=2,
                        batch_size=BATCH, num_epochs=3, dataset=mnist_flat, seed=3)
    return history, d_loss.calls, (D, G)


def test_student_written_models_and_losses_train_unchanged(student_run):
    history, loss_calls, _ = student_run
    assert history.stopped == "completed"
    assert history.steps_done == 9 and history.epochs_done == 3
    assert np.all(np.isfinite(history.d_loss + history.g_loss))
    assert loss_calls == 1  # compiled once


def test_calling_again_with_the_checkpoint_resumes_and_ends_at_the_same_epoch(interrupted, student_run, mnist_flat):
    first, _, _, _, directory = interrupted
    uninterrupted, _, (D_straight, G_straight) = student_run
    # A fresh kernel: new models and solvers, the same call.
    D, G, D_solver, G_solver = gan(seed=99)
    recorder = Recorder()
    history = run_a_gan(D, G, D_solver, G_solver, losses.discriminator_loss, losses.generator_loss, print_every=2,
                        show_every=2, batch_size=BATCH, num_epochs=3, dataset=mnist_flat,
                        seed=3, callbacks=[recorder], checkpoint_dir=directory)
    assert recorder.events[0] == ("begin", 4)
    assert history.stopped == "completed"
    assert history.epochs_done == uninterrupted.epochs_done == 3
    assert history.steps_done == len(history.d_loss) == uninterrupted.steps_done == 9
    assert history.d_loss[:4] == first.d_loss
    assert [step for step, _ in history.samples] == [0, 2, 4, 6, 8, 9]
    assert history.elapsed_s > first.elapsed_s
    # Same data order, same noise, same operations: the resumed run is the uninterrupted
    # one. (Adam turns differences of one rounding into visible ones within a few steps,
    # so this holds only because the student's code does exactly the library's operations.)
    np.testing.assert_allclose(history.d_loss, uninterrupted.d_loss, rtol=1e-6)
    np.testing.assert_allclose(history.g_loss, uninterrupted.g_loss, rtol=1e-6)
    for resumed, straight in ((D, D_straight), (G, G_straight)):
        for a, b in zip(weights(resumed), weights(straight)):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)

    # A third call has nothing left to do, and says so.
    again = run_a_gan(D, G, D_solver, G_solver, losses.discriminator_loss, losses.generator_loss,
                      batch_size=BATCH, num_epochs=3, dataset=mnist_flat, verbose=False,
                      checkpoint_dir=directory)
    assert again.steps_done == 9 and again.epochs_done == 3


def test_a_truncated_newest_checkpoint_loses_only_itself(interrupted, student_run, mnist_flat, tmp_path, capsys):
    directory = tmp_path / "checkpoint"
    shutil.copytree(interrupted[-1].parent / "as_interrupted", directory)
    assert checkpointed_steps(directory) == [3, 4]  # at epoch 1's end; on the interrupt
    shard = Path(tf.train.latest_checkpoint(directory) + ".data-00000-of-00001")
    shard.write_bytes(shard.read_bytes()[:100])  # a crash, or a full disk, while saving
    D, G, D_solver, G_solver = gan(seed=99)
    recorder = Recorder()
    history = run_a_gan(D, G, D_solver, G_solver, losses.discriminator_loss, losses.generator_loss, print_every=2,
                        show_every=2, batch_size=BATCH, num_epochs=3, dataset=mnist_flat, seed=3,
                        callbacks=[recorder], checkpoint_dir=directory)
    assert recorder.events[0] == ("begin", 3)
    printed = capsys.readouterr().out
    assert f"The newest checkpoint in {directory} is unreadable: ckpt-4 (" in printed
    assert "Using the one of step 3 instead, 1 step older. Those steps are trained again." in printed
    uninterrupted = student_run[0]
    assert history.stopped == "completed" and history.steps_done == 9
    np.testing.assert_allclose(history.d_loss, uninterrupted.d_loss, rtol=1e-6)
    assert checkpointed_steps(directory) == [6, 9]  # the damaged one is gone, the newest two good ones kept
    assert not list(directory.glob("ckpt-4.*"))


# ----------------------------------------------------------------------------
# Memory stays bounded whatever the arguments; a data set of unknown length
# ----------------------------------------------------------------------------


def test_a_huge_print_every_and_show_every_cost_no_memory(mnist_flat):
    """``print_every=10**9`` is a natural way to say "never print"; a (10**9, 2) buffer would be 8 GB."""
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
    D, G, D_solver, G_solver = gan()
    recorder = Recorder()
    history = run_a_gan(D, G, D_solver, G_solver, losses.discriminator_loss, losses.generator_loss,
                        print_every=10**9, show_every=10**9, batch_size=BATCH, num_epochs=2, dataset=mnist_flat,
                        seed=0, callbacks=[recorder], verbose=False)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert grown < 512 * 1024, f"the peak memory grew by {grown // 1024} MiB"
    assert history.steps_done == len(history.d_loss) == 6 and np.all(np.isfinite(history.d_loss))
    assert [step for step, _ in history.samples] == [0, 6]
    assert [done for _, _, done in recorder.of("epoch")] == [1, 2]


def test_a_data_set_of_unknown_length_is_trained_whole_every_epoch(mnist_flat):
    unknown_length = tf.data.Dataset.from_tensor_slices(mnist_flat).filter(lambda image: True).batch(BATCH)
    assert unknown_length.cardinality() == tf.data.UNKNOWN_CARDINALITY
    D, G, D_solver, G_solver = gan()
    history = run_a_gan(D, G, D_solver, G_solver, losses.discriminator_loss, losses.generator_loss,
                        print_every=10**9, show_every=10**9, batch_size=BATCH, num_epochs=2, dataset=unknown_length,
                        seed=0, verbose=False)
    assert history.steps_done == len(history.d_loss) == 6 and history.epochs_done == 2
    assert np.all(np.isfinite(history.d_loss)) and len(set(history.d_loss)) == 6


# ----------------------------------------------------------------------------
# Bad arguments
# ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def parts():
    D, G, D_solver, G_solver = gan()
    return {"D": D, "G": G, "D_solver": D_solver, "G_solver": G_solver,
            "discriminator_loss": losses.discriminator_loss, "generator_loss": losses.generator_loss}


def call(parts, mnist_flat, **changes):
    arguments = {**parts, "dataset": mnist_flat[:BATCH], "num_epochs": 1, "verbose": False, **changes}
    return run_a_gan(**arguments)


@pytest.mark.parametrize("changes, error, words", [
    ({"D": discriminator}, TypeError, "call it, D = discriminator()"),
    ({"G": "generator"}, TypeError, "G must be a keras.Model"),
    ({"D_solver": "adam"}, TypeError, "D_solver must be a keras optimizer"),
    ({"generator_loss": 0.5}, TypeError, "generator_loss must be a function"),
    ({"batch_size": 0}, ValueError, "batch_size must be an integer >= 1"),
    ({"num_epochs": 2.5}, ValueError, "num_epochs must be an integer"),
    ({"print_every": True}, ValueError, "print_every must be an integer"),
    ({"noise_size": 100}, ValueError, "noise_size"),
    ({"dataset": [1, 2, 3]}, TypeError, "dataset must be None (MNIST)"),
    ({"dataset": np.zeros((0, 784), np.float32)}, ValueError, "holds no images"),
    ({"dataset": np.full((8, 784), 255.0, np.float32)}, ValueError, "images / 127.5 - 1"),
    ({"dataset": np.zeros((8, 28, 28, 3), np.float32)}, ValueError, "dataset images have shape"),
    ({"dataset": tf.data.Dataset.from_tensor_slices(np.zeros((8, 784), np.float32)).repeat()}, ValueError,
     "repeats forever"),
])
def test_bad_arguments_get_a_clear_error(parts, mnist_flat, changes, error, words):
    with pytest.raises(error) as raised:
        call(parts, mnist_flat, **changes)
    assert words in str(raised.value)


def test_losses_passed_in_the_wrong_order_are_named(parts, mnist_flat):
    with pytest.raises(TypeError, match="wrong order"):
        call(parts, mnist_flat, discriminator_loss=losses.generator_loss, generator_loss=losses.discriminator_loss)


def test_a_discriminator_that_does_not_return_one_logit_per_image_is_refused(parts, mnist_flat):
    ten_classes = keras.Sequential([keras.Input(shape=(784,)), layers.Dense(10)])
    with pytest.raises(ValueError, match=r"one logit per image.*\(2, 10\)"):
        call(parts, mnist_flat, D=ten_classes)


class SubclassedDiscriminator(keras.Model):
    """No input shape: its weights are created on its first call."""

    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(256)
        self.logit = layers.Dense(1)

    def call(self, images):
        return self.logit(tf.nn.leaky_relu(self.hidden(images), alpha=0.01))


def test_a_discriminator_that_builds_on_its_first_call_trains(parts, mnist_flat):
    D, D_solver = SubclassedDiscriminator(), get_solvers()[0]
    assert not D.weights
    history = call(parts, mnist_flat, D=D, D_solver=D_solver)
    assert history.stopped == "completed" and history.steps_done == 1
    assert len(D.weights) == 4 and int(D_solver.iterations.numpy()) == 1


def test_shared_models_or_optimizers_are_refused(parts, mnist_flat):
    with pytest.raises(ValueError, match="D and G are the same model"):
        call(parts, mnist_flat, G=parts["D"])
    with pytest.raises(ValueError, match="each network needs its own"):
        call(parts, mnist_flat, G_solver=parts["D_solver"])


@pytest.mark.parametrize("loss, words", [
    (lambda logits_real, logits_fake: logits_real - logits_fake, "must return one number"),
    (lambda logits_real, logits_fake: np.float32(1.0), "does not depend on D's weights"),
])
def test_a_loss_that_cannot_train_gets_a_clear_error(parts, mnist_flat, loss, words):
    with pytest.raises(ValueError, match=words):
        call(parts, mnist_flat, discriminator_loss=loss)


def test_an_unfinished_exercise_is_named(parts, mnist_flat):
    def generator_loss(logits_fake):
        raise NotImplementedError

    with pytest.raises(NotImplementedError, match="finish its exercise first"):
        call(parts, mnist_flat, generator_loss=generator_loss)


def test_a_not_implemented_error_with_a_message_is_not_called_an_unfinished_exercise(parts, mnist_flat):
    def generator_loss(logits_fake):
        raise NotImplementedError("Keras cannot do this here")

    with pytest.raises(NotImplementedError, match="^Keras cannot do this here$"):
        call(parts, mnist_flat, generator_loss=generator_loss)


def test_resuming_with_another_batch_size_is_refused(interrupted, mnist_flat):
    directory = interrupted[-1]
    D, G, D_solver, G_solver = gan()
    with pytest.raises(ValueError, match="batch_size=128"):
        run_a_gan(D, G, D_solver, G_solver, losses.discriminator_loss, losses.generator_loss, batch_size=64,
                  num_epochs=3, dataset=mnist_flat, verbose=False, checkpoint_dir=directory)

