"""The command line: ``python -m gan_helpers COMMAND ...`` (also installed as ``gan-course``).

Terminal users train, sample and evaluate. Each command lives in the module of its
concern, which exposes ``add_arguments(parser)`` and ``run(args) -> int``; this file only
routes to it (the course's tools, ``python -m gan_course``, route through it too). Only
the chosen command's module is imported, so ``--help`` starts without TensorFlow.
"""

import argparse
import importlib
import sys

PROG = "python -m gan_helpers"
DESCRIPTION = "The GAN course's command line: train, sample and evaluate GANs."

# command name -> (module that implements it, one-line help); "module:name" picks an
# object in the module, for a module with several commands
COMMANDS = {
    "train": ("gan_helpers.cli.train", "train a GAN (default: the MLP GAN on MNIST) into a run folder; run again to resume"),
    "sample": ("gan_helpers.cli.sample:sample_command", "write a grid of images from a trained run's generator"),
    "evaluate": ("gan_helpers.cli.sample:evaluate_command", "score a trained run's generator (MNIST metrics)"),
}  # fmt: skip

# The instructor's and maintainers' commands, which live in the course's tools (gan_course,
# README "For instructors"): named here only to send whoever types them there.
COURSE_TOOLS = ("make-student", "grade", "update-notebooks", "regenerate-checks", "train-classifier")


def _command(target):
    """The object with add_arguments and run named by a COMMANDS target ("module" or "module:name")."""
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


def _chosen(argv, commands):
    """The command named on the command line (the first word that is one), or None."""
    return next((word for word in argv if word in commands), None)


def build_parser(argv=(), commands=COMMANDS, prog=PROG, description=DESCRIPTION):
    """The parser of ``commands``; only the chosen command's module is imported to describe its options."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = _chosen(argv, commands)
    for name, (target, help_text) in commands.items():
        subparser = subparsers.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            _command(target).add_arguments(subparser)
    return parser


def run_command(argv, commands=COMMANDS, prog=PROG, description=DESCRIPTION):
    """Parse ``argv`` against ``commands`` and run the chosen one; its exit status."""
    args = build_parser(argv, commands, prog, description).parse_args(argv)
    return _command(commands[args.command][0]).run(args)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in COURSE_TOOLS:
        print(f"{PROG}: '{argv[0]}' is one of the course's tools for instructors and maintainers: run "
              f"`python -m gan_course {argv[0]} ...` (install them with `pip install -e ./gan_course` in a "
              "clone of the course; README, For instructors).", file=sys.stderr)
        return 2
    return run_command(argv)
