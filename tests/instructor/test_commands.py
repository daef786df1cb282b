"""``python -m gan_course``: routes to each tool; help, make-student and grade start without TensorFlow."""

import subprocess
import sys

import pytest

from command_probe import run_probe
from gan_course.cli import COMMANDS
from gan_helpers.cli import COURSE_TOOLS


@pytest.mark.parametrize("arguments", [("--help",), ("make-student", "--help"), ("grade", "--help"),
                                       ("update-notebooks", "--help")])
def test_help_and_the_instructor_commands_do_not_import_tensorflow(arguments):
    result = run_probe("gan_course.cli", *arguments)
    assert result.stdout.strip().endswith("no tensorflow"), result.stdout + result.stderr


def test_make_student_runs_without_tensorflow(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    (course / "01_x.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    result = run_probe("gan_course.cli", "make-student", str(course), str(tmp_path / "student"))
    assert "Wrote 1 student notebooks" in result.stdout and result.stdout.strip().endswith("no tensorflow")


def test_top_level_help_lists_every_tool():
    result = subprocess.run([sys.executable, "-m", "gan_course", "--help"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and "python -m gan_course" in result.stdout
    for name in COMMANDS:
        assert name in result.stdout


def test_the_learners_command_line_sends_each_tool_to_the_course_tools():
    assert set(COURSE_TOOLS) == set(COMMANDS)
    result = subprocess.run([sys.executable, "-m", "gan_helpers", "grade", "submissions/"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2
    assert "python -m gan_course grade" in result.stderr and "pip install -e ./gan_course" in result.stderr
