"""Run the test suite, and notebooks given to pytest (nbval), in the course's quick mode.

Kernels that nbval starts inherit this environment, so notebooks see it too. Each
notebook's kernel also gets a fresh, empty folder of runs (``GAN_COURSE_RUNS``), so
that no notebook finds what another one, or an earlier test run, saved there: each
takes the same path through its cells whatever ran before or beside it.
"""

import os
import shutil
import tempfile

import pytest

os.environ.setdefault("GAN_COURSE_QUICK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# pytest-xdist runs the suite in several workers: TensorFlow's thread pools and numpy's OpenBLAS
# (in each worker and in the kernels and scripts it starts) share the cores out among them
# instead of each taking all of them, which oversubscribes the cores (their idle threads spin)
# and slows some tests tenfold.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1:
    for _variable in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(_variable, str(max(1, (os.cpu_count() or 1) // _WORKERS)))

_RUNS = {}  # "root": this session's folder of runs folders, "notebook": the notebook they are for


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before a notebook's first cell (when nbval starts its kernel), point GAN_COURSE_RUNS at a new folder."""
    if item.path.suffix != ".ipynb" or _RUNS.get("notebook") == item.path:
        return
    _RUNS.setdefault("root", tempfile.mkdtemp(prefix="gan_course_runs_"))
    _RUNS["notebook"] = item.path
    os.environ["GAN_COURSE_RUNS"] = tempfile.mkdtemp(prefix=f"{item.path.stem}_", dir=_RUNS["root"])


def pytest_sessionfinish(session):
    if "root" in _RUNS:
        shutil.rmtree(_RUNS["root"], ignore_errors=True)
