"""course: the student version of the notebooks and the grader, on small notebooks and the real ones.

Small notebooks made here (no TensorFlow in their kernels) test what can go wrong in a
submission: a wrong answer, an infinite loop, a kernel that dies, a deleted check, a
broken file. The course's notebooks 01-04 (no training) test the real thing: the
solutions pass every check, the student version fails exactly the exercise checks, and
one wrong function fails its check alone.
"""

import ast
import csv
import json
import shutil
from pathlib import Path

import nbformat
import pytest

import gan_course
from gan_course import grading, notebook_run
from gan_course.cli import main

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"

CHECKS_CELL = '''\
def test_double(f):
    assert f(2) == 4, f"double(2) should be 4, not {f(2)}"
    print("double: all good")

def test_triple(f):
    assert f(2) == 6, f"triple(2) should be 6, not {f(2)}"
    print("triple: all good")
'''

DOUBLE = '''\
def double(x):
    """Twice x."""
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION
'''

TRIPLE = '''\
### BEGIN SOLUTION
def triple(x):
    return 3 * x
### END SOLUTION
'''


def arithmetic_notebook(double=DOUBLE, triple=TRIPLE, drop_triple_check=False):
    """A small course notebook: two exercises, each followed by its check, and a question."""
    cells = [
        nbformat.v4.new_markdown_cell("# Arithmetic\n\nTwo small exercises."),
        nbformat.v4.new_code_cell(CHECKS_CELL),
        nbformat.v4.new_code_cell(double),
        nbformat.v4.new_code_cell("test_double(double)"),
        nbformat.v4.new_code_cell(triple),
        nbformat.v4.new_code_cell("# check your triple\ntest_triple( triple )"),
        nbformat.v4.new_markdown_cell("Why is doubling linear?"),
        nbformat.v4.new_markdown_cell("**Answer.** Because $2(x + y) = 2x + 2y$."),
    ]
    if drop_triple_check:
        del cells[5]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def greeting_notebook(body='    return "hello " + name'):
    cells = [
        nbformat.v4.new_code_cell('def test_greet(f):\n    assert f("x") == "hello x", repr(f("x"))'),
        nbformat.v4.new_code_cell(f"def greet(name):\n    ### BEGIN SOLUTION\n{body}\n    ### END SOLUTION"),
        nbformat.v4.new_code_cell("test_greet(greet)"),
    ]
    return nbformat.v4.new_notebook(cells=cells)


def write(notebook, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))
    return path


@pytest.fixture()
def small_course(tmp_path):
    folder = tmp_path / "course"
    write(arithmetic_notebook(), folder / "01_arithmetic.ipynb")
    write(greeting_notebook(), folder / "02_greeting.ipynb")
    return folder


def by_check(results):
    return {(row.student, row.notebook, row.check): row for row in results}


# ---------------------------------------------------------------------------------------
# The student version


def test_student_version_stubs_each_solution_region_at_its_indentation(small_course, tmp_path):
    gan_course.make_student(small_course, tmp_path / "student")
    notebook = nbformat.read(str(tmp_path / "student" / "01_arithmetic.ipynb"), as_version=4)
    sources = [cell.source for cell in notebook.cells]
    assert sources[2] == 'def double(x):\n    """Twice x."""\n    # YOUR CODE HERE\n    raise NotImplementedError\n'
    assert sources[4] == "# YOUR CODE HERE\nraise NotImplementedError\n"
    assert sources[7] == "**Answer.** *Your answer here.*"
    solution = arithmetic_notebook()
    for index in (0, 1, 3, 5, 6):
        assert sources[index] == solution.cells[index].source
    assert not any("SOLUTION" in source for source in sources)


def test_student_version_drops_outputs_and_keeps_everything_else(small_course, tmp_path):
    solution_path = small_course / "01_arithmetic.ipynb"
    notebook = nbformat.read(str(solution_path), as_version=4)
    notebook.cells[3].outputs = [nbformat.v4.new_output("stream", name="stdout", text="double: all good\n")]
    notebook.cells[3].execution_count = 7
    notebook.cells[3].metadata["tags"] = ["check"]
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nbformat.write(notebook, str(solution_path))

    gan_course.make_student(small_course, tmp_path / "student")
    student = json.loads((tmp_path / "student" / "01_arithmetic.ipynb").read_text())
    original = json.loads(solution_path.read_text())
    assert all(cell.get("outputs", []) == [] for cell in student["cells"])
    assert all(cell.get("execution_count") is None for cell in student["cells"] if cell["cell_type"] == "code")
    assert "widgets" not in student["metadata"]
    assert student["cells"][3]["metadata"] == {"tags": ["check"]}
    assert [cell["id"] for cell in student["cells"]] == [cell["id"] for cell in original["cells"]]
    assert student["metadata"]["kernelspec"] == original["metadata"]["kernelspec"]


