"""Training a GAN: the two optimizers, one compiled train step, and the loop around it.

``run_a_gan`` trains a discriminator ``D`` and a generator ``G`` the way the CS231n
GAN assignment does: for every batch of real images, one discriminator update on
real images and ``G(z)``, then one generator update on fresh noise, scored by the
just-updated discriminator. What it adds to the textbook loop:

- **Speed.** The whole step (both forward passes, both backward passes, both Adam
  updates) is one ``tf.function`` traced once; the input signature has a ``None``
  batch dimension, so the last, smaller batch of an epoch reuses the same graph.
  Losses stay in a ``tf.Variable`` ring buffer on the device and reach Python only
  every ``print_every`` steps. Noise is drawn in the ``tf.data`` pipeline, in
  parallel with training.
- **A guard against divergence.** Inside the graph, an update is applied only when
  its loss and gradients are finite; when the generator's half of a step fails, the
  discriminator's half, already applied, is undone from a copy taken at the start of
  the step. The first non-finite step freezes training (no later update is applied
  either), and Python stops at its next read-back with a message naming the step and
  the likely causes. The models and optimizers keep their state after the last
  finite step.
- **Interrupts and checkpoints.** Ctrl-C (or the notebook's stop button) returns the
  history so far, weights kept. With ``checkpoint_dir``, models, optimizers, progress
  and history are saved at every epoch end and on stopping; calling ``run_a_gan``
  again resumes where it stopped and ends at the same total number of epochs.
- **Scaling out.** ``strategy=`` takes a ``tf.distribute`` strategy: each replica
  trains on its slice of the batch and the gradients are averaged, so one step
  matches single-device training. On GPUs, ``build_gan`` builds the models in mixed
  precision; ``run_a_gan`` then adds dynamic loss scaling.

Nothing here draws anything: displays are callbacks (``GanCallback``), registered
from above by ``viz`` or ``widgets`` through ``register_default_callbacks``.
"""

import dataclasses
import inspect
import json
import math
import os
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from gan_helpers import settings
from gan_helpers.data import load_mnist

NUM_SAMPLES = 16
SUM = tf.distribute.ReduceOp.SUM


# ----------------------------------------------------------------------------
# Optimizers and building in the right place
# ----------------------------------------------------------------------------


def get_solvers(learning_rate=1e-3, beta1=0.5):
    """Two Adam optimizers, ``(D_solver, G_solver)``, one per network.

    ``beta1=0.5`` (instead of Adam's usual 0.9) follows the DCGAN paper: less
    momentum keeps each player responsive to the other's latest move.
    """
    D_solver = keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta1)
    G_solver = keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta1)
    return D_solver, G_solver


def gpu_available():
    """True when TensorFlow sees at least one GPU."""
    return bool(tf.config.list_physical_devices("GPU"))


def build_gan(make_discriminator, make_generator, *, strategy=None, mixed_precision="auto",
              learning_rate=1e-3, beta1=0.5):
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
            D_solver, G_solver = get_solvers(learning_rate, beta1)
    finally:
        keras.config.set_dtype_policy(previous_policy)
    return D, G, D_solver, G_solver


# ----------------------------------------------------------------------------
# History, run description and callbacks
# ----------------------------------------------------------------------------


@dataclasses.dataclass
class GanHistory:
    """What a call of ``run_a_gan`` did (cumulative over resumed calls).

    Attributes:
        d_loss, g_loss: one float per applied step, in order.
        steps_done: number of steps applied (all calls, when resumed).
        epochs_done: number of complete epochs.
        samples: ``(step, images)`` pairs, images a numpy array (16, ...) in [-1, 1]
            generated from the same fixed noise each time.
        elapsed_s: wall-clock seconds spent in ``run_a_gan`` (all calls).
        images_per_sec: real images per second of the last call, after compiling.
        stopped: ``'completed'``, ``'interrupted'`` or ``'nan'``.
        message: why training stopped early ('' when it completed).
    """

    d_loss: list = dataclasses.field(default_factory=list)
    g_loss: list = dataclasses.field(default_factory=list)
    steps_done: int = 0
    epochs_done: int = 0
    samples: list = dataclasses.field(default_factory=list)
    elapsed_s: float = 0.0
    images_per_sec: float = 0.0
    stopped: str = "completed"
    message: str = ""

    def to_json(self):
        """Everything but the sample images, as a JSON-ready dict."""
        state = dataclasses.asdict(self)
        state.pop("samples")
        return state

    @classmethod
    def from_json(cls, state):
        return cls(**{field.name: state[field.name] for field in dataclasses.fields(cls) if field.name in state})


