"""grade: verdicts a submission cannot forge, and checks that grade the learner's own code.

One kernel grades a notebook of many segments: each defines ``leaky_relu`` (mostly the
wrong one, ReLU), tries one way of making ``test_leaky_relu`` pass anyway, runs the check
cell, then undoes what it did, so that each segment's verdict is its own (the first and
last segments, correct answers with nothing tried, pass). Every attack must be graded as
failed, with a message that says what was found. Before the judge (gan_course
.judge) the patched check, the redefined check, the silenced traceback and the reference
answer all passed.

A check that runs too long is interrupted, and the checks after it are judged as ever.
A cheap grading run (a notebook without TensorFlow) checks ``--kernel-prefix``:
the kernels start under the instructor's command. A third, in a copy of the library,
checks that a submission that rewrites the checks' expected values on disk stops grading.
"""

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

import gan_course
from gan_course import course_files, judge
from gan_course.cli import main

REPO = Path(__file__).resolve().parents[2]

IMPORTS = "import numpy as np\nimport tensorflow as tf\nfrom gan_helpers.checks import test_leaky_relu"
RIGHT = "def leaky_relu(x, alpha=0.01):\n    return tf.maximum(x, alpha * x)\n"
WRONG = "def leaky_relu(x, alpha=0.01):\n    return tf.nn.relu(x)\n"

# The helpers test_leaky_relu calls (whatever their names), each wrapped: the check still works, but was patched.
PATCH_HELPERS = '''\
import sys, types
import gan_helpers.checks as c
_module = sys.modules[c.test_leaky_relu.__module__]
_saved = {name: vars(_module)[name] for name in c.test_leaky_relu.__code__.co_names
          if isinstance(vars(_module).get(name), types.FunctionType) and not name.startswith("test_")}
assert _saved, "test_leaky_relu calls no helper of its module"
for _name, _helper in _saved.items():
    setattr(_module, _name, lambda *a, _helper=_helper, **k: _helper(*a, **k))
'''
UNDO_HELPERS = "for _name, _helper in _saved.items():\n    setattr(_module, _name, _helper)"

# Point the checks at a copy of their expected values in which ReLU is the right answer.
DOCTOR_EXPECTED = '''\
import pathlib, sys, tempfile
_found = [(module, name, value) for module in list(sys.modules.values())
          if getattr(module, "__name__", "").startswith("gan_helpers.checks")
          for name, value in list(vars(module).items()) if isinstance(value, pathlib.Path) and value.suffix == ".npz"]
assert _found, "no expected-values file in gan_helpers.checks"
_module, _name, _saved = _found[0]
_values = dict(np.load(_saved))
_values["leaky_relu_out"] = np.maximum(_values["leaky_relu_x"], 0)
_values["leaky_relu_out_alpha_0.2"] = np.maximum(_values["leaky_relu_x"], 0)
_fake = pathlib.Path(tempfile.mkdtemp()) / "checks.npz"
np.savez(_fake, **_values)
setattr(_module, _name, _fake)
'''

REWRITE_STDOUT = '''\
import sys
_saved = sys.stdout
class _Rewriter:
    def write(self, text):
        return _saved.write(text.replace("failed", "passed").replace('"passed": false', '"passed": true'))
    def flush(self):
        _saved.flush()
sys.stdout = _Rewriter()
'''

