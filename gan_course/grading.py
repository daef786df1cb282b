"""Grade the course: run each student's notebooks and report which checks pass.

    python -m gan_course grade SUBMISSIONS/ --out report.csv [--kernel-prefix "docker run ..."]

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
(:mod:`gan_course.judge` says how, and against what it holds). A check
defined in the notebook itself (a course of the instructor's own) passes when its cell
runs without an error.

**Submissions.** ``SUBMISSIONS/`` holds one folder per student, named after the
student, with that student's notebooks in it (at any depth). A notebook is matched
to the course's by file name, or else by its number (``01_...``). Each notebook runs
in its own new kernel (on this machine, forked from a process that imported TensorFlow
once, ``kernel_factory``), in a scratch folder, in quick mode, without widgets, under a
time limit per cell and per notebook (``--jobs N`` runs N notebooks at once, those with
the most code first), under the instructor's command prefix where one is given
(``--kernel-prefix``, e.g. a container). What goes wrong costs only the checks it touches:

- a notebook that is not valid JSON or not a notebook: all its checks fail;
- a check cell that is missing: that check fails ("missing");
- a cell that runs too long: it is interrupted, its check (if it is one) fails,
  the notebook goes on; once the notebook's time is spent the checks not yet run fail;
- a cell other than a check that raises: the notebook goes on, and the notebook's line
  of progress names the cell and its error (the checks that needed it fail on their own);
- a kernel that dies: the notebook is run again in a new kernel without the cell
  that killed it (at most ``notebook_run.MAX_KERNEL_RESTARTS`` times);
- a submission that changes the course's files on disk: grading stops
  (:class:`CourseFilesChanged`), since every later grade would rest on them.

Finding the checks: ``check_cells``; running one notebook: ``notebook_run``; this module
grades a folder of students and writes the report. Imports no TensorFlow: the notebooks
run in kernels of their own.
"""

import contextlib
import csv
import os
import re
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from gan_course import kernel_factory
from gan_course.check_cells import find_checks, judged_checks, library_check_names
from gan_course.course_files import CourseFilesChanged, course_file_hashes, library_folder
from gan_course.notebook_files import COURSE_NOTEBOOKS, cell_source, course_notebooks, read_notebook_json
from gan_course.notebook_run import (
    DEFAULT_CELL_TIME_LIMIT,
    DEFAULT_NOTEBOOK_TIME_LIMIT,
    grade_notebook,
    kernel_environment,
)


RAISED_SHOWN = 3  # cells named in a notebook's log line when cells other than checks failed


@dataclass
class CheckResult:
    """The outcome of one check for one student: one row of the report."""

    student: str
    notebook: str
    check: str
    passed: bool
    message: str


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


def course_checks(notebooks_dir=None):
    """``{notebook name: (its checks, characters of its code)}`` of the solution notebooks that have checks."""
    notebooks_dir = Path(notebooks_dir) if notebooks_dir is not None else COURSE_NOTEBOOKS
    course = {}
    for path in course_notebooks(notebooks_dir):
        notebook = read_notebook_json(path)
        checks = find_checks(notebook)
        if checks:
            course[path.name] = (checks, sum(len(cell_source(cell)) for cell in notebook["cells"]
                                             if cell["cell_type"] == "code"))
    if not course:
        raise ValueError(f"The notebooks in {notebooks_dir} hold no check cells (cells calling test_* functions).")
    return course


def longest_first(names, code_sizes):
    """The positions of the notebooks ``names`` in the order to start them: the most code first.

    Run two or more at a time, a long notebook started last runs alone at the end while the
    other cores wait; how much code a notebook holds roughly says how long it runs.
    """
    return sorted(range(len(names)), key=lambda position: -code_sizes[names[position]])


def _in_order(function, items, jobs):
    """``function`` of each item, ``jobs`` at a time, items started in order; the results in that order."""
    if jobs == 1:
        return [function(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(function, items))


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
            CPU core, whose threads the kernels share; time limits are wall-clock, so
            leave them room when raising this). The notebooks with the most code start first.
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
    course = course_checks(notebooks_dir)
    students = find_students(submissions_dir)
    if not students:
        raise FileNotFoundError(f"{submissions_dir} holds no student folders (one folder per student).")
    tasks = [(student, name, checks, match_submission(name, submitted))
             for student, submitted in students.items() for name, (checks, _) in course.items()]
    settings = {"time_limit": time_limit, "cell_time_limit": cell_time_limit, "quick": quick,
                "kernel_prefix": shlex.split(kernel_prefix) if isinstance(kernel_prefix, str) else kernel_prefix,
                "files": course_file_hashes(), "threads": max(1, (os.cpu_count() or 1) // jobs)}
    with _kernel_factory(course, settings) as factory:
        results, stopped = _grade_all(tasks, course, {**settings, "factory": factory}, jobs, log)
    write_report(results, out_csv)
    if stopped:
        raise CourseFilesChanged(f"{stopped[0]} The report so far: {out_csv}.", stopped[0].results)
    return results


def _kernel_factory(course, settings):
    """A kernel factory to fork the kernels from, where they run on this machine (no kernel prefix).

    Saves each kernel starting Python and importing ipykernel, and, where the grader judges
    checks of the library, TensorFlow and the checks (``kernel_factory``).
    """
    if settings["kernel_prefix"]:
        return contextlib.nullcontext()
    library = library_check_names(library_folder())
    judges = any(judged_checks(checks, library) for checks, _ in course.values())
    return kernel_factory.started(kernel_environment(settings["quick"], None, settings["threads"]), checks=judges)


def raised_cells(raised):
    """The log's mention of the cells other than checks that went wrong (``NotebookGrade.raised``), or ''."""
    if not raised:
        return ""
    shown = "; ".join(f"cell {index}: {what}" for index, what in list(raised.items())[:RAISED_SHOWN])
    more = f"; {len(raised) - RAISED_SHOWN} more" if len(raised) > RAISED_SHOWN else ""
    return f"; cells other than checks that failed: {shown}{more}"


def _grade_all(tasks, course, settings, jobs, log):
    """(the rows of every task, in order; the CourseFilesChanged that stopped grading, if one did)."""
    stopped = []

    def grade_one(task):
        student, name, checks, path = task
        if stopped:
            return [CheckResult(student, name, check.name, False, "not graded: grading stopped (see below)")
                    for check in checks]
        start = time.monotonic()
        try:
            outcomes, raised = grade_notebook(path, checks, **settings)
        except CourseFilesChanged as error:
            stopped.append(error)
            outcomes, raised = error.results, {}
        rows = [CheckResult(student, name, check.name, *outcomes[check.name]) for check in checks]
        if log:
            passed = sum(row.passed for row in rows)
            log(f"{student}: {name}: {passed}/{len(rows)} checks passed ({time.monotonic() - start:.1f} s)"
                + raised_cells(raised))
        return rows

    order = longest_first([name for _, name, _, _ in tasks], {name: size for name, (_, size) in course.items()})
    graded = dict(zip(order, _in_order(grade_one, [tasks[position] for position in order], jobs)))
    return [row for position in range(len(tasks)) for row in graded[position]], stopped


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

