"""Training a GAN: ``get_solvers``, ``build_gan`` and ``run_a_gan``, which builds a ``gan.GAN`` and calls ``fit``.

``run_a_gan`` trains ``D`` and ``G`` the way notebook 05 teaches (and the CS231n
assignment does): per batch of real images, one discriminator update on real images and
``G(z)``, then one generator update on fresh noise, scored by the just-updated ``D``.
Keyword options extend that step for the later notebooks, each off by default:
``d_steps`` critic updates per generator update and a ``discriminator_penalty``
(WGAN-GP, notebook 11), labels for a conditional GAN (notebook 12), an exponential
moving average of G's weights (``ema``) and differentiable augmentation of real and
generated images (``augment``, notebook 13): each picks the ``gan`` model that has it.

The step is Keras's ``train_step``, run by ``keras.Model.fit``, compiled once (with XLA
where that was measured to pay: ``uses_xla``), on the course's data feed
(``data.feed``: the data shuffled and the noise drawn from the run's seed). Around it,
Keras callbacks (``callbacks``): the history, sample grids, checkpoints (a later call
with the same ``checkpoint_dir`` resumes, past a damaged checkpoint), the stop at a
non-finite step, and the course's display (``widgets``). Ctrl-C returns the history so
far, weights kept. ``strategy=`` takes a ``tf.distribute`` strategy: each replica trains
on its slice of the batch, so one step matches one device. On GPUs ``build_gan`` builds
in mixed precision; ``run_a_gan`` adds loss scaling.
"""