@dataclasses.dataclass
class GanRun:
    """What callbacks see of a training run (``on_train_begin(run)``).

    ``total_steps`` is the number of steps of all ``num_epochs`` (None while the
    data set's length is unknown); ``end_step`` is where this call will stop (less
    than ``total_steps`` in quick mode); ``start_step`` where it started (more than
    0 when resumed from a checkpoint). ``train_step`` is the compiled step function,
    set when the first epoch starts, so still None in ``on_train_begin`` (keep the
    run and read it later: its ``experimental_get_tracing_count()`` tells how often
    it was traced).
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
    train_step: object = None


class GanCallback:
    """Base class for what ``run_a_gan`` calls while it trains; every method is optional.

    Epochs are numbered from 1 (the first epoch is epoch 1); steps count applied
    updates from 1, over all resumed calls.

    - ``on_train_begin(run)``: once, before the first step; ``run`` is a ``GanRun``.
    - ``on_log(step, logs)``: every ``print_every`` steps; ``logs`` has ``'d_loss'``,
      ``'g_loss'`` (floats, this step's), ``'epoch'``, ``'images_per_sec'`` (since
      the last log) and ``'seconds_left'`` (for this call; None if unknown).
    - ``on_samples(step, images)``: before training (step 0, or the step a resumed
      run starts from), every ``show_every`` steps and at the end; ``images`` is
      numpy (16, ...) in [-1, 1] from fixed noise.
    - ``on_epoch_end(epoch, logs)``: ``logs`` has ``'d_loss'``, ``'g_loss'`` (epoch
      means), ``'epoch'``, ``'step'``, ``'images_per_sec'``.
    - ``on_train_end(history)``: once, also after an interrupt or a non-finite loss.

    Raising ``KeyboardInterrupt`` in a callback stops training like Ctrl-C does.
    """

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


def format_seconds(seconds):
    """'42s', '3m05s' or '1h02m' for a duration in seconds."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class TextProgress(GanCallback):
    """Plain-text progress: one line per ``print_every`` steps (losses, speed, time left)."""

    def on_train_begin(self, run):
        self.run = run
        total = run.total_steps if run.total_steps is not None else "?"
        resumed = f", resuming at step {run.start_step}" if run.start_step else ""
        print(f"Training {run.num_epochs} epochs x {run.steps_per_epoch or '?'} steps "
              f"of {run.batch_size} images ({total} steps{resumed}).")

    def on_log(self, step, logs):
        total = self.run.total_steps if self.run.total_steps is not None else "?"
        left = "" if logs["seconds_left"] is None else f"  ~{format_seconds(logs['seconds_left'])} left"
        print(f"step {step}/{total}  epoch {logs['epoch']}/{self.run.num_epochs}  "
              f"D: {logs['d_loss']:.4f}  G: {logs['g_loss']:.4f}  "
              f"{logs['images_per_sec']:,.0f} img/s{left}")

    def on_train_end(self, history):
        print(f"{history.stopped.capitalize()}: {history.steps_done} steps, {history.epochs_done} epochs, "
              f"{format_seconds(history.elapsed_s)}, {history.images_per_sec:,.0f} img/s.")


_default_callback_factory = None


def register_default_callbacks(factory):
    """Set what ``callbacks=None`` means: ``factory()`` returns a list of callbacks.

    ``viz`` and ``widgets`` register their displays here when the package is
    imported; ``None`` restores the plain ``TextProgress``.
    """
    global _default_callback_factory
    if factory is not None and not callable(factory):
        raise TypeError(f"register_default_callbacks needs a function returning callbacks, not {factory!r}.")
    _default_callback_factory = factory


def default_callbacks():
    """The callbacks ``run_a_gan`` uses when given ``callbacks=None``."""
    if _default_callback_factory is None:
        from gan_helpers import widgets  # noqa: F401  registers the course's display
    if _default_callback_factory is None:
        return [TextProgress()]
    return list(_default_callback_factory())


class _Callbacks:
    """Calls a method on every callback that has it."""

    def __init__(self, callbacks):
        if callbacks is None:
            callbacks = default_callbacks()
        elif not isinstance(callbacks, (list, tuple)):
            callbacks = [callbacks]
        self.callbacks = list(callbacks)

    def __call__(self, method, *args):
        for callback in self.callbacks:
            function = getattr(callback, method, None)
            if function is not None:
                function(*args)


# ----------------------------------------------------------------------------
# Checking what the student passed
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
    for name, function, arguments in (("discriminator_loss", discriminator_loss, "(logits_real, logits_fake)"),
                                      ("generator_loss", generator_loss, "(logits_fake)")):
        if not callable(function):
            raise TypeError(f"{name} must be a function, not {type(function).__name__}.")
        try:
            signature = inspect.signature(function)
        except (TypeError, ValueError):  # some built-ins have none; they fail clearly enough later
            continue
        try:
            signature.bind(*[None] * arguments.count("logits"))
        except TypeError:
            raise TypeError(f"{name} must take {arguments.count('logits')} argument(s), {name}{arguments}, but "
                            f"{getattr(function, '__name__', 'it')}{signature} does not. Were "
                            "discriminator_loss and generator_loss passed in the wrong order?") from None
    for name, value in numbers.items():
        minimum = 0 if name == "num_epochs" else 1
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, not {value!r}.")


def _tf_variable(variable):
    return getattr(variable, "value", variable) if isinstance(variable, keras.Variable) else variable


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


