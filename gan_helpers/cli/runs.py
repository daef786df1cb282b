"""Run folders: what the ``train``, ``sample`` and ``evaluate`` commands keep on disk.

A run folder (``runs/NAME``) holds one training run::

    config.json       what was trained: data, model, loss, image shape, batch size, ...
    checkpoints/      run_a_gan's checkpoints (models, optimizers, progress, history)
    logs/             TensorBoard event files (losses, speed, sample grids)
    samples/          epoch_001.png, epoch_002.png, ...: a sample grid per epoch
    samples.png       the latest sample grid; losses.png, progress.gif beside it
    generator.keras   the generator alone, for keras.models.load_model

``RunConfig`` is the part of a command line that must stay the same for a run to
be resumed (the number of epochs may change: raising it trains on).
``RunFolder`` reads and writes the folder, refuses a configuration other than the
one it holds, and restores the generator for sampling and evaluation. Problems a
user can fix raise ``RunError``, whose message says what to do.
"""

import dataclasses
import functools
import json
import shlex
import shutil
import time
from pathlib import Path

from gan_helpers import losses, models
from gan_helpers.augment import AUGMENTATIONS, policy_names
from gan_helpers.augment import DEFAULT_POLICY as DEFAULT_AUGMENT_POLICY
from gan_helpers.callbacks import changed_settings
from gan_helpers.data import CIFAR10_CLASSES

CONFIG_FILE = "config.json"
CHECKPOINT_DIR = "checkpoints"
LOG_DIR = "logs"
SAMPLES_DIR = "samples"
SAMPLES_FILE = "samples.png"
LOSSES_FILE = "losses.png"
PROGRESS_FILE = "progress.gif"
GENERATOR_FILE = "generator.keras"
METRICS_FILE = "metrics.json"
# Everything the commands write into a run folder: what --overwrite deletes (and nothing else).
RUN_ENTRIES = (CONFIG_FILE, CHECKPOINT_DIR, LOG_DIR, SAMPLES_DIR, SAMPLES_FILE, LOSSES_FILE, PROGRESS_FILE,
               GENERATOR_FILE, METRICS_FILE)
CONFIG_FORMAT = 1

DATA_SETS = ("mnist", "cifar10", "dogs")
LABELLED_DATA_SETS = ("mnist", "cifar10")  # what --conditional trains on: data sets with classes
MODELS = ("mlp", "dcgan")
LOSSES = ("bce", "ls", "hinge", "wgan-gp")
IMAGE_SIZES = (32, 64)  # for dogs and folders of images
CHANNELS = (1, 3)  # for folders of images: grey or colour
DEFAULT_LEARNING_RATES = {"mlp": 1e-3, "dcgan": 2e-4}
# WGAN-GP's Algorithm 1 (Gulrajani et al., 2017): Adam 1e-4, beta1 0, beta2 0.9, five critic steps.
WGAN_GP = {"learning_rate": 1e-4, "beta1": 0.0, "beta2": 0.9, "d_steps": 5}

# (model, image side) -> names of the builders in gan_helpers.models
ARCHITECTURES = {
    ("mlp", 28): ("discriminator", "generator"),
    ("dcgan", 28): ("dc_discriminator", "dc_generator"),
    ("dcgan", 32): ("cifar_discriminator", "cifar_generator"),
    ("dcgan", 64): ("dog_discriminator", "dog_generator"),
}
CONDITIONAL_ARCHITECTURES = {
    28: ("conditional_discriminator", "conditional_generator"),
    32: ("conditional_cifar_discriminator", "conditional_cifar_generator"),
}
# builders that take channels= (1 for greyscale pictures)
CHANNEL_BUILDERS = ("cifar_discriminator", "cifar_generator", "dog_discriminator", "dog_generator")
LOSS_FUNCTIONS = {
    "bce": ("discriminator_loss", "generator_loss"),
    "ls": ("ls_discriminator_loss", "ls_generator_loss"),
    "hinge": ("hinge_discriminator_loss", "hinge_generator_loss"),
    "wgan-gp": ("wasserstein_critic_loss", "wasserstein_generator_loss"),
}
LOSS_NAMES = {"bce": "cross-entropy", "ls": "least-squares", "hinge": "hinge", "wgan-gp": "WGAN-GP"}
# The stabilising tools a run may use: (field, in words, as an option); each shown when not at its default.
TOOLS = (
    ("d_steps", "{} discriminator steps per generator step", "--d-steps {}"),
    ("spectral_norm", "spectral norm", "--spectral-norm"),
    ("ema", "EMA {:g}", "--ema {:g}"),
    ("augment", "DiffAugment {}", "--augment {}"),
)


