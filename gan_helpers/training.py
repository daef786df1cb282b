"""Training a GAN: ``get_solvers``, ``build_gan`` and ``run_a_gan`` first, the machinery under them below.

``run_a_gan`` trains ``D`` and ``G`` the way notebook 05 teaches (and the CS231n
assignment does): per batch of real images, one discriminator update on real images and
``G(z)``, then one generator update on fresh noise, scored by the just-updated ``D``.
Keyword options extend that step for the later notebooks, each off by default:
``d_steps`` critic updates per generator update and a ``discriminator_penalty``
(WGAN-GP, notebook 11), labels for a conditional GAN (notebook 12), an exponential
moving average of G's weights (``ema``) and differentiable augmentation of real and
generated images (``augment``, notebook 13). Around that step it adds:

- **Speed.** The whole step is one ``tf.function``, traced once (its batch dimension is
  ``None``, so the smaller last batch of an epoch reuses it), and compiled with XLA
  where that was measured to pay (``uses_xla``: long runs of the MLP GANs on a CPU).
  Losses wait on the device in a small ring buffer until every ``print_every`` steps;
  noise is drawn in the ``tf.data`` pipeline, and the next epoch's pipeline is ready
  before it is needed.
- **A guard against divergence.** An update is applied only when its loss and gradients
  are finite; when the generator's half of a step fails, the discriminator's half is
  undone from a copy taken at the start of the step. Training stops at the next
  read-back with a message naming the step and the likely causes; the models and
  optimizers keep their state after the last finite step.
- **Interrupts and checkpoints.** Ctrl-C returns the history so far, weights kept. With
  ``checkpoint_dir``, everything is saved at every epoch's end and on stopping, and a
  later call resumes from the newest checkpoint it can read.
- **Scaling out.** ``strategy=`` takes a ``tf.distribute`` strategy: each replica trains
  on its slice of the batch and the gradients are averaged, so one step matches one
  device. On GPUs ``build_gan`` builds in mixed precision; ``run_a_gan`` adds loss scaling.

What it shows meanwhile is the course's display from ``widgets``, imported when a call
starts (``widgets`` builds on the ``GanCallback`` defined here, never the reverse):
``callbacks`` are added to it, ``verbose=False`` leaves it out.
"""

import dataclasses
import inspect
import itertools
import json
import math
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from gan_helpers import settings
from gan_helpers.data import load_mnist
from gan_helpers.models import label_classes
from gan_helpers.ops import ema_update, scale_pixels

NUM_SAMPLES = 16
SUM = tf.distribute.ReduceOp.SUM
# The loss buffer holds at most this many steps; a fuller one is read back early.
MAX_UNREAD_STEPS = 1024


# ----------------------------------------------------------------------------
# What a notebook calls
# ----------------------------------------------------------------------------


def get_solvers(learning_rate=1e-3, beta1=0.5, *, beta2=0.999, d_learning_rate=None, g_learning_rate=None):
    """Two Adam optimizers, ``(D_solver, G_solver)``, one per network.

    ``beta1=0.5`` (instead of Adam's usual 0.9) follows the DCGAN paper: less
    momentum keeps each player responsive to the other's latest move. WGAN-GP trains
    with ``beta1=0, beta2=0.9`` (Gulrajani et al., 2017, Algorithm 1).

    ``d_learning_rate`` and ``g_learning_rate`` give each network a learning rate of
    its own (the two time-scale update rule, TTUR, of Heusel et al., 2017; e.g.
    4e-4 for D and 1e-4 for G); None takes ``learning_rate``.
    """
    d_learning_rate = learning_rate if d_learning_rate is None else d_learning_rate
    g_learning_rate = learning_rate if g_learning_rate is None else g_learning_rate
    D_solver = keras.optimizers.Adam(learning_rate=d_learning_rate, beta_1=beta1, beta_2=beta2)
    G_solver = keras.optimizers.Adam(learning_rate=g_learning_rate, beta_1=beta1, beta_2=beta2)
    return D_solver, G_solver


def gpu_available():
    """True when TensorFlow sees at least one GPU."""
    return bool(tf.config.list_physical_devices("GPU"))


def build_gan(make_discriminator, make_generator, *, strategy=None, mixed_precision="auto",
              learning_rate=1e-3, beta1=0.5, beta2=0.999, d_learning_rate=None, g_learning_rate=None):
    """Build ``(D, G, D_solver, G_solver)`` where ``run_a_gan`` needs them.

    With a ``tf.distribute`` strategy, models and optimizers must be created inside
    ``strategy.scope()`` so that their variables are mirrored on every replica; this
    does that. ``mixed_precision="auto"`` builds the models in ``mixed_float16``
    when a GPU is present (float16 matmuls, float32 weights) and in float32 on a
    CPU, where float16 would only be slower; ``True`` or ``False`` force it. The
    global Keras dtype policy is restored afterwards.

    Args:
        make_discriminator, make_generator: functions of no argument returning a
            ``keras.Model``, e.g. ``models.discriminator``.
        learning_rate, beta1, beta2, d_learning_rate, g_learning_rate: the
            optimizers' settings, as ``get_solvers`` takes them.
    """
    strategy = strategy or tf.distribute.get_strategy()
    if mixed_precision not in ("auto", True, False):
        raise ValueError(f"mixed_precision must be 'auto', True or False, not {mixed_precision!r}.")
    use_float16 = mixed_precision is True or (mixed_precision == "auto" and gpu_available())
    previous_policy = keras.config.dtype_policy()
    try:
        if use_float16:
            keras.config.set_dtype_policy("mixed_float16")
        with strategy.scope():
            D = make_discriminator()
            G = make_generator()
            D_solver, G_solver = get_solvers(learning_rate, beta1, beta2=beta2, d_learning_rate=d_learning_rate,
                                             g_learning_rate=g_learning_rate)
    finally:
        keras.config.set_dtype_policy(previous_policy)
    return D, G, D_solver, G_solver


