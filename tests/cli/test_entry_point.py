"""``python -m gan_helpers``: routes to each command; help and the instructor's commands start without TensorFlow."""

import subprocess
import sys

import pytest

from gan_helpers.cli import COMMANDS

PROBE = """
import sys
from gan_helpers.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("TENSORFLOW IMPORTED" if "tensorflow" in sys.modules else "no tensorflow")
"""


def run_probe(*arguments, cwd=None):
    return subprocess.run([sys.executable, "-c", PROBE, *arguments], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


@pytest.mark.parametrize("arguments", [("--help",), ("make-student", "--help"), ("grade", "--help"),
                                       ("update-notebooks", "--help")])
def test_help_and_the_instructor_commands_do_not_import_tensorflow(arguments):
    result = run_probe(*arguments)
    assert result.stdout.strip().endswith("no tensorflow"), result.stdout + result.stderr


def test_make_student_runs_without_tensorflow(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    (course / "01_x.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    result = run_probe("make-student", str(course), str(tmp_path / "student"))
    assert "Wrote 1 student notebooks" in result.stdout and result.stdout.strip().endswith("no tensorflow")


def test_top_level_help_lists_every_command():
    result = subprocess.run([sys.executable, "-m", "gan_helpers", "--help"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0
    for name in COMMANDS:
        assert name in result.stdout
