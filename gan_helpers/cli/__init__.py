"""The command line: ``python -m gan_helpers COMMAND ...`` (also installed as ``gan-course``).

Terminal users train, sample and evaluate; instructors make the student version and
grade; maintainers regenerate the checks' expected values and the metrics classifier.
Each command lives in the module of its concern, which exposes
``add_arguments(parser)`` and ``run(args) -> int``; this file only routes to it.
Only the chosen command's module is imported, so ``--help``, ``make-student`` and
``grade`` start without TensorFlow.
"""

import argparse
import importlib
import sys

# command name -> (module that implements it, one-line help); "module:name" picks an
# object in the module, for a module with several commands
COMMANDS = {
    "train": ("gan_helpers.cli.train", "train a GAN (default: the MLP GAN on MNIST) into a run folder; run again to resume"),
    "sample": ("gan_helpers.cli.sample:sample_command", "write a grid of images from a trained run's generator"),
    "evaluate": ("gan_helpers.cli.sample:evaluate_command", "score a trained run's generator (MNIST metrics)"),
    "make-student": ("gan_helpers.instructor.student", "write the student version of the notebooks (solutions stripped)"),
    "grade": ("gan_helpers.instructor.grading", "run each student's notebooks and report which checks pass, as CSV"),
    "update-notebooks": ("gan_helpers.instructor.conventions", "maintainers: write the notebooks' headers and nbgrader metadata, and exercises/ afresh"),
    "regenerate-checks": ("gan_helpers.cli.maintain:regenerate_checks", "recompute the expected values the test_* checks compare against"),
    "train-classifier": ("gan_helpers.cli.maintain:train_classifier", "train the MNIST classifier behind the sample-quality metrics"),
}  # fmt: skip


def _command(target):
    """The object with add_arguments and run named by a COMMANDS target ("module" or "module:name")."""
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


def _chosen(argv):
    """The command named on the command line (the first word that is one), or None."""
    return next((word for word in argv if word in COMMANDS), None)


def build_parser(argv=()):
    """The parser; only the chosen command's module is imported to describe its options."""
    parser = argparse.ArgumentParser(
        prog="python -m gan_helpers",
        description="The GAN course's command line: train, sample and evaluate GANs; hand out and grade the course.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = _chosen(argv)
    for name, (target, help_text) in COMMANDS.items():
        subparser = subparsers.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            _command(target).add_arguments(subparser)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    return _command(COMMANDS[args.command][0]).run(args)
