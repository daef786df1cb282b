"""Grade the course: run each student's notebooks and report which checks pass.

    python -m gan_helpers grade SUBMISSIONS/ --out report.csv

**Checks.** A check is a code cell whose code is nothing but calls of functions named
``test_*``, such as ``test_leaky_relu(leaky_relu)``. The checks a notebook must pass
are those of the solution notebook of the same name; a check passes when its cell
runs without an error. In a submission a check is found by its code (spacing and
comments aside); the grader re-imports the ``test_*`` function from
``gan_helpers.checks`` just before the cell runs, so a redefined check does not count.

**Submissions.** ``SUBMISSIONS/`` holds one folder per student, named after the
student, with that student's notebooks in it (at any depth). A notebook is matched
to the course's by file name, or else by its number (``01_...``). Each notebook runs
in its own fresh kernel, in a scratch folder, in quick mode, without widgets, under a
time limit per cell and per notebook (``--jobs N`` runs N notebooks at once). What
goes wrong costs only the checks it touches:

- a notebook that is not valid JSON or not a notebook: all its checks fail;
- a check cell that is missing: that check fails ("missing");
- a cell that runs too long: it is interrupted, its check (if it is one) fails,
  the notebook goes on; once the notebook's time is spent the checks not yet run fail;
- a kernel that dies: the notebook is run again in a new kernel without the cell
  that killed it (at most ``MAX_KERNEL_RESTARTS`` times).

Imports no TensorFlow: the notebooks run in kernels of their own.
"""

import ast
import csv
import re
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from gan_helpers.instructor.notebook_files import (
    COURSE_NOTEBOOKS,
    NotebookFormatError,
    cell_source,
    course_notebooks,
    read_notebook_json,
)

DEFAULT_NOTEBOOK_TIME_LIMIT = 600
DEFAULT_CELL_TIME_LIMIT = 300
MAX_KERNEL_RESTARTS = 2
# A kernel that does not answer within this many seconds after an interrupt is restarted.
RESPONSIVE_PROBE_SECONDS = 15
MESSAGE_LIMIT = 300


# ----------------------------------------------------------------------------------------
# Checks: which cells are checks, and how to find them again in a submission


@dataclass(frozen=True)
class Check:
    """One check of a notebook: its name in the report and its code, normalised."""

    name: str
    code: str


def check_code(source):
    """The normalised code of a check cell, or None when the cell is not a check.

    A check cell holds only calls of ``test_*`` functions (comments and blank lines
    aside); its normalised code is :func:`ast.unparse` of it, so spacing does not matter.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    if not tree.body:
        return None
    for statement in tree.body:
        if not (
            isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Call)
            and isinstance(statement.value.func, ast.Name)
            and statement.value.func.id.startswith("test_")
        ):
            return None
    return ast.unparse(tree)


def check_function_names(code):
    """The ``test_*`` functions a check's code calls, in order."""
    return [statement.value.func.id for statement in ast.parse(code).body]


def find_checks(notebook):
    """The checks of a notebook (dict), in order, each named after its first ``test_*`` function.

    A function checked twice in one notebook gives ``name``, ``name#2``, ...
    """
    checks, seen = [], {}
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        code = check_code(cell_source(cell))
        if code is None:
            continue
        base = check_function_names(code)[0]
        seen[base] = seen.get(base, 0) + 1
        checks.append(Check(base if seen[base] == 1 else f"{base}#{seen[base]}", code))
    return checks


def _match_checks(checks, notebook):
    """Map each submission cell index that runs a check to that Check (first match, in order)."""
    wanted = list(checks)
    matched = {}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        code = check_code(cell.source)
        for check in wanted:
            if check.code == code:
                matched[index] = check
                wanted.remove(check)
                break
    return matched


# ----------------------------------------------------------------------------------------
# Running one submitted notebook


@dataclass
class CheckResult:
    """The outcome of one check for one student: one row of the report."""

    student: str
    notebook: str
    check: str
    passed: bool
    message: str


def _short(text):
    text = " ".join(str(text).split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 3] + "..."


def _strip_ansi(text):
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


def _cell_outcome(cell):
    """(passed, message) from an executed cell's outputs: an error fails, else its last printed line."""
    printed = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            ename, evalue = output.get("ename", "Error"), output.get("evalue", "")
            return False, _short(_strip_ansi(f"{ename}: {evalue}" if evalue else ename))
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            printed.append(output.get("text", ""))
    lines = [line for line in "".join(printed).splitlines() if line.strip()]
    return True, _short(lines[-1]) if lines else "passed"