def test_make_student_twice_gives_identical_bytes(small_course, tmp_path):
    first = gan_course.make_student(small_course, tmp_path / "a")
    second = gan_course.make_student(small_course, tmp_path / "b")
    assert [path.name for path in first] == ["01_arithmetic.ipynb", "02_greeting.ipynb"]
    for one, two in zip(first, second):
        assert one.read_bytes() == two.read_bytes()
    again = gan_course.make_student(tmp_path / "a", tmp_path / "c")
    assert [path.read_bytes() for path in again] == [path.read_bytes() for path in first]


def test_unclosed_solution_region_is_reported_and_nothing_is_written(small_course, tmp_path):
    write(arithmetic_notebook(triple="### BEGIN SOLUTION\ndef triple(x):\n    return 3 * x\n"),
          small_course / "03_broken.ipynb")
    with pytest.raises(gan_course.NotebookFormatError, match=r"03_broken.ipynb, cell 4: ### BEGIN SOLUTION is never closed"):
        gan_course.make_student(small_course, tmp_path / "student")
    assert not (tmp_path / "student").exists()


def test_make_student_refuses_to_overwrite_the_solutions(small_course):
    with pytest.raises(ValueError, match="overwrite the solutions"):
        gan_course.make_student(small_course, small_course)


def test_make_student_command(small_course, tmp_path, capsys):
    assert main(["make-student", str(small_course), str(tmp_path / "out")]) == 0
    assert "Wrote 2 student notebooks" in capsys.readouterr().out
    assert main(["make-student", str(tmp_path / "nowhere"), str(tmp_path / "out2")]) == 2
    assert "is not a folder of notebooks" in capsys.readouterr().err


def test_checks_are_cells_of_test_calls_only():
    assert gan_course.check_code("test_double(double)") == "test_double(double)"
    assert gan_course.check_code("# comment\ntest_a( f )\n\ntest_b(g, h=1)") == "test_a(f)\ntest_b(g, h=1)"
    assert gan_course.check_code("x = test_double(double)") is None
    assert gan_course.check_code("double(2)") is None
    assert gan_course.check_code("test_double(double") is None
    assert gan_course.check_code("# only a comment") is None
    names = [check.name for check in gan_course.find_checks(json.loads(nbformat.writes(arithmetic_notebook())))]
    assert names == ["test_double", "test_triple"]


# ---------------------------------------------------------------------------------------
# Grading: everything that can go wrong in one run, each student affected alone


@pytest.fixture(scope="module")
def graded_small_course(tmp_path_factory):
    """One grading run of four students, each with their own trouble (6 kernels, one restart), two at a time."""
    root = tmp_path_factory.mktemp("grading")
    solutions = root / "course"
    write(arithmetic_notebook(), solutions / "01_arithmetic.ipynb")
    write(greeting_notebook(), solutions / "02_greeting.ipynb")
    submissions = root / "submissions"
    shutil.copytree(solutions, submissions / "ada" / "nested")
    # a wrong double, in a renamed notebook (matched by its number); 02 not handed in
    write(arithmetic_notebook(double="def double(x):\n    return x + 3"), submissions / "bob" / "01_arithmetic (1).ipynb")
    # an infinite loop in double (asleep, so as not to take a core): that check times out, the rest still runs
    write(arithmetic_notebook(double="import time\ndef double(x):\n    while True:\n        time.sleep(0.1)"),
          submissions / "cy" / "01_arithmetic.ipynb")
    (submissions / "cy" / "02_greeting.ipynb").write_text("{ this is not json")
    # a double that kills the kernel, and the triple check deleted; 02 a student version
    write(arithmetic_notebook(double="import os\ndef double(x):\n    os._exit(1)", drop_triple_check=True),
          submissions / "dee" / "01_arithmetic.ipynb")
    write(greeting_notebook(body="    # YOUR CODE HERE\n    raise NotImplementedError"), submissions / "dee" / "02_greeting.ipynb")
    lines = []
    results = gan_course.grade(submissions, root / "report.csv", notebooks_dir=solutions, cell_time_limit=4,
                           time_limit=60, log=lines.append, jobs=2)
    return results, root / "report.csv", lines


