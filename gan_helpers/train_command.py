"""The ``train`` command: train a GAN in a terminal and write pictures of what it learned.

    python -m gan_helpers train [--out runs/demo] [--epochs 10] [--seed 0] ...

Trains the course's default GAN, the MLP GAN of notebook 05 (``models.discriminator``
and ``models.generator``, the binary cross-entropy losses, Adam from
``training.get_solvers``), on the embedded MNIST, printing progress as it goes.
It then writes into the output folder:

- ``samples.png``: a grid of digits generated from fixed noise (``--num-samples``);
- ``losses.png``: the discriminator's and generator's losses per step;
- ``progress.gif``: the same 16 latent codes as training went on.

``./course demo`` runs this command into ``runs/demo``. In quick mode
(``GAN_COURSE_QUICK=1``) ``run_a_gan`` stops after a few steps, so the command
finishes in seconds (the pictures then show noise, not digits).
"""

import argparse
import sys
from pathlib import Path

from gan_helpers import losses, models, training, viz
from gan_helpers.data import CorruptDatasetError, DatasetNotFoundError
from gan_helpers.ops import sample_noise

SAMPLES_FILE = "samples.png"
LOSSES_FILE = "losses.png"
PROGRESS_FILE = "progress.gif"
# Exit status after Ctrl-C, as shells report it (128 + SIGINT).
INTERRUPTED = 130


def positive_int(text):
    """argparse type: an integer >= 1, with a message that says so."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def positive_float(text):
    """argparse type: a float > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, not {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, not {value}")
    return value


def add_arguments(parser):
    parser.add_argument("--out", type=Path, default=Path("runs/demo"),
                        help="folder for the pictures (created if missing; default: runs/demo)")
    parser.add_argument("--epochs", type=positive_int, default=10,
                        help="passes over MNIST's 60,000 training images (default: 10)")
    parser.add_argument("--batch-size", type=positive_int, default=128, help="images per step (default: 128)")
    parser.add_argument("--learning-rate", type=positive_float, default=1e-3,
                        help="Adam's learning rate for both networks (default: 0.001)")
    parser.add_argument("--seed", type=int, default=None,
                        help="make data order, noise and samples reproducible (default: random)")
    parser.add_argument("--num-samples", type=positive_int, default=64,
                        help="digits in samples.png, laid out as a square grid (default: 64)")
    parser.add_argument("--print-every", type=positive_int, default=100,
                        help="print the losses every this many steps (default: 100)")
    parser.epilog = "In quick mode (GAN_COURSE_QUICK=1) training stops after a few steps."


def build(args):
    """``(D, G, D_solver, G_solver, discriminator_loss, generator_loss)`` for ``args``."""
    D, G, D_solver, G_solver = training.build_gan(
        models.discriminator, lambda: models.generator(models.NOISE_DIM), learning_rate=args.learning_rate
    )
    return D, G, D_solver, G_solver, losses.discriminator_loss, losses.generator_loss


def train(args, D, G, D_solver, G_solver, discriminator_loss, generator_loss):
    """Run ``run_a_gan`` with plain-text progress; returns the GanHistory."""
    return training.run_a_gan(
        D, G, D_solver, G_solver, discriminator_loss, generator_loss,
        show_every=max(1, args.print_every * 5), print_every=args.print_every, batch_size=args.batch_size,
        num_epochs=args.epochs, noise_size=models.NOISE_DIM, seed=args.seed,
        callbacks=[training.TextProgress()],
    )


def write_pictures(args, G, history):
    """Write the sample grid, the loss plot and the progress GIF; return their paths."""
    seed = 0 if args.seed is None else args.seed
    noise = sample_noise(args.num_samples, models.NOISE_DIM, seed=seed)
    images = G(noise, training=False)
    paths = [viz.save_image_grid(images, args.out / SAMPLES_FILE, value_range=(-1.0, 1.0), scale=2)]
    if history.d_loss:
        paths.append(viz.plot_losses(history, path=args.out / LOSSES_FILE, title="MLP GAN on MNIST"))
    if history.samples:
        paths.append(viz.make_gif(history.samples, args.out / PROGRESS_FILE, value_range=(-1.0, 1.0), scale=2))
    return paths


def run(args):
    if args.out.exists() and not args.out.is_dir():
        print(f"error: --out {args.out} is a file; give a folder for the pictures.", file=sys.stderr)
        return 2
    try:
        gan = build(args)
        history = train(args, *gan)
    except (DatasetNotFoundError, CorruptDatasetError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    paths = write_pictures(args, gan[1], history)
    for path in paths[1:]:
        print(f"Wrote {path}")
    print(f"Sample grid of {args.num_samples} generated digits: {paths[0]}")
    if history.stopped == "nan":
        print(f"error: {history.message}", file=sys.stderr)
        return 1
    return INTERRUPTED if history.stopped == "interrupted" else 0