def run_a_gan(D, G, D_solver, G_solver, discriminator_loss, generator_loss, show_every=250, print_every=50,
              batch_size=128, num_epochs=10, noise_size=96, *, dataset=None, seed=None, callbacks=None,
              verbose=True, checkpoint_dir=None, strategy=None, d_steps=1, discriminator_penalty=None, ema=None,
              augment=None, num_classes=None):
    """Train a GAN: per batch, one discriminator update, then one generator update.

    Args:
        D: discriminator, a ``keras.Model`` from images (B, ...) to logits (B, 1).
        G: generator, a ``keras.Model`` from noise (B, noise_size) to images in [-1, 1].
        D_solver, G_solver: two keras optimizers (``get_solvers()``).
        discriminator_loss: ``f(logits_real, logits_fake)`` -> scalar (batch mean).
        generator_loss: ``f(logits_fake)`` -> scalar (batch mean).
            Both are the functions written in the notebooks, used unchanged;
            logits reach them as float32 tensors of shape (B, 1).
        show_every: generate sample images from fixed noise every this many steps.
        print_every: read the losses back and report them every this many steps.
        batch_size: real images per step (the last batch of an epoch may be smaller).
        num_epochs: passes over the data set, counted over resumed calls.
        noise_size: length of the noise vectors G takes.
        dataset: None for MNIST (flat or 28x28x1, whichever D takes; with its labels
            for a conditional GAN); a ``tf.data.Dataset`` of image batches or of
            ``(images, labels)`` batches (used as it is each epoch, shuffling included);
            or an array of images (N, ...), or a pair of arrays ``(images, labels)``,
            shuffled each epoch. Images are floats in [-1, 1] (uint8 0..255 is
            rescaled); labels are integers in [0, num_classes).
        seed: makes the data order, the noise and the sample noise reproducible (the
            draws inside a penalty or ``augment`` come from TensorFlow's global random
            state: ``keras.utils.set_random_seed`` fixes those).
        callbacks: ``GanCallback``s called while training, after the display's own.
        verbose: show the course's display (``widgets.default_display()``: the live
            view in a notebook, plain text or a terminal bar elsewhere); False trains
            silently. A display among ``callbacks`` replaces the default one.
        checkpoint_dir: save models, optimizers, progress and history here at
            every epoch end and when stopping; a later call with the same directory
            resumes from the newest checkpoint it can read.
        strategy: a ``tf.distribute`` strategy; D, G and both optimizers must have
            been built in its scope (see ``build_gan``).

    Options for the later notebooks (all off by default):
        d_steps: discriminator (critic) updates per generator update, each on its own
            real batch and fresh noise, as in WGAN-GP's Algorithm 1 (n_critic = 5).
            A *step* is still one generator update: ``steps_done``, ``print_every``,
            ``show_every``, quick mode's cap and the history count those. An epoch is
            still one pass over the data, so it has about 1/d_steps as many steps (the
            last step of an epoch may have fewer critic updates). ``history.d_loss``
            holds the mean of each step's critic losses.
        discriminator_penalty: ``penalty(D, real, fake)`` -> scalar, added to the
            discriminator's loss at every critic update (e.g. WGAN-GP's
            ``gradient_penalty``). ``real`` and ``fake`` are the float32 batches D
            scores in that update (after ``augment``), the fakes made from the same
            noise as the loss's. For a conditional D, ``D`` is passed as the function
            ``images -> D([images, labels])`` with the batch's labels bound.
            ``history.d_loss`` includes the penalty and ``history.penalty`` holds it
            per step, so ``d_loss - penalty`` is the loss without it (for WGAN-GP, the
            Wasserstein estimate is its negative).
        ema: a decay such as 0.999: keep an exponential moving average of all of G's
            weights (batch-norm statistics included), ``average = d * average +
            (1 - d) * weights`` after every generator update (``ops.ema_update``),
            starting from G's weights when the call starts (or, when resumed, from the
            checkpoint's). The decay warms up as TensorFlow's ExponentialMovingAverage
            does: ``d = min(ema, (1 + t) / (10 + t))`` after t steps (``ema_decay``), so
            that the average of a short run is not stuck near G's random start; it
            reaches ``ema`` after 8,990 steps for 0.999 (890 for 0.99). Sample grids come
            from the average, which is returned as ``history.ema_generator`` (a copy of
            G's architecture) and checkpointed; G itself trains on as without it.
        augment: a differentiable function ``images -> images``, random per image
            (e.g. ``diff_augment``): D scores ``augment(real)`` and ``augment(G(z))``
            in both the discriminator and the generator updates, and G's gradient
            flows through it (DiffAugment, Zhao et al. 2020).
        num_classes: for a conditional GAN, whose models both take two inputs,
            ``G([noise, labels])`` and ``D([images, labels])`` with labels int32 of
            shape (B,): the number of classes. None reads it from an ``Embedding`` (or
            ``CategoryEncoding``) layer of G or D, else from the labels. Fakes are
            made for the labels of the real batch (so the classes keep the data's
            frequencies), in the discriminator update and, with fresh noise, in the
            generator update (with ``d_steps`` > 1, the labels of the step's first real
            batch). Sample grids show class ``i % num_classes`` in place ``i``.

    Returns:
        a ``GanHistory``. In quick mode (``GAN_COURSE_QUICK``) at most
        ``settings.QUICK_MAX_STEPS`` steps are trained per call.
    """
    _check_arguments(D, G, D_solver, G_solver, discriminator_loss, generator_loss, show_every=show_every,
                     print_every=print_every, batch_size=batch_size, num_epochs=num_epochs, noise_size=noise_size,
                     d_steps=d_steps)
    _check_options(discriminator_penalty=discriminator_penalty, ema=ema, augment=augment, num_classes=num_classes)
    # numpy numbers as Python's, so that checkpoints can record them
    show_every, print_every, batch_size, num_epochs, noise_size, d_steps = (
        int(n) for n in (show_every, print_every, batch_size, num_epochs, noise_size, d_steps))
    ema = None if ema is None else float(ema)
    num_classes = None if num_classes is None else int(num_classes)
    strategy = _resolve_strategy(strategy, {"D": D, "G": G}, {"D_solver": D_solver, "G_solver": G_solver})
    conditional = _is_conditional(D, G, num_classes)
    data_shape = _image_shape(D, G, noise_size, conditional)
    with strategy.scope():
        D_solver, G_solver = (_with_loss_scaling(solver, (D, G)) for solver in (D_solver, G_solver))
    step = _TrainStep(D, G, D_solver, G_solver, discriminator_loss, generator_loss, strategy=strategy,
                      data_shape=data_shape, d_steps=d_steps, penalty=discriminator_penalty, augment=augment,
                      ema=ema, conditional=conditional, noise_size=noise_size)

    train_settings = {"batch_size": batch_size, "noise_size": noise_size, "d_steps": d_steps, "ema": ema,
                      "conditional": conditional}
    history, notes, checkpoint = GanHistory(), [], None
    if checkpoint_dir is not None:
        checkpoint = _Checkpoint(checkpoint_dir, **step.checkpointed())
        history, seed, notes = checkpoint.resume(train_settings, seed=seed)
    if seed is None:
        seed = int(np.random.randint(0, 2**31 - 1))
    feed = _DataFeed(dataset, data_shape, batch_size, noise_size, seed, d_steps=d_steps, conditional=conditional)
    num_classes = _number_of_classes(num_classes, G, D, feed) if conditional else None
    history.ema_generator = step.G_ema

    start_step, start_epoch = int(step.step.numpy()), int(step.epoch.numpy())
    total_steps = None if feed.steps_per_epoch is None else feed.steps_per_epoch * num_epochs
    end_step = math.inf if total_steps is None else total_steps
    if settings.quick_mode() and end_step - start_step > settings.QUICK_MAX_STEPS:
        end_step = start_step + settings.QUICK_MAX_STEPS
        notes.append(f"Quick mode ({settings.QUICK_ENV} is set): this call stops after "
                     f"{settings.QUICK_MAX_STEPS} steps.")
    if start_epoch >= num_epochs:
        if verbose:
            print(f"The checkpoint in {checkpoint_dir} has finished all {num_epochs} epochs; nothing to train. "
                  "Raise num_epochs to train on, or use a new checkpoint_dir.")
        return history

    xla = step.plain_on_one_device() and uses_xla(D, G, end_step - start_step)
    run = GanRun(D=D, G=G, history=history, noise_size=noise_size, batch_size=batch_size, num_epochs=num_epochs,
                 steps_per_epoch=feed.steps_per_epoch, total_steps=total_steps, start_step=start_step,
                 end_step=end_step, print_every=print_every, show_every=show_every, strategy=strategy, notes=notes,
                 d_steps=d_steps, num_classes=num_classes, sampler=G if step.G_ema is None else step.G_ema, xla=xla)
    loop = _Loop(run, step, feed, _Callbacks(callbacks, verbose), checkpoint, {**train_settings, "seed": seed})
    return loop.train()


# ----------------------------------------------------------------------------
# What run_a_gan returns, and what its callbacks see
# ----------------------------------------------------------------------------


@dataclasses.dataclass
class GanHistory:
    """What a call of ``run_a_gan`` did (cumulative over resumed calls).

    Attributes:
        d_loss, g_loss: one float per applied step, in order (NaN for steps whose
            losses were lost with a damaged checkpoint). With ``d_steps`` > 1, d_loss
            is the mean over the step's critic updates; with a
            ``discriminator_penalty`` it includes the penalty.
        penalty: the ``discriminator_penalty`` per step (mean over the step's critic
            updates), empty without one: ``d_loss[i] - penalty[i]`` is step i's
            discriminator loss without it.
        steps_done: number of steps applied (all calls, when resumed).
        epochs_done: number of complete epochs.
        samples: ``(step, images)`` pairs, images a numpy array (16, ...) in [-1, 1]
            generated from the same fixed noise each time (by the averaged generator
            with ``ema``; for a conditional GAN, of class ``i % num_classes`` in row i).
        elapsed_s: wall-clock seconds spent in ``run_a_gan`` (all calls).
        images_per_sec: real images per second of the last call, after compiling.
        stopped: ``'completed'``, ``'interrupted'`` or ``'nan'``.
        message: why training stopped early ('' when it completed).
        ema_generator: with ``ema``, the ``keras.Model`` holding the moving average of
            G's weights (sample from it); None otherwise. Not part of ``to_json``.
    """

    d_loss: list = dataclasses.field(default_factory=list)
    g_loss: list = dataclasses.field(default_factory=list)
    penalty: list = dataclasses.field(default_factory=list)
    steps_done: int = 0
    epochs_done: int = 0
    samples: list = dataclasses.field(default_factory=list)
    elapsed_s: float = 0.0
    images_per_sec: float = 0.0
    stopped: str = "completed"
    message: str = ""
    ema_generator: object = dataclasses.field(default=None, repr=False, compare=False)

    NOT_IN_JSON = ("samples", "ema_generator")

    def to_json(self):
        """Everything but the sample images and the averaged generator, as a JSON-ready dict."""
        return {field.name: list(value) if isinstance(value := getattr(self, field.name), list) else value
                for field in dataclasses.fields(self) if field.name not in self.NOT_IN_JSON}

    @classmethod
    def from_json(cls, state):
        return cls(**{field.name: state[field.name] for field in dataclasses.fields(cls)
                      if field.name in state and field.name not in cls.NOT_IN_JSON})


@dataclasses.dataclass
class GanRun:
    """What callbacks see of a training run (``on_train_begin(run)``).

    ``total_steps`` is the number of steps of all ``num_epochs`` (None while the
    data set's length is unknown); ``end_step`` is where this call will stop (less
    than ``total_steps`` in quick mode); ``start_step`` where it started (more than
    0 when resumed from a checkpoint). ``notes`` are sentences a display shows
    before training (quick mode, a damaged checkpoint passed over). ``train_step``
    is the compiled step function, set when the first epoch starts, so still None in
    ``on_train_begin`` (keep the run and read it later: its
    ``experimental_get_tracing_count()`` tells how often it was traced).
    ``d_steps`` is the number of critic updates per step (each on ``batch_size``
    real images); ``num_classes`` the classes of a conditional GAN (None otherwise);
    ``sampler`` the generator samples come from (the averaged one with ``ema``, else
    ``G``); ``generate(noise)`` draws with it as the sample grids do. ``xla`` says
    whether the step is compiled with XLA (see ``uses_xla``).
    """

    D: keras.Model
    G: keras.Model
    history: GanHistory
    noise_size: int
    batch_size: int
    num_epochs: int
    steps_per_epoch: int
    total_steps: int
    start_step: int
    end_step: int
    print_every: int
    show_every: int
    strategy: object
    notes: list = dataclasses.field(default_factory=list)
    train_step: object = None
    d_steps: int = 1
    num_classes: int = None
    sampler: keras.Model = None
    xla: bool = False

    def generate(self, noise):
        """Images from ``noise`` (N, noise_size) by ``sampler`` (G by default), numpy float32 (N, ...) in [-1, 1].

        A conditional generator draws class ``i % num_classes`` for row ``i``.
        """
        G = self.G if self.sampler is None else self.sampler
        inputs = noise if self.num_classes is None else [noise, sample_labels(len(noise), self.num_classes)]
        images = G(inputs, training=False)  # eager: a few calls per run, not worth a trace
        return np.asarray(self.strategy.experimental_local_results(images)[0], dtype=np.float32)


def sample_labels(count, num_classes):
    """Labels ``0, 1, ..., num_classes - 1, 0, 1, ...`` (int32, shape (count,)): every class in turn."""
    return tf.range(count, dtype=tf.int32) % num_classes


