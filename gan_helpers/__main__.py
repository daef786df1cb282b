"""Command line: ``python -m gan_helpers COMMAND ...`` (also installed as ``gan-course``).

Each command lives in the module of its concern; this file only routes to it.
A command module exposes ``add_arguments(parser)`` and ``run(args) -> int``.
"""

import argparse
import importlib
import sys

# command name -> (module that implements it, one-line help); "module:name" picks an
# object in the module, for a module with several commands
COMMANDS = {
    "train": ("gan_helpers.train_command", "train a GAN (default: the MLP GAN on MNIST) into a run folder; run again to resume"),
    "make-student": ("gan_helpers.course:make_student_command", "write the student version of the notebooks (solutions stripped)"),
    "grade": ("gan_helpers.course:grade_command", "run each student's notebooks and report which checks pass, as CSV"),
    "sample": ("gan_helpers.run_commands:sample_command", "write a grid of images from a trained run's generator"),
    "evaluate": ("gan_helpers.run_commands:evaluate_command", "score a trained run's generator (MNIST metrics)"),
    "regenerate-checks": ("gan_helpers.check_values", "recompute the expected values the test_* checks compare against"),
    "train-classifier": ("gan_helpers.metrics", "train the MNIST classifier behind the sample-quality metrics"),
}


def _command(target):
    """The object with add_arguments and run named by a COMMANDS target ("module" or "module:name")."""
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m gan_helpers", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (target, help_text) in COMMANDS.items():
        _command(target).add_arguments(subparsers.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return _command(COMMANDS[args.command][0]).run(args)


if __name__ == "__main__":
    sys.exit(main())
