"""The ``train`` command: train a GAN in a terminal, into a run folder that it can resume.

    python -m gan_helpers train --data mnist|cifar10|dogs|PATH --model mlp|dcgan \\
        --loss bce|ls|hinge|wgan-gp --epochs N --out runs/NAME [--batch-size B] [--learning-rate LR] ...

With no options it trains the course's default GAN, the MLP GAN of notebook 05, on
the embedded MNIST for 10 epochs into ``runs/demo`` (what ``./course demo`` runs).
``--model dcgan`` trains the DCGAN made for the data's image size: 28x28 grey for
MNIST, 32x32 colour for CIFAR-10, 64x64 (or 32x32, ``--image-size``) for the dogs
and for any folder of your own pictures (grey when every picture is, ``--channels``).
``--conditional`` trains a conditional GAN on MNIST's digits or CIFAR-10's classes
(notebook 12); the toolbox of notebooks 11 and 13 comes as ``--loss wgan-gp`` (with
``--d-steps``), ``--loss hinge``, ``--spectral-norm``, ``--ema DECAY``, ``--augment``
and ``--d-learning-rate``/``--g-learning-rate``. As it trains it shows a progress bar
and writes, into the run folder (see ``gan_helpers.cli.runs``):

- ``samples/epoch_001.png``, ...: a grid of generated images after every epoch;
- ``checkpoints/``: everything needed to resume, saved every epoch and on Ctrl-C;
- ``logs/``: TensorBoard logs: the losses per epoch (``keras.callbacks.TensorBoard``) and every
  ``--print-every`` steps, and the sample grids (``tensorboard --logdir runs/NAME/logs``);
- at the end: ``samples.png`` (the final grid), ``losses.png``, ``progress.gif``, ``generator.keras``.

Running the same command again resumes from the last checkpoint (a larger
``--epochs`` trains on). A different configuration into an existing run folder is
refused, with the differences listed, unless ``--overwrite`` is given. In quick
mode (``GAN_COURSE_QUICK=1``) ``run_a_gan`` stops after a few steps, so the command
finishes in seconds (the pictures then show noise).
"""

import sys
import time
from pathlib import Path

import keras

from gan_helpers import models, settings, training, viz
from gan_helpers.callbacks import CheckpointError, EpochGrids, TensorBoardSteps
from gan_helpers.cli import runs
from gan_helpers.cli.arguments import INTERRUPTED, USAGE, decay, error, positive_float, positive_int
from gan_helpers.cli.runs import RunError, RunFolder
from gan_helpers.data import (
    CIFAR10_CLASSES,
    CorruptDatasetError,
    DatasetNotFoundError,
    dogs_dataset,
    load_cifar10,
    load_cifar10_images,
    load_dogs,
    load_image_folder,
)
from gan_helpers.ops import sample_noise
from gan_helpers.display import format_seconds

# A setting for the Stanford Dogs (about 22,000 crops) on a CPU: 2.3 minutes on 2 cores (bench_dogs_cpu.py).
CPU_DOGS_SETTING = "--image-size 32 --epochs 5"