def _library_checks():
    """The names of the ``test_*`` functions that ``gan_helpers.checks`` defines, read from its source.

    Read, not imported: importing the checks would import TensorFlow into the grader.
    """
    folder = Path(__file__).resolve().parents[1] / "checks"
    names = set()
    for path in folder.glob("*.py"):
        names.update(re.findall(r"^def (test_\w+)\(", path.read_text(encoding="utf-8"), flags=re.MULTILINE))
    return frozenset(names)


def _rebind_checks_source(code, library_checks):
    """Code that re-imports a check's functions from gan_helpers.checks (None when none is there)."""
    names = [name for name in dict.fromkeys(check_function_names(code)) if name in library_checks]
    return f"from gan_helpers.checks import {', '.join(names)}" if names else None


class _KernelDied(Exception):
    def __init__(self, cell_index):
        super().__init__(cell_index)
        self.cell_index = cell_index


class _NotebookRun:
    """Execute one notebook's cells in a fresh kernel and record each check's outcome."""

    def __init__(self, notebook, matched, *, time_limit, cell_time_limit, env, workdir):
        self.notebook = notebook
        self.matched = matched
        self.time_limit = time_limit
        self.deadline = time.monotonic() + time_limit
        self.cell_time_limit = cell_time_limit
        self.env = env
        self.workdir = workdir
        self.library_checks = _library_checks()
        self.outcomes = {}
        self.not_run = f"not run: the notebook's time limit of {time_limit:g} s was reached"
        self._error_reply = None

    def _remaining(self):
        return self.deadline - time.monotonic()

    def _on_cell_error(self, cell, cell_index, execute_reply):
        self._error_reply = execute_reply.get("content", {})

    def _execute(self, client, cell, index):
        """Run one cell within the time left; return 'ok', 'error' or 'timeout' (seconds allowed)."""
        import nbformat
        from nbclient.exceptions import DeadKernelError

        seconds = max(1, int(min(self.cell_time_limit, self._remaining())))
        client.timeout = seconds
        client.error_on_timeout = {"ename": "TimeoutError", "evalue": f"the cell ran longer than {seconds} s"}
        self._error_reply = None
        try:
            client.execute_cell(cell, index)
        except DeadKernelError:
            raise _KernelDied(index) from None
        if self._error_reply is None:
            return "ok", seconds
        if self._error_reply.get("ename") != "TimeoutError":
            return "error", seconds
        probe = nbformat.v4.new_code_cell("pass")
        client.timeout = RESPONSIVE_PROBE_SECONDS
        self._error_reply = None
        try:
            client.execute_cell(probe, index)
        except DeadKernelError:
            raise _KernelDied(index) from None
        if self._error_reply is not None:
            raise _KernelDied(index)
        return "timeout", seconds

    def run_once(self, skip):
        """One pass over the notebook in a new kernel, leaving out the cells in ``skip``."""
        import nbformat
        from nbclient import NotebookClient

        client = NotebookClient(
            self.notebook,
            kernel_name="python3",
            allow_errors=True,
            interrupt_on_timeout=True,
            record_timing=False,
            on_cell_error=self._on_cell_error,
            resources={"metadata": {"path": str(self.workdir)}},
        )
        with client.setup_kernel(env=self.env):
            for index, cell in enumerate(self.notebook.cells):
                if cell.cell_type != "code" or index in skip:
                    continue
                if self._remaining() < 1:
                    return
                check = self.matched.get(index)
                rebind = _rebind_checks_source(check.code, self.library_checks) if check else None
                if rebind:
                    self._execute(client, nbformat.v4.new_code_cell(rebind), index)
                status, seconds = self._execute(client, cell, index)
                if check is not None:
                    timed_out = (False, f"timed out: the check ran longer than {seconds} s")
                    self.outcomes[check] = timed_out if status == "timeout" else _cell_outcome(cell)

    def run(self):
        """Run the notebook, in new kernels without the killing cells when a kernel dies."""
        killers = []
        while True:
            try:
                self.run_once(set(killers))
                break
            except _KernelDied as death:
                killers.append(death.cell_index)
                if len(killers) > MAX_KERNEL_RESTARTS or self._remaining() < 1:
                    self.not_run = f"not run: the kernel died {len(killers)} times (last in cell {death.cell_index})"
                    break
        for index in killers:
            if index in self.matched:
                self.outcomes[self.matched[index]] = (False, "the kernel died while running this check")
        return self.outcomes


