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
import json
import shlex
import shutil
import time
from pathlib import Path

from gan_helpers import losses, models

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
MODELS = ("mlp", "dcgan")
LOSSES = ("bce", "ls")
IMAGE_SIZES = (32, 64)  # for dogs and folders of images
DEFAULT_LEARNING_RATES = {"mlp": 1e-3, "dcgan": 2e-4}

# (model, image side) -> names of the builders in gan_helpers.models
ARCHITECTURES = {
    ("mlp", 28): ("discriminator", "generator"),
    ("dcgan", 28): ("dc_discriminator", "dc_generator"),
    ("dcgan", 32): ("cifar_discriminator", "cifar_generator"),
    ("dcgan", 64): ("dog_discriminator", "dog_generator"),
}
LOSS_FUNCTIONS = {
    "bce": ("discriminator_loss", "generator_loss"),
    "ls": ("ls_discriminator_loss", "ls_generator_loss"),
}


class RunError(Exception):
    """A problem with a run folder or a command's settings that the user can fix; the message says how."""


@dataclasses.dataclass
class RunConfig:
    """What a run trains; every field must match for ``train`` to resume a run.

    data: 'mnist', 'cifar10', 'dogs', or the absolute path of a folder of images.
    data_class: the one CIFAR-10 class trained on (e.g. 'dog'), or None for all.
    model: 'mlp' or 'dcgan'. loss: 'bce' (the original GAN's) or 'ls' (least squares).
    image_shape: one image as the generator makes it, e.g. [784], [28, 28, 1], [32, 32, 3].
    discriminator, generator: the builders' names in ``gan_helpers.models``.
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

    # fields and the command-line option that sets them, for messages
    OPTIONS = {"data": "--data", "data_class": "--class", "model": "--model", "loss": "--loss",
               "image_shape": "--image-size", "noise_dim": "noise size", "batch_size": "--batch-size",
               "learning_rate": "--learning-rate", "seed": "--seed", "discriminator": "discriminator",
               "generator": "generator"}

    DERIVED = ("image_shape", "discriminator", "generator")

    @property
    def image_size(self):
        return 28 if self.image_shape == [784] else self.image_shape[0]

    @property
    def is_mnist(self):
        return self.data == "mnist"

    def to_json(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, state):
        names = [field.name for field in dataclasses.fields(cls)]
        missing = [name for name in names if name not in state]
        if missing:
            raise KeyError(f"missing {', '.join(missing)}")
        return cls(**{name: state[name] for name in names})

    def differences(self, other):
        """``[(option, this value, other value)]`` for every field that differs.

        Fields that follow from others (the image shape and the builders follow from the
        data, model and image size) are listed only when nothing else explains them.
        """
        found = [(field.name, getattr(self, field.name), getattr(other, field.name))
                 for field in dataclasses.fields(self) if getattr(self, field.name) != getattr(other, field.name)]
        primary = [item for item in found if item[0] not in self.DERIVED]
        if primary and not any(name in ("data", "model") for name, _, _ in primary):
            primary += [item for item in found if item[0] == "image_shape"]
        return [(self.OPTIONS[name], before, now) for name, before, now in (primary or found)]

    @property
    def data_name(self):
        """The data set in words: 'MNIST', 'CIFAR-10 (dogs only)', a folder's path, ..."""
        if self.data_class:
            return f"CIFAR-10 ({self.data_class}s only)"
        return {"mnist": "MNIST", "cifar10": "CIFAR-10", "dogs": "Stanford Dogs"}.get(self.data, self.data)

    def describe(self):
        data = self.data_name
        side = self.image_size
        shape = f"{side}x{side} {'colour' if self.image_shape[-1] == 3 else 'grey'}"
        loss = {"bce": "cross-entropy", "ls": "least-squares"}[self.loss]
        model = {"mlp": "MLP GAN", "dcgan": "DCGAN"}[self.model]
        return f"{model} ({loss} loss) on {data}, images {shape}"

    def command(self, out, epochs):
        """The ``train`` command line that continues this run."""
        words = ["python -m gan_helpers train", f"--data {_quote(self.data)}"]
        if self.data_class:
            words.append(f"--class {self.data_class}")
        words += [f"--model {self.model}", f"--loss {self.loss}"]
        if not self.is_mnist and self.data != "cifar10":
            words.append(f"--image-size {self.image_size}")
        words += [f"--batch-size {self.batch_size}", f"--learning-rate {self.learning_rate:g}",
                  f"--seed {self.seed}", f"--epochs {epochs}", f"--out {_quote(str(out))}"]
        return " ".join(words)

    # ------------------------------------------------------------ what it builds

    def builders(self):
        """``(make_discriminator, make_generator)``: functions of no argument."""
        try:
            make_d, make_g = getattr(models, self.discriminator), getattr(models, self.generator)
        except AttributeError as error:
            raise RunError(f"This version of gan_helpers has no model builder {error.name!r}, which this run "
                           "was trained with; train a new run.") from None
        return make_d, lambda: make_g(self.noise_dim)

    def loss_functions(self):
        d_name, g_name = LOSS_FUNCTIONS[self.loss]
        return getattr(losses, d_name), getattr(losses, g_name)

    def build_generator(self):
        return self.builders()[1]()


def _quote(text):
    return shlex.quote(text)


def make_config(*, data, data_class, model, loss, image_size, batch_size, learning_rate, seed,
                noise_dim=models.NOISE_DIM):
    """A ``RunConfig`` from command-line settings; ``RunError`` for a combination that cannot work.

    ``data`` is a data set name or a folder path (made absolute here);
    ``image_size`` None picks the data set's own (28 MNIST, 32 CIFAR-10, 64 otherwise);
    ``learning_rate`` None picks the model's default; ``seed`` None is kept None
    (``RunFolder.prepare`` draws one for a new run or takes the saved one).
    """
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
    if data == "mnist":
        image_shape = [784] if model == "mlp" else [28, 28, 1]
    else:
        image_shape = [image_size, image_size, 3]
    discriminator, generator = ARCHITECTURES[(model, image_size)]
    return RunConfig(
        data=data, data_class=data_class, model=model, loss=loss, image_shape=image_shape, noise_dim=noise_dim,
        batch_size=batch_size, learning_rate=DEFAULT_LEARNING_RATES[model] if learning_rate is None else learning_rate,
        seed=seed, discriminator=discriminator, generator=generator,
    )


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

    def __truediv__(self, name):
        return self.path / name

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
        if self.path.exists() and not self.path.is_dir():
            raise RunError(f"--out {self.path} is a file; give a folder for the run.")
        if not overwrite and self.exists():
            saved, state = self.read()
            wanted = dataclasses.replace(config, seed=saved.seed if config.seed is None else config.seed)
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

        A damaged newer checkpoint is passed over for an older one, and that is printed.
        """
        from gan_helpers.training import CheckpointError, restore_newest

        config, _ = self.read()
        G = config.build_generator()
        try:
            step, skipped = restore_newest(self.checkpoint_dir, G=G)
        except CheckpointError as problem:
            raise self.unreadable(problem) from None
        if step is None:
            raise RunError(f"{self.path} has no checkpoint yet: its training stopped before saving one. "
                           "Train it (again) first.")
        if skipped:
            print(skipped)
        return config, G, step


def _show(value):
    if isinstance(value, list):
        return "x".join(str(side) for side in value)
    return "none" if value is None else value
