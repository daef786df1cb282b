"""``python -m gan_helpers``: routes to each command; help starts without TensorFlow (the course's tools: tests/instructor)."""

import subprocess
import sys

import pytest

from command_probe import run_probe
from gan_helpers.cli import COMMANDS


@pytest.mark.parametrize("arguments", [("--help",)])
def test_help_does_not_import_tensorflow(arguments):
    result = run_probe("gan_helpers.cli", *arguments)
    assert result.stdout.strip().endswith("no tensorflow"), result.stdout + result.stderr


def test_top_level_help_lists_every_command():
    result = subprocess.run([sys.executable, "-m", "gan_helpers", "--help"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0
    for name in COMMANDS:
        assert name in result.stdout