class GanCallback:
    """Base class for what ``run_a_gan`` calls while it trains; every method is optional.

    Epochs are numbered from 1 (the first epoch is epoch 1); steps count applied
    updates from 1, over all resumed calls.

    - ``on_train_begin(run)``: once, before the first step; ``run`` is a ``GanRun``.
    - ``on_log(step, logs)``: every ``print_every`` steps; ``logs`` has ``'d_loss'``,
      ``'g_loss'`` (floats, this step's), ``'epoch'``, ``'images_per_sec'`` (real
      images, since the last log) and ``'seconds_left'`` (for this call; None if
      unknown); with a ``discriminator_penalty``, ``'penalty'`` too.
    - ``on_samples(step, images)``: before training (step 0, or the step a resumed
      run starts from), every ``show_every`` steps and at the end; ``images`` is
      numpy (16, ...) in [-1, 1] from fixed noise (``run.generate``).
    - ``on_epoch_end(epoch, logs)``: ``logs`` has ``'d_loss'``, ``'g_loss'`` (epoch
      means), ``'epoch'``, ``'step'``, ``'images_per_sec'``.
    - ``on_train_end(history)``: once, also after an interrupt or a non-finite loss.

    Raising ``KeyboardInterrupt`` in a callback stops training like Ctrl-C does.
    A callback with ``is_display = True`` shows progress (``widgets``): given one,
    ``run_a_gan`` adds no display of its own.
    """

    is_display = False

    def on_train_begin(self, run):
        pass

    def on_log(self, step, logs):
        pass

    def on_samples(self, step, images):
        pass

    def on_epoch_end(self, epoch, logs):
        pass

    def on_train_end(self, history):
        pass


class _Callbacks:
    """The callbacks of a call, then the display; calls a method on each that has it."""

    def __init__(self, callbacks, verbose):
        if callbacks is None:
            callbacks = []
        elif not isinstance(callbacks, (list, tuple)):
            callbacks = [callbacks]
        self.callbacks = list(callbacks)
        if verbose and not any(getattr(callback, "is_display", False) for callback in self.callbacks):
            from gan_helpers import widgets  # the display; widgets builds on this module, never the reverse

            self.callbacks += widgets.default_display()

    def __call__(self, method, *args):
        for callback in self.callbacks:
            function = getattr(callback, method, None)
            if function is not None:
                function(*args)


# ----------------------------------------------------------------------------
# The loop: epochs, read-backs, callbacks, timing, checkpoints
# ----------------------------------------------------------------------------


class _Stop(Exception):
    """Training ends before the last epoch: this call's last step is done, or a step was not finite."""


class _Loop:
    """The Python side of ``run_a_gan``: the loop of notebook 05 around the compiled step."""

    def __init__(self, run, step, feed, callbacks, checkpoint, train_settings):
        self.run, self.step, self.feed = run, step, feed
        self.callbacks, self.checkpoint, self.train_settings = callbacks, checkpoint, train_settings
        self.history = run.history
        self.images_per_step = run.batch_size * run.d_steps  # real images a step takes (at most)
        self.epoch = int(step.epoch.numpy())
        self.calls = self.read_up_to = run.start_step
        self.epoch_start = run.start_step - int(step.step_in_epoch.numpy())
        steps_in_call = run.end_step - run.start_step
        self.read_every = int(min(run.print_every, run.show_every, steps_in_call, MAX_UNREAD_STEPS))
        self.fixed_noise = tf.random.stateless_uniform((NUM_SAMPLES, run.noise_size), seed=(feed.seed, 7),
                                                       minval=-1.0, maxval=1.0)
        self.window = self.steady = self.epoch_timer = None  # (time, step) pairs; see _logs, _images_per_sec
        self.preparing, self.upcoming = ThreadPoolExecutor(max_workers=1), None

    def train(self):
        """Train until ``run.end_step`` or the last epoch; returns the history."""
        start = time.perf_counter()
        self.window, self.epoch_timer = (start, self.calls), start
        seconds_before = self.history.elapsed_s
        try:
            self.callbacks("on_train_begin", self.run)
            self._samples()  # the first grid; on resuming, the grid at the step it resumes from
            while self.epoch < self.run.num_epochs and self.calls < self.run.end_step:
                for batch in self._batches():
                    self._train_step(batch)
                    if self._due():
                        self._report()
                self._end_epoch()
        except _Stop:
            pass
        except KeyboardInterrupt:
            self._read_back(check=False)
            self.history.stopped = "interrupted"
            self.history.message = f"Interrupted at step {self.history.steps_done}; the weights are kept."
        self.preparing.shutdown(wait=False, cancel_futures=True)
        end = time.perf_counter()
        self.history.elapsed_s = seconds_before + (end - start)
        self.history.images_per_sec = self._images_per_sec(start, end)
        self._save()
        if self.history.stopped == "completed":
            self._samples()
        self.callbacks("on_train_end", self.history)
        return self.history

    def _batches(self):
        """This epoch's batches (see ``_DataFeed``), less those a resumed run already trained on.

        The next epoch's pipeline is built, and its first batch drawn, in the background
        meanwhile, so that a new epoch starts without waiting for either.
        """
        upcoming, self.upcoming = self.upcoming, None
        spec, batches = upcoming.result() if upcoming else self._prepare(self.epoch, self.calls - self.epoch_start)
        if self.step.function is None:
            self.run.train_step = self.step.compile(spec, capacity=self.read_every, xla=self.run.xla)
        if self.epoch + 1 < self.run.num_epochs:
            self.upcoming = self.preparing.submit(self._prepare, self.epoch + 1, 0)
        return batches

    def _prepare(self, epoch, skip):
        dataset = self.run.strategy.experimental_distribute_dataset(self.feed.epoch(epoch, skip))
        batches = iter(dataset)
        first = next(batches, None)
        return dataset.element_spec, itertools.chain([] if first is None else [first], batches)

    def _train_step(self, batch):
        if self.calls >= self.run.end_step:
            raise _Stop
        try:
            fell_back = self.step(batch)
        except NotImplementedError as error:
            raise NotImplementedError(f"A model or loss function given to run_a_gan is not implemented yet "
                                      f"({error!r}): finish its exercise first.") from error
        if fell_back:
            self.run.train_step, self.run.xla = self.step.function, False
        if self.steady is None:
            self.steady = self.window = (time.perf_counter(), self.calls + 1)
        self.calls += 1

    def _due(self):
        run = self.run
        return (self.calls % run.print_every == 0 or self.calls % run.show_every == 0
                or self.calls == run.end_step or self.calls - self.read_up_to >= self.read_every)

    def _report(self):
        """Read the losses back, then log and show samples as scheduled."""
        self._read_back()
        if self.calls % self.run.print_every == 0:
            self.callbacks("on_log", self.calls, self._logs())
        if self.calls % self.run.show_every == 0:
            self._samples()

    def _read_back(self, check=True):
        """Move the losses since the last read-back into the history; ``_Stop`` once a step was not finite."""
        losses, step = self.step.read_losses(self.read_up_to)
        if self.step.penalty is not None or self.history.penalty:  # aligned with d_loss: NaN where no penalty
            self.history.penalty += [math.nan] * (len(self.history.d_loss) - len(self.history.penalty))
            self.history.penalty.extend(losses["penalty"] if self.step.penalty is not None
                                        else [math.nan] * len(losses["d_loss"]))
        self.history.d_loss.extend(losses["d_loss"])
        self.history.g_loss.extend(losses["g_loss"])
        self.history.steps_done = self.read_up_to = step
        if check and bool(self.step.diverged.numpy()):
            self.history.stopped = "nan"
            self.history.message = _divergence_message(step + 1, self.epoch + 1, self.step.failure.numpy())
            raise _Stop

    def _samples(self):
        step = self.history.steps_done
        if self.history.samples and self.history.samples[-1][0] == step:
            return
        images = self.run.generate(self.fixed_noise)
        self.history.samples.append((step, images))
        self.callbacks("on_samples", step, images)

    def _logs(self):
        now = time.perf_counter()
        since, from_step = self.window
        self.window = (now, self.calls)
        speed = (self.calls - from_step) * self.images_per_step / max(now - since, 1e-9)
        left = None
        if math.isfinite(self.run.end_step) and speed > 0:
            left = (self.run.end_step - self.calls) * self.images_per_step / speed
        logs = {"d_loss": self.history.d_loss[-1], "g_loss": self.history.g_loss[-1], "epoch": self.epoch + 1,
                "images_per_sec": speed, "seconds_left": left}
        if self.step.penalty is not None:
            logs["penalty"] = self.history.penalty[-1]
        return logs

    def _images_per_sec(self, start, end):
        if self.steady is not None and self.history.steps_done > self.steady[1]:
            since, step = self.steady
        else:
            since, step = start, self.run.start_step
        return max(self.history.steps_done - step, 0) * self.images_per_step / max(end - since, 1e-9)

    def _end_epoch(self):
        self._read_back()
        steps_in_epoch = self.history.steps_done - self.epoch_start
        epoch_seconds = time.perf_counter() - self.epoch_timer
        if self.feed.steps_per_epoch is None:
            self.feed.steps_per_epoch = steps_in_epoch
        self.epoch += 1
        self.history.epochs_done = self.epoch
        d_losses = self.history.d_loss[self.epoch_start:]
        g_losses = self.history.g_loss[self.epoch_start:]
        self.epoch_start = self.history.steps_done
        self.epoch_timer = time.perf_counter()
        logs = {"d_loss": float(np.mean(d_losses)) if d_losses else float("nan"),
                "g_loss": float(np.mean(g_losses)) if g_losses else float("nan"),
                "epoch": self.epoch, "step": self.history.steps_done,
                "images_per_sec": steps_in_epoch * self.images_per_step / max(epoch_seconds, 1e-9)}
        self._save()
        self.callbacks("on_epoch_end", self.epoch, logs)

    def _save(self):
        if self.checkpoint is not None:
            self.step.epoch.assign(self.epoch)
            self.step.step_in_epoch.assign(self.history.steps_done - self.epoch_start)
            self.checkpoint.save(self.train_settings, self.history)