def _input_shape(model):
    """A model's input shape without the batch dimension, or None if not known yet."""
    try:
        shape = model.input_shape
    except (AttributeError, ValueError):
        return None
    if isinstance(shape, list):
        raise ValueError("The discriminator takes several inputs; run_a_gan needs one input: a batch of images.")
    return tuple(shape[1:])


def _image_shapes(D, G, noise_size):
    """``(data_shape, fake_shape)``: what D takes and what G makes, per image."""
    try:
        fake = G(tf.zeros((2, noise_size)), training=False)
    except NotImplementedError:
        raise
    except Exception as error:
        raise ValueError(f"G could not turn noise of shape (batch, {noise_size}) into images: {error}\n"
                         f"Check noise_size (= {noise_size}) against the generator's noise_dim.") from None
    fake_shape = tuple(fake.shape[1:])
    data_shape = _input_shape(D) or fake_shape
    if None in data_shape:
        data_shape = fake_shape
    if math.prod(data_shape) != math.prod(fake_shape):
        raise ValueError(f"G makes images of shape {fake_shape} but D takes inputs of shape {data_shape}; "
                         f"they must hold the same number of pixels.")
    # One call also builds a D that creates its weights on its first call (a subclassed
    # model without an input shape): its optimizer must know them before training.
    try:
        logits = D(tf.reshape(fake, (-1, *data_shape)), training=False)
    except NotImplementedError:
        raise
    except Exception as error:
        raise ValueError(f"D could not score a batch of images of shape {data_shape} (what G makes): "
                         f"{error}") from None
    if tuple(logits.shape) not in ((2, 1), (2,)):
        raise ValueError(f"D must return one logit per image, shape (batch, 1); it returned shape "
                         f"{tuple(logits.shape)} for a batch of 2. End D with a Dense(1) layer.")
    return data_shape, fake_shape


def _uses_float16(model):
    layers = [model, *getattr(model, "layers", [])]
    return any(getattr(layer, "compute_dtype", "float32") == "float16" for layer in layers)