def _read_submission(path):
    """A submitted notebook as an nbformat NotebookNode (v4), or NotebookFormatError."""
    import nbformat

    read_notebook_json(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            notebook = nbformat.read(str(path), as_version=4)
        except Exception as error:  # nbformat raises many kinds on odd files
            raise NotebookFormatError(f"{path.name} cannot be read as a notebook ({error}).") from None
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return notebook


def kernel_environment(quick=True):
    """The environment a grading kernel starts with: this one, in quick mode unless asked otherwise, no widgets."""
    import os

    from gan_helpers import settings

    env = dict(os.environ)
    env[settings.QUICK_ENV] = "1" if quick else "0"
    env["GAN_COURSE_WIDGETS"] = "0"  # nobody watches: plain text output (see gan_helpers.widgets)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def grade_notebook(path, checks, *, time_limit=DEFAULT_NOTEBOOK_TIME_LIMIT,
                   cell_time_limit=DEFAULT_CELL_TIME_LIMIT, quick=True):
    """Run one submitted notebook and return ``{check name: (passed, message)}`` for ``checks``."""
    if path is None:
        return {check.name: (False, "missing notebook") for check in checks}
    try:
        notebook = _read_submission(path)
    except NotebookFormatError as error:
        return {check.name: (False, f"malformed notebook: {error}") for check in checks}
    matched = _match_checks(checks, notebook)
    with tempfile.TemporaryDirectory(prefix="gan_grade_") as workdir:
        run = _NotebookRun(notebook, matched, time_limit=time_limit, cell_time_limit=cell_time_limit,
                           env=kernel_environment(quick), workdir=workdir)
        try:
            outcomes = run.run()
        except Exception as error:  # e.g. a kernel that cannot start: this notebook only
            outcomes = run.outcomes
            run.not_run = _short(f"not run: {type(error).__name__}: {error}")
    results = {}
    for check in checks:
        if check not in matched.values():
            results[check.name] = (False, f"missing: no cell runs `{check.code}`")
        else:
            results[check.name] = outcomes.get(check, (False, run.not_run))
    return results


# ----------------------------------------------------------------------------------------
# Grading a folder of submissions


def find_students(submissions_dir):
    """``{student: [notebook paths]}``: one sub-folder per student, notebooks at any depth."""
    submissions_dir = Path(submissions_dir)
    if not submissions_dir.is_dir():
        raise FileNotFoundError(f"{submissions_dir} is not a folder; it should hold one folder per student.")
    students = {}
    for folder in sorted(path for path in submissions_dir.iterdir() if path.is_dir()):
        if folder.name.startswith("."):
            continue
        students[folder.name] = sorted(
            path for path in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in path.parts
        )
    loose = sorted(submissions_dir.glob("*.ipynb"))
    if loose:
        print(
            f"Left out {len(loose)} notebook(s) lying directly in {submissions_dir} "
            f"(e.g. {loose[0].name}): put each student's notebooks in a folder named after the student.",
            file=sys.stderr,
        )
    return students


def _number(name):
    match = re.match(r"(\d+)[_\- ]", name)
    return match.group(1) if match else None


def match_submission(course_name, submitted):
    """The submitted notebook that answers the course notebook ``course_name``, or None."""
    for path in submitted:
        if path.name == course_name:
            return path
    number = _number(course_name)
    candidates = [path for path in submitted if number is not None and _number(path.name) == number]
    return candidates[0] if len(candidates) == 1 else None


def write_report(results, out_csv):
    """Write the per-check rows and one total row per student to a CSV file."""
    out_csv = Path(out_csv)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    with out_csv.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "notebook", "check", "status", "points", "max_points", "message"])
        for student, rows in _by_student(results).items():
            for row in rows:
                writer.writerow([student, row.notebook, row.check, "passed" if row.passed else "failed",
                                 int(row.passed), 1, row.message])
            passed = sum(row.passed for row in rows)
            writer.writerow([student, "TOTAL", "", "total", passed, len(rows), f"{passed} of {len(rows)} checks passed"])
    return out_csv


def _by_student(results):
    grouped = {}
    for row in results:
        grouped.setdefault(row.student, []).append(row)
    return grouped


