"""The Keras callbacks of a GAN's training: its history, sample grids, checkpoints, PNG grids, TensorBoard.

``run_a_gan`` hands ``fit`` a ``GanHistory`` (fit's ``History``: ``fit`` returns it), a
``SampleGrids``, with ``checkpoint_dir`` a ``Checkpoints``, then the learner's callbacks,
then the display (``widgets``), in that order. ``EpochGrids`` and ``TensorBoardSteps``
are for a learner's or the command line's ``callbacks=[...]``.

What a callback sees: ``self.model`` is the GAN being trained (``gan.GAN``), and
``self.model.history`` its ``GanHistory`` (as Keras sets it). ``self.params`` holds
Keras's ``epochs`` and ``steps`` (per epoch) and run_a_gan's ``batch_size``, ``d_steps``,
``print_every``, ``show_every``, ``start_step`` (more than 0 when resumed), ``end_step``
(where this call stops: fewer steps in quick mode), ``skip`` (steps of the first epoch
already trained: ``fit`` feeds them empty, and the history ignores them) and ``notes``
(sentences a display shows first). Epochs are numbered from 0 as in Keras; steps count
the applied updates from 1, over all resumed calls. ``fit`` also calls ``on_epoch_end``
when training stops inside an epoch: ``history.epochs_done == epoch + 1`` says whether
the epoch is complete.
"""

import json
import math
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from gan_helpers.viz import image_grid, save_image_grid

NUM_SAMPLES = 16

LIKELY_CAUSES = """Likely causes:
  - the learning rate is too high: try get_solvers(learning_rate=1e-4);
  - a hand-written loss takes the log of 0 (or divides by 0): use
    tf.nn.sigmoid_cross_entropy_with_logits instead of tf.math.log(tf.sigmoid(...));
  - the discriminator's output goes through a sigmoid before a log: D must return
    logits (no activation on its last layer) and the loss works on logits;
  - the real images are not scaled to [-1, 1]."""