class RunError(Exception):
    """A problem with a run folder or a command's settings that the user can fix; the message says how."""


@dataclasses.dataclass
class RunConfig:
    """What a run trains; every field must match for ``train`` to resume a run.

    data: 'mnist', 'cifar10', 'dogs', or the absolute path of a folder of images.
    data_class: the one CIFAR-10 class trained on (e.g. 'dog'), or None for all.
    model: 'mlp' or 'dcgan'. loss: 'bce' (the original GAN's), 'ls' (least squares),
    'hinge' or 'wgan-gp' (Wasserstein loss with gradient penalty).
    image_shape: one image as the generator makes it, e.g. [784], [28, 28, 1], [32, 32, 3].
    discriminator, generator: the builders' names in ``gan_helpers.models``.
    conditional: the models take the class as a second input (``num_classes`` classes).
    spectral_norm: the discriminator's layers in spectral normalisation.
    ema: the decay of the moving average of G's weights that samples come from, or None.
    augment: the DiffAugment policy applied to what D sees (e.g. 'color,translation,cutout'), or None.
    d_steps: discriminator updates per generator update.
    d_learning_rate, g_learning_rate: a network's own learning rate (None: ``learning_rate``).
    Runs written before these options existed read them as off.
    """

    data: str
    data_class: str
    model: str
    loss: str
    image_shape: list
    noise_dim: int
    batch_size: int
    learning_rate: float
    seed: int
    discriminator: str
    generator: str
    conditional: bool = False
    num_classes: int = None
    spectral_norm: bool = False
    ema: float = None
    augment: str = None
    d_steps: int = 1
    d_learning_rate: float = None
    g_learning_rate: float = None

    # fields and the command-line option that sets them, for messages
    OPTIONS = {"data": "--data", "data_class": "--class", "model": "--model", "loss": "--loss",
               "image_shape": "--image-size", "noise_dim": "noise size", "batch_size": "--batch-size",
               "learning_rate": "--learning-rate", "seed": "--seed", "discriminator": "discriminator",
               "generator": "generator", "conditional": "--conditional", "num_classes": "classes",
               "spectral_norm": "--spectral-norm", "ema": "--ema", "augment": "--augment", "d_steps": "--d-steps",
               "d_learning_rate": "--d-learning-rate", "g_learning_rate": "--g-learning-rate"}

    DERIVED = ("image_shape", "discriminator", "generator", "num_classes")

    @property
    def image_size(self):
        return 28 if self.image_shape == [784] else self.image_shape[0]

    @property
    def channels(self):
        return 1 if self.image_shape == [784] else self.image_shape[-1]

    @property
    def is_mnist(self):
        return self.data == "mnist"

    def to_json(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, state):
        fields = dataclasses.fields(cls)
        required = [field.name for field in fields if field.default is dataclasses.MISSING]
        missing = [name for name in required if name not in state]
        if missing:
            raise KeyError(f"missing {', '.join(missing)}")
        return cls(**{field.name: state[field.name] for field in fields if field.name in state})

    def differences(self, other):
        """``[(option, this value, other value)]`` for every field that differs.

        Fields that follow from others (the image shape and the builders follow from the
        data, model and image size) are listed only when nothing else explains them.
        """
        found = changed_settings(self.to_json(), other.to_json())
        primary = [item for item in found if item[0] not in self.DERIVED]
        if primary and not any(name in ("data", "model", "conditional") for name, _, _ in primary):
            primary += [item for item in found if item[0] == "image_shape"]
        return [(self._option(name, before, now), before, now) for name, before, now in (primary or found)]

    @staticmethod
    def _option(name, before, now):
        if name == "image_shape" and before[:-1] == now[:-1]:
            return "--channels"
        return RunConfig.OPTIONS[name]

    @property
    def data_name(self):
        """The data set in words: 'MNIST', 'CIFAR-10 (dogs only)', a folder's path, ..."""
        if self.data_class:
            return f"CIFAR-10 ({self.data_class}s only)"
        return {"mnist": "MNIST", "cifar10": "CIFAR-10", "dogs": "Stanford Dogs"}.get(self.data, self.data)

    def describe(self):
        side = self.image_size
        shape = f"{side}x{side} {'colour' if self.channels == 3 else 'grey'}"
        model = {"mlp": "MLP GAN", "dcgan": "DCGAN"}[self.model]
        extras = [f"{LOSS_NAMES[self.loss]} loss"]
        if self.conditional:
            model = f"conditional {model}"
            extras.append(f"{self.num_classes} classes")
        extras += self._tools(0)
        return f"{model} ({', '.join(extras)}) on {self.data_name}, images {shape}"

    def _tools(self, form):
        """The stabilising tools this run uses, in words (``form`` 0) or as options (``form`` 1)."""
        defaults = {field.name: field.default for field in dataclasses.fields(self)}
        return [forms[form].format(getattr(self, name))
                for name, *forms in TOOLS if getattr(self, name) != defaults[name]]

    def command(self, out, epochs):
        """The ``train`` command line that continues this run."""
        words = ["python -m gan_helpers train", f"--data {shlex.quote(self.data)}"]
        if self.data_class:
            words.append(f"--class {self.data_class}")
        if self.conditional:
            words.append("--conditional")
        words += [f"--model {self.model}", f"--loss {self.loss}"]
        if not self.is_mnist and self.data != "cifar10":
            words.append(f"--image-size {self.image_size}")
            if self.data != "dogs":
                words.append(f"--channels {self.channels}")
        words += self._tools(1)
        words += [f"--batch-size {self.batch_size}", f"--learning-rate {self.learning_rate:g}"]
        for option, rate in (("--d-learning-rate", self.d_learning_rate), ("--g-learning-rate", self.g_learning_rate)):
            if rate is not None:
                words.append(f"{option} {rate:g}")
        words += [f"--seed {self.seed}", f"--epochs {epochs}", f"--out {shlex.quote(str(out))}"]
        return " ".join(words)

    # ------------------------------------------------------------ what it builds

    def builders(self):
        """``(make_discriminator, make_generator)``: functions of no argument."""
        try:
            make_d, make_g = getattr(models, self.discriminator), getattr(models, self.generator)
        except AttributeError as error:
            raise RunError(f"This version of gan_helpers has no model builder {error.name!r}, which this run "
                           "was trained with; train a new run.") from None
        d_options, g_options = {}, {}
        if self.conditional:
            d_options["num_classes"] = g_options["num_classes"] = self.num_classes
        if self.spectral_norm:
            d_options["spectral_norm"] = True
        if self.channels != 3 and self.discriminator in CHANNEL_BUILDERS:
            d_options["channels"] = g_options["channels"] = self.channels
        return (lambda: make_d(**d_options)), (lambda: make_g(self.noise_dim, **g_options))

    def optimizer_settings(self):
        """What ``training.build_gan`` takes for the optimizers: rates and Adam's betas (WGAN-GP's for wgan-gp)."""
        betas = {"beta1": WGAN_GP["beta1"], "beta2": WGAN_GP["beta2"]} if self.loss == "wgan-gp" else {}
        return {"learning_rate": self.learning_rate, "d_learning_rate": self.d_learning_rate,
                "g_learning_rate": self.g_learning_rate, **betas}

    def loss_functions(self):
        d_name, g_name = LOSS_FUNCTIONS[self.loss]
        return getattr(losses, d_name), getattr(losses, g_name)

    def training_options(self):
        """``run_a_gan``'s options for this run: d_steps, the penalty, ema, augment."""
        options = {"d_steps": self.d_steps, "ema": self.ema}
        if self.loss == "wgan-gp":
            options["discriminator_penalty"] = losses.gradient_penalty
        if self.augment:
            from gan_helpers.augment import diff_augment

            options["augment"] = functools.partial(diff_augment, policy=self.augment)
        return options

    def build_generator(self):
        return self.builders()[1]()

    def with_channels(self, channels):
        """This configuration for pictures of ``channels`` channels (a folder read as grey or colour)."""
        return dataclasses.replace(self, image_shape=[*self.image_shape[:-1], int(channels)])

    def check_label(self, label):
        """``RunError`` unless ``label`` is one of a conditional run's classes."""
        if not self.conditional:
            raise RunError("--label picks the class of a conditional GAN; this run is not conditional (train one "
                           "with --conditional). Leave --label out.")
        if not 0 <= label < self.num_classes:
            names = ", ".join(f"{index} {name}" for index, name in enumerate(self.class_names))
            raise RunError(f"--label {label} is not a class of this run: its classes are 0 to "
                           f"{self.num_classes - 1}{f' ({names})' if names else ''}.")

    @property
    def class_names(self):
        """The names of CIFAR-10's classes for a run on CIFAR-10, else () (MNIST's classes are digits)."""
        return CIFAR10_CLASSES if self.data == "cifar10" else ()