def add_arguments(parser):
    data = parser.add_argument_group("what to train")
    data.add_argument("--data", default="mnist", metavar="mnist|cifar10|dogs|PATH",
                      help="the data set, or a folder of your own images (any size, JPEG/PNG/...) (default: mnist)")
    data.add_argument("--data-root", type=Path, default=None, metavar="PATH",
                      help="where the cifar10 or dogs files are: cifar-10-python.tar.gz or its extracted folder; "
                           "the folder holding the extracted Stanford Dogs or Kaggle photos and boxes "
                           "(default: the usual places)")
    data.add_argument("--download", action="store_true",
                      help="download cifar10 when it is not found (needs the internet); the dogs are "
                           "downloaded by hand (README: Data)")
    data.add_argument("--class", dest="data_class", choices=CIFAR10_CLASSES, default=None, metavar="CLASS",
                      help=f"train on one CIFAR-10 class: {', '.join(CIFAR10_CLASSES)} (default: all)")
    data.add_argument("--model", choices=runs.MODELS, default=None,
                      help="mlp: the fully connected GAN (MNIST only); dcgan: the convolutional GAN "
                           "(default: mlp; dcgan with --conditional)")
    data.add_argument("--loss", choices=runs.LOSSES, default="bce",
                      help="bce: the original GAN's cross-entropy; ls: least squares (LSGAN); hinge: the hinge loss "
                           "(SNGAN, SAGAN); wgan-gp: the Wasserstein loss with gradient penalty (WGAN-GP: 5 critic "
                           "steps, Adam 1e-4, beta1 0, beta2 0.9, unless told otherwise) (default: bce)")
    data.add_argument("--image-size", type=int, choices=runs.IMAGE_SIZES, default=None,
                      help="side of the images for dogs and folders of images (default: 64)")
    data.add_argument("--channels", type=int, choices=runs.CHANNELS, default=None,
                      help="folders of images: 1 trains a greyscale GAN, 3 a colour one (default: 1 when every "
                           "picture is grey, else 3)")
    data.add_argument("--conditional", action="store_true",
                      help="train a conditional GAN on the classes of mnist or cifar10 (all ten): both networks "
                           "get the label; then `sample --label N` draws class N")
    tools = parser.add_argument_group("stabilising (notebooks 11 and 13)")
    tools.add_argument("--spectral-norm", action="store_true",
                       help="spectral normalisation of the discriminator's layers (Miyato et al., 2018)")
    tools.add_argument("--ema", type=decay, default=None, metavar="DECAY",
                       help="sample from an exponential moving average of the generator's weights, e.g. 0.999 "
                            "(default: off)")
    tools.add_argument("--augment", nargs="?", const=runs.DEFAULT_AUGMENT_POLICY, default=None, metavar="POLICY",
                       help="DiffAugment (Zhao et al., 2020): the same random differentiable changes to real and "
                            f"generated images whenever D sees them (default policy: {runs.DEFAULT_AUGMENT_POLICY})")
    tools.add_argument("--d-steps", type=positive_int, default=None, metavar="N",
                       help="discriminator updates per generator update, each on its own batch (default: 1; "
                            "5 with --loss wgan-gp)")
    how = parser.add_argument_group("how to train")
    how.add_argument("--epochs", type=positive_int, default=10, metavar="N",
                     help="passes over the data, counted over resumed runs (default: 10)")
    how.add_argument("--batch-size", type=positive_int, default=128, metavar="B", help="images per step (default: 128)")
    how.add_argument("--learning-rate", type=positive_float, default=None, metavar="LR",
                     help="Adam's learning rate for both networks (default: 0.001 for mlp, 0.0002 for dcgan, "
                          "0.0001 for wgan-gp)")
    how.add_argument("--d-learning-rate", type=positive_float, default=None, metavar="LR",
                     help="the discriminator's own learning rate (two time-scale update rule, e.g. 0.0004; "
                          "default: --learning-rate)")
    how.add_argument("--g-learning-rate", type=positive_float, default=None, metavar="LR",
                     help="the generator's own learning rate (e.g. 0.0001; default: --learning-rate)")
    how.add_argument("--seed", type=int, default=None, metavar="S",
                     help="make data order, noise and samples reproducible (default: random, then kept by the run)")
    out = parser.add_argument_group("output")
    out.add_argument("--out", type=Path, default=Path("runs/demo"), metavar="FOLDER",
                     help="the run folder (created if missing; default: runs/demo)")
    out.add_argument("--overwrite", action="store_true",
                     help="start over when --out holds a run with another configuration (deletes that run)")
    out.add_argument("--num-samples", type=positive_int, default=None, metavar="N",
                     help="images in each sample grid, laid out as a square (default: 64; for a conditional GAN, "
                          "10 of each class, a class per column)")
    out.add_argument("--print-every", type=positive_int, default=50, metavar="N",
                     help="update the progress bar and the TensorBoard losses every this many steps (default: 50)")
    parser.epilog = ("Run the same command again to resume. In quick mode (GAN_COURSE_QUICK=1) training stops "
                     "after a few steps. On a 2-core CPU, --data dogs with "
                     f"{CPU_DOGS_SETTING} takes about 3 minutes (README: Results); raise --epochs as your time allows.")


