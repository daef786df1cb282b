"""Course-wide settings read from the environment, in this one place.

``GAN_COURSE_QUICK=1`` puts every notebook and command in *quick mode*: training
stops after a few steps and data sets are cut short, so that CI can execute the
whole course on a 2-core CPU in minutes. Notebooks never change their own
settings for CI; the library reads this switch instead.
"""

import os
from pathlib import Path

QUICK_ENV = "GAN_COURSE_QUICK"
# Sets quick mode's number of train steps: the grader trains 2, since no check depends on training.
QUICK_STEPS_ENV = "GAN_COURSE_QUICK_STEPS"
DEFAULT_QUICK_MAX_STEPS = 20


def quick_steps_from_environment():
    """Quick mode's train steps per call of run_a_gan: ``GAN_COURSE_QUICK_STEPS``, or 20 when it is unset."""
    value = os.environ.get(QUICK_STEPS_ENV, "").strip()
    if not value:
        return DEFAULT_QUICK_MAX_STEPS
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{QUICK_STEPS_ENV}={value!r} is not a number of train steps: set it to a whole number "
                         f">= 1, or unset it for quick mode's {DEFAULT_QUICK_MAX_STEPS}.")
    return int(value)


# In quick mode, at most this many train steps per call of run_a_gan.
QUICK_MAX_STEPS = quick_steps_from_environment()
# In quick mode, at most this many examples are taken from any data set.
QUICK_MAX_EXAMPLES = 2048
# In quick mode, at most this many generated images are scored (metrics.evaluate_generator).
QUICK_MAX_SCORED = 1000
# In quick mode, metrics.nearest_neighbours searches at most this many real images.
QUICK_MAX_NEIGHBOUR_POOL = 10_000

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def quick_mode():
    """True when ``GAN_COURSE_QUICK`` is set to anything but '', '0', 'false' or 'no'."""
    value = os.environ.get(QUICK_ENV, "").strip().lower()
    return value not in ("", "0", "false", "no")


def quick_limit(count=None, most=None):
    """How many to take of ``count`` things (None: unknown or all), e.g. the examples of a data set.

    ``count`` as it is outside quick mode; in quick mode at most ``most`` (default
    ``QUICK_MAX_EXAMPLES``). ``images[: quick_limit(limit)]`` keeps all, ``limit`` or the cap.
    """
    if not quick_mode():
        return count
    most = QUICK_MAX_EXAMPLES if most is None else most
    return most if count is None else min(count, most)


# Folder, relative to the notebook's own, where notebooks save what they trained;
# GAN_COURSE_RUNS names another (the test suite gives each notebook a fresh one).
RUNS_DIR = "runs"
RUNS_ENV = "GAN_COURSE_RUNS"


def run_dir(name):
    """Where a notebook saves what it trained: ``runs/NAME``, or ``runs/quick/NAME`` in quick mode.

    ``runs`` is ``$GAN_COURSE_RUNS`` when that is set. Notebook 09 loads the generators
    of 05-07 from here. Quick mode writes apart so that running the test suite never
    replaces a generator trained for real with a 20-step one.
    """
    base = Path(os.environ.get(RUNS_ENV) or RUNS_DIR)
    return base / "quick" / name if quick_mode() else base / name