def test_solutions_pass_and_wrong_answers_fail_with_the_checks_message(graded_small_course):
    results = by_check(graded_small_course[0])
    for check in [("01_arithmetic.ipynb", "test_double"), ("01_arithmetic.ipynb", "test_triple"),
                  ("02_greeting.ipynb", "test_greet")]:
        assert results[("ada", *check)].passed, results[("ada", *check)]
    assert results[("ada", "01_arithmetic.ipynb", "test_double")].message == "double: all good"
    assert results[("bob", "01_arithmetic.ipynb", "test_double")].message == (
        "AssertionError: double(2) should be 4, not 5"
    )
    assert results[("bob", "01_arithmetic.ipynb", "test_triple")].passed
    assert results[("bob", "02_greeting.ipynb", "test_greet")].message == "missing notebook"
    assert results[("dee", "02_greeting.ipynb", "test_greet")].message == "NotImplementedError"


def test_an_infinite_loop_costs_its_check_only(graded_small_course):
    results = by_check(graded_small_course[0])
    loop = results[("cy", "01_arithmetic.ipynb", "test_double")]
    assert not loop.passed and loop.message == "timed out: the check ran longer than 4 s"
    assert results[("cy", "01_arithmetic.ipynb", "test_triple")].passed


def test_a_malformed_notebook_fails_its_checks_only(graded_small_course):
    results = by_check(graded_small_course[0])
    broken = results[("cy", "02_greeting.ipynb", "test_greet")]
    assert not broken.passed
    assert broken.message.startswith("malformed notebook: 02_greeting.ipynb is not a notebook")


def test_a_dead_kernel_and_a_deleted_check_cost_those_checks_only(graded_small_course):
    results = by_check(graded_small_course[0])
    died = results[("dee", "01_arithmetic.ipynb", "test_double")]
    assert not died.passed and died.message == "the kernel died while running this check"
    missing = results[("dee", "01_arithmetic.ipynb", "test_triple")]
    assert not missing.passed and missing.message == "missing: no cell runs `test_triple(triple)`"


def test_report_has_a_row_per_check_and_a_total_per_student(graded_small_course):
    results, report, lines = graded_small_course
    with report.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4 * 3 + 4
    totals = {row["student"]: (int(row["points"]), int(row["max_points"])) for row in rows if row["notebook"] == "TOTAL"}
    assert totals == {"ada": (3, 3), "bob": (1, 3), "cy": (1, 3), "dee": (0, 3)}
    assert rows[0] == {"student": "ada", "notebook": "01_arithmetic.ipynb", "check": "test_double", "status": "passed",
                       "points": "1", "max_points": "1", "message": "double: all good"}
    table = gan_course.summary_table(results).splitlines()
    assert table[0].split() == ["student", "01", "02", "total"]
    assert table[2].split() == ["ada", "2/2", "1/1", "3/3"]
    assert len(lines) == 8 and any(line.startswith("ada: 01_arithmetic.ipynb: 2/2 checks passed") for line in lines)
    assert [(row.student, row.notebook) for row in results][:4] == [("ada", "01_arithmetic.ipynb")] * 2 + [
        ("ada", "02_greeting.ipynb"), ("bob", "01_arithmetic.ipynb")]  # in order, though run two at a time


def test_notebook_time_limit_fails_the_checks_not_yet_run(small_course, tmp_path):
    slow = arithmetic_notebook(double="import time\ntime.sleep(3)\n" + DOUBLE)
    write(slow, tmp_path / "subs" / "fay" / "01_arithmetic.ipynb")
    results = gan_course.grade_notebook(tmp_path / "subs" / "fay" / "01_arithmetic.ipynb",
                                    gan_course.find_checks(gan_course.read_notebook_json(small_course / "01_arithmetic.ipynb")),
                                    time_limit=2, cell_time_limit=60)
    assert results.checks == {
        "test_double": (False, "not run: the notebook's time limit of 2 s was reached"),
        "test_triple": (False, "not run: the notebook's time limit of 2 s was reached"),
    }
    assert list(results.raised) == [2] and results.raised[2].startswith("ran longer than")  # what was left of 2 s