class GanHistory(keras.callbacks.History):
    """What ``run_a_gan`` did (cumulative over resumed calls): fit's ``History``, step by step.

    Attributes:
        d_loss, g_loss: one float per applied step, in order (NaN for steps whose
            losses were lost with a damaged checkpoint). With ``d_steps`` > 1, d_loss is
            the mean over the step's critic updates; with a ``discriminator_penalty``
            it includes the penalty.
        penalty: the ``discriminator_penalty`` per step, empty without one:
            ``d_loss[i] - penalty[i]`` is step i's discriminator loss without it.
        steps_done: number of steps applied (all calls, when resumed).
        epochs_done: number of complete epochs.
        samples: ``(step, images)`` pairs, images a numpy array (16, ...) in [-1, 1]
            generated from the same fixed noise each time (by the averaged generator
            with ``ema``; for a conditional GAN, of class ``i % num_classes`` in row i).
        elapsed_s: wall-clock seconds spent training (all calls).
        images_per_sec: real images per second of the last call, after compiling.
        stopped: ``'completed'``, ``'interrupted'`` (Ctrl-C), ``'nan'`` (a step was not
            finite) or ``'stopped'`` (a callback set ``model.stop_training``).
        message: why training stopped early ('' when it completed).
        ema_generator: with ``ema``, the ``keras.Model`` holding the moving average of
            G's weights (sample from it); None otherwise.
        history, epoch: Keras's: the epoch means of the losses, per complete epoch of this call.
        model: the GAN that was trained (``gan.GAN``).
    """

    SAVED = ("d_loss", "g_loss", "penalty", "steps_done", "epochs_done", "elapsed_s", "images_per_sec", "stopped",
             "message")

    def __init__(self):
        super().__init__()
        self.epoch = []
        self.d_loss, self.g_loss, self.penalty, self.samples = [], [], [], []
        self.steps_done = self.epochs_done = 0
        self.elapsed_s = self.images_per_sec = 0.0
        self.stopped, self.message = "completed", ""
        self.ema_generator = None
        self._started = None

    @property
    def began(self):
        """Whether a call has started training (``on_train_begin``)."""
        return self._started is not None

    def to_json(self):
        """Everything but the sample images and the models, as a JSON-ready dict."""
        return {name: getattr(self, name) for name in self.SAVED}

    @classmethod
    def from_json(cls, state):
        history = cls()
        for name in cls.SAVED:
            if name in state:
                setattr(history, name, state[name])
        return history

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.stopped, self.message = "completed", ""
        self._started = time.perf_counter()
        self._steady = None  # (time, step) at the end of this call's first step
        self._skip = self.params.get("skip", 0)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._batches_done = epoch, 0

    def on_train_batch_end(self, batch, logs=None):
        if self._skip:  # already trained before the run was resumed
            self._skip -= 1
            self._batches_done += 1
            return
        step = int(self.model.step.numpy())
        if step == self.steps_done:
            self._stop("nan", self._divergence_message(self.model.failure.numpy()))
            return
        if "penalty" in logs or self.penalty:  # aligned with d_loss: NaN where a call had none
            self.penalty += [math.nan] * (len(self.d_loss) - len(self.penalty))
            self.penalty.append(logs.get("penalty", math.nan))
        self.d_loss.append(logs["d_loss"])
        self.g_loss.append(logs["g_loss"])
        self.steps_done, self._batches_done = step, self._batches_done + 1
        if self._steady is None:
            self._steady = (time.perf_counter(), step)
        if step >= self.params["end_step"]:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if self._batches_done == self.params["steps"]:
            self.epochs_done = epoch + 1
            super().on_epoch_end(epoch, logs)

    def on_train_end(self, logs=None):
        now = time.perf_counter()
        self.elapsed_s += now - self._started
        since, step = self._steady if self._steady and self.steps_done > self._steady[1] else (
            self._started, self.params["start_step"])
        self.images_per_sec = (max(self.steps_done - step, 0) * self.params["batch_size"] * self.params["d_steps"]
                               / max(now - since, 1e-9))
        unfinished = self.steps_done < self.params["end_step"] and self.epochs_done < self.params["epochs"]
        if self.stopped == "completed" and unfinished:
            self.message = (f"A callback stopped training at step {self.steps_done} (model.stop_training = True); "
                            "the weights are kept.")
            self.stopped = "stopped"

    def interrupted(self):
        """Ctrl-C: what the model trained past the last recorded step (if anything) is recorded as NaN."""
        missing = int(self.model.step.numpy()) - self.steps_done
        self.d_loss += [math.nan] * missing
        self.g_loss += [math.nan] * missing
        self.steps_done += missing
        self.stopped, self.message = "interrupted", f"Interrupted at step {self.steps_done}; the weights are kept."

    def _stop(self, stopped, message):
        self.stopped, self.message = stopped, message
        self.model.stop_training = True

    def _divergence_message(self, failure):
        step, epoch = self.steps_done + 1, self._epoch + 1
        d_loss, g_loss, d_grads_ok, g_grads_ok = (float(x) for x in failure)
        if not math.isfinite(d_loss):
            what = f"the discriminator loss is {d_loss}"
        elif not d_grads_ok:
            what = "the discriminator's gradients are not finite (the loss is)"
        elif not math.isfinite(g_loss):
            what = f"the generator loss is {g_loss}"
        else:
            what = "the generator's gradients are not finite (the loss is)"
        return (f"Training stopped at step {step} (epoch {epoch}): {what}. Updates with non-finite values "
                f"were not applied, so the models keep their last finite weights (from step {step - 1}).\n"
                f"{LIKELY_CAUSES}")