LIKELY_CAUSES = """Likely causes:
  - the learning rate is too high: try get_solvers(learning_rate=1e-4);
  - a hand-written loss takes the log of 0 (or divides by 0): use
    tf.nn.sigmoid_cross_entropy_with_logits instead of tf.math.log(tf.sigmoid(...));
  - the discriminator's output goes through a sigmoid before a log: D must return
    logits (no activation on its last layer) and the loss works on logits;
  - the real images are not scaled to [-1, 1]."""


def _divergence_message(step, epoch, failure):
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


# ----------------------------------------------------------------------------
# Feeding: per-epoch pipelines of real images (and labels) and noise
# ----------------------------------------------------------------------------


def _named_index(index):
    return {"index": index}


class _DataFeed:
    """Per-epoch ``tf.data`` pipelines yielding one dict per step.

    With ``d_steps=1`` a step's dict is ``{"real", "z_d", "z_g"}``: ``real`` float32 in
    [-1, 1] of shape (B, *data_shape), ``z_d`` and ``z_g`` uniform noise in [-1, 1] of
    shape (B, noise_size); a conditional GAN's adds ``"labels"``, int32 (B,). With
    ``d_steps`` > 1 a step takes ``d_steps`` consecutive batches, stacked along axis 1:
    ``real`` (B, d_steps, ...), ``z_d`` (B, d_steps, noise_size), ``labels`` (B, d_steps),
    and ``"valid"`` (B, d_steps), False where a batch is shorter than B (the end of an
    epoch, which may also leave a step fewer batches: those are all False). Every tensor
    of a step shares its first dimension, so a ``tf.distribute`` strategy hands each
    replica its slice of every batch.

    Arrays (MNIST included) are shuffled each epoch in an order that depends on
    ``(seed, epoch)`` only, and batched by gathering rows, so no per-image work runs in
    Python or in a shuffle buffer. The noise is drawn statelessly from ``(seed, epoch,
    step)``: a resumed run draws the same noise as an uninterrupted one.
    """

    def __init__(self, dataset, data_shape, batch_size, noise_size, seed, *, d_steps=1, conditional=False):
        self.data_shape = tuple(data_shape)
        self.batch_size = batch_size
        self.noise_size = noise_size
        self.seed = seed
        self.d_steps = d_steps
        self.conditional = conditional
        self.largest_label = None  # of labels given as an array (MNIST's included), for num_classes
        self._source = self._make_source(dataset)
        self._first_epoch = self._source(0)
        self.steps_per_epoch = self._count_batches(self._first_epoch)

    # ------------------------------------------------------------ the source: batches as dicts

    def _make_source(self, dataset):
        """``epoch -> dataset`` of steps' ``{"real", ["labels"], ["valid"]}`` (before the noise)."""
        if dataset is None:
            if math.prod(self.data_shape) != 28 * 28:
                raise ValueError(f"D takes images of shape {self.data_shape}, but MNIST images are 28x28. "
                                 "Pass your images with dataset=...")
            (images, labels), _ = load_mnist()  # uint8 (60000, 28, 28), rescaled below
            count = settings.quick_limit(len(images))
            dataset = (images[:count], labels[:count]) if self.conditional else images[:count]
        if isinstance(dataset, tf.data.Dataset):
            batches = self._named_parts(dataset)
            if self._is_unbatched(batches):
                batches = batches.batch(self.batch_size)
            batches = batches.map(self._as_model_input)
            self._check_first(batches)
            steps = self._grouped(batches)
            return lambda epoch: steps
        images, labels = self._arrays(dataset)
        count = int(images.shape[0])
        self._check_first(tf.data.Dataset.from_tensors(self._as_model_input(self._gathered(
            images, labels, tf.range(min(count, self.batch_size))))))

        def gather(step):
            rest = {name: value for name, value in step.items() if name != "index"}
            return self._as_model_input(self._gathered(images, labels, step["index"], **rest))

        def shuffled(epoch):
            # The order depends on (seed, epoch) only, not on TensorFlow's global seed,
            # so that a run resumed in a fresh kernel sees the data in the same order.
            order = np.random.default_rng([self.seed, epoch]).permutation(count)
            batches = tf.data.Dataset.from_tensor_slices(order).batch(self.batch_size)
            # Group the indices (cheap), then gather each step's images at once.
            return self._grouped(batches.map(_named_index)).map(gather)

        return shuffled

    @staticmethod
    def _gathered(images, labels, index, **rest):
        """``{"real", ["labels"]}`` at ``index`` (any shape; -1 marks padding, read as row 0), plus ``rest``."""
        safe = tf.maximum(index, 0)
        parts = {"real": tf.gather(images, safe), **rest}
        if labels is not None:
            parts["labels"] = tf.gather(labels, safe)
        return parts

    def _arrays(self, dataset):
        """``(images, labels)`` tensors from an array or a pair of arrays; labels None unless conditional."""
        labels = None
        if isinstance(dataset, (tuple, list)) and len(dataset) == 2 and all(
                isinstance(part, (np.ndarray, tf.Tensor)) for part in dataset):
            dataset, labels = dataset
        if not isinstance(dataset, (np.ndarray, tf.Tensor)):
            raise TypeError("dataset must be None (MNIST), a tf.data.Dataset of image batches, an array of images "
                            f"(N, ...) or a pair of arrays (images, labels); got {type(dataset).__name__}.")
        count = int(dataset.shape[0])
        if count == 0:
            raise ValueError("dataset holds no images.")
        if not self.conditional:
            return tf.convert_to_tensor(dataset), None
        if labels is None:
            raise ValueError("The models are conditional (they take [noise, labels] and [images, labels]), so "
                             "run_a_gan needs the labels too: dataset=(images, labels), or a tf.data.Dataset of "
                             "(images, labels) batches.")
        labels = np.asarray(labels)
        if labels.dtype.kind not in "iu" or labels.size != count:
            raise ValueError(f"dataset's labels must be integers, one per image ({count}); got {labels.dtype.name} "
                             f"of shape {labels.shape}.")
        labels = labels.reshape(count).astype(np.int32)
        if labels.min() < 0:
            raise ValueError(f"dataset's labels must be class numbers 0, 1, ...; the smallest is {labels.min()}.")
        self.largest_label = int(labels.max())
        return tf.convert_to_tensor(dataset), tf.convert_to_tensor(labels)

    def _named_parts(self, dataset):
        """A dataset's elements as ``{"real", ["labels"]}``: images alone, or images and labels when conditional."""
        spec = dataset.element_spec
        if isinstance(spec, dict):
            raise ValueError("dataset yields dictionaries; give run_a_gan a dataset of image batches (or of "
                             "(images, labels) batches), e.g. dataset.map(lambda d: (d['image'], d['label'])).")
        if isinstance(spec, (tuple, list)):
            if self.conditional:
                if len(spec) < 2:
                    raise ValueError("The models are conditional, so the dataset must yield (images, labels).")
                if not spec[1].dtype.is_integer:
                    raise ValueError(f"dataset's labels are {spec[1].dtype.name}; they must be integers (class numbers).")
                return dataset.map(lambda *parts: {"real": parts[0], "labels": parts[1]})
            return dataset.map(lambda *parts: {"real": parts[0]})
        if self.conditional:
            raise ValueError("The models are conditional (they take [noise, labels] and [images, labels]), so the "
                             "dataset must yield (images, labels), not images alone.")
        return dataset.map(lambda images: {"real": images})

    def _is_unbatched(self, batches):
        shape = batches.element_spec["real"].shape
        return shape.rank == len(self.data_shape) or math.prod(self.data_shape) == shape.num_elements()

    def _as_model_input(self, parts):
        """``parts`` with images cast to float32 in [-1, 1] (uint8 0..255 is rescaled) and shaped as D's input,
        labels as int32; any leading axes (batch, and critic update with ``d_steps``) are kept."""
        images = parts["real"]
        if not (images.dtype.is_floating or images.dtype == tf.uint8):
            raise ValueError(f"dataset holds {images.dtype.name} images; give floats in [-1, 1] (or uint8 in 0..255).")
        leading = 2 if "valid" in parts else 1
        per_image = images.shape[leading:]
        if per_image.num_elements() is not None and per_image.num_elements() != math.prod(self.data_shape):
            raise ValueError(f"dataset images have shape {tuple(per_image)} but D takes {self.data_shape}.")
        images = scale_pixels(images) if images.dtype == tf.uint8 else tf.cast(images, tf.float32)
        parts = {**parts, "real": tf.reshape(images, tf.concat([tf.shape(images)[:leading], self.data_shape], 0))}
        if "labels" in parts:
            parts["labels"] = tf.reshape(tf.cast(parts["labels"], tf.int32), tf.shape(images)[:leading])
        return parts

    @staticmethod
    def _check_first(batches):
        first = next(iter(batches.take(1)), None)
        if first is None or tf.size(first["real"]) == 0:
            raise ValueError("dataset holds no images.")
        low, high = float(tf.reduce_min(first["real"])), float(tf.reduce_max(first["real"]))
        if low < -1.01 or high > 1.01:
            raise ValueError(f"dataset images range over [{low:.3g}, {high:.3g}]; a tanh generator makes [-1, 1]. "
                             "Scale them: images / 127.5 - 1 for 0..255, or ops.preprocess_img for [0, 1].")
        if low >= 0.0 and high > 0.5:
            print(f"Note: dataset images range over [{low:.3g}, {high:.3g}], but the generator's tanh makes "
                  "[-1, 1]; use ops.preprocess_img to map [0, 1] to [-1, 1].")
        if "labels" in first and tf.size(first["labels"]) and int(tf.reduce_min(first["labels"])) < 0:
            raise ValueError("dataset's labels must be class numbers 0, 1, ...; its first batch has a negative one.")

    def _grouped(self, batches):
        """With ``d_steps`` > 1, every ``d_steps`` consecutive batches as one step, stacked along axis 1.

        A batch shorter than the first is padded (``"valid"`` False there, index -1 for
        indices), and so is a missing batch at the end of an epoch.
        """
        d_steps = self.d_steps
        if d_steps == 1:
            return batches

        def stack(group):
            size = tf.shape(group["index"] if "index" in group else group["real"])[:2]  # (batches, longest batch)
            missing = d_steps - size[0]
            valid = tf.pad(tf.sequence_mask(group.pop("rows"), size[1]), [[0, missing], [0, 0]])
            stacked = {"valid": tf.transpose(valid)}
            for name, value in group.items():
                fill = -1 if name == "index" else 0
                padding = [[0, missing]] + [[0, 0]] * (value.shape.rank - 1)
                value = tf.pad(value, padding, constant_values=tf.cast(fill, value.dtype))
                stacked[name] = tf.transpose(value, [1, 0, *range(2, value.shape.rank)])
            return stacked

        def with_rows(parts):
            return {**parts, "rows": tf.shape(parts["index"] if "index" in parts else parts["real"])[0]}

        batches = batches.map(with_rows)
        padding = {name: tf.constant(-1 if name == "index" else 0, spec.dtype)
                   for name, spec in batches.element_spec.items()}
        return batches.padded_batch(d_steps, padding_values=padding).map(stack)

    @staticmethod
    def _count_batches(dataset):
        count = int(dataset.cardinality())
        if count == tf.data.INFINITE_CARDINALITY:
            raise ValueError("dataset repeats forever; give one epoch of data (no .repeat()) and set num_epochs.")
        return count if count >= 0 else None

    # ------------------------------------------------------------ an epoch's steps

    def epoch(self, epoch, skip=0):
        """The pipeline for epoch ``epoch`` (0-based), without its first ``skip`` steps."""
        seed = tf.constant(self.seed, tf.int64)
        noise_size = self.noise_size

        def add_noise(index, step):
            batch = tf.shape(step["real"])[0]
            # (B, noise_size), or (B, d_steps, noise_size): one noise vector per real image
            d_shape = (batch, noise_size) if "valid" not in step else (batch, self.d_steps, noise_size)
            counter = tf.cast(epoch, tf.int64) * (1 << 24) + index
            z_d = tf.random.stateless_uniform(d_shape, seed=tf.stack([seed, 2 * counter]), minval=-1.0, maxval=1.0)
            z_g = tf.random.stateless_uniform((batch, noise_size), seed=tf.stack([seed, 2 * counter + 1]),
                                              minval=-1.0, maxval=1.0)
            return {**step, "z_d": z_d, "z_g": z_g}

        source = self._first_epoch if epoch == 0 and self._first_epoch is not None else self._source(epoch)
        self._first_epoch = None
        steps = source.enumerate().skip(skip)
        return steps.map(add_noise, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


# ----------------------------------------------------------------------------
# The compiled train step, with its guard against non-finite values
# ----------------------------------------------------------------------------


def _all_finite(tensors):
    """True when no element of any tensor is NaN or infinite (one pass over each)."""
    return tf.reduce_all(tf.stack([tf.reduce_all(tf.math.is_finite(t)) for t in tensors if t is not None]))


def _tf_variable(variable):
    return getattr(variable, "value", variable) if isinstance(variable, keras.Variable) else variable


def _unique_variables(variables):
    """TensorFlow variables under ``variables`` (Keras ones unwrapped), each once, in order."""
    seen, unique = set(), []
    for variable in variables:
        variable = _tf_variable(variable)
        if id(variable) not in seen:
            seen.add(id(variable))
            unique.append(variable)
    return unique


def _scalar_loss(value, name):
    value = tf.convert_to_tensor(value)
    if value.shape.rank != 0:
        raise ValueError(f"{name} must return one number, the mean over the batch; it returned a tensor of "
                         f"shape {tuple(value.shape)}. Use tf.reduce_mean.")
    return tf.cast(value, tf.float32)


class _TrainStep:
    """One GAN training step as a single ``tf.function``, plus its on-device state.

    A step is ``d_steps`` discriminator updates (one per real batch; one by default),
    then one generator update, then, with ``ema``, the moving average of G's weights.
    ``augment`` is applied to every batch D scores, ``penalty`` added to every
    discriminator loss, and a conditional GAN's models get the labels as second input.

    State (mirrored on every replica under a strategy):
        step: number of applied steps (int64); epoch, step_in_epoch: progress, for checkpoints.
        diverged: set at the first non-finite step; from then on steps do nothing.
        losses: ring buffer (capacity, 3) of (d_loss, g_loss, penalty), slot
            ``step % capacity``, made by ``compile`` as large as the loop lets it fill
            between read-backs.
        failure: (d_loss, g_loss, d_grads_finite, g_grads_finite) of the failing step.
        backup: a copy of what the step changes before its last check (D, D_solver,
            G's non-trainable variables), restored when the step is not finite.
        G_ema: with ``ema``, a copy of G holding the moving average of its weights.
    """

    LOSSES = ("d_loss", "g_loss", "penalty")

    def __init__(self, D, G, D_solver, G_solver, discriminator_loss, generator_loss, *, strategy, data_shape,
                 d_steps=1, penalty=None, augment=None, ema=None, conditional=False, noise_size=None):
        self.D, self.G = D, G
        self.D_solver, self.G_solver = D_solver, G_solver
        self.discriminator_loss, self.generator_loss = discriminator_loss, generator_loss
        self.strategy = strategy
        self.data_shape = tuple(data_shape)
        self.d_steps, self.penalty, self.augment, self.ema = d_steps, penalty, augment, ema
        self.conditional = conditional
        self.function = self.losses = None
        self.xla = False
        with strategy.scope():
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="gan_step")
            self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="gan_epoch")
            self.step_in_epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="gan_step_in_epoch")
            self.diverged = tf.Variable(False, trainable=False, name="gan_diverged")
            self.failure = tf.Variable(tf.zeros(4), trainable=False, name="gan_failure")
            for solver, model in ((D_solver, D), (G_solver, G)):
                if not solver.built:
                    solver.build(model.trainable_variables)
            # What a step changes before it knows whether its generator half is finite:
            # D and its optimizer (updated first), and the statistics layers such as
            # BatchNormalization keep in G. Copied at the start of every step and put
            # back when the step turns out non-finite. G's weights, G_solver and the
            # average need no copy: their update is the step's last act, applied only
            # when all is finite.
            self.state = _unique_variables([*D.variables, *D_solver.variables, *G.non_trainable_variables])
            self.backup = [tf.Variable(tf.zeros(v.shape, v.dtype), trainable=False, name="gan_backup")
                           for v in self.state]
            self.G_ema = None if ema is None else _averaged_copy(G, noise_size, conditional)

    def checkpointed(self):
        """What a checkpoint holds: the models, optimizers and progress, and the averaged G with ``ema``."""
        objects = {"D": self.D, "G": self.G, "D_solver": self.D_solver, "G_solver": self.G_solver,
                   "step": self.step, "epoch": self.epoch, "step_in_epoch": self.step_in_epoch}
        if self.G_ema is not None:
            objects["G_ema"] = self.G_ema
        return objects

    def compile(self, element_spec, capacity, xla=False):
        """Trace-once ``tf.function`` of a step's batch (a dict, see ``_DataFeed``), batch dimension None.

        ``capacity`` is the most steps the loop runs between two read-backs of the losses;
        ``xla`` compiles it with XLA.
        """
        with self.strategy.scope():
            self.losses = tf.Variable(tf.zeros((capacity, len(self.LOSSES))), trainable=False, name="gan_losses")
        self.xla = xla
        self.function = tf.function(self._step, input_signature=[element_spec], jit_compile=xla or None)
        return self.function

    def __call__(self, batch):
        """One step. A step XLA cannot compile (an operation it lacks) is compiled again without XLA and run:
        returns True then, and ``function`` is the new one."""
        try:
            self.function(batch)
            return False
        except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError, tf.errors.NotFoundError):
            if not self.xla:
                raise
            self.xla = False
            self.function = tf.function(self._step, input_signature=self.function.input_signature)
            self.function(batch)
            return True

    def plain_on_one_device(self):
        """Whether this is notebook 05's step (none of the later notebooks' options) on one device."""
        plain = self.d_steps == 1 and not self.conditional and (self.penalty, self.ema, self.augment) == (None,) * 3
        return plain and not tf.distribute.has_strategy() and self.strategy is tf.distribute.get_strategy()

    # ------------------------------------------------------------ what D and G see

    def _fake_images(self, z, labels):
        fake = self.G(z if labels is None else [z, labels], training=True)
        return tf.cast(tf.reshape(fake, (-1, *self.data_shape)), tf.float32)

    def _seen(self, images):
        """The images as D sees them: through ``augment`` when there is one."""
        return images if self.augment is None else self.augment(images)

    def _scores(self, images, labels):
        return tf.cast(self.D(images if labels is None else [images, labels], training=True), tf.float32)

    def _critic(self, labels):
        """D as the penalty gets it: D itself, or for a conditional D, ``images -> D([images, labels])``."""
        if labels is None:
            return self.D
        return lambda images, training=None: self.D([images, labels], training=training)

    def _critic_batch(self, batch, index):
        """``(real, z, labels)`` of discriminator update ``index`` of a step (this replica's slice)."""
        labels = batch.get("labels")
        if "valid" not in batch:
            return batch["real"], batch["z_d"], labels
        valid = batch["valid"][:, index]

        def pick(x):
            return tf.boolean_mask(x[:, index], valid)

        return pick(batch["real"]), pick(batch["z_d"]), None if labels is None else pick(labels)

    def _generator_batch(self, batch):
        """``(z, labels)`` of the generator update: fresh noise, the labels of the step's first real batch."""
        labels = batch.get("labels")
        if "valid" not in batch:
            return batch["z_g"], labels
        valid = batch["valid"][:, 0]
        return (tf.boolean_mask(batch["z_g"], valid),
                None if labels is None else tf.boolean_mask(labels[:, 0], valid))

    # ------------------------------------------------------------ one network's update, per replica

    @staticmethod
    def _replica_weight(batch):
        """This replica's share of the global batch (so that summed gradients are the global mean),
        whether this replica has images, and whether any replica has."""
        context = tf.distribute.get_replica_context()
        local = tf.cast(tf.shape(batch)[0], tf.float32)
        total = context.all_reduce(SUM, local)
        return local / tf.maximum(total, 1.0), local > 0, total > 0

    def _replica_update(self, compute_loss, batch, solver, variables, loss_name, model_name):
        """This replica's part of one network's update.

        ``compute_loss()`` returns ``(loss, penalty)`` (the penalty included in the loss,
        or None). Returns the global loss and penalty (means over the whole batch),
        whether every replica's gradients are finite, whether there were any images,
        and the gradients of this replica's share of the loss (the optimizer sums them
        over replicas).
        """
        context = tf.distribute.get_replica_context()
        weight, has_data, any_data = self._replica_weight(batch)
        scaling = isinstance(solver, keras.optimizers.LossScaleOptimizer)
        with tf.GradientTape() as tape:
            loss, penalty = compute_loss()
            share = tf.where(has_data, loss * weight, 0.0)
            scaled = solver.scale_loss(share) if scaling else share
        grads = tape.gradient(scaled, variables)
        if all(grad is None for grad in grads):
            raise ValueError(f"{loss_name} does not depend on {model_name}'s weights, so it cannot train "
                             f"{model_name}: compute it from the logits it is given, with TensorFlow operations "
                             "(not numpy).")
        grads_finite = tf.constant(True) if scaling else _all_finite(grads)  # float16 overflow: the scaler's job
        not_finite = context.all_reduce(SUM, 1.0 - tf.cast(grads_finite, tf.float32))
        penalty = (tf.constant(0.0) if penalty is None
                   else context.all_reduce(SUM, tf.where(has_data, penalty * weight, 0.0)))
        return context.all_reduce(SUM, share), penalty, not_finite < 0.5, any_data, grads

    def _discriminator_replica(self, batch, index):
        real, z, labels = self._critic_batch(batch, index)

        def loss():
            real_seen, fake_seen = self._seen(real), self._seen(self._fake_images(z, labels))
            loss = _scalar_loss(self.discriminator_loss(self._scores(real_seen, labels),
                                                        self._scores(fake_seen, labels)), "discriminator_loss")
            if self.penalty is None:
                return loss, None
            penalty = _scalar_loss(self.penalty(self._critic(labels), real_seen, fake_seen), "discriminator_penalty")
            return loss + penalty, penalty

        return self._replica_update(loss, real, self.D_solver, self.D.trainable_variables, "discriminator_loss", "D")

    def _generator_replica(self, batch):
        z, labels = self._generator_batch(batch)

        def loss():
            fake_seen = self._seen(self._fake_images(z, labels))
            return _scalar_loss(self.generator_loss(self._scores(fake_seen, labels)), "generator_loss"), None

        return self._replica_update(loss, z, self.G_solver, self.G.trainable_variables, "generator_loss", "G")

    # ------------------------------------------------------------ the step

    def _apply(self, solver, grads, variables):
        """Apply per-replica gradients; the optimizer sums them over replicas."""
        self.strategy.run(lambda replica_grads: solver.apply_gradients(zip(replica_grads, variables)),
                          args=(grads,))

    def _first(self, value):
        return self.strategy.experimental_local_results(value)[0]

    def _discriminator_updates(self, batch):
        """The step's ``d_steps`` discriminator updates, each applied only while all so far are finite.

        Returns the mean loss and penalty over the updates made, whether all were finite,
        and ``(loss, gradients finite)`` of the first that was not.
        """
        ok, failure = tf.constant(True), (tf.constant(0.0), tf.constant(1.0))
        sums, updates = tf.zeros(2), tf.constant(0.0)
        for index in range(self.d_steps):
            made, loss, penalty, grads_ok = self._discriminator_update(batch, index, ok)
            finite = tf.math.is_finite(loss) & grads_ok
            failure = tuple(tf.where(ok & ~finite, now, before)
                            for now, before in zip((loss, tf.cast(grads_ok, tf.float32)), failure))
            ok = ok & finite
            made = tf.cast(made, tf.float32)
            sums, updates = sums + made * tf.stack([loss, penalty]), updates + made
        mean_loss, mean_penalty = tf.unstack(sums / tf.maximum(updates, 1.0))
        return mean_loss, mean_penalty, ok, failure

    def _discriminator_update(self, batch, index, ok):
        """Discriminator update ``index``, applied when it is finite and ``ok`` (all before it were).

        Returns whether it was made, its loss, penalty and whether its gradients are finite.
        With several batches a step, the last step of an epoch may lack some: an update
        without real images is skipped (zeros).
        """
        def update():
            loss, penalty, grads_ok, _, grads = self.strategy.run(self._discriminator_replica, args=(batch, index))
            loss, penalty, grads_ok = (self._first(x) for x in (loss, penalty, grads_ok))
            tf.cond(ok & tf.math.is_finite(loss) & grads_ok,
                    lambda: self._apply(self.D_solver, grads, self.D.trainable_variables), lambda: None)
            return loss, penalty, grads_ok

        if "valid" not in batch:
            return (tf.constant(True), *update())
        made = self._has_images(batch, index)
        return (made, *tf.cond(made, update, lambda: (0.0, 0.0, True)))

    def _has_images(self, batch, index):
        """Whether discriminator update ``index`` of a step has real images (on any replica).

        Needed because an update on an empty batch is not merely wasted: TensorFlow's CPU
        convolution returns a wrongly shaped result for a batch of 0 images.
        """
        count = self.strategy.run(lambda replica_batch: tf.reduce_sum(tf.cast(replica_batch["valid"][:, index],
                                                                               tf.int32)), args=(batch,))
        return self.strategy.reduce(SUM, count, axis=None) > 0

    def _update_generator(self, grads):
        self._apply(self.G_solver, grads, self.G.trainable_variables)
        if self.G_ema is not None:
            ema_update(self.G_ema.weights, self.G.weights, ema_decay(self.ema, self.step))

    def _step(self, batch):
        def train():
            for copy, variable in zip(self.backup, self.state):
                copy.assign(variable)
            d_loss, penalty, d_ok, (d_failure, d_grads_ok) = self._discriminator_updates(batch)

            g_loss, _, g_grads_ok, _, g_grads = self.strategy.run(self._generator_replica, args=(batch,))
            g_loss, g_grads_ok = self._first(g_loss), self._first(g_grads_ok)
            ok = d_ok & tf.math.is_finite(g_loss) & g_grads_ok
            tf.cond(ok, lambda: self._update_generator(g_grads), restore)

            slot = self.step % self.losses.shape[0]
            self.losses.assign(tf.tensor_scatter_nd_update(self.losses, [[slot]],
                                                           [tf.stack([d_loss, g_loss, penalty])]))
            self.failure.assign(tf.where(ok, self.failure, tf.stack([
                tf.where(d_ok, d_loss, d_failure), g_loss, d_grads_ok, tf.cast(g_grads_ok, tf.float32)])))
            self.step.assign_add(tf.cast(ok, tf.int64))
            self.diverged.assign(tf.logical_not(ok))

        def restore():
            for copy, variable in zip(self.backup, self.state):
                variable.assign(copy)

        tf.cond(self.diverged, lambda: None, train)

    def read_losses(self, first_step):
        """Losses of steps ``first_step .. step-1`` (0-based), ``({name: list} for LOSSES, step count)``."""
        step = int(self.step.numpy())
        count = step - first_step
        if count == 0:
            return {name: [] for name in self.LOSSES}, step
        capacity = self.losses.shape[0]
        if count > capacity:
            raise RuntimeError("Internal error: the loss buffer overflowed between two read-backs.")
        values = self.losses.numpy()[[(first_step + i) % capacity for i in range(count)]]
        return {name: values[:, column].tolist() for column, name in enumerate(self.LOSSES)}, step


