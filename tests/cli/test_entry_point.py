"""``python -m gan_helpers``: routes to each command; help starts without TensorFlow (the course's tools: tests/instructor)."""

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


@pytest.mark.parametrize("arguments", [("--help",)])
def test_help_does_not_import_tensorflow(arguments):
    result = run_probe(*arguments)
    assert result.stdout.strip().endswith("no tensorflow"), result.stdout + result.stderr


def test_top_level_help_lists_every_command():
    result = subprocess.run([sys.executable, "-m", "gan_helpers", "--help"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0
    for name in COMMANDS:
        assert name in result.stdout