def make_config(*, data, data_class, model, loss, image_size, batch_size, learning_rate, seed,
                noise_dim=models.NOISE_DIM, conditional=False, spectral_norm=False, ema=None, augment=None,
                d_steps=None, d_learning_rate=None, g_learning_rate=None, channels=None):
    """A ``RunConfig`` from command-line settings; ``RunError`` for a combination that cannot work.

    ``data`` is a data set name or a folder path (made absolute here);
    ``image_size`` None picks the data set's own (28 MNIST, 32 CIFAR-10, 64 otherwise);
    ``learning_rate`` None picks the model's default (WGAN-GP's 1e-4 for wgan-gp);
    ``d_steps`` None is 1 (5 for wgan-gp); ``seed`` None is kept None
    (``RunFolder.prepare`` draws one for a new run or takes the saved one); ``channels``
    None for a folder leaves the last entry of ``image_shape`` None, to be read from the
    pictures (``with_channels``) or from the run being resumed.
    """
    if model is None:
        model = "dcgan" if conditional else "mlp"
    if model not in MODELS:
        raise RunError(f"Unknown model {model!r}. Valid models: {', '.join(MODELS)}.")
    if loss not in LOSSES:
        raise RunError(f"Unknown loss {loss!r}. Valid losses: {', '.join(LOSSES)}.")
    if data not in DATA_SETS:
        data = str(Path(data).expanduser().resolve())
    if data_class is not None and data != "cifar10":
        raise RunError(f"--class picks one CIFAR-10 class; it needs --data cifar10, not --data {data}.")
    fixed = {"mnist": 28, "cifar10": 32}.get(data)
    if fixed is not None:
        if image_size not in (None, fixed):
            raise RunError(f"{data} images are {fixed}x{fixed}; --image-size {image_size} does not apply "
                           "(it chooses the size for dogs and folders of images: "
                           f"{' or '.join(map(str, IMAGE_SIZES))}).")
        image_size = fixed
    elif image_size is None:
        image_size = 64
    elif image_size not in IMAGE_SIZES:
        raise RunError(f"--image-size must be {' or '.join(map(str, IMAGE_SIZES))} (the sizes the course's "
                       f"DCGANs make), not {image_size}.")
    if model == "mlp" and data != "mnist":
        raise RunError(f"--model mlp is the fully connected GAN for 28x28 grey MNIST digits; for {data} "
                       "(colour images) use --model dcgan.")
    if channels is not None and data in DATA_SETS:
        raise RunError(f"--channels chooses grey or colour for a folder of pictures; {data} images are "
                       f"{'grey' if data == 'mnist' else 'colour'} as they are.")
    if channels not in (None, *CHANNELS):
        raise RunError(f"--channels must be 1 (greyscale) or 3 (colour), not {channels}.")
    _check_options(data=data, data_class=data_class, model=model, loss=loss, conditional=conditional,
                   spectral_norm=spectral_norm, ema=ema, augment=augment, d_steps=d_steps)
    if data == "mnist":
        image_shape = [784] if model == "mlp" else [28, 28, 1]
    else:
        image_shape = [image_size, image_size, 3 if data in DATA_SETS else channels]
    builders = CONDITIONAL_ARCHITECTURES[image_size] if conditional else ARCHITECTURES[model, image_size]
    if learning_rate is None:
        learning_rate = WGAN_GP["learning_rate"] if loss == "wgan-gp" else DEFAULT_LEARNING_RATES[model]
    if d_steps is None:
        d_steps = WGAN_GP["d_steps"] if loss == "wgan-gp" else 1
    return RunConfig(
        data=data, data_class=data_class, model=model, loss=loss, image_shape=image_shape, noise_dim=noise_dim,
        batch_size=batch_size, learning_rate=learning_rate, seed=seed, discriminator=builders[0],
        generator=builders[1], conditional=bool(conditional),
        num_classes=models.NUM_CLASSES if conditional else None, spectral_norm=bool(spectral_norm), ema=ema,
        augment=augment, d_steps=d_steps, d_learning_rate=d_learning_rate, g_learning_rate=g_learning_rate,
    )