def ema_decay(decay, steps_done):
    """The decay of the average's update after ``steps_done`` earlier ones: ``min(decay, (1 + t) / (10 + t))``.

    The warm-up of TensorFlow's ``ExponentialMovingAverage(decay, num_updates)``: the
    first updates keep little of the starting weights (0.1 of them at the first), so the
    average follows G's early progress instead of staying near its random
    initialisation; from t = (10 decay - 1) / (1 - decay) on (8,990 steps for 0.999,
    890 for 0.99) it is ``decay``.
    """
    steps_done = tf.cast(steps_done, tf.float32)
    return tf.minimum(tf.cast(decay, tf.float32), (1.0 + steps_done) / (10.0 + steps_done))


def _averaged_copy(G, noise_size, conditional):
    """A copy of G (same architecture, same weights now) to hold the moving average of its weights."""
    try:
        copy = keras.models.clone_model(G)
    except Exception as error:  # Keras raises several kinds for models it cannot rebuild
        raise TypeError(f"ema needs a copy of G, and keras.models.clone_model cannot make one ({_first_line(error)}). "
                        "Build G as a keras.Sequential or functional model (or give its class a get_config).") from None
    if not copy.built or len(copy.weights) != len(G.weights):
        noise = tf.zeros((1, noise_size))
        copy([noise, tf.zeros((1,), tf.int32)] if conditional else noise, training=False)
    if [tuple(w.shape) for w in copy.weights] != [tuple(w.shape) for w in G.weights]:
        raise TypeError("ema needs a copy of G, but keras.models.clone_model made a model with other weights.")
    copy.set_weights(G.get_weights())
    return copy


