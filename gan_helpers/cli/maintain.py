"""Maintainers' commands: recompute what the package ships in ``gan_helpers/reference/``.

    python -m gan_helpers regenerate-checks     # the checks' expected values (checks.npz)
    python -m gan_helpers train-classifier      # the metrics' MNIST classifier (about 95 s on 2 cores)
"""

from pathlib import Path
from types import SimpleNamespace


def _add_regenerate_arguments(parser):
    parser.add_argument("-o", "--output", type=Path, default=None,
                        help="where to write the .npz (default: the file the package ships)")


def _regenerate(args):
    from gan_helpers.checks import values

    path = values.write_expected(args.output) if args.output else values.write_expected()
    print(f"wrote {path}")
    return 0


def _add_classifier_arguments(parser):
    parser.add_argument("--epochs", type=int, default=4, help="passes over MNIST's training set (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--output", type=Path, default=None, help="weights file to write (default: the shipped one)")


def _train_classifier(args):
    from gan_helpers import metrics

    output = args.output or metrics.CLASSIFIER_WEIGHTS
    info = metrics.train_classifier(epochs=args.epochs, seed=args.seed, weights_path=output, verbose=2)
    print(f"Test accuracy {info['test_accuracy']:.2%} after {info['epochs']} epochs ({info['seconds']} s); "
          f"weights in {output}")
    return 0


regenerate_checks = SimpleNamespace(add_arguments=_add_regenerate_arguments, run=_regenerate)
train_classifier = SimpleNamespace(add_arguments=_add_classifier_arguments, run=_train_classifier)