def _check_options(*, data, data_class, model, loss, conditional, spectral_norm, ema, augment, d_steps):
    if conditional:
        if data not in LABELLED_DATA_SETS:
            raise RunError(f"--conditional trains on a data set with classes: {' or '.join(LABELLED_DATA_SETS)}, "
                           f"whose labels it feeds to both networks; {data} has none.")
        if data_class is not None:
            raise RunError("--conditional trains on all ten CIFAR-10 classes (and draws any of them); "
                           "leave --class out.")
        if model != "dcgan":
            raise RunError("--conditional trains the conditional DCGAN; use --model dcgan (or leave --model out).")
        if spectral_norm:
            raise RunError("--spectral-norm is not available for the conditional discriminators; leave one of "
                           "--spectral-norm and --conditional out.")
    if model == "mlp" and augment:
        raise RunError("--augment shifts and cuts out parts of pictures; the MLP GAN's images are flat vectors. "
                       "Use --model dcgan.")
    if model == "mlp" and spectral_norm:
        raise RunError("--spectral-norm applies to the DCGAN discriminators; use --model dcgan.")
    if ema is not None and not 0.0 < ema < 1.0:
        raise RunError(f"--ema is a decay between 0 and 1, such as 0.999, not {ema:g}.")
    if augment is not None:
        try:
            names = policy_names(augment)
        except ValueError:
            names = []
        if not names:
            raise RunError(f"--augment {augment!r}: a DiffAugment policy is a comma-separated list of "
                           f"{', '.join(AUGMENTATIONS)} (default {DEFAULT_AUGMENT_POLICY}).")
    if d_steps is not None and d_steps < 1:
        raise RunError(f"--d-steps must be at least 1, not {d_steps}.")