# ----------------------------------------------------------------------------
# Checkpoints
# ----------------------------------------------------------------------------


class CheckpointError(ValueError):
    """No checkpoint in a folder can be restored. ``reason`` says why; the message adds what to do."""

    def __init__(self, reason, advice=""):
        super().__init__(f"{reason} {advice}".strip())
        self.reason = reason


def checkpoints(directory):
    """``[(step, path prefix)]`` of the checkpoints ``ckpt-<step>`` in ``directory``, newest first."""
    return sorted(((int(path.stem[5:]), str(path.with_suffix(""))) for path in Path(directory).glob("ckpt-*.index")
                   if path.stem[5:].isdigit()), reverse=True)


def _steps(count):
    return f"{count} step" + ("" if count == 1 else "s")


def _first_line(error):
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


def restore_newest(directory, **objects):
    """Restore ``objects`` (models, optimizers, variables) from the newest readable checkpoint.

    A checkpoint that is truncated or otherwise damaged (a crash or a full disk while
    saving) is passed over for the next older one: it loses only itself. Returns
    ``(step, skipped)``: the step of the checkpoint restored (None when the folder
    holds none) and a sentence naming the newer ones passed over and how many steps
    older the one restored is ('' when none was). Raises ``CheckpointError`` when none
    can be restored.
    """
    failures = []
    for step, prefix in checkpoints(directory):
        try:  # every object given must be found; the checkpoint may hold more (the generator alone is restored)
            tf.train.Checkpoint(**objects).read(prefix).expect_partial().assert_existing_objects_matched()
        except Exception as error:  # truncated files, missing shards, other models: TensorFlow raises many kinds
            failures.append((step, f"{Path(prefix).name} ({_first_line(error)})", error))
            continue
        skipped = ""
        if failures:
            skipped = (f"The newest checkpoint in {directory} is unreadable: {', '.join(n for _, n, _ in failures)}. "
                       f"Using the one of step {step} instead, {_steps(failures[0][0] - step)} older.")
        return step, skipped
    if not failures:
        left = [path.name for path in Path(directory).glob("*") if path.name.startswith(("ckpt-", "checkpoint", "gan_"))]
        if left:
            raise CheckpointError(f"The checkpoint in {directory} is unreadable: it holds {', '.join(sorted(left))} "
                                  "but no complete checkpoint (ckpt-<step>.index and its data).")
        return None, ""
    mismatch = next((error for *_, error in failures if isinstance(error, (AssertionError, ValueError))), None)
    if mismatch is not None:
        raise CheckpointError(f"The checkpoint in {directory} was saved for other models or optimizers and cannot "
                              f"be restored into these ({_first_line(mismatch)}).")
    raise CheckpointError(f"The checkpoint in {directory} is unreadable: {', '.join(n for _, n, _ in failures)}.")