class SampleGrids(keras.callbacks.Callback):
    """``history.samples``: the sampler's images of the same 16 noise vectors (drawn from ``seed``), before
    training (or at the step a resumed run starts from), every ``show_every`` steps and at the end."""

    def __init__(self, seed):
        self.seed = seed

    def on_train_begin(self, logs=None):
        self.noise = tf.random.stateless_uniform((NUM_SAMPLES, self.model.noise_size), seed=(self.seed, 7),
                                                 minval=-1.0, maxval=1.0)
        self._draw()

    def on_train_batch_end(self, batch, logs=None):
        if self.model.history.steps_done % self.params["show_every"] == 0:
            self._draw()

    def on_train_end(self, logs=None):
        if self.model.history.stopped == "completed":
            self._draw()

    def _draw(self):
        history = self.model.history
        if not (history.samples and history.samples[-1][0] == history.steps_done):
            history.samples.append((history.steps_done, self.model.generate(self.noise)))


class EpochGrids(keras.callbacks.Callback):
    """A PNG grid of samples from fixed noise per epoch (``callbacks=[EpochGrids(folder, noise)]``).

    Files ``folder/epoch_000.png`` (before training, unless ``before_training=False`` or
    the run resumes), ``epoch_001.png``, ... after each epoch, and ``step_NNNNNN.png``
    when training stops inside an epoch (quick mode, Ctrl-C), unless ``when_stopped=False``.
    The same ``noise`` (N, noise_size) every time, so the grids show the same latent
    codes as training goes on; ``paths`` lists the files, ready for :func:`viz.make_gif`.
    The images are drawn as the run draws its own samples (``GAN.generate``): by the
    averaged generator with ``ema``, and for a conditional GAN with class
    ``i % num_classes`` for image i (``ncols=num_classes`` puts a class per column).
    The PNG is written in the background while training goes on, and every file is there
    when training ends. ``clear=True`` first deletes the PNGs an earlier run left there.
    """

    def __init__(self, folder, noise, *, scale=1, ncols=None, before_training=True, when_stopped=True, clear=False):
        super().__init__()
        self.folder, self.noise, self.scale, self.ncols = Path(folder), noise, scale, ncols
        self.before_training, self.when_stopped, self.clear = before_training, when_stopped, clear
        self.paths, self.last_step, self.writing = [], None, []

    def on_train_begin(self, logs=None):
        self.writer = ThreadPoolExecutor(max_workers=1)
        if self.clear:
            for old in self.folder.glob("*.png"):
                old.unlink()
        self.last_step = self.params["start_step"]
        if self.before_training and self.last_step == 0:
            self._save("epoch_000", 0)

    def on_epoch_end(self, epoch, logs=None):
        history = self.model.history
        if history.epochs_done == epoch + 1:
            self._save(f"epoch_{epoch + 1:03d}", history.steps_done)

    def on_train_end(self, logs=None):
        steps = self.model.history.steps_done
        if self.when_stopped and steps != self.last_step:
            self._save(f"step_{steps:06d}", steps)
        self.writer.shutdown()
        for written in self.writing:
            written.result()  # a write that failed says so here
        self.writing = []

    def _save(self, name, step):
        path = self.folder / f"{name}.png"
        self.writing.append(self.writer.submit(save_image_grid, self.model.generate(self.noise), path,
                                               value_range=(-1.0, 1.0), ncols=self.ncols, scale=self.scale))
        self.paths.append(path)
        self.last_step = step