# (name, code before the check cell, code after it, passes?, what the message must say)
SEGMENTS = [
    ("correct", RIGHT, "", True, "test_leaky_relu passed"),
    ("wrong", WRONG, "", False, "AssertionError: test_leaky_relu failed: wrong values"),
    ("patched check",
     'import gan_helpers.checks as c\n_saved = c.test_leaky_relu\n'
     'c.test_leaky_relu = lambda f: print("test_leaky_relu passed")\n' + WRONG,
     "c.test_leaky_relu = _saved", False, "gan_helpers.checks.test_leaky_relu was replaced"),
    ("patched helper", PATCH_HELPERS + WRONG, UNDO_HELPERS, False, "was replaced"),
    ("redefined check", 'def test_leaky_relu(f):\n    print("test_leaky_relu passed")\n' + WRONG,
     "from gan_helpers.checks import test_leaky_relu", False, "the notebook redefines test_leaky_relu"),
    ("numpy function", "_saved = np.max\nnp.max = lambda *a, **k: 0.0\n" + WRONG, "np.max = _saved",
     False, "numpy.max was replaced or changed (it is now __main__.<lambda>, defined in the notebook)"),
    ("numpy code",
     "_saved = np.allclose._implementation.__code__\n"
     "np.allclose._implementation.__code__ = (lambda a, b, rtol=1e-05, atol=1e-08, equal_nan=False: True).__code__\n"
     + WRONG, "np.allclose._implementation.__code__ = _saved", False, "allclose was replaced or changed"),
    ("tensorflow function", "_saved = tf.reduce_mean\ntf.reduce_mean = lambda *a, **k: tf.constant(0.0)\n" + WRONG,
     "tf.reduce_mean = _saved", False, "reduce_mean was replaced or changed"),
    ("keras method", "import keras\nkeras.Model.predict = lambda self, *a, **k: None\n" + WRONG,
     "del keras.Model.predict", False, "Model.predict was"),
    ("print", "import builtins\n_saved = builtins.print\n"
     "builtins.print = lambda *a, **k: _saved(*[str(x).replace('failed', 'passed') for x in a], **k)\n" + WRONG,
     "builtins.print = _saved", False, "builtins.print was replaced"),
    ("AssertionError", "import builtins\n_saved = builtins.AssertionError\n"
     "builtins.AssertionError = type('AssertionError', (Warning,), {})\n" + WRONG,
     "builtins.AssertionError = _saved", False, "builtins.AssertionError was replaced"),
    ("rewritten output", REWRITE_STDOUT + WRONG, "sys.stdout = _saved", False, "no verdict from the grader's check"),
    ("silenced traceback", "get_ipython().showtraceback = lambda *a, **k: None\n" + WRONG,
     "del get_ipython().showtraceback", False, "AssertionError: test_leaky_relu failed: wrong values"),
    # IPython puts its own excepthook in place while a cell runs: this one never reaches the grader.
    ("excepthook", "import sys\n_saved = sys.excepthook\nsys.excepthook = lambda *a: None\n" + WRONG,
     "sys.excepthook = _saved", False, "AssertionError: test_leaky_relu failed: wrong values"),
    ("trace function", "import sys\nsys.settrace(lambda frame, event, argument: None)\n" + WRONG, "",
     False, "sys.settrace(__main__.<lambda>, defined in the notebook) was set"),
    ("expected values", DOCTOR_EXPECTED + WRONG, "setattr(_module, _name, _saved)", False, ".npz"),
    ("reference imported", "from gan_helpers import leaky_relu", "", False,
     "`leaky_relu` is the course library's reference answer gan_helpers.ops.leaky_relu"),
    ("thin wrapper", "import gan_helpers\ndef leaky_relu(x, alpha=0.01):\n    return gan_helpers.leaky_relu(x, alpha)\n",
     "", False, "uses the course library's reference answer gan_helpers.ops.leaky_relu (through gan_helpers.leaky_relu)"),
    ("hidden wrapper",
     "import importlib\ndef leaky_relu(x, alpha=0.01):\n    module = importlib.import_module('gan_helpers.' + 'ops')\n"
     "    return getattr(module, 'leaky' + '_relu')(x, alpha)\n", "", False,
     "calls the course library's reference answer gan_helpers.ops.leaky_relu"),
    ("compiled wrapper",
     "import gan_helpers.ops\n_compiled = tf.function(gan_helpers.ops.leaky_relu)\n_compiled(tf.zeros((4, 6)))\n"
     "def leaky_relu(x, alpha=0.01):\n    return _compiled(x, alpha)\n", "", False, "(through _compiled)"),
    ("library function", "leaky_relu = tf.nn.leaky_relu", "", False, "`leaky_relu` is not a function written in the notebook"),
    ("patch while checked", "_saved = np.max\ndef leaky_relu(x, alpha=0.01):\n    np.max = lambda *a, **k: 0.0\n"
     "    return tf.nn.relu(x)\n", "np.max = _saved", False, "while the check ran: numpy.max was replaced"),
    ("profiler removed",
     "import sys, importlib\ndef leaky_relu(x, alpha=0.01):\n    sys.setprofile(None)\n"
     "    return getattr(importlib.import_module('gan_helpers.ops'), 'leaky_relu')(x, alpha)\n", "",
     False, "changed the interpreter's profile hook"),
    ("fake checks module",
     "import sys, types\n_saved = sys.modules['gan_helpers.checks']\n_fake = types.ModuleType('gan_helpers.checks')\n"
     "_fake.test_leaky_relu = lambda f: print('test_leaky_relu passed')\nsys.modules['gan_helpers.checks'] = _fake\n" + WRONG,
     "sys.modules['gan_helpers.checks'] = _saved", False,
     "sys.modules['gan_helpers.checks'] was replaced by another module"),
    ("import hook",
     "import sys\nclass _Finder:\n    def find_spec(self, name, path=None, target=None):\n        return None\n"
     "sys.meta_path.insert(0, _Finder())\n" + WRONG, "del sys.meta_path[0]", False, "sys.meta_path was changed"),
    ("correct lambda", "leaky_relu = lambda x, alpha=0.01: tf.maximum(x, alpha * x)", "", True, "test_leaky_relu passed"),
    ("correct again", RIGHT, "", True, "test_leaky_relu passed"),
]