class _Checkpoint:
    """Models, optimizers and progress in TensorFlow checkpoints; history beside them.

    ``directory`` holds ``ckpt-<step>`` checkpoints (the newest two kept), ``gan_run.json``
    (history and settings) and ``gan_samples.npz`` (sample grids), each written whole
    or not at all.
    """

    KEEP = 2

    def __init__(self, directory, **objects):
        self.directory = Path(directory).expanduser()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.objects = objects
        self.checkpoint = tf.train.Checkpoint(**objects)
        self.run_file = self.directory / "gan_run.json"
        self.samples_file = self.directory / "gan_samples.npz"
        self.good = []  # steps of the checkpoints known to be readable
        self.written = None  # [step, epoch, step in epoch] of the last checkpoint written or restored
        self.samples_written = None  # how many sample grids gan_samples.npz holds

    def resume(self, train_settings, *, seed):
        """Restore the newest readable checkpoint: ``(history, seed, notes)`` (a fresh history when none).

        Raises ``ValueError`` for a checkpoint made with other ``train_settings`` (batch
        or noise size, d_steps, conditional models, with or without ema; another ema
        decay is allowed), ``CheckpointError`` when none can be restored.
        """
        self._check_settings(self._saved_settings(), train_settings)
        try:
            step, skipped = restore_newest(self.directory, **self.objects)
        except CheckpointError as error:
            raise CheckpointError(error.reason, "Use another checkpoint_dir, or delete this one to start over.") from None
        if step is None:
            return GanHistory(), seed, []
        self.good = [step]
        self.written = self._progress()
        notes = [f"{skipped} Those steps are trained again."] if skipped else []
        saved, history = self._read_state(notes)
        self._check_settings(saved, train_settings)
        history = _history_at(history, step)
        history.epochs_done = int(self.objects["epoch"].numpy())
        return history, saved.get("seed", seed), notes

    def _saved_settings(self):
        try:
            return json.loads(self.run_file.read_text()).get("settings", {})
        except (ValueError, TypeError, OSError, AttributeError):
            return {}  # said when the state is read after restoring

    def _check_settings(self, saved, wanted):
        """``ValueError`` when the call differs from the checkpoint in what a run cannot change.

        Settings missing from an older checkpoint's file count as the defaults (one
        critic update, unconditional, no ema); an unknown batch or noise size is not checked.
        """
        if not saved:  # no checkpoint yet, or its settings are unreadable (said when restoring)
            return
        defaults = {"d_steps": 1, "conditional": False, "ema": None}
        for name, value in wanted.items():
            if name not in saved and name not in defaults:
                continue
            before = saved.get(name, defaults.get(name))
            if name == "ema" and (before is None) == (value is None):
                continue  # another decay carries on from the same average
            if name == "conditional" and before != value:
                kinds = ("an unconditional GAN (models without labels)", "a conditional GAN (models taking labels)")
                raise ValueError(f"The checkpoint in {self.directory} was trained as {kinds[bool(before)]}, but "
                                 f"these models make {kinds[bool(value)]}. Give it the models it was trained with "
                                 "to resume, or use a new checkpoint_dir.")
            if before != value:
                raise ValueError(f"The checkpoint in {self.directory} was trained with {name}={before!r}, not "
                                 f"{value!r}. Pass {name}={before!r} to resume, or use a new checkpoint_dir.")

    def _read_state(self, notes):
        """``(settings, history)`` from the files beside the checkpoints; what cannot be read is noted."""
        try:
            state = json.loads(self.run_file.read_text()) if self.run_file.is_file() else {}
            history = GanHistory.from_json(state.get("history", {}))
        except (ValueError, TypeError, OSError) as error:
            notes.append(f"{self.run_file} is unreadable ({_first_line(error)}): the losses before this call "
                         "are lost (NaN in the history); the weights are not.")
            state, history = {}, GanHistory()
        try:
            if self.samples_file.is_file():
                with np.load(self.samples_file) as saved:
                    history.samples = [(int(step), saved["images"][i]) for i, step in enumerate(saved["steps"])]
        except (ValueError, KeyError, OSError, EOFError) as error:
            notes.append(f"{self.samples_file} is unreadable ({_first_line(error)}): earlier sample grids are lost.")
        return state.get("settings", {}), history

    def save(self, train_settings, history):
        progress = self._progress()
        if progress != self.written:  # the end of a call right after an epoch's end saves nothing new
            self._write_checkpoint(progress[0])
            self.written = progress
        _write_atomically(self.run_file, lambda file: file.write(
            json.dumps({"settings": train_settings, "history": history.to_json()}).encode()))
        if history.samples and len(history.samples) != self.samples_written:
            steps = np.array([step for step, _ in history.samples])
            images = np.stack([images for _, images in history.samples])
            _write_atomically(self.samples_file, lambda file: np.savez(file, steps=steps, images=images))
            self.samples_written = len(history.samples)

    def _progress(self):
        return [int(self.objects[name].numpy()) for name in ("step", "epoch", "step_in_epoch")]

    def _write_checkpoint(self, step):
        self.checkpoint.write(str(self.directory / f"ckpt-{step}"))
        # Keep the newest two known to be good: written here, or the one resumed from.
        self.good = [*[good for good in self.good if good != step], step][-self.KEEP:]
        for old, prefix in checkpoints(self.directory):
            if old not in self.good:
                for path in self.directory.glob(f"{Path(prefix).name}.*"):
                    path.unlink(missing_ok=True)


def _write_atomically(path, write):
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as file:
        write(file)
    temporary.replace(path)


def _history_at(history, steps):
    """The history as of the checkpoint's step (the files beside it may be a little newer or older)."""
    missing = max(steps - len(history.d_loss), 0)
    history.d_loss = history.d_loss[:steps] + [math.nan] * missing
    history.g_loss = history.g_loss[:steps] + [math.nan] * missing
    if history.penalty:
        history.penalty = history.penalty[:steps] + [math.nan] * max(steps - len(history.penalty), 0)
    history.samples = [(step, images) for step, images in history.samples if step <= steps]
    history.steps_done = steps
    history.stopped, history.message = "completed", ""
    return history


# ----------------------------------------------------------------------------
# Checking what the learner passed
# ----------------------------------------------------------------------------