# ----------------------------------------------------------------------------
# Data, models, training, pictures
# ----------------------------------------------------------------------------


def check_data_name(data):
    """``RunError`` unless ``data`` is a data set's name or an existing folder."""
    if data in runs.DATA_SETS:
        return
    path = Path(data).expanduser()
    if path.is_dir():
        return
    valid = f"Valid data sets: {', '.join(runs.DATA_SETS)}, or the path of a folder of images."
    if path.is_file():
        hint = " For CIFAR-10 files use --data cifar10 --data-root PATH." if "cifar" in path.name.lower() else ""
        raise RunError(f"--data {data} is a file; a folder of images is needed.{hint} {valid}")
    raise RunError(f"Unknown data set {data!r} (and no folder of that name exists). {valid}")


def load_data(config, args):
    """``(dataset, config)``: what ``run_a_gan(dataset=...)`` takes for this run (None for MNIST, with its
    labels when conditional; an array, a pair of arrays or a tf.data pipeline), and the configuration with
    the channels of a folder's pictures filled in."""
    if config.data == "mnist":
        return None, config
    if config.data == "cifar10" and config.conditional:
        (images, labels), _ = load_cifar10(args.data_root, download=args.download)
        count = settings.quick_limit(len(images))
        print(f"CIFAR-10: {count} training images of all ten classes, with their labels.")
        return (images[:count], labels[:count]), config
    if config.data == "cifar10":
        loaded = load_cifar10_images(args.data_root, config.data_class, download=args.download)
        print(f"{loaded.source}.")
        if len(loaded.images) == 0:
            raise CorruptDatasetError(f"CIFAR-10 at {args.data_root} holds no {config.data_class} images.")
        return loaded.images, config
    if config.data == "dogs":
        loaded = load_dogs(args.data_root, image_size=config.image_size)
        return dogs_dataset(loaded.images, config.batch_size, seed=config.seed), config
    loaded = load_image_folder(config.data, config.image_size, channels=config.image_shape[-1])
    return loaded.images, config.with_channels(loaded.images.shape[-1])


def build(config):
    """``(D, G, D_solver, G_solver, discriminator_loss, generator_loss)`` for ``config``."""
    make_discriminator, make_generator = config.builders()
    D, G, D_solver, G_solver = training.build_gan(make_discriminator, make_generator, **config.optimizer_settings())
    return (D, G, D_solver, G_solver, *config.loss_functions())


def sample_noise_for(config, count):
    """The fixed noise of a run's sample grids (also what ``sample`` uses with the run's seed)."""
    return sample_noise(count, config.noise_dim, seed=config.seed)


def default_num_samples(config):
    """Images in a run's sample grids: 64, or 10 of each class for a conditional GAN."""
    return 10 * config.num_classes if config.conditional else 64


def grid_columns(config):
    """Columns of a run's sample grids: a class per column for a conditional GAN, else a square grid."""
    return config.num_classes if config.conditional else None


def write_pictures(folder, config, G, history, num_samples):
    """The final sample grid, the loss plot, the progress GIF and the generator; returns their paths.

    ``G`` is the generator samples come from (the moving average with ``--ema``).
    """
    scale = runs.grid_scale(config.image_size)
    images = models.generate(G, sample_noise_for(config, num_samples))
    paths = [viz.save_image_grid(images, folder / runs.SAMPLES_FILE, value_range=(-1.0, 1.0),
                                 ncols=grid_columns(config), scale=scale)]
    if history.d_loss:
        paths.append(viz.plot_losses(history, path=folder / runs.LOSSES_FILE, title=config.describe()))
    if history.samples:
        paths.append(viz.make_gif(history.samples, folder / runs.PROGRESS_FILE, value_range=(-1.0, 1.0), scale=scale))
    G.save(folder / runs.GENERATOR_FILE)
    paths.append(folder / runs.GENERATOR_FILE)
    return paths


