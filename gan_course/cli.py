"""The course's tools on the command line: ``python -m gan_course COMMAND ...``.

Routed as the library's command line is (``gan_helpers.cli.run_command``): only the
chosen command's module is imported, so ``--help``, ``make-student`` and ``grade`` start
without TensorFlow.
"""

import sys

from gan_helpers.cli import run_command

PROG = "python -m gan_course"
DESCRIPTION = ("The GAN course's tools for instructors (hand out and grade the course) and maintainers "
               "(notebook conventions, the checks' expected values, the metrics classifier).")

# command name -> (module that implements it, one-line help)
COMMANDS = {
    "make-student": ("gan_course.student", "write the student version of the notebooks (solutions stripped)"),
    "grade": ("gan_course.grading", "run each student's notebooks and report which checks pass, as CSV"),
    "update-notebooks": ("gan_course.conventions", "maintainers: write the notebooks' headers and nbgrader metadata, and exercises/ afresh"),
    "regenerate-checks": ("gan_course.expected_values", "maintainers: recompute the expected values the test_* checks compare against"),
    "train-classifier": ("gan_course.classifier", "maintainers: train the MNIST classifier behind the sample-quality metrics"),
}  # fmt: skip


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    return run_command(argv, COMMANDS, PROG, DESCRIPTION)