def _check_arguments(D, G, D_solver, G_solver, discriminator_loss, generator_loss, **numbers):
    for name, model, builder in (("D", D, "discriminator"), ("G", G, "generator")):
        if not isinstance(model, keras.Model):
            hint = ""
            if callable(model) and not isinstance(model, type):
                hint = f" This is the function that builds it: call it, {name} = {builder}()."
            raise TypeError(f"{name} must be a keras.Model (e.g. {name} = {builder}()), not "
                            f"{type(model).__name__}.{hint}")
    if D is G:
        raise ValueError("D and G are the same model; pass a discriminator and a generator.")
    for name, solver in (("D_solver", D_solver), ("G_solver", G_solver)):
        if not isinstance(solver, keras.optimizers.Optimizer):
            raise TypeError(f"{name} must be a keras optimizer (see get_solvers()), not {type(solver).__name__}.")
    if D_solver is G_solver:
        raise ValueError("D_solver and G_solver are the same optimizer; each network needs its own: "
                         "D_solver, G_solver = get_solvers().")
    for name, function, count in (("discriminator_loss", discriminator_loss, 2), ("generator_loss", generator_loss, 1)):
        if not callable(function):
            raise TypeError(f"{name} must be a function, not {type(function).__name__}.")
        try:
            signature = inspect.signature(function)
        except (TypeError, ValueError):  # some built-ins have none; they fail clearly enough later
            continue
        try:
            signature.bind(*[None] * count)
        except TypeError:
            arguments = "(logits_real, logits_fake)" if count == 2 else "(logits_fake)"
            raise TypeError(f"{name} must take {count} argument(s), {name}{arguments}, but "
                            f"{getattr(function, '__name__', 'it')}{signature} does not. Were "
                            "discriminator_loss and generator_loss passed in the wrong order?") from None
    for name, value in numbers.items():
        minimum = 0 if name == "num_epochs" else 1
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, not {value!r}.")


def _resolve_strategy(strategy, models, solvers):
    """The strategy to train under, after checking everything was built in its scope."""
    strategy = strategy or tf.distribute.get_strategy()
    how_to = ("Build models and optimizers inside `with strategy.scope():` (or with "
              "training.build_gan(..., strategy=strategy)) and pass the same strategy to run_a_gan.")
    for name, model in models.items():
        for variable in model.variables:
            tf_variable = _tf_variable(variable)
            if not strategy.extended.variable_created_in_scope(tf_variable):
                owner = getattr(tf_variable, "_distribute_strategy", None)
                if owner is not None:
                    raise ValueError(f"{name} was built in the scope of a {type(owner).__name__} but run_a_gan "
                                     f"got strategy={strategy!r}. Pass strategy=<that strategy>. {how_to}")
                raise ValueError(f"{name} was built outside the scope of the {type(strategy).__name__} "
                                 f"(variable {variable.path} is not mirrored). {how_to}")
    for name, solver in solvers.items():
        inner = getattr(solver, "inner_optimizer", solver)
        owner = getattr(inner, "_distribution_strategy", strategy)
        if owner is not strategy:
            raise ValueError(f"{name} was created outside the scope of the {type(strategy).__name__}. {how_to}")
    return strategy


# Layers of the MLP GANs (notebooks 05 and 06), whose step XLA was measured to speed up on a CPU.
XLA_LAYERS = (layers.InputLayer, layers.Dense, layers.LeakyReLU, layers.ReLU, layers.Activation, layers.Reshape,
              layers.Flatten)
XLA_MIN_STEPS = 1500


def uses_xla(D, G, steps):
    """Whether ``run_a_gan`` compiles the plain step of D and G with XLA (``jit_compile=True``) for a call of
    ``steps`` steps: never the learner's choice.

    Only where it was measured to pay on a CPU (``benchmarks/bench_xla.py``): models
    made of dense layers and activations only, the MLP GANs, in a call of at least
    ``XLA_MIN_STEPS`` steps, which earns back the seconds XLA takes to compile (once
    per batch size). XLA does not speed up a DCGAN's step on a CPU
    (``benchmarks/bench_loop.py``), so convolutional models never use it, and neither
    does a GPU, where it was not measured. Nor, whatever this says, do the options of
    the later notebooks (``d_steps``, a penalty, ``ema``, ``augment``, labels) or a
    ``tf.distribute`` strategy (``run_a_gan`` checks those). A step XLA cannot compile
    is compiled again without it.
    """
    if steps < XLA_MIN_STEPS or gpu_available():
        return False
    return all(isinstance(layer, XLA_LAYERS) for model in (D, G) for layer in _all_layers(model))


def _all_layers(model):
    for layer in getattr(model, "layers", ()):
        yield layer
        yield from _all_layers(layer)


def _check_options(*, discriminator_penalty, ema, augment, num_classes):
    if discriminator_penalty is not None:
        if not callable(discriminator_penalty):
            raise TypeError(f"discriminator_penalty must be a function penalty(D, real, fake), not "
                            f"{type(discriminator_penalty).__name__}.")
        try:
            inspect.signature(discriminator_penalty).bind(None, None, None)
        except TypeError:
            raise TypeError("discriminator_penalty must take three arguments, penalty(D, real, fake) "
                            f"(e.g. gradient_penalty); {getattr(discriminator_penalty, '__name__', 'it')} "
                            "does not.") from None
        except ValueError:  # no signature to read
            pass
    if ema is not None and (isinstance(ema, bool) or not isinstance(ema, (float, int, np.floating))
                            or not 0.0 < ema < 1.0):
        raise ValueError(f"ema must be None or a decay between 0 and 1, such as 0.999, not {ema!r}.")
    if augment is not None and not callable(augment):
        raise TypeError(f"augment must be a function images -> images (e.g. diff_augment), not "
                        f"{type(augment).__name__}.")
    if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer))
                                    or num_classes < 2):
        raise ValueError(f"num_classes must be None or an integer >= 2, not {num_classes!r}.")


def _input_count(model):
    """How many inputs ``model`` takes (None for a subclassed model not built from inputs)."""
    try:
        return len(model.inputs)
    except (AttributeError, TypeError, ValueError):
        return None


def _is_conditional(D, G, num_classes):
    """True when both models take two inputs (G: [noise, labels], D: [images, labels]), or num_classes is given."""
    counts = {"G": _input_count(G), "D": _input_count(D)}
    takes_labels = {name: count == 2 for name, count in counts.items()}
    if any(count not in (None, 1, 2) for count in counts.values()):
        raise ValueError(f"run_a_gan trains models of one input, or of two for a conditional GAN "
                         f"(G([noise, labels]), D([images, labels])); these take {counts['G']} and {counts['D']}.")
    if takes_labels["G"] != takes_labels["D"] and None not in counts.values():
        which, other = ("G", "D") if takes_labels["G"] else ("D", "G")
        raise ValueError(f"{which} takes two inputs (a conditional model, with labels) but {other} takes one. A "
                         "conditional GAN needs both: G([noise, labels]) and D([images, labels]).")
    conditional = any(takes_labels.values())
    if num_classes is not None and not conditional and 1 in counts.values():
        raise ValueError(f"num_classes={num_classes} is for a conditional GAN, but these models take no labels "
                         "(one input each). Leave num_classes out, or build conditional models.")
    return conditional or num_classes is not None


def _number_of_classes(num_classes, G, D, feed):
    """A conditional GAN's classes: given, else read from G or D, else from the labels; checked against those."""
    built_for = label_classes(G) or label_classes(D)
    if num_classes is not None and built_for is not None and num_classes > built_for:
        raise ValueError(f"num_classes={num_classes}, but the models were built for {built_for} classes (their "
                         f"Embedding has {built_for} rows). Build them for {num_classes} classes, or leave "
                         "num_classes out.")
    found = num_classes or built_for
    largest = feed.largest_label
    if found is None:
        if largest is None:
            raise ValueError("run_a_gan cannot tell how many classes this conditional GAN has (its models hold no "
                             "Embedding layer and the dataset's labels are not an array): pass num_classes=...")
        found = largest + 1
    if largest is not None and largest >= found:
        raise ValueError(f"The dataset's labels go up to {largest}, but the models have {found} classes "
                         f"(0 to {found - 1}). Pass num_classes=..., or build the models for more classes.")
    return found


def _image_shape(D, G, noise_size, conditional=False):
    """What D takes per image, checked against what G makes (and D built, if it builds on its first call)."""
    labels = tf.zeros((2,), tf.int32)
    noise = tf.zeros((2, noise_size))
    try:
        fake = G([noise, labels] if conditional else noise, training=False)
    except NotImplementedError:
        raise
    except Exception as error:
        takes = f"[noise of shape (batch, {noise_size}), labels of shape (batch,)]" if conditional else \
            f"noise of shape (batch, {noise_size})"
        raise ValueError(f"G could not turn {takes} into images: {error}\n"
                         f"Check noise_size (= {noise_size}) against the generator's noise_dim.") from None
    fake_shape = tuple(fake.shape[1:])
    try:
        declared = D.input_shape
    except (AttributeError, ValueError):  # a subclassed D without an input shape
        declared = None
    if isinstance(declared, list):
        declared = declared[0] if conditional else None
        if not conditional:
            raise ValueError("The discriminator takes several inputs; run_a_gan needs one input: a batch of "
                             "images (or, for a conditional GAN, two: [images, labels], and G two too).")
    data_shape = fake_shape if not declared or None in declared[1:] else tuple(declared[1:])
    if math.prod(data_shape) != math.prod(fake_shape):
        raise ValueError(f"G makes images of shape {fake_shape} but D takes inputs of shape {data_shape}; "
                         f"they must hold the same number of pixels.")
    # One call also builds a D that creates its weights on its first call (a subclassed
    # model without an input shape): its optimizer must know them before training.
    images = tf.reshape(fake, (-1, *data_shape))
    try:
        logits = D([images, labels] if conditional else images, training=False)
    except NotImplementedError:
        raise
    except Exception as error:
        what = "a batch of images and labels" if conditional else "a batch of images"
        raise ValueError(f"D could not score {what} of shape {data_shape} (what G makes): {error}") from None
    if tuple(logits.shape) not in ((2, 1), (2,)):
        raise ValueError(f"D must return one logit per image, shape (batch, 1); it returned shape "
                         f"{tuple(logits.shape)} for a batch of 2. End D with a Dense(1) layer.")
    return data_shape


def _with_loss_scaling(solver, models):
    """Wrap ``solver`` in dynamic loss scaling when a model computes in float16."""
    float16 = any(getattr(layer, "compute_dtype", "float32") == "float16"
                  for model in models for layer in (model, *getattr(model, "layers", [])))
    if float16 and not isinstance(solver, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(solver)
    return solver