def grid_scale(image_size):
    """Pixel enlargement for saved grids: small images (MNIST, CIFAR-10) doubled, 64x64 kept."""
    return 2 if image_size <= 32 else 1


# ----------------------------------------------------------------------------
# The folder
# ----------------------------------------------------------------------------


class RunFolder:
    """A run folder on disk (see the module docstring)."""

    def __init__(self, path):
        self.path = Path(path).expanduser()

    @property
    def checkpoint_dir(self):
        return self.path / CHECKPOINT_DIR

    @property
    def log_dir(self):
        return self.path / LOG_DIR

    @property
    def samples_dir(self):
        return self.path / SAMPLES_DIR

    def exists(self):
        return (self.path / CONFIG_FILE).is_file()

    def read(self):
        """``(RunConfig, state)``: the saved configuration and the whole config.json."""
        config_file = self.path / CONFIG_FILE
        if not self.path.is_dir():
            raise RunError(f"No run folder at {self.path}. Train one first: python -m gan_helpers train --out {self.path}")
        if not config_file.is_file():
            raise RunError(f"{self.path} is not a run folder of `python -m gan_helpers train`: it has no {CONFIG_FILE}. "
                           "Give the --out folder of a training run.")
        try:
            state = json.loads(config_file.read_text())
            return RunConfig.from_json(state["config"]), state
        except (ValueError, KeyError, TypeError, OSError) as error:
            raise RunError(f"{config_file} is unreadable ({type(error).__name__}: {error}). Train into a new "
                           "folder, or add --overwrite to the train command to start this one over.") from None

    def write(self, config, epochs):
        state = {"format": CONFIG_FORMAT, "config": config.to_json(), "epochs": epochs,
                 "command": config.command(self.path, epochs),
                 "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        self.path.mkdir(parents=True, exist_ok=True)
        temporary = self.path / (CONFIG_FILE + ".tmp")
        temporary.write_text(json.dumps(state, indent=1) + "\n")
        temporary.replace(self.path / CONFIG_FILE)

    def clear(self):
        """Delete what the commands wrote here (RUN_ENTRIES), and nothing else."""
        for name in RUN_ENTRIES:
            entry = self.path / name
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            elif entry.exists() or entry.is_symlink():
                entry.unlink()

    def prepare(self, config, overwrite=False):
        """Check that ``config`` may train here; returns it with the seed filled in.

        A folder holding the same configuration is resumed (its seed is kept when
        ``config.seed`` is None); another configuration is refused with ``RunError``
        unless ``overwrite`` (then call ``clear`` before training). Nothing is
        written or deleted here.
        """
        if not overwrite and self.exists():
            saved, state = self.read()
            wanted = dataclasses.replace(config, seed=saved.seed if config.seed is None else config.seed)
            if config.image_shape[-1] is None and saved.image_shape[:-1] == config.image_shape[:-1]:
                wanted.image_shape = list(saved.image_shape)  # grey or colour, as the run found its pictures
            differences = saved.differences(wanted)
            if differences:
                lines = "\n".join(f"  {option}: {_show(before)} in the run, {_show(now)} now"
                                  for option, before, now in differences)
                raise RunError(
                    f"{self.path} holds a run with another configuration:\n{lines}\n"
                    f"To resume that run, use its settings:\n  {saved.command(self.path, state.get('epochs', '?'))}\n"
                    "To start over in this folder, add --overwrite (it deletes that run); "
                    "or give another --out folder.")
            config = wanted
        elif not overwrite and self.checkpoint_dir.exists() and any(self.checkpoint_dir.iterdir()):
            raise RunError(f"{self.checkpoint_dir} holds checkpoints but {self.path} has no {CONFIG_FILE}, so "
                           "what they were trained with is unknown. Add --overwrite to start over, or give "
                           "another --out folder.")
        if config.seed is None:
            import numpy as np

            config = dataclasses.replace(config, seed=int(np.random.default_rng().integers(0, 2**31 - 1)))
        return config

    # ------------------------------------------------------------ checkpoints

    def unreadable(self, problem):
        """``RunError`` for a checkpoint folder of which nothing can be restored."""
        return RunError(f"{problem.reason} Add --overwrite to the train command to start the run over, or train "
                        "into another --out folder.")

    def restore_generator(self):
        """``(config, G, step)``: the run's generator with the newest readable checkpoint's weights.

        For a run with ``--ema``, the moving average of the generator's weights (what its
        samples come from). A damaged newer checkpoint is passed over for an older one,
        and that is printed.
        """
        from gan_helpers.callbacks import CheckpointError, restore_newest

        config, _ = self.read()
        G = config.build_generator()
        try:
            step, skipped, _ = restore_newest(self.checkpoint_dir, **{"G_ema" if config.ema is not None else "G": G})
        except CheckpointError as problem:
            raise self.unreadable(problem) from None
        if step is None:
            raise RunError(f"{self.path} has no checkpoint yet: its training stopped before saving one. "
                           "Train it (again) first.")
        if skipped:
            print(skipped)
        return config, G, step


def _show(value):
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return "x".join(str(side) for side in value)
    return "none" if value is None else value