class TensorBoardSteps(keras.callbacks.Callback):
    """What ``keras.callbacks.TensorBoard`` (epoch means) does not log: the losses every ``print_every``
    steps and the sample grids, at the run's own step, so that a resumed run continues its curves.

    Tags ``d_loss``, ``g_loss`` (and ``penalty`` with one) and ``samples``, in ``log_dir/train``,
    beside Keras's: ``tensorboard --logdir log_dir``.
    """

    def __init__(self, log_dir):
        super().__init__()
        self.log_dir = Path(log_dir) / "train"

    def on_train_begin(self, logs=None):
        self.writer = tf.summary.create_file_writer(str(self.log_dir))
        self.logged = start = self.params["start_step"]
        self.drawn = sum(step <= start for step, _ in self.model.history.samples) if start else 0  # logged before
        self._samples()

    def on_train_batch_end(self, batch, logs=None):
        step = self.model.history.steps_done
        if step % self.params["print_every"] == 0 and step != self.logged:  # not again after a step not applied
            self.logged = step
            with self.writer.as_default():
                for name in ("d_loss", "g_loss", "penalty"):
                    if name in logs:
                        tf.summary.scalar(name, logs[name], step=step)
        self._samples()

    def on_train_end(self, logs=None):
        self._samples()
        self.writer.close()

    def _samples(self):
        samples = self.model.history.samples
        with self.writer.as_default():
            for step, images in samples[self.drawn:]:
                grid = image_grid(images, value_range=(-1.0, 1.0))
                tf.summary.image("samples", (grid if grid.ndim == 3 else grid[..., None])[None], step=step)
        self.drawn = len(samples)


# ----------------------------------------------------------------------------
# Checkpoints
# ----------------------------------------------------------------------------


class CheckpointError(ValueError):
    """No checkpoint in a folder can be restored. ``reason`` says why; the message adds what to do."""

    def __init__(self, reason, advice=""):
        super().__init__(f"{reason} {advice}".strip())
        self.reason = reason


def first_line(error):
    """``'TypeName: first line of the message'``, for saying what went wrong in one line."""
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


def _checkpoints(directory):
    """``[(step, path prefix)]`` of the checkpoints ``ckpt-<step>`` in ``directory``, newest first."""
    return sorted(((int(path.stem[5:]), str(path.with_suffix(""))) for path in Path(directory).glob("ckpt-*.index")
                   if path.stem[5:].isdigit()), reverse=True)


def restore_newest(directory, **objects):
    """Restore ``objects`` (models, optimizers, variables) from the newest readable checkpoint.

    A checkpoint that is truncated or otherwise damaged (a crash or a full disk while
    saving) is passed over for the next older one: it loses only itself. Returns
    ``(step, skipped, damaged)``: the step of the checkpoint restored (None when the
    folder holds none), a sentence naming the newer ones passed over and how many steps
    older the one restored is ('' when none was), and their path prefixes. Raises
    ``CheckpointError`` when none can be restored.
    """
    failures = []
    for step, prefix in _checkpoints(directory):
        try:  # every object given must be found; the checkpoint may hold more (the generator alone is restored)
            tf.train.Checkpoint(**objects).read(prefix).expect_partial().assert_existing_objects_matched()
        except Exception as error:  # truncated files, missing shards, other models: TensorFlow raises many kinds
            failures.append((step, prefix, error))
            continue
        names = ", ".join(f"{Path(path).name} ({first_line(error)})" for _, path, error in failures)
        skipped = (f"The newest checkpoint in {directory} is unreadable: {names}. Using the one of step {step} "
                   f"instead, {_steps(failures[0][0] - step)} older." if failures else "")
        return step, skipped, [path for _, path, _ in failures]
    if not failures:
        left = [path.name for path in Path(directory).glob("*") if path.name.startswith(("ckpt-", "checkpoint", "gan_"))]
        if left:
            raise CheckpointError(f"The checkpoint in {directory} is unreadable: it holds {', '.join(sorted(left))} "
                                  "but no complete checkpoint (ckpt-<step>.index and its data).")
        return None, "", []
    mismatch = next((error for *_, error in failures if isinstance(error, (AssertionError, ValueError))), None)
    if mismatch is not None:
        raise CheckpointError(f"The checkpoint in {directory} was saved for other models or optimizers and cannot "
                              f"be restored into these ({first_line(mismatch)}).")
    names = ", ".join(f"{Path(path).name} ({first_line(error)})" for _, path, error in failures)
    raise CheckpointError(f"The checkpoint in {directory} is unreadable: {names}.")


