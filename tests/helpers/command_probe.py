"""Run a command line's ``main`` in a fresh Python and say whether it imported TensorFlow.

The library's command line (``gan_helpers.cli``) and the course's tools (``gan_course.cli``)
must start without TensorFlow for ``--help``, ``make-student`` and ``grade``.
"""

import subprocess
import sys

PROBE = """
import importlib, sys
main = importlib.import_module(sys.argv[1]).main
try:
    main(sys.argv[2:])
except SystemExit:
    pass
print("TENSORFLOW IMPORTED" if "tensorflow" in sys.modules else "no tensorflow")
"""


def run_probe(cli_module, *arguments, cwd=None):
    """The finished process of ``cli_module``'s main on ``arguments``; its last line says whether TensorFlow came in."""
    return subprocess.run([sys.executable, "-c", PROBE, cli_module, *arguments], capture_output=True, text=True,
                          timeout=120, cwd=cwd)
