"""Importing the checks loads neither the trainer nor the metrics (the regeneration lives in gan_course)."""

import ast
import subprocess
import sys

PROBE = """
import sys
from gan_helpers.checks import test_leaky_relu
print(sorted(name for name in sys.modules if name.startswith("gan_helpers")))
"""


def test_importing_a_check_loads_neither_the_trainer_nor_the_metrics():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True)
    loaded = ast.literal_eval(done.stdout.strip().splitlines()[-1])
    assert "gan_helpers.checks" in loaded and "gan_helpers.checks.values" in loaded
    assert "gan_helpers.training" not in loaded and "gan_helpers.metrics" not in loaded, loaded