def _with_loss_scaling(solver, models):
    """Wrap ``solver`` in dynamic loss scaling when a model computes in float16."""
    if any(_uses_float16(model) for model in models) and not isinstance(solver, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(solver)
    return solver


# ----------------------------------------------------------------------------
# Data: per-epoch pipelines of (real images, noise for D, noise for G)
# ----------------------------------------------------------------------------


class _DataFeed:
    """Per-epoch ``tf.data`` pipelines yielding ``(real, z_d, z_g)`` batches.

    ``real`` is float32 in [-1, 1] of shape (B, *data_shape). Arrays (MNIST
    included) are shuffled each epoch in an order that depends on ``(seed, epoch)``
    only, and batched by gathering rows, so no per-image work runs in Python or in a
    shuffle buffer. ``z_d`` and ``z_g``
    are uniform noise in [-1, 1] of shape (B, noise_size), drawn statelessly from
    ``(seed, epoch, batch index)``: a resumed run draws the same noise as an
    uninterrupted one, and every replica of a distributed run gets its own slice
    of the same global batch.
    """

    def __init__(self, dataset, data_shape, batch_size, noise_size, seed):
        self.data_shape = tuple(data_shape)
        self.batch_size = batch_size
        self.noise_size = noise_size
        self.seed = seed
        self._source = self._make_source(dataset)
        self._first_epoch = self._source(0)
        self.steps_per_epoch = self._count_batches(self._first_epoch)

    def _make_source(self, dataset):
        if dataset is None:
            if math.prod(self.data_shape) != 28 * 28:
                raise ValueError(f"D takes images of shape {self.data_shape}, but MNIST images are 28x28. "
                                 "Pass your images with dataset=...")
            dataset = load_mnist()[0][0]  # uint8 (60000, 28, 28), rescaled below
            if settings.quick_mode():
                dataset = dataset[: settings.QUICK_MAX_EXAMPLES]
        if isinstance(dataset, tf.data.Dataset):
            dataset = self._images_only(dataset)
            if self._is_unbatched(dataset):
                dataset = dataset.batch(self.batch_size)
            dataset = self._as_model_input(dataset)
            self._check_range(dataset)
            return lambda epoch: dataset
        if isinstance(dataset, (np.ndarray, tf.Tensor)):
            count = int(dataset.shape[0])
            if count == 0:
                raise ValueError("dataset holds no images.")
            images = tf.convert_to_tensor(dataset)
            self._check_range(self._as_model_input(tf.data.Dataset.from_tensors(images[: self.batch_size])))

            def shuffled(epoch):
                # The order depends on (seed, epoch) only, not on TensorFlow's global seed,
                # so that a run resumed in a fresh kernel sees the data in the same order.
                order = np.random.default_rng([self.seed, epoch]).permutation(count)
                batches = tf.data.Dataset.from_tensor_slices(order).batch(self.batch_size)
                return self._as_model_input(batches.map(lambda index: tf.gather(images, index)))

            return shuffled
        raise TypeError("dataset must be None (MNIST), a tf.data.Dataset of image batches, or an array of images "
                        f"(N, ...); got {type(dataset).__name__}.")

    @staticmethod
    def _images_only(dataset):
        spec = dataset.element_spec
        if isinstance(spec, (tuple, list)):
            return dataset.map(lambda *parts: parts[0])
        if isinstance(spec, dict):
            raise ValueError("dataset yields dictionaries; give run_a_gan a dataset of image batches, e.g. "
                             "dataset.map(lambda d: d['image']).")
        return dataset

    def _is_unbatched(self, dataset):
        return dataset.element_spec.shape.rank == len(self.data_shape) or (
            math.prod(self.data_shape) == dataset.element_spec.shape.num_elements()
        )

    def _as_model_input(self, batches):
        """Batches cast to float32 in [-1, 1] (uint8 0..255 is rescaled) and shaped as D's input."""
        spec = batches.element_spec
        dtype = spec.dtype
        if not (dtype.is_floating or dtype == tf.uint8):
            raise ValueError(f"dataset holds {dtype.name} images; give floats in [-1, 1] (or uint8 in 0..255).")
        per_image = spec.shape[1:]
        if per_image.num_elements() is not None and per_image.num_elements() != math.prod(self.data_shape):
            raise ValueError(f"dataset images have shape {tuple(per_image)} but D takes {self.data_shape}.")
        data_shape = self.data_shape

        def to_model_input(batch):
            if batch.dtype == tf.uint8:
                batch = tf.cast(batch, tf.float32) / 127.5 - 1.0
            return tf.reshape(tf.cast(batch, tf.float32), (-1, *data_shape))

        return batches.map(to_model_input)

    @staticmethod
    def _check_range(batches):
        first = next(iter(batches.take(1)), None)
        if first is None:
            raise ValueError("dataset holds no images.")
        low, high = float(tf.reduce_min(first)), float(tf.reduce_max(first))
        if low < -1.01 or high > 1.01:
            raise ValueError(f"dataset images range over [{low:.3g}, {high:.3g}]; a tanh generator makes [-1, 1]. "
                             "Scale them: images / 127.5 - 1 for 0..255, or ops.preprocess_img for [0, 1].")
        if low >= 0.0 and high > 0.5:
            print(f"Note: dataset images range over [{low:.3g}, {high:.3g}], but the generator's tanh makes "
                  "[-1, 1]; use ops.preprocess_img to map [0, 1] to [-1, 1].")

    @staticmethod
    def _count_batches(dataset):
        count = int(dataset.cardinality())
        if count == tf.data.INFINITE_CARDINALITY:
            raise ValueError("dataset repeats forever; give one epoch of data (no .repeat()) and set num_epochs.")
        return count if count >= 0 else None

    def epoch(self, epoch, skip=0):
        """The pipeline for epoch ``epoch`` (0-based), without its first ``skip`` batches."""
        seed = tf.constant(self.seed, tf.int64)
        noise_size = self.noise_size

        def add_noise(index, real):
            batch = tf.shape(real)[0]
            counter = tf.cast(epoch, tf.int64) * (1 << 24) + index
            z_d = tf.random.stateless_uniform((batch, noise_size), seed=tf.stack([seed, 2 * counter]),
                                              minval=-1.0, maxval=1.0)
            z_g = tf.random.stateless_uniform((batch, noise_size), seed=tf.stack([seed, 2 * counter + 1]),
                                              minval=-1.0, maxval=1.0)
            return real, z_d, z_g

        source = self._first_epoch if epoch == 0 and self._first_epoch is not None else self._source(epoch)
        self._first_epoch = None
        batches = source.enumerate().skip(skip)
        return batches.map(add_noise, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


# ----------------------------------------------------------------------------
# The compiled train step
# ----------------------------------------------------------------------------


def _all_finite(tensors):
    """True when no element of any tensor is NaN or infinite (one pass over each)."""
    return tf.reduce_all(tf.stack([tf.reduce_all(tf.math.is_finite(t)) for t in tensors if t is not None]))


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

    State (mirrored on every replica under a strategy):
        step: number of applied steps (int64).
        diverged: set at the first non-finite step; from then on steps do nothing.
        losses: ring buffer (capacity, 2) of (d_loss, g_loss), slot ``step % capacity``.
        failure: (d_loss, g_loss, d_grads_finite, g_grads_finite) of the failing step.
        backup: a copy of what the step changes before its last check (D, D_solver,
            G's non-trainable variables), restored when the step is not finite.
    """

    def __init__(self, D, G, D_solver, G_solver, discriminator_loss, generator_loss, *,
                 strategy, data_shape, capacity):
        self.D, self.G = D, G
        self.D_solver, self.G_solver = D_solver, G_solver
        self.discriminator_loss, self.generator_loss = discriminator_loss, generator_loss
        self.strategy = strategy
        self.data_shape = tuple(data_shape)
        self.capacity = capacity
        with strategy.scope():
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="gan_step")
            self.diverged = tf.Variable(False, trainable=False, name="gan_diverged")
            self.losses = tf.Variable(tf.zeros((capacity, 2)), trainable=False, name="gan_losses")
            self.failure = tf.Variable(tf.zeros(4), trainable=False, name="gan_failure")
            for solver, model in ((D_solver, D), (G_solver, G)):
                if not solver.built:
                    solver.build(model.trainable_variables)
            # What a step changes before it knows whether its generator half is finite:
            # D and its optimizer (updated first), and the statistics layers such as
            # BatchNormalization keep in G. Copied at the start of every step and put
            # back when the step turns out non-finite. G's weights and G_solver need no
            # copy: their update is the step's last act, applied only when all is finite.
            self.state = _unique_variables([*D.variables, *D_solver.variables, *G.non_trainable_variables])
            self.backup = [tf.Variable(tf.zeros(v.shape, v.dtype), trainable=False, name="gan_backup")
                           for v in self.state]
        self.function = None

    def compile(self, element_spec):
        """Trace-once ``tf.function`` for batches of ``element_spec`` (batch dim None)."""
        self.function = tf.function(self._step, input_signature=list(element_spec))
        return self.function

    @staticmethod
    def _replica_weight(batch):
        """This replica's share of the global batch, so that summed gradients are the global mean."""
        context = tf.distribute.get_replica_context()
        local = tf.cast(tf.shape(batch)[0], tf.float32)
        total = context.all_reduce(SUM, local)
        return local / tf.maximum(total, 1.0), local > 0

    def _fake_images(self, z):
        return tf.reshape(self.G(z, training=True), (-1, *self.data_shape))

    def _replica_update(self, compute_loss, batch, solver, variables, loss_name, model_name):
        """This replica's part of one network's update.

        Returns the global loss (the mean over the whole batch), the gradients of
        this replica's share of it (the optimizer sums them over replicas), and
        whether every replica's gradients are finite.
        """
        context = tf.distribute.get_replica_context()
        weight, has_data = self._replica_weight(batch)
        with tf.GradientTape() as tape:
            share = tf.where(has_data, compute_loss() * weight, 0.0)
            scaled = solver.scale_loss(share) if isinstance(solver, keras.optimizers.LossScaleOptimizer) else share
        grads = tape.gradient(scaled, variables)
        if all(grad is None for grad in grads):
            raise ValueError(f"{loss_name} does not depend on {model_name}'s weights, so it cannot train "
                             f"{model_name}: compute it from the logits it is given, with TensorFlow operations "
                             "(not numpy).")
        if isinstance(solver, keras.optimizers.LossScaleOptimizer):
            grads_finite = tf.constant(True)  # overflow in float16 is the loss scaler's business
        else:
            grads_finite = _all_finite(grads)
        not_finite = context.all_reduce(SUM, 1.0 - tf.cast(grads_finite, tf.float32))
        return context.all_reduce(SUM, share), not_finite < 0.5, grads

    def _discriminator_replica(self, real, z):
        def loss():
            fake = self._fake_images(z)
            logits_real = tf.cast(self.D(real, training=True), tf.float32)
            logits_fake = tf.cast(self.D(fake, training=True), tf.float32)
            return _scalar_loss(self.discriminator_loss(logits_real, logits_fake), "discriminator_loss")

        return self._replica_update(loss, real, self.D_solver, self.D.trainable_variables, "discriminator_loss", "D")

    def _generator_replica(self, z):
        def loss():
            logits_fake = tf.cast(self.D(self._fake_images(z), training=True), tf.float32)
            return _scalar_loss(self.generator_loss(logits_fake), "generator_loss")

        return self._replica_update(loss, z, self.G_solver, self.G.trainable_variables, "generator_loss", "G")

    def _apply(self, solver, grads, variables):
        """Apply per-replica gradients; the optimizer sums them over replicas."""

        def apply(replica_grads):
            solver.apply_gradients(zip(replica_grads, variables))

        self.strategy.run(apply, args=(grads,))

    def _first(self, value):
        return self.strategy.experimental_local_results(value)[0]

    def _save_state(self):
        for copy, variable in zip(self.backup, self.state):
            copy.assign(variable)

    def _restore_state(self):
        for copy, variable in zip(self.backup, self.state):
            variable.assign(copy)

    def _step(self, real, z_d, z_g):
        def train():
            self._save_state()
            d_loss, d_grads_ok, d_grads = self.strategy.run(self._discriminator_replica, args=(real, z_d))
            d_loss, d_grads_ok = self._first(d_loss), self._first(d_grads_ok)
            d_ok = tf.math.is_finite(d_loss) & d_grads_ok
            tf.cond(d_ok, lambda: self._apply(self.D_solver, d_grads, self.D.trainable_variables), lambda: None)

            g_loss, g_grads_ok, g_grads = self.strategy.run(self._generator_replica, args=(z_g,))
            g_loss, g_grads_ok = self._first(g_loss), self._first(g_grads_ok)
            ok = d_ok & tf.math.is_finite(g_loss) & g_grads_ok
            tf.cond(ok, lambda: self._apply(self.G_solver, g_grads, self.G.trainable_variables), self._restore_state)

            slot = self.step % self.capacity
            self.losses.assign(tf.tensor_scatter_nd_update(self.losses, [[slot]], [tf.stack([d_loss, g_loss])]))
            self.failure.assign(tf.where(
                ok, self.failure, tf.stack([d_loss, g_loss, tf.cast(d_grads_ok, tf.float32),
                                            tf.cast(g_grads_ok, tf.float32)])))
            self.step.assign_add(tf.cast(ok, tf.int64))
            self.diverged.assign(tf.logical_not(ok))

        tf.cond(self.diverged, lambda: None, train)

    def read_losses(self, first_step):
        """Losses of steps ``first_step .. step-1`` (0-based) as two lists, and the step count."""
        step = int(self.step.numpy())
        count = step - first_step
        if count > self.capacity:
            raise RuntimeError("Internal error: the loss buffer overflowed between two read-backs.")
        slots = [(first_step + i) % self.capacity for i in range(count)]
        values = self.losses.numpy()[slots] if slots else np.zeros((0, 2), np.float32)
        return values[:, 0].tolist(), values[:, 1].tolist(), step


# ----------------------------------------------------------------------------
# Checkpoints
# ----------------------------------------------------------------------------


class _Checkpoint:
    """Models, optimizers and progress in a ``tf.train.Checkpoint``; history beside it.

    ``directory`` holds the TensorFlow checkpoint files (the last two kept),
    ``gan_run.json`` (history and settings) and ``gan_samples.npz`` (sample grids).
    """

    def __init__(self, directory, *, D, G, D_solver, G_solver, step, epoch, step_in_epoch):
        self.directory = Path(directory).expanduser()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.checkpoint = tf.train.Checkpoint(D=D, G=G, D_solver=D_solver, G_solver=G_solver, step=step,
                                              epoch=epoch, step_in_epoch=step_in_epoch)
        self.manager = tf.train.CheckpointManager(self.checkpoint, str(self.directory), max_to_keep=2)
        self.run_file = self.directory / "gan_run.json"
        self.samples_file = self.directory / "gan_samples.npz"

    def restore(self):
        """``(settings, history)`` of the saved run, or None when there is none."""
        path = self.manager.latest_checkpoint
        if path is None:
            return None
        try:
            self.checkpoint.restore(path).assert_existing_objects_matched()
        except (ValueError, AssertionError, tf.errors.OpError) as error:
            raise ValueError(f"The checkpoint in {self.directory} was saved for other models or optimizers "
                             f"and cannot be restored into these ({error}). Use another checkpoint_dir, or "
                             "delete this one to start over.") from None
        state = json.loads(self.run_file.read_text()) if self.run_file.is_file() else {}
        history = GanHistory.from_json(state.get("history", {}))
        history.samples = self._read_samples()
        return state.get("settings", {}), history

    def _read_samples(self):
        if not self.samples_file.is_file():
            return []
        with np.load(self.samples_file) as saved:
            return [(int(step), saved["images"][i]) for i, step in enumerate(saved["steps"])]

    def save(self, settings, history):
        self.manager.save(checkpoint_number=int(self.checkpoint.step.numpy()))
        state = {"settings": settings, "history": history.to_json()}
        _write_atomically(self.run_file, json.dumps(state).encode())
        if history.samples:
            steps = np.array([step for step, _ in history.samples])
            images = np.stack([images for _, images in history.samples])
            temporary = self.samples_file.with_suffix(".tmp.npz")
            np.savez_compressed(temporary, steps=steps, images=images)
            os.replace(temporary, self.samples_file)


def _write_atomically(path, data):
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


# ----------------------------------------------------------------------------
# The loop
# ----------------------------------------------------------------------------


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


class _Loop:
    """The Python side of training: epochs, read-backs, callbacks, timing, checkpoints."""

    def __init__(self, run, step, feed, callbacks, checkpoint, settings, start_epoch, skip):
        self.run, self.step, self.feed = run, step, feed
        self.callbacks, self.checkpoint, self.settings = callbacks, checkpoint, settings
        self.history = run.history
        self.epoch = start_epoch
        self.skip = skip
        self.calls = run.start_step
        self.read_up_to = run.start_step
        self.epoch_start = run.start_step - skip
        self.seconds_before = self.history.elapsed_s
        self.fixed_noise = tf.random.stateless_uniform((NUM_SAMPLES, run.noise_size), seed=(feed.seed, 7),
                                                       minval=-1.0, maxval=1.0)
        # Eager: a few calls per run, not worth a trace (and a new tf.function per call of
        # run_a_gan would set off TensorFlow's retracing warning after a few calls).
        self.sample_function = lambda z: run.G(z, training=False)
        self.window = None  # (time, step) where the current logging window began
        self.steady = None  # (time, step) after the first (compiling) step
        self.epoch_timer = None

    def train(self):
        """Train until ``run.end_step`` or the last epoch; returns the history."""
        start = time.perf_counter()
        self.window = (start, self.calls)
        self.epoch_timer = start
        try:
            self.callbacks("on_train_begin", self.run)
            self._samples()  # the first grid; on resuming, the grid at the step it resumes from
            while self.epoch < self.run.num_epochs and self.calls < self.run.end_step:
                if not self._train_epoch():
                    break
        except KeyboardInterrupt:
            self._read_back()
            self.history.stopped = "interrupted"
            self.history.message = f"Interrupted at step {self.history.steps_done}; the weights are kept."
            print(self.history.message)
        end = time.perf_counter()
        self.history.elapsed_s = self.seconds_before + (end - start)
        self.history.images_per_sec = self._images_per_sec(start, end)
        self._save()
        if self.history.stopped == "nan":
            print(self.history.message)
        elif self.history.stopped == "completed":
            self._samples()
        self.callbacks("on_train_end", self.history)
        return self.history

    def _train_epoch(self):
        """One epoch, or up to the end step; True when the epoch completed."""
        run = self.run
        losses_from = len(self.history.d_loss)
        dataset = run.strategy.experimental_distribute_dataset(self.feed.epoch(self.epoch, self.skip))
        if self.step.function is None:
            run.train_step = self.step.compile(dataset.element_spec)
        for real, z_d, z_g in dataset:
            if self.calls >= run.end_step:
                return False
            self._call_step(real, z_d, z_g)
            due = (self.calls % run.print_every == 0 or self.calls % run.show_every == 0
                   or self.calls == run.end_step)
            if due and not self._report():
                return False
        if not self._read_back():
            return False
        self._end_epoch(losses_from)
        return True

    def _call_step(self, real, z_d, z_g):
        if self.steady is not None:
            self.step.function(real, z_d, z_g)
        else:
            try:
                self.step.function(real, z_d, z_g)
            except NotImplementedError as error:
                raise NotImplementedError(
                    f"A model or loss function given to run_a_gan is not implemented yet ({error!r}): "
                    "finish its exercise first.") from error
            self.steady = self.window = (time.perf_counter(), self.calls + 1)
        self.calls += 1

    def _read_back(self):
        """Move the losses since the last read-back into the history; False once training diverged."""
        d_losses, g_losses, step = self.step.read_losses(self.read_up_to)
        self.history.d_loss.extend(d_losses)
        self.history.g_loss.extend(g_losses)
        self.history.steps_done = self.read_up_to = step
        if bool(self.step.diverged.numpy()):
            self.history.stopped = "nan"
            self.history.message = _divergence_message(step + 1, self.epoch + 1, self.step.failure.numpy())
            return False
        return True

    def _report(self):
        """Read back, then log and show samples as scheduled; False when training must stop."""
        if not self._read_back():
            return False
        if self.calls % self.run.print_every == 0:
            self.callbacks("on_log", self.calls, self._logs())
        if self.calls % self.run.show_every == 0:
            self._samples()
        return True

    def _samples(self):
        step = self.history.steps_done
        if self.history.samples and self.history.samples[-1][0] == step:
            return
        images = self.sample_function(self.fixed_noise)
        images = np.asarray(self.run.strategy.experimental_local_results(images)[0], dtype=np.float32)
        self.history.samples.append((step, images))
        self.callbacks("on_samples", step, images)

    def _logs(self):
        now = time.perf_counter()
        since, from_step = self.window
        self.window = (now, self.calls)
        speed = (self.calls - from_step) * self.run.batch_size / max(now - since, 1e-9)
        left = None
        if math.isfinite(self.run.end_step) and speed > 0:
            left = (self.run.end_step - self.calls) * self.run.batch_size / speed
        return {"d_loss": self.history.d_loss[-1], "g_loss": self.history.g_loss[-1], "epoch": self.epoch + 1,
                "images_per_sec": speed, "seconds_left": left}

    def _images_per_sec(self, start, end):
        if self.steady is not None and self.history.steps_done > self.steady[1]:
            since, step = self.steady
        else:
            since, step = start, self.run.start_step
        return max(self.history.steps_done - step, 0) * self.run.batch_size / max(end - since, 1e-9)

    def _end_epoch(self, losses_from):
        steps_in_epoch = self.history.steps_done - self.epoch_start
        epoch_seconds = time.perf_counter() - self.epoch_timer
        self.epoch += 1
        self.skip = 0
        self.history.epochs_done = self.epoch
        if self.feed.steps_per_epoch is None:
            self.feed.steps_per_epoch = steps_in_epoch
        self.epoch_start = self.history.steps_done
        self.epoch_timer = time.perf_counter()
        d_losses, g_losses = self.history.d_loss[losses_from:], self.history.g_loss[losses_from:]
        logs = {"d_loss": float(np.mean(d_losses)) if d_losses else float("nan"),
                "g_loss": float(np.mean(g_losses)) if g_losses else float("nan"),
                "epoch": self.epoch, "step": self.history.steps_done,
                "images_per_sec": steps_in_epoch * self.run.batch_size / max(epoch_seconds, 1e-9)}
        self._save()
        self.callbacks("on_epoch_end", self.epoch, logs)

    def _save(self):
        if self.checkpoint is None:
            return
        self.checkpoint.checkpoint.epoch.assign(self.epoch)
        self.checkpoint.checkpoint.step_in_epoch.assign(self.history.steps_done - self.epoch_start)
        self.checkpoint.save(self.settings, self.history)


def run_a_gan(D, G, D_solver, G_solver, discriminator_loss, generator_loss, show_every=250, print_every=50,
              batch_size=128, num_epochs=10, noise_size=96, *, dataset=None, seed=None, callbacks=None,
              checkpoint_dir=None, strategy=None):
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
        dataset: None for MNIST (flat or 28x28x1, whichever D takes); a
            ``tf.data.Dataset`` of image batches (or of ``(images, labels)``; used as
            it is each epoch, shuffling included); or an array of images (N, ...),
            shuffled each epoch. Images are floats in [-1, 1] (uint8 0..255 is rescaled).
        seed: makes the data order, the noise and the sample noise reproducible.
        callbacks: ``GanCallback``s; None means ``default_callbacks()`` (the
            course's display), ``[]`` means silence.
        checkpoint_dir: save models, optimizers, progress and history here at
            every epoch end and when stopping; a later call with the same directory
            resumes where the last one stopped.
        strategy: a ``tf.distribute`` strategy; D, G and both optimizers must have
            been built in its scope (see ``build_gan``).

    Returns:
        a ``GanHistory``. In quick mode (``GAN_COURSE_QUICK``) at most
        ``settings.QUICK_MAX_STEPS`` steps are trained per call.
    """
    _check_arguments(D, G, D_solver, G_solver, discriminator_loss, generator_loss, show_every=show_every,
                     print_every=print_every, batch_size=batch_size, num_epochs=num_epochs, noise_size=noise_size)
    strategy = _resolve_strategy(strategy, {"D": D, "G": G}, {"D_solver": D_solver, "G_solver": G_solver})
    data_shape, _ = _image_shapes(D, G, noise_size)
    with strategy.scope():
        D_solver = _with_loss_scaling(D_solver, (D, G))
        G_solver = _with_loss_scaling(G_solver, (D, G))
    step = _TrainStep(D, G, D_solver, G_solver, discriminator_loss, generator_loss, strategy=strategy,
                      data_shape=data_shape, capacity=max(print_every, 1))
    epoch_var = tf.Variable(0, dtype=tf.int64, trainable=False)
    in_epoch_var = tf.Variable(0, dtype=tf.int64, trainable=False)

    checkpoint, saved, history = None, None, GanHistory()
    if checkpoint_dir is not None:
        checkpoint = _Checkpoint(checkpoint_dir, D=D, G=G, D_solver=D_solver, G_solver=G_solver, step=step.step,
                                 epoch=epoch_var, step_in_epoch=in_epoch_var)
        saved = checkpoint.restore()
    settings_now = {"batch_size": batch_size, "noise_size": noise_size, "seed": seed}
    if saved is not None:
        saved_settings, history = saved
        _check_resumable(saved_settings, settings_now, checkpoint_dir)
        seed = saved_settings.get("seed", seed)
        history = _trim_history(history, int(step.step.numpy()))
        history.epochs_done = int(epoch_var.numpy())
    if seed is None:
        seed = int(np.random.randint(0, 2**31 - 1))
    settings_now["seed"] = seed

    feed = _DataFeed(dataset, data_shape, batch_size, noise_size, seed)
    start_step = int(step.step.numpy())
    start_epoch, skip = int(epoch_var.numpy()), int(in_epoch_var.numpy())
    steps_per_epoch = feed.steps_per_epoch
    total_steps = None if steps_per_epoch is None else steps_per_epoch * num_epochs
    end_step = total_steps if total_steps is not None else math.inf
    if settings.quick_mode() and end_step - start_step > settings.QUICK_MAX_STEPS:
        end_step = start_step + settings.QUICK_MAX_STEPS
        print(f"Quick mode ({settings.QUICK_ENV} is set): training stops after {settings.QUICK_MAX_STEPS} steps.")
    history.stopped, history.message = "completed", ""
    if start_epoch >= num_epochs:
        print(f"The checkpoint in {checkpoint_dir} has finished all {num_epochs} epochs; nothing to train. "
              "Raise num_epochs to train on, or use a new checkpoint_dir.")
        return history

    run = GanRun(D=D, G=G, history=history, noise_size=noise_size, batch_size=batch_size, num_epochs=num_epochs,
                 steps_per_epoch=steps_per_epoch, total_steps=total_steps, start_step=start_step, end_step=end_step,
                 print_every=print_every, show_every=show_every, strategy=strategy)
    return _Loop(run, step, feed, _Callbacks(callbacks), checkpoint, settings_now, start_epoch, skip).train()


def _check_resumable(saved, now, directory):
    for name in ("batch_size", "noise_size"):
        if name in saved and saved[name] != now[name]:
            raise ValueError(f"The checkpoint in {directory} was trained with {name}={saved[name]}, not "
                             f"{now[name]}. Pass {name}={saved[name]} to resume, or use a new checkpoint_dir.")


def _trim_history(history, steps):
    """The history cut to the checkpoint's step count (it is written just after the checkpoint)."""
    history.d_loss = history.d_loss[:steps]
    history.g_loss = history.g_loss[:steps]
    history.samples = [(step, images) for step, images in history.samples if step <= steps]
    history.steps_done = steps
    return history