def run(args):
    try:
        return _run(args)
    except KeyboardInterrupt:  # outside training, which itself stops cleanly on Ctrl-C and saves a checkpoint
        print("\nInterrupted. The same command resumes from the last checkpoint, if one was saved.", file=sys.stderr)
        return INTERRUPTED


def _run(args):
    try:
        check_data_name(args.data)
        config = runs.make_config(data=args.data, data_class=args.data_class, model=args.model, loss=args.loss,
                                  image_size=args.image_size, batch_size=args.batch_size,
                                  learning_rate=args.learning_rate, seed=args.seed, conditional=args.conditional,
                                  spectral_norm=args.spectral_norm, ema=args.ema, augment=args.augment,
                                  d_steps=args.d_steps, d_learning_rate=args.d_learning_rate,
                                  g_learning_rate=args.g_learning_rate, channels=args.channels)
    except RunError as problem:
        return error(problem, USAGE)
    folder = RunFolder(args.out)
    if folder.path.exists() and not folder.path.is_dir():
        return error(f"--out {folder.path} is a file; give a folder for the run.", USAGE)
    try:
        resuming = folder.exists() and not args.overwrite
        config = folder.prepare(config, overwrite=args.overwrite)
        dataset, config = load_data(config, args)
        print(f"{'Resuming' if resuming else 'Run'} {folder.path}: {config.describe()}, seed {config.seed}.")
        D, G, D_solver, G_solver, d_loss, g_loss = build(config)
        if args.overwrite:
            folder.clear()  # only now that the data is there: a failed start leaves the old run alone
        folder.write(config, args.epochs)
    except RunError as problem:
        return error(problem)
    except (DatasetNotFoundError, CorruptDatasetError) as problem:
        return error(f"{problem}\nNothing was trained.")

    num_samples = args.num_samples or default_num_samples(config)
    scale = runs.grid_scale(config.image_size)
    grids = EpochGrids(folder.samples_dir, sample_noise_for(config, num_samples), scale=scale,
                       ncols=grid_columns(config), before_training=False, when_stopped=False)
    logs = [keras.callbacks.TensorBoard(folder.log_dir, write_graph=False), TensorBoardSteps(folder.log_dir)]
    started = time.perf_counter()
    try:
        history = training.run_a_gan(
            D, G, D_solver, G_solver, d_loss, g_loss, show_every=max(1, args.print_every * 5),
            print_every=args.print_every, batch_size=config.batch_size, num_epochs=args.epochs,
            noise_size=config.noise_dim, dataset=dataset, seed=config.seed,
            callbacks=[grids, *logs], checkpoint_dir=folder.checkpoint_dir,
            **config.training_options(),
        )
    except CheckpointError as problem:
        return error(folder.unreadable(problem))
    sampler = G if history.ema_generator is None else history.ema_generator
    paths = write_pictures(folder.path, config, sampler, history, num_samples)
    for path in paths[1:]:
        print(f"Wrote {path}")
    print(f"TensorBoard logs in {folder.log_dir} (view them with: tensorboard --logdir {folder.log_dir})")
    took = format_seconds(time.perf_counter() - started)
    if history.epochs_done < args.epochs:
        print(f"Took {took}; {history.epochs_done} of {args.epochs} epochs done. Run the same command again to resume.")
    else:
        print(f"Took {took}; all {args.epochs} epochs done. The same command with a larger --epochs trains on.")
    what = "digits" if config.is_mnist else "images"
    print(f"Sample grid of {num_samples} generated {what}: {paths[0]}")
    if history.stopped == "nan":
        return error(history.message)
    return INTERRUPTED if history.stopped == "interrupted" else 0