def summary_table(results):
    """A plain-text table: one row per student, passed/total per notebook and in all."""
    notebooks = list(dict.fromkeys(row.notebook for row in results))
    labels = [name.split("_")[0] if _number(name) else Path(name).stem for name in notebooks]
    students = _by_student(results)
    width = max([len("student")] + [len(name) for name in students])
    header = f"{'student':<{width}}  " + "  ".join(f"{label:>5}" for label in labels) + "  total"
    lines = [header, "-" * len(header)]
    for student, rows in students.items():
        cells = []
        for notebook in notebooks:
            mine = [row for row in rows if row.notebook == notebook]
            cells.append(f"{sum(row.passed for row in mine)}/{len(mine)}".rjust(5))
        total = f"{sum(row.passed for row in rows)}/{len(rows)}"
        lines.append(f"{student:<{width}}  " + "  ".join(cells) + f"  {total}")
    return "\n".join(lines)


def grade(submissions_dir, out_csv, *, notebooks_dir=None, time_limit=DEFAULT_NOTEBOOK_TIME_LIMIT,
          cell_time_limit=DEFAULT_CELL_TIME_LIMIT, quick=True, log=print, jobs=1):
    """Grade every student's notebooks against the checks of the course's notebooks.

    Args:
        submissions_dir: one folder per student (the folder name is the student).
        out_csv: where the report goes (see :func:`write_report`).
        notebooks_dir: the solution notebooks whose checks count; default the course's.
        time_limit: seconds one notebook may run in all; cell_time_limit: per cell.
        quick: run the kernels in quick mode (``GAN_COURSE_QUICK=1``).
        log: called with a line of progress per notebook (None for silence).
        jobs: how many notebooks run at once, each in its own kernel (about one per
            CPU core; time limits are wall-clock, so leave them room when raising this).
    Returns:
        The list of :class:`CheckResult`, in student then notebook order, also written to ``out_csv``.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a whole number >= 1, not {jobs!r}.")
    notebooks_dir = Path(notebooks_dir) if notebooks_dir is not None else COURSE_NOTEBOOKS
    course = {path.name: find_checks(read_notebook_json(path)) for path in course_notebooks(notebooks_dir)}
    course = {name: checks for name, checks in course.items() if checks}
    if not course:
        raise ValueError(f"The notebooks in {notebooks_dir} hold no check cells (cells calling test_* functions).")
    students = find_students(submissions_dir)
    if not students:
        raise FileNotFoundError(f"{submissions_dir} holds no student folders (one folder per student).")
    tasks = [(student, name, checks, match_submission(name, submitted))
             for student, submitted in students.items() for name, checks in course.items()]

    def grade_one(task):
        student, name, checks, path = task
        start = time.monotonic()
        outcomes = grade_notebook(path, checks, time_limit=time_limit, cell_time_limit=cell_time_limit, quick=quick)
        rows = [CheckResult(student, name, check.name, *outcomes[check.name]) for check in checks]
        if log:
            passed = sum(row.passed for row in rows)
            log(f"{student}: {name}: {passed}/{len(rows)} checks passed ({time.monotonic() - start:.1f} s)")
        return rows

    if jobs == 1:
        graded = [grade_one(task) for task in tasks]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            graded = list(pool.map(grade_one, tasks))
    results = [row for rows in graded for row in rows]
    write_report(results, out_csv)
    return results



# ----------------------------------------------------------------------------------------
# Command line


def add_arguments(parser):
    parser.add_argument("submissions", help="folder with one sub-folder of notebooks per student")
    parser.add_argument("--out", default="report.csv", help="CSV report to write (default report.csv)")
    parser.add_argument("--notebooks", default=None,
                        help=f"solution notebooks whose checks count (default {COURSE_NOTEBOOKS})")
    parser.add_argument("--timeout", type=float, default=DEFAULT_NOTEBOOK_TIME_LIMIT,
                        help="seconds one notebook may run in all (default %(default)s)")
    parser.add_argument("--cell-timeout", type=float, default=DEFAULT_CELL_TIME_LIMIT,
                        help="seconds one cell may run (default %(default)s)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="notebooks to run at once, each in its own kernel (default 1; about one per CPU core)")
    parser.add_argument("--full", action="store_true",
                        help="run the notebooks in full, not in quick mode (slow: real training)")


def run(args):
    try:
        results = grade(args.submissions, args.out, notebooks_dir=args.notebooks, time_limit=args.timeout,
                        cell_time_limit=args.cell_timeout, quick=not args.full, jobs=args.jobs)
    except (OSError, ValueError) as error:
        print(f"grade: {error}", file=sys.stderr)
        return 2
    print()
    print(summary_table(results))
    print(f"\nReport: {args.out}")
    return 0