import inspect
import math

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from gan_helpers import callbacks as training_callbacks
from gan_helpers import models, settings
from gan_helpers.data.feed import GanFeed
from gan_helpers.gan import make_gan, tf_variable_of

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
        print_every: report the losses (the display's status line) every this many steps.
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
        callbacks: Keras callbacks (``keras.callbacks.Callback``: Keras's own, or the
            course's such as ``EpochGrids`` and ``MetricsCallback``), called while
            training after the course's own (history, sample grids, checkpoints) and
            before the display, as ``fit`` orders them. They see the GAN as
            ``self.model`` (``gan.GAN``) and the history as ``self.model.history``
            (``gan_helpers.callbacks`` says what else); ``self.model.stop_training =
            True`` stops training, and raising ``KeyboardInterrupt`` stops it as Ctrl-C
            does.
        verbose: show the course's display (``display.default_display()``: the live
            view in a notebook, plain text or a terminal bar elsewhere); False trains
            silently. A display among ``callbacks`` replaces the default one.
        checkpoint_dir: save models, optimizers, progress and history here at
            every epoch end and when stopping; a later call with the same directory
            resumes from the newest checkpoint it can read.
        strategy: a ``tf.distribute`` strategy; D, G and both optimizers must have
            been built in its scope (see ``build_gan``).

    Options for the later notebooks (all off by default), each the option of the ``gan`` model it picks:
        d_steps: discriminator (critic) updates per generator update, each on its own
            real batch and fresh noise, as in WGAN-GP's Algorithm 1 (n_critic = 5;
            ``gan.WGANGP``). A *step* is still one generator update: ``steps_done``,
            ``print_every``, ``show_every``, quick mode's cap and the history count
            those; an epoch is still one pass over the data, so it has about 1/d_steps
            as many steps. ``history.d_loss`` holds the mean of each step's critic losses.
        discriminator_penalty: ``penalty(D, real, fake)`` -> scalar, added to the
            discriminator's loss at every critic update (e.g. WGAN-GP's
            ``gradient_penalty``), on the float32 batches D scores there (after
            ``augment``); for a conditional D, ``D`` is ``images -> D([images, labels])``.
            ``history.penalty`` holds it per step, so ``d_loss - penalty`` is the loss
            without it (for WGAN-GP, the Wasserstein estimate is its negative).
        ema: a decay such as 0.999: sample from a moving average of all of G's weights
            (batch-norm statistics included), ``average = d * average + (1 - d) *
            weights`` after every generator update with the warm-up ``d = min(ema,
            (1 + t) / (10 + t))`` after t steps (``gan.ema_decay``), starting from G's
            weights (or the checkpoint's). It is ``history.ema_generator`` (a copy of G),
            checkpointed; G itself trains on as without it.
        augment: a differentiable function ``images -> images``, random per image
            (e.g. ``diff_augment``): D scores ``augment(real)`` and ``augment(G(z))``
            in both updates, and G's gradient flows through it (DiffAugment).
        num_classes: for a conditional GAN (both models take two inputs,
            ``G([noise, labels])``, ``D([images, labels])``, labels int32 (B,);
            ``gan.ConditionalGAN``): the number of classes. None reads it from an
            ``Embedding`` (or ``CategoryEncoding``) layer of G or D, else from the
            labels. Fakes are made for the labels of the real batch (with ``d_steps`` >
            1, the generator update's for those of the step's first batch). Sample
            grids show class ``i % num_classes`` in place ``i``.

    Returns:
        a ``GanHistory`` (``fit``'s ``History``, step by step). In quick mode (``GAN_COURSE_QUICK``) at most
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
    train_settings = {"batch_size": batch_size, "noise_size": noise_size, "d_steps": d_steps, "ema": ema,
                      "conditional": conditional}
    with strategy.scope():
        gan = make_gan(D, G, noise_size, d_steps=d_steps, penalty=discriminator_penalty, ema=ema, augment=augment,
                       data_shape=data_shape, conditional=conditional)
        gan.compile(*(_with_loss_scaling(solver, (D, G)) for solver in (D_solver, G_solver)), discriminator_loss,
                    generator_loss, jit_compile=False)
    history, notes, checkpoints = training_callbacks.GanHistory(), [], None
    if checkpoint_dir is not None:
        checkpoints = training_callbacks.Checkpoints(checkpoint_dir, gan, train_settings)
        history, seed, notes = checkpoints.resume(seed)
    history.ema_generator = gan.G_ema
    if seed is None:
        seed = int(np.random.randint(0, 2**31 - 1))
    feed = GanFeed(dataset, data_shape, batch_size, noise_size, seed, d_steps=d_steps, conditional=conditional)
    if conditional:
        gan.num_classes = _number_of_classes(num_classes, G, D, feed)
    if checkpoints is not None:
        checkpoints.settings = {**train_settings, "seed": seed}

    start_step, start_epoch = history.steps_done, history.epochs_done
    if start_epoch >= num_epochs:
        if verbose:
            print(f"The checkpoint in {checkpoint_dir} has finished all {num_epochs} epochs; nothing to train. "
                  "Raise num_epochs to train on, or use a new checkpoint_dir.")
        return history
    end_step = feed.steps_per_epoch * num_epochs
    if settings.quick_mode() and end_step - start_step > settings.QUICK_MAX_STEPS:
        end_step = start_step + settings.QUICK_MAX_STEPS
        notes.append(f"Quick mode ({settings.QUICK_ENV} is set): this call stops after "
                     f"{settings.QUICK_MAX_STEPS} steps.")
    # Steps of the resumed epoch already trained (fewer, should the data set have shrunk since)
    skip = 0 if checkpoints is None else min(checkpoints.steps_into_epoch(), feed.steps_per_epoch - 1)
    if _plain_on_one_device(gan, strategy) and uses_xla(D, G, end_step - start_step):
        gan.jit_compile = _compiles_with_xla(gan, feed)
    internal = [history, training_callbacks.SampleGrids(seed)] + ([checkpoints] if checkpoints else [])
    every = keras.callbacks.CallbackList(
        internal + _with_display(callbacks, verbose), model=gan, epochs=num_epochs, steps=feed.steps_per_epoch,
        verbose=0, batch_size=batch_size, d_steps=d_steps, print_every=print_every, show_every=show_every,
        start_step=start_step, end_step=end_step, skip=skip, notes=notes)
    try:
        gan.fit(feed.steps(start_epoch, num_epochs, skip), epochs=num_epochs, initial_epoch=start_epoch,
                steps_per_epoch=feed.steps_per_epoch, callbacks=every, verbose=0, shuffle=False)
    except NotImplementedError as error:
        if error.args:  # Keras's or TensorFlow's own, with its message: an error of the code, not a stub
            raise
        raise NotImplementedError(f"A model or loss function given to run_a_gan is not implemented yet ({error!r}): "
                                  "finish its exercise first.") from error
    except KeyboardInterrupt:
        if not history.began:
            raise
        history.interrupted()
        every.on_train_end()
    return history


def _with_display(callbacks, verbose):
    """The learner's callbacks, then the course's display unless ``verbose`` is False or one of them is a display."""
    if callbacks is None:
        callbacks = []
    elif not isinstance(callbacks, (list, tuple)):
        callbacks = [callbacks]
    callbacks = list(callbacks)
    if verbose and not any(getattr(callback, "is_display", False) for callback in callbacks):
        from gan_helpers import display  # a notebook's display (ipywidgets) only when a call starts

        callbacks += display.default_display()
    return callbacks


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
            tf_variable = tf_variable_of(variable)
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


def _plain_on_one_device(gan, strategy):
    """Whether the GAN is notebook 05's (none of the later notebooks' options) on one device."""
    plain = type(gan).__name__ == "GAN" and gan.augment is None and gan.G_ema is None
    return plain and not tf.distribute.has_strategy() and strategy is tf.distribute.get_strategy()


def _compiles_with_xla(gan, feed):
    """Whether XLA can compile the GAN's step (an operation XLA lacks, such as ``tf.strings``, says no).

    The step is lowered to XLA's HLO without running, on steps of the feed's shapes (XLA needs them static)."""
    step = {name: tf.zeros([feed.batch_size, *part.shape[1:]], part.dtype)
            for name, part in feed.steps(0, 1).element_spec.items()}
    try:
        tf.function(gan.train_step, jit_compile=True).experimental_get_compiler_ir(step)(stage="hlo")
    except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError, tf.errors.NotFoundError, ValueError):
        return False
    return True


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


def _is_conditional(D, G, num_classes):
    """True when both models take two inputs (G: [noise, labels], D: [images, labels]), or num_classes is given."""
    counts = {"G": models.input_count(G), "D": models.input_count(D)}
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
    built_for = models.label_classes(G) or models.label_classes(D)
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
