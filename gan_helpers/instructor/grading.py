"""Grade the course: run each student's notebooks and report which checks pass.

    python -m gan_helpers grade SUBMISSIONS/ --out report.csv [--kernel-prefix "docker run ..."]

**Checks.** A check is a code cell whose code is nothing but calls of functions named
``test_*``, such as ``test_leaky_relu(leaky_relu)``. The checks a notebook must pass
are those of the solution notebook of the same name. In a submission a check is found
by its code (spacing and comments aside); a check cell that is missing or edited fails.

**Verdicts the submission cannot forge.** A check of the course's library
(``gan_helpers.checks``) is not judged by the submission's cell: before the
submission's first cell the grader runs a cell of its own that records what the checks
run on, and in place of each check cell another that verifies nothing of it was
changed, imports the checks afresh, makes sure the function handed in is the
learner's own code (not the library's reference answer, see ``references``), runs the
check and prints a verdict signed with a key only that cell knows
(:mod:`gan_helpers.instructor.judge` says how, and against what it holds). A check
defined in the notebook itself (a course of the instructor's own) passes when its cell
runs without an error.

**Submissions.** ``SUBMISSIONS/`` holds one folder per student, named after the
student, with that student's notebooks in it (at any depth). A notebook is matched
to the course's by file name, or else by its number (``01_...``). Each notebook runs
in its own fresh kernel, in a scratch folder, in quick mode, without widgets, under a
time limit per cell and per notebook (``--jobs N`` runs N notebooks at once), under
the instructor's command prefix where one is given (``--kernel-prefix``, e.g. a
container). What goes wrong costs only the checks it touches:

- a notebook that is not valid JSON or not a notebook: all its checks fail;
- a check cell that is missing: that check fails ("missing");
- a cell that runs too long: it is interrupted, its check (if it is one) fails,
  the notebook goes on; once the notebook's time is spent the checks not yet run fail;
- a kernel that dies: the notebook is run again in a new kernel without the cell
  that killed it (at most ``MAX_KERNEL_RESTARTS`` times);
- a submission that changes the course's files on disk: grading stops
  (:class:`CourseFilesChanged`), since every later grade would rest on them.

Imports no TensorFlow: the notebooks run in kernels of their own.
"""

import ast
import csv
import hashlib
import hmac
import json
import os
import re
import secrets
import shlex
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from gan_helpers.instructor import judge as judge_code
from gan_helpers.instructor.references import exercise

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
    return ast.unparse(tree) if tree.body and all(map(_is_check_call, tree.body)) else None


def _is_check_call(statement):
    """A statement that is only a call of a ``test_*`` function."""
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)
            and isinstance(statement.value.func, ast.Name) and statement.value.func.id.startswith("test_"))


def check_function_names(code):
    """The ``test_*`` functions a check's code calls, in order."""
    return [statement.value.func.id for statement in ast.parse(code).body]