def _steps(count):
    return f"{count} step" + ("" if count == 1 else "s")


def changed_settings(saved, wanted, defaults=()):
    """``[(name, saved value, wanted value)]`` for each setting of ``wanted`` that differs from ``saved``.

    A setting missing from ``saved`` (an older run's) counts as its value in ``defaults``;
    one in neither is not compared. How a run refuses to resume with other settings.
    """
    defaults = dict(defaults)
    return [(name, saved.get(name, defaults.get(name)), value) for name, value in wanted.items()
            if (name in saved or name in defaults) and saved.get(name, defaults.get(name)) != value]


class Checkpoints(keras.callbacks.Callback):
    """Everything a later call needs to resume, in ``directory``, at every epoch's end and when training stops.

    ``ckpt-<step>`` checkpoints (``tf.train.CheckpointManager``, the newest two kept: D, G,
    both optimizers, G_ema, the step and the progress through the epochs),
    ``gan_run.json`` (history and settings) and ``gan_samples.npz`` (sample grids), each
    written whole or not at all. ``resume`` restores the newest readable checkpoint first.
    """

    KEEP = 2

    def __init__(self, directory, gan, settings):
        super().__init__()
        self.directory = Path(directory).expanduser()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.settings = settings
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="gan_epoch")
        self.step_in_epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="gan_step_in_epoch")
        self.objects = {"D": gan.D, "G": gan.G, "D_solver": gan.D_solver, "G_solver": gan.G_solver, "step": gan.step,
                        "epoch": self.epoch, "step_in_epoch": self.step_in_epoch}
        if gan.G_ema is not None:
            self.objects["G_ema"] = gan.G_ema
        self.run_file, self.samples_file = self.directory / "gan_run.json", self.directory / "gan_samples.npz"
        self.manager = None
        self.written = None  # (step, epoch, step in epoch) of the last checkpoint written or restored
        self.samples_written = None

    def resume(self, seed):
        """Restore the newest readable checkpoint: ``(history, seed, notes)``, a fresh history when there is none.

        Raises ``ValueError`` for a checkpoint made with other settings (batch or noise
        size, d_steps, conditional models, with or without ema; another ema decay is
        allowed), ``CheckpointError`` when none can be restored.
        """
        self._check_settings(self._saved_settings())
        try:
            step, skipped, damaged = restore_newest(self.directory, **self.objects)
        except CheckpointError as error:
            raise CheckpointError(error.reason, "Use another checkpoint_dir, or delete this one to start over.") from None
        if damaged:  # it loses only itself: gone, and the manager keeps the two newest good ones
            for prefix in damaged:
                for path in self.directory.glob(f"{Path(prefix).name}.*"):
                    path.unlink(missing_ok=True)
            good = [prefix for _, prefix in reversed(_checkpoints(self.directory))]
            tf.compat.v1.train.update_checkpoint_state(str(self.directory), good[-1], good,
                                                       all_model_checkpoint_timestamps=[time.time()] * len(good))
        self.manager = tf.train.CheckpointManager(tf.train.Checkpoint(**self.objects), self.directory, self.KEEP)
        if step is None:
            return GanHistory(), seed, []
        self.written = self._progress()
        notes = [f"{skipped} Those steps are trained again."] if skipped else []
        saved, history = self._read_state(notes)
        self._check_settings(saved)
        return _history_at(history, step, int(self.epoch.numpy())), saved.get("seed", seed), notes

    def steps_into_epoch(self):
        """How many steps of its last epoch the restored run had trained (0 without a checkpoint)."""
        return int(self.step_in_epoch.numpy())

    def on_epoch_end(self, epoch, logs=None):
        if self.model.history.epochs_done == epoch + 1:
            self._save()

    def on_train_end(self, logs=None):
        self._save()

    def _save(self):
        history = self.model.history
        self.epoch.assign(history.epochs_done)
        self.step_in_epoch.assign(history.steps_done - history.epochs_done * self.params["steps"])
        if self._progress() != self.written:  # the end of a call right after an epoch's end saves nothing new
            self.manager.save(checkpoint_number=history.steps_done)
            self.written = self._progress()
        _write_atomically(self.run_file, lambda file: file.write(
            json.dumps({"settings": self.settings, "history": history.to_json()}).encode()))
        if history.samples and len(history.samples) != self.samples_written:
            steps = np.array([step for step, _ in history.samples])
            images = np.stack([images for _, images in history.samples])
            _write_atomically(self.samples_file, lambda file: np.savez(file, steps=steps, images=images))
            self.samples_written = len(history.samples)

    def _progress(self):
        return [int(self.objects[name].numpy()) for name in ("step", "epoch", "step_in_epoch")]

    def _saved_settings(self):
        try:
            return json.loads(self.run_file.read_text()).get("settings", {})
        except (ValueError, TypeError, OSError, AttributeError):
            return {}  # said when the state is read after restoring

    def _check_settings(self, saved):
        """``ValueError`` when the call differs from the checkpoint in what a run cannot change (nothing to
        compare when there is no checkpoint yet, or its settings are unreadable: said when restoring)."""
        if not saved:
            return
        for name, before, now in changed_settings(saved, self.settings, {"d_steps": 1, "conditional": False,
                                                                         "ema": None}):
            if name == "ema" and (before is None) == (now is None):
                continue  # another decay carries on from the same average
            if name == "conditional":
                kinds = ("an unconditional GAN (models without labels)", "a conditional GAN (models taking labels)")
                raise ValueError(f"The checkpoint in {self.directory} was trained as {kinds[bool(before)]}, but "
                                 f"these models make {kinds[bool(now)]}. Give it the models it was trained with "
                                 "to resume, or use a new checkpoint_dir.")
            if name != "seed":
                raise ValueError(f"The checkpoint in {self.directory} was trained with {name}={before!r}, not "
                                 f"{now!r}. Pass {name}={before!r} to resume, or use a new checkpoint_dir.")

    def _read_state(self, notes):
        """``(settings, history)`` from the files beside the checkpoints; what cannot be read is noted."""
        try:
            state = json.loads(self.run_file.read_text()) if self.run_file.is_file() else {}
            history = GanHistory.from_json(state.get("history", {}))
        except (ValueError, TypeError, OSError) as error:
            notes.append(f"{self.run_file} is unreadable ({first_line(error)}): the losses before this call "
                         "are lost (NaN in the history); the weights are not.")
            state, history = {}, GanHistory()
        try:
            if self.samples_file.is_file():
                with np.load(self.samples_file) as saved:
                    history.samples = [(int(step), saved["images"][i]) for i, step in enumerate(saved["steps"])]
        except (ValueError, KeyError, OSError, EOFError) as error:
            notes.append(f"{self.samples_file} is unreadable ({first_line(error)}): earlier sample grids are lost.")
        return state.get("settings", {}), history


def _write_atomically(path, write):
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as file:
        write(file)
    temporary.replace(path)


def _history_at(history, steps, epochs):
    """The history as of the checkpoint's step (the files beside it may be a little newer or older)."""
    missing = max(steps - len(history.d_loss), 0)
    history.d_loss = history.d_loss[:steps] + [math.nan] * missing
    history.g_loss = history.g_loss[:steps] + [math.nan] * missing
    if history.penalty:
        history.penalty = history.penalty[:steps] + [math.nan] * max(steps - len(history.penalty), 0)
    history.samples = [(step, images) for step, images in history.samples if step <= steps]
    history.steps_done, history.epochs_done = steps, epochs
    history.stopped, history.message = "completed", ""
    return history