def notebook(*sources):
    made = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    made.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return made


def write(made, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(made, str(path))
    return path


def check_names(count):
    return ["test_leaky_relu"] + [f"test_leaky_relu#{number}" for number in range(2, count + 1)]


@pytest.fixture(scope="module")
def attacks(tmp_path_factory):
    """One grading run: the segments above in one notebook, one kernel."""
    root = tmp_path_factory.mktemp("attacks")
    course = root / "course"
    write(notebook(IMPORTS, RIGHT, *["test_leaky_relu(leaky_relu)"] * len(SEGMENTS)), course / "01_leaky.ipynb")
    cells = [IMPORTS]
    for _, before, after, _, _ in SEGMENTS:
        cells += [before, "test_leaky_relu(leaky_relu)"] + ([after] if after else [])
    write(notebook(*cells), root / "submissions" / "mallory" / "01_leaky.ipynb")
    results = gan_course.grade(root / "submissions", root / "report.csv", notebooks_dir=course, log=None,
                               cell_time_limit=120, time_limit=600)
    with (root / "report.csv").open(newline="") as handle:
        rows = {row["check"]: row for row in csv.DictReader(handle) if row["notebook"] != "TOTAL"}
    return dict(zip(check_names(len(SEGMENTS)), results)), rows


@pytest.mark.parametrize("position", range(len(SEGMENTS)), ids=[segment[0] for segment in SEGMENTS])
def test_each_attack_is_graded_failed_with_what_was_found(attacks, position):
    results, rows = attacks
    name, _, _, passes, says = SEGMENTS[position]
    check = check_names(len(SEGMENTS))[position]
    row = rows[check]
    assert row["status"] == ("passed" if passes else "failed"), (name, row)
    assert says in row["message"], (name, row["message"])
    assert results[check].passed is passes


# ---------------------------------------------------------------------------------------
# The learner's code, not the library's: the judge's rule on its own


LEARNER = """
import functools
import gan_helpers
import gan_helpers.ops as ops
import tensorflow as tf

def mine(x, alpha=0.01):
    return tf.maximum(x, alpha * x)

def uses_another_helper(x, alpha=0.01):
    return tf.maximum(x, alpha * x) + 0 * ops.sample_noise(1, 1)[0, 0]

def wraps_it(x, alpha=0.01):
    return ops.leaky_relu(x, alpha)

def wraps_it_deeper(x, alpha=0.01):
    return helper(x, alpha)

def helper(x, alpha):
    return gan_helpers.ops.leaky_relu(x, alpha)

class Builder:
    def __call__(self, x, alpha=0.01):
        return tf.maximum(x, alpha * x)

lambda_one = lambda x, alpha=0.01: tf.maximum(x, alpha * x)
partial_mine = functools.partial(mine, alpha=0.01)
partial_reference = functools.partial(ops.leaky_relu, alpha=0.01)
"""


@pytest.mark.parametrize("name, says", [
    ("mine", None), ("uses_another_helper", None), ("Builder", None), ("lambda_one", None), ("partial_mine", None),
    ("wraps_it", "uses the course library's reference answer gan_helpers.ops.leaky_relu (through gan_helpers.ops.leaky_relu)"),
    ("wraps_it_deeper", "(through helper -> gan_helpers.leaky_relu)"),
    ("partial_reference", "is the course library's reference answer"),
    ("print", "is not a function written in the notebook (it is builtins.print)"),
])
def test_only_the_exercise_reference_is_refused(name, says):
    namespace = {"__name__": "__main__"}
    exec(compile(LEARNER, "<notebook cell>", "exec"), namespace)
    namespace["print"] = print
    references = {"gan_helpers.ops:leaky_relu": judge.resolve("gan_helpers.ops:leaky_relu")}
    problem = judge.learner_code_problem(name, namespace[name], references, namespace)
    assert (problem is None) if says is None else (says in problem), problem


def test_the_watch_counts_only_the_reference_calls_of_the_learners_code():
    """A check may call the reference itself (test_xy_updates runs iterates); the grader's cell is no learner."""
    from gan_helpers import ops

    namespace = {"__name__": "__main__"}
    exec(compile(LEARNER, "<notebook cell>", "exec"), namespace)
    references = {"gan_helpers.ops:leaky_relu": judge.resolve("gan_helpers.ops:leaky_relu")}

    def check_that_computes_its_expected_value(f):
        x = np.linspace(-2.0, 2.0, 5, dtype=np.float32)
        np.testing.assert_allclose(f(x), ops.leaky_relu(x), rtol=1e-6)

    namespace["_run_check"], namespace["check"] = judge._run_check, check_that_computes_its_expected_value
    for name, counted in [("mine", []), ("wraps_it", ["gan_helpers.ops:leaky_relu"])]:
        watch = judge.ReferenceWatch(references, namespace)
        sys.setprofile(watch)
        try:  # run from a frame of the notebook's namespace, as the grader's cell runs the check
            exec(f"outcome = _run_check(check, [{name}], {{}})", namespace)
        finally:
            sys.setprofile(None)
        assert namespace["outcome"][0] and watch.calls == counted, (name, namespace["outcome"], watch.calls)


def test_a_timed_out_check_leaves_the_next_ones_judged_as_ever(tmp_path):
    """After the grader interrupts a check, a right one passes; the notebook's last cell runs as itself."""
    noise = ("def sample_noise(batch_size, dim, seed=None):\n    if seed is None:\n"
             "        return tf.random.uniform((batch_size, dim), minval=-1.0, maxval=1.0)\n"
             "    return tf.random.stateless_uniform((batch_size, dim), seed=(seed, 0), minval=-1.0, maxval=1.0)")
    double = "def test_double(f):\n    assert f(2) == 4, f'double(2) is {f(2)}'"
    imports = IMPORTS + ", test_sample_noise"
    course = write(notebook(imports, RIGHT, "test_leaky_relu(leaky_relu)", noise, "test_sample_noise(sample_noise)",
                            double, "def double(x):\n    return 2 * x", "test_double(double)"),
                   tmp_path / "course" / "01_leaky.ipynb")
    loop = "import time\ndef leaky_relu(x, alpha=0.01):\n    while True:  # runs forever, without a core's worth of CPU\n        time.sleep(0.1)"
    submitted = write(notebook(imports, loop, "test_leaky_relu(leaky_relu)", noise, "test_sample_noise(sample_noise)",
                               double, "def double(x):\n    return 2 * x + 1", "test_double(double)"),
                      tmp_path / "subs" / "ida" / "01_leaky.ipynb")
    rows = gan_course.grade(submitted.parents[1], tmp_path / "report.csv", notebooks_dir=course.parent, log=None,
                            cell_time_limit=10, time_limit=300)
    results = {row.check: (row.passed, row.message) for row in rows}
    assert results["test_leaky_relu"] == (False, "timed out: the check ran longer than 10 s")
    assert results["test_sample_noise"][0], results["test_sample_noise"]
    assert results["test_double"] == (False, "AssertionError: double(2) is 5")


def test_the_judge_and_the_grader_import_no_tensorflow():
    code = ("import sys; import gan_course.grading, gan_course.judge; "
            "print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)}).stdout
    assert out.strip() == "False"


# ---------------------------------------------------------------------------------------
# Kernels under the instructor's command prefix

RECORDER = '''#!/bin/sh
echo "$@" >> "{log}"
exec "$@"
'''


def test_kernels_start_under_the_kernel_prefix(tmp_path, capsys):
    course = tmp_path / "course"
    checks = "def test_double(f):\n    assert f(2) == 4, f'double(2) is {f(2)}'\n    print('double: all good')"
    write(notebook(checks, "def double(x):\n    return 2 * x", "test_double(double)"), course / "01_double.ipynb")
    write(notebook(checks, "import os\ndef double(x):\n    return 2 * x + int(os.environ['SANDBOXED'])",
                   "test_double(double)"), tmp_path / "subs" / "ann" / "01_double.ipynb")
    log = tmp_path / "prefix.log"
    recorder = tmp_path / "record.sh"
    recorder.write_text(RECORDER.format(log=log))
    recorder.chmod(0o755)
    prefix = f"{recorder} env SANDBOXED=0 SCRATCH={{cwd}}"
    assert main(["grade", str(tmp_path / "subs"), "--notebooks", str(course), "--out", str(tmp_path / "r.csv"),
                 "--kernel-prefix", prefix]) == 0
    assert ["ann", "1/1", "1/1"] in [line.split() for line in capsys.readouterr().out.splitlines()]
    words = log.read_text().split()
    assert words[:3] == ["env", "SANDBOXED=0", words[2]] and words[2].startswith("SCRATCH=")
    assert Path(words[2].removeprefix("SCRATCH=")).name.startswith("gan_grade_")
    assert words[3:7] == ["python", "-m", "ipykernel_launcher", "-f"] and words[7].endswith(".json")


def test_a_kernel_that_cannot_start_under_the_prefix_fails_its_checks(tmp_path):
    course = tmp_path / "course"
    write(notebook("def test_one(f):\n    assert f() == 1", "def one():\n    return 1", "test_one(one)"),
          course / "01_one.ipynb")
    shutil.copytree(course, tmp_path / "subs" / "bo")
    results = gan_course.grade(tmp_path / "subs", tmp_path / "r.csv", notebooks_dir=course, log=None,
                               kernel_prefix=[str(tmp_path / "no-such-runtime")], time_limit=60)
    assert not results[0].passed and results[0].message.startswith("not run:"), results[0]


# ---------------------------------------------------------------------------------------
# A submission that rewrites the course's files stops grading


def test_rewriting_the_expected_values_on_disk_stops_grading(tmp_path):
    library = tmp_path / "library"
    shutil.copytree(REPO / "gan_helpers", library / "gan_helpers", ignore=shutil.ignore_patterns("__pycache__"))
    course = tmp_path / "course"
    write(notebook(IMPORTS, RIGHT, "test_leaky_relu(leaky_relu)"), course / "01_leaky.ipynb")
    rewrite = ("import gan_helpers, pathlib\n"
               "_file = pathlib.Path(gan_helpers.__file__).parent / 'reference' / 'checks.npz'\n"
               "_values = dict(np.load(_file))\n"
               "_values['leaky_relu_out'] = np.maximum(_values['leaky_relu_x'], 0)\n"
               "np.savez(_file, **_values)\n")
    write(notebook(IMPORTS, rewrite + WRONG, "test_leaky_relu(leaky_relu)"), tmp_path / "subs" / "eve" / "01_leaky.ipynb")
    shutil.copytree(course, tmp_path / "subs" / "zed")
    report = tmp_path / "report.csv"
    done = subprocess.run(
        [sys.executable, "-m", "gan_course", "grade", str(tmp_path / "subs"), "--notebooks", str(course),
         "--out", str(report)],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(library), str(REPO)])})
    assert done.returncode == 2, done.stderr[-2000:]
    assert "changed the course's files: gan_helpers/reference/checks.npz" in done.stderr
    with report.open(newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle) if row["notebook"] != "TOTAL"}
    assert rows["eve"]["status"] == "failed"
    assert "the course's files on disk were changed: reference/checks.npz" in rows["eve"]["message"]
    assert rows["zed"]["message"].startswith("not graded: grading stopped")


def test_file_hashes_cover_the_checks_their_expected_values_and_the_grader():
    hashes = course_files.course_file_hashes()
    assert {"gan_helpers/reference/checks.npz", "gan_helpers/checks/__init__.py", "gan_course/judge.py"} <= set(hashes)
    assert all(len(value) == 64 for value in hashes.values())
    library = course_files.library_hashes(hashes)
    assert "checks/__init__.py" in library and not any(path.startswith("gan_course/") for path in library)
    assert judge.file_differences(library) == []


def test_a_forked_kernel_records_what_importing_the_checks_loaded_where_the_judge_looks():
    """The judge's record watches the modules the kernel factory's import of the checks loaded."""
    from gan_course import kernel_factory

    assert kernel_factory.PRELOADED_ATTRIBUTE == judge.PRELOADED_ATTRIBUTE