def find_checks(notebook):
    """The checks of a notebook (dict), in order, each named after its first ``test_*`` function.

    A function checked twice in one notebook gives ``name``, ``name#2``, ...
    """
    codes = [check_code(cell_source(cell)) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    checks, seen = [], {}
    for code in filter(None, codes):
        base = check_function_names(code)[0]
        seen[base] = seen.get(base, 0) + 1
        checks.append(Check(base if seen[base] == 1 else f"{base}#{seen[base]}", code))
    return checks


def _match_checks(checks, notebook):
    """Map each submission cell index that runs a check to that Check (first match, in order)."""
    wanted, matched = list(checks), {}
    for index, cell in enumerate(notebook.cells):
        code = check_code(cell.source) if cell.cell_type == "code" else None
        check = next((check for check in wanted if check.code == code), None)
        if check is not None:
            matched[index] = check
            wanted.remove(check)
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


def _printed(cell):
    """What an executed cell printed on stdout."""
    return "".join(output.get("text", "") for output in cell.get("outputs", [])
                   if output.get("output_type") == "stream" and output.get("name") == "stdout")


def _error(cell):
    """``"Name: value"`` of an executed cell's first error, or None."""
    error = next((output for output in cell.get("outputs", []) if output.get("output_type") == "error"), None)
    if error is None:
        return None
    name, value = error.get("ename", "Error"), error.get("evalue", "")
    return f"{name}: {value}" if value else name


def _cell_outcome(cell):
    """(passed, message) from an executed cell's outputs: an error fails, else its last printed line."""
    error = _error(cell)
    if error is not None:
        return False, _short(_strip_ansi(error))
    return True, _short(judge_code.last_line(_printed(cell)))


def _library_checks():
    """The names of the ``test_*`` functions that ``gan_helpers.checks`` defines, read from its source.

    Read, not imported: importing the checks would import TensorFlow into the grader.
    """
    folder = Path(__file__).resolve().parents[1] / "checks"
    names = set()
    for path in folder.rglob("*.py"):
        names.update(re.findall(r"^def (test_\w+)\(", path.read_text(encoding="utf-8"), flags=re.MULTILINE))
    return frozenset(names)


def course_file_hashes():
    """{path inside gan_helpers: sha256} of the library the grader (and, unchanged, the kernels) use."""
    return judge_code.file_hashes(str(Path(judge_code.__file__).resolve().parents[1]))


class CourseFilesChanged(RuntimeError):
    """A submission changed the course's files on disk: later grades would rest on the changed files.

    ``results`` holds the outcomes of the notebook that changed them (``grade_notebook``).
    """

    def __init__(self, message, results=None):
        super().__init__(message)
        self.results = results or {}


_JUDGE_SOURCE = Path(judge_code.__file__).read_text(encoding="utf-8") + (
    "\nmain(json.loads(GRADER_PARAMETERS), USER_NAMESPACE)\n"
)


class _Trust:
    """The grader's side of the judge (gan_helpers.instructor.judge) for one kernel.

    Keeps what the record cell reported (the digests of what the checks run on, the ids
    of the course's ``test_*`` functions) out of the kernel's reach, makes each grader
    cell with a key of its own, and reads back only verdicts signed with that key.
    """

    def __init__(self, files):
        self.files = files
        self.digests = None
        self.check_ids = {}
        self.failure = None

    def cell(self, action, **extra):
        """(source of a grader cell, its key, its nonce)."""
        import nbformat

        key, nonce = secrets.token_hex(32), secrets.token_hex(16)
        parameters = {"action": action, "key": key, "nonce": nonce, "files": self.files,
                      "digests": self.digests or {}, "check_ids": self.check_ids, **extra}
        source = (f"exec({_JUDGE_SOURCE!r}, {{'__name__': 'gan_course_grader', "
                  f"'GRADER_PARAMETERS': {json.dumps(parameters)!r}, 'USER_NAMESPACE': globals()}})")
        return nbformat.v4.new_code_cell(source), key, nonce

    def judge_cell(self, check):
        """A grader cell that judges ``check``: each call, its arguments as source, its exercise's row."""
        calls = []
        for call in (statement.value for statement in ast.parse(check.code).body):
            row = exercise(call.func.id)
            learner = None if row.learner_arguments is None else list(row.learner_arguments)
            calls.append({"check": call.func.id, "args": [ast.unparse(argument) for argument in call.args],
                          "kwargs": {word.arg: ast.unparse(word.value) for word in call.keywords if word.arg},
                          "references": list(row.references), "learner_arguments": learner})
        return self.cell("judge", calls=calls)

    def read(self, cell, key, nonce):
        """The signed verdict payload of a grader cell (dict), or a failure payload saying why there is none."""
        mark = judge_code.VERDICT_MARK + " "
        for line in _printed(cell).splitlines():
            if not line.startswith(mark):
                continue
            body, _, signature = line[len(mark):].rpartition(" ")
            expected = hmac.new(key.encode(), body.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, signature):
                continue
            payload = json.loads(body)
            if payload.get("nonce") == nonce:
                return payload
        error = _error(cell)
        if error is not None:
            return {"passed": False, "message": f"the grader's check did not finish ({error})"}
        return {"passed": False, "message": "no verdict from the grader's check: the submission silenced, "
                                            "redirected or rewrote the kernel's output"}

    def update(self, payload):
        """Keep what a signed verdict reports: the digests of the checks imported afresh, their ids."""
        if payload.get("digests"):
            self.digests = judge_code.with_fresh_checks(self.digests or {}, payload["digests"])
        for name, identity in payload.get("check_ids", {}).items():
            known = self.check_ids.setdefault(name, [])
            if identity not in known:
                known.append(identity)


class _KernelDied(Exception):
    def __init__(self, cell_index):
        super().__init__(cell_index)
        self.cell_index = cell_index


class _NotebookRun:
    """Execute one notebook's cells in a fresh kernel and record each check's outcome."""

    def __init__(self, notebook, matched, *, time_limit, cell_time_limit, env, workdir, files, kernel_prefix):
        self.notebook = notebook
        self.matched = matched
        self.deadline = time.monotonic() + time_limit
        self.cell_time_limit = cell_time_limit
        self.env = env
        self.workdir = workdir
        self.files = files
        self.kernel_prefix = kernel_prefix
        library_checks = _library_checks()  # a check made only of these, the grader judges itself
        self.judged = {check for check in matched.values()
                       if set(check_function_names(check.code)) <= library_checks}
        self.outcomes = {}
        self.not_run = f"not run: the notebook's time limit of {time_limit:g} s was reached"
        self._error_reply = None

    def _remaining(self):
        return self.deadline - time.monotonic()

    def _on_cell_error(self, cell, cell_index, execute_reply):
        self._error_reply = execute_reply.get("content", {})

    def _execute_cell(self, client, cell, index, store_history):
        """Run a cell (nbclient); the error it replied is kept in ``_error_reply``."""
        from nbclient.exceptions import DeadKernelError

        self._error_reply = None
        try:
            client.execute_cell(cell, index, store_history=store_history)
        except DeadKernelError:
            raise _KernelDied(index) from None

    def _execute(self, client, cell, index, store_history=True):
        """Run one cell within the time left; return 'ok', 'error' or 'timeout' (seconds allowed)."""
        import nbformat

        seconds = max(1, int(min(self.cell_time_limit, self._remaining())))
        client.timeout = seconds
        client.error_on_timeout = {"ename": "TimeoutError", "evalue": f"the cell ran longer than {seconds} s"}
        self._execute_cell(client, cell, index, store_history)
        if self._error_reply is None:
            return "ok", seconds
        if self._error_reply.get("ename") != "TimeoutError":
            return "error", seconds
        client.timeout = RESPONSIVE_PROBE_SECONDS
        self._execute_cell(client, nbformat.v4.new_code_cell("pass"), index, store_history=False)
        if self._error_reply is not None:
            raise _KernelDied(index)
        return "timeout", seconds

    def _grader_cell(self, client, trust, made, index, what="the check"):
        """Run a grader cell (record or judge); return its verdict payload."""
        cell, key, nonce = made
        status, seconds = self._execute(client, cell, index, store_history=False)
        if status == "timeout":
            return {"passed": False, "message": f"timed out: {what} ran longer than {seconds} s"}
        payload = trust.read(cell, key, nonce)
        trust.update(payload)
        return payload

    def run_once(self, skip):
        """One pass over the notebook in a new kernel, leaving out the cells in ``skip``."""
        from nbclient import NotebookClient

        client = NotebookClient(self.notebook, kernel_name="python3", allow_errors=True, record_timing=False,
                                interrupt_on_timeout=True, on_cell_error=self._on_cell_error,
                                resources={"metadata": {"path": str(self.workdir)}},
                                kernel_manager_class=kernel_manager_class(self.kernel_prefix))
        with client.setup_kernel(env=self.env):
            trust = _Trust(self.files) if self.judged else None
            if trust is not None:
                recorded = self._grader_cell(client, trust, trust.cell("record"), -1,
                                             what="importing the checks before the notebook's first cell")
                if not recorded["passed"]:
                    trust.failure = recorded["message"]
            for index, cell in enumerate(self.notebook.cells):
                if cell.cell_type != "code" or index in skip:
                    continue
                if self._remaining() < 1:
                    return
                check = self.matched.get(index)
                if check in self.judged:
                    if trust.failure:
                        self.outcomes[check] = (False, trust.failure)
                        continue
                    payload = self._grader_cell(client, trust, trust.judge_cell(check), index)
                    self.outcomes[check] = (bool(payload["passed"]), _short(_strip_ansi(payload["message"])))
                    continue
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


def kernel_manager_class(prefix=None):
    """The kernel manager the grader starts kernels with: jupyter_client's, or one that runs under ``prefix``.

    With a prefix (a list of words, e.g. ``["docker", "run", "--rm", "-i", ..., "IMAGE"]``)
    the kernel's command is ``PREFIX python -m ipykernel_launcher -f CONNECTION_FILE``:
    ``python`` is found by the prefix (a container's own Python; on this machine the
    kernel's PATH starts with this Python's folder). ``{connection_file}`` and ``{cwd}``
    in the prefix are replaced by the kernel's connection file and scratch folder.
    """
    from jupyter_client import AsyncKernelManager

    if not prefix:
        return AsyncKernelManager
    words = list(prefix)

    class PrefixedKernelManager(AsyncKernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            command = super().format_kernel_cmd(extra_arguments)
            fields = {"connection_file": os.path.realpath(self.connection_file),
                      "cwd": str(self._launch_args.get("cwd") or os.getcwd())}
            filled = [re.sub(r"\{(connection_file|cwd)\}", lambda match: fields[match.group(1)], word) for word in words]
            return filled + ["python"] + command[1:]

    return PrefixedKernelManager


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


def kernel_environment(quick=True, kernel_prefix=None):
    """The environment a grading kernel starts with: this one, in quick mode unless asked otherwise, no widgets.

    Under a kernel prefix, this Python's folder comes first on PATH, so that a prefix
    run on this machine (``env``, ``nice``, a sandbox) starts this Python as ``python``.
    """
    from gan_helpers import settings

    env = dict(os.environ)
    env[settings.QUICK_ENV] = "1" if quick else "0"
    env["GAN_COURSE_WIDGETS"] = "0"  # nobody watches: plain text output (see gan_helpers.widgets)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if kernel_prefix:
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def grade_notebook(path, checks, *, time_limit=DEFAULT_NOTEBOOK_TIME_LIMIT,
                   cell_time_limit=DEFAULT_CELL_TIME_LIMIT, quick=True, kernel_prefix=None, files=None):
    """Run one submitted notebook and return ``{check name: (passed, message)}`` for ``checks``.

    ``kernel_prefix``: words to start the kernel under (see :func:`kernel_manager_class`).
    ``files``: the course's file hashes the kernel's library must match (default: as now);
    raises :class:`CourseFilesChanged` when the notebook changed them.
    """
    files = course_file_hashes() if files is None else files
    if path is None:
        return {check.name: (False, "missing notebook") for check in checks}
    try:
        notebook = _read_submission(path)
    except NotebookFormatError as error:
        return {check.name: (False, f"malformed notebook: {error}") for check in checks}
    matched = _match_checks(checks, notebook)
    with tempfile.TemporaryDirectory(prefix="gan_grade_") as workdir:
        run = _NotebookRun(notebook, matched, time_limit=time_limit, cell_time_limit=cell_time_limit,
                           env=kernel_environment(quick, kernel_prefix), workdir=workdir, files=files,
                           kernel_prefix=kernel_prefix)
        try:
            outcomes = run.run()
        except Exception as error:  # e.g. a kernel that cannot start: this notebook only
            outcomes = run.outcomes
            run.not_run = _short(f"not run: {type(error).__name__}: {error}")
    found = set(matched.values())
    results = {check.name: outcomes.get(check, (False, run.not_run)) if check in found
               else (False, f"missing: no cell runs `{check.code}`") for check in checks}
    now = course_file_hashes()
    changed = sorted(name for name in set(files) | set(now) if files.get(name) != now.get(name))
    if changed:
        raise CourseFilesChanged(
            f"grading {path} changed the course's files: {', '.join('gan_helpers/' + name for name in changed)}. "
            "Grading stopped: every later grade would rest on them. Restore them (git checkout, or reinstall "
            "the course) and grade inside a container (README, For instructors: --kernel-prefix).", results)
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
        if not folder.name.startswith("."):
            students[folder.name] = sorted(path for path in folder.rglob("*.ipynb")
                                           if ".ipynb_checkpoints" not in path.parts)
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
          cell_time_limit=DEFAULT_CELL_TIME_LIMIT, quick=True, log=print, jobs=1, kernel_prefix=None):
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
        kernel_prefix: a command (string or list of words) each kernel runs under, e.g. a
            container runtime; see :func:`kernel_manager_class`. None: kernels run here.
    Returns:
        The list of :class:`CheckResult`, in student then notebook order, also written to ``out_csv``.
    Raises:
        CourseFilesChanged: a notebook changed the course's files; the report holds what was
            graded until then (the notebooks not yet started: "not graded").
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
    if isinstance(kernel_prefix, str):
        kernel_prefix = shlex.split(kernel_prefix)
    files = course_file_hashes()

    stopped = []

    def grade_one(task):
        student, name, checks, path = task
        if stopped:
            return [CheckResult(student, name, check.name, False, "not graded: grading stopped (see below)")
                    for check in checks]
        start = time.monotonic()
        try:
            outcomes = grade_notebook(path, checks, time_limit=time_limit, cell_time_limit=cell_time_limit,
                                      quick=quick, kernel_prefix=kernel_prefix, files=files)
        except CourseFilesChanged as error:
            stopped.append(error)
            outcomes = error.results
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
    if stopped:
        raise CourseFilesChanged(f"{stopped[0]} The report so far: {out_csv}.", stopped[0].results)
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
    parser.add_argument("--kernel-prefix", default=None, metavar="COMMAND",
                        help="run each notebook's kernel as 'COMMAND python -m ipykernel_launcher -f "
                             "{connection_file}', e.g. a container runtime (README, For instructors); "
                             "{connection_file} and {cwd} in COMMAND are filled in")


def run(args):
    try:
        results = grade(args.submissions, args.out, notebooks_dir=args.notebooks, time_limit=args.timeout,
                        cell_time_limit=args.cell_timeout, quick=not args.full, jobs=args.jobs,
                        kernel_prefix=args.kernel_prefix)
    except (OSError, ValueError, CourseFilesChanged) as error:
        print(f"grade: {error}", file=sys.stderr)
        return 2
    print()
    print(summary_table(results))
    print(f"\nReport: {args.out}")
    return 0

