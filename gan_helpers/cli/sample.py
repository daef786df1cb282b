"""The ``sample`` and ``evaluate`` commands: use what a ``train`` run folder holds.

    python -m gan_helpers sample --run runs/NAME [--n 64] [--out grid.png] [--seed 0] [--label N]
    python -m gan_helpers evaluate --run runs/NAME [--num-samples 5000] [--seed 0]

Both rebuild the run's generator from its ``config.json`` and load the weights of
its newest checkpoint, so they work on a run that is still training or was
interrupted (a run trained with ``--ema`` gives the moving average of the weights).
``sample`` writes a grid of freshly generated images; for a conditional run, of every
class in turn (a class per column), or of the one class ``--label N``. ``evaluate``
scores the generator with ``metrics.evaluate_generator`` (FID, precision, recall
and digit coverage, through the course's MNIST classifier), prints the scores
and adds them to the run's ``metrics.json``; data sets other than MNIST have no
such classifier, which it says before exiting cleanly.
"""

import json
from pathlib import Path
from types import SimpleNamespace

from gan_helpers.cli import runs
from gan_helpers.cli.arguments import USAGE, error, positive_int
from gan_helpers.cli.runs import RunError, RunFolder


def _add_run_argument(parser):
    parser.add_argument("--run", type=Path, required=True, metavar="runs/NAME",
                        help="the run folder (the --out of python -m gan_helpers train)")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the noise the images are drawn from (default: 0)")


# ----------------------------------------------------------------------------
# sample
# ----------------------------------------------------------------------------


def add_sample_arguments(parser):
    _add_run_argument(parser)
    parser.add_argument("--n", type=positive_int, default=None, metavar="N",
                        help="how many images, as a square grid (default: 64; for a conditional run without --label, "
                             "10 of each class)")
    parser.add_argument("--out", type=Path, default=None, metavar="FILE.png",
                        help="the PNG file to write (default: sample.png in the run folder)")
    parser.add_argument("--ncols", type=positive_int, default=None, metavar="N",
                        help="images per row (default: a square grid; a class per column for a conditional run)")
    parser.add_argument("--label", type=int, default=None, metavar="N",
                        help="conditional runs: draw class N only (e.g. 7 for the digit 7; default: every class in turn)")


def run_sample(args):
    from gan_helpers.cli.train import default_num_samples, grid_columns
    from gan_helpers.models import generate
    from gan_helpers.ops import sample_noise
    from gan_helpers.viz import save_image_grid

    out = args.out or args.run / "sample.png"
    if out.suffix.lower() != ".png":
        return error(f"--out {out}: the grid is written as PNG; give a path ending in .png.", USAGE)
    if out.is_dir():
        return error(f"--out {out} is a folder; give a file name ending in .png.", USAGE)
    folder = RunFolder(args.run)
    try:
        config, _ = folder.read()
    except RunError as problem:
        return error(problem)
    if args.label is not None:
        try:
            config.check_label(args.label)
        except RunError as problem:
            return error(problem, USAGE)
    try:
        config, G, step = folder.restore_generator()
    except RunError as problem:
        return error(problem)
    count = args.n or (64 if args.label is not None else default_num_samples(config))
    labels = None if args.label is None else [args.label] * count
    images = generate(G, sample_noise(count, config.noise_dim, seed=args.seed), labels)
    ncols = args.ncols or (None if args.label is not None else grid_columns(config))
    save_image_grid(images, out, value_range=(-1.0, 1.0), ncols=ncols, scale=runs.grid_scale(config.image_size))
    what = "" if args.label is None else f" of class {args.label}"
    if args.label is not None and config.class_names:
        what += f" ({config.class_names[args.label]})"
    print(f"{count} images{what} from {config.describe()}, checkpoint of step {step}, seed {args.seed}: {out}")
    return 0


# ----------------------------------------------------------------------------
# evaluate
# ----------------------------------------------------------------------------


def add_evaluate_arguments(parser):
    _add_run_argument(parser)
    parser.add_argument("--num-samples", type=positive_int, default=5000, metavar="N",
                        help="generated images to score (default: 5000; at most 1000 in quick mode)")


def run_evaluate(args):
    try:
        folder = RunFolder(args.run)
        config, _ = folder.read()
        if not config.is_mnist:
            print(f"{args.run} was trained on {config.data_name}, which has no metrics in this course (they "
                  "need its MNIST classifier). Nothing to evaluate; look at samples instead: "
                  f"python -m gan_helpers sample --run {args.run}")
            return 0
        config, G, step = folder.restore_generator()
    except RunError as problem:
        return error(problem)
    from gan_helpers import metrics

    try:
        scores = metrics.evaluate_generator(G, args.num_samples, noise_size=config.noise_dim, seed=args.seed)
    except metrics.ClassifierNotFoundError as problem:
        return error(problem)
    except ValueError as problem:  # non-finite images from a diverged generator
        return error(f"The generator of {args.run} cannot be scored: {problem}")
    print(f"{config.describe()}, checkpoint of step {step}:")
    print(scores)
    record = {"step": step, "seed": args.seed, **scores.as_logs(), "class_shares": scores.class_shares,
              "num_samples": scores.num_samples}
    metrics_file = folder.path / runs.METRICS_FILE
    try:
        history = json.loads(metrics_file.read_text()) if metrics_file.is_file() else []
    except ValueError:
        history = []
    history = (history if isinstance(history, list) else []) + [record]
    metrics_file.write_text(json.dumps(history, indent=1) + "\n")
    print(f"Added to {metrics_file}")
    return 0


sample_command = SimpleNamespace(add_arguments=add_sample_arguments, run=run_sample)
evaluate_command = SimpleNamespace(add_arguments=add_evaluate_arguments, run=run_evaluate)