def test_a_cell_other_than_a_check_that_raises_is_named_in_the_notebooks_line(small_course, tmp_path):
    broken = arithmetic_notebook(triple="def triple(x):\n    return 3 * x\nprint(undefined_name)")
    write(broken, tmp_path / "subs" / "hal" / "01_arithmetic.ipynb")
    write(arithmetic_notebook(), tmp_path / "subs" / "ida" / "01_arithmetic.ipynb")
    lines = []
    results = by_check(gan_course.grade(tmp_path / "subs", tmp_path / "report.csv", notebooks_dir=small_course,
                                        log=lines.append))
    assert results[("hal", "01_arithmetic.ipynb", "test_triple")].passed  # triple was defined before the error
    hal = next(line for line in lines if line.startswith("hal: 01_arithmetic.ipynb"))
    assert hal.endswith("; cells other than checks that failed: cell 4: NameError: name 'undefined_name' is not defined")
    assert next(line for line in lines if line.startswith("ida: 01_arithmetic.ipynb")).endswith(" s)")


def test_grade_command_prints_the_table_and_writes_the_report(small_course, tmp_path, capsys):
    gan_course.make_student(small_course, tmp_path / "student")
    (tmp_path / "subs" / "gus").mkdir(parents=True)
    shutil.copy(tmp_path / "student" / "02_greeting.ipynb", tmp_path / "subs" / "gus" / "02_greeting.ipynb")
    out = tmp_path / "out" / "report.csv"
    assert main(["grade", str(tmp_path / "subs"), "--notebooks", str(small_course), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert ["gus", "0/2", "0/1", "0/3"] in [line.split() for line in printed.splitlines()]
    assert out.exists()
    assert main(["grade", str(tmp_path / "nothing"), "--notebooks", str(small_course)]) == 2
    assert "one folder per student" in capsys.readouterr().err


def test_the_notebooks_with_the_most_code_start_first_and_the_report_keeps_the_course_order():
    names = ["01_a.ipynb", "02_b.ipynb", "01_a.ipynb", "03_c.ipynb"]
    assert grading.longest_first(names, {"01_a.ipynb": 10, "02_b.ipynb": 300, "03_c.ipynb": 20}) == [1, 3, 0, 2]


def test_grading_kernels_train_two_steps_and_share_the_cores(monkeypatch):
    for name in ("GAN_COURSE_QUICK_STEPS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    env = notebook_run.kernel_environment(quick=True, threads=1)
    assert env["GAN_COURSE_QUICK"] == "1" and env["GAN_COURSE_QUICK_STEPS"] == "2"
    assert env["TF_NUM_INTRAOP_THREADS"] == env["TF_NUM_INTEROP_THREADS"] == "1"
    assert env["OMP_NUM_THREADS"] == "3", "the instructor's own setting wins"
    full = notebook_run.kernel_environment(quick=False)
    assert full["GAN_COURSE_QUICK"] == "0" and "GAN_COURSE_QUICK_STEPS" not in full
    assert "TF_NUM_INTRAOP_THREADS" not in full


def test_kernels_of_this_machine_are_forked_from_the_kernel_factory(tmp_path):
    checks = ("import os\ndef test_parent(f):\n"
              "    parent = open(f'/proc/{os.getppid()}/cmdline').read().replace(chr(0), ' ')\n"
              "    assert f() == 1 and 'kernel_factory.py --serve' in parent, parent\n"
              "    print('forked by', parent.split()[1])")
    notebook = arithmetic_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(checks), nbformat.v4.new_code_cell("def one():\n    return 1"),
                      nbformat.v4.new_code_cell("test_parent(one)")]
    write(notebook, tmp_path / "course" / "01_one.ipynb")
    shutil.copytree(tmp_path / "course", tmp_path / "subs" / "flo")
    results = gan_course.grade(tmp_path / "subs", tmp_path / "report.csv", notebooks_dir=tmp_path / "course", log=None)
    assert results[0].passed and results[0].message.endswith("gan_course/kernel_factory.py"), results[0]
