"""course on the course's own notebooks: every solution gets full marks, a mistake fails its check alone.

One grading run (quick mode, a kernel per notebook, two at a time) of three students:

- ``solutions``: a copy of ``notebooks/``, all 13 notebooks, graded as a student's
  submission: every cell runs without an error and every check passes (notebook 05's
  ``test_xy_updates`` once failed here, its check calling the reference answer it
  compares with);
- ``slope``: notebook 01 with a leaky ReLU of slope 0.3 (the one wrong function), and the
  solution of notebook 04: only ``test_leaky_relu`` fails, every other check passes;
- ``student``: the generated student versions of notebooks 02 and 03: exactly the
  exercise checks fail, each with the "not implemented yet" message.

This is the suite's one run of the solution notebooks, each in a fresh kernel in quick
mode: grading runs every cell as the notebook has it and judges each check with the
learner's own call (``test_leaky_relu(leaky_relu)``). nbval can run them as a learner
does, check cells included, outside the suite: ``pytest notebooks/`` (or one notebook).
test_grading.py covers what can go wrong in a submission.
"""

import shutil
from pathlib import Path

import nbformat
import pytest

import gan_course

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
COURSE = ["01_leaky_relu_and_noise.ipynb", "02_discriminator.ipynb", "03_generator.ipynb", "04_losses.ipynb"]


def exercise_checks(notebook):
    """The checks that come right after a solution cell (the next code cell), by name."""
    names = {check.code: check.name for check in gan_course.find_checks(notebook)}
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    found = set()
    for cell, following in zip(code, code[1:]):
        if gan_course.SOLUTION_BEGIN in gan_course.cell_source(cell):
            found.add(names[gan_course.check_code(gan_course.cell_source(following))])
    return found


def with_slope(path, slope):
    notebook = nbformat.read(str(path), as_version=4)
    cell = next(cell for cell in notebook.cells if cell.source.startswith("def leaky_relu("))
    assert "return tf.maximum(x, alpha * x)" in cell.source
    cell.source = cell.source.replace("return tf.maximum(x, alpha * x)", f"return tf.maximum(x, {slope} * x)")
    return notebook


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("course_notebooks")
    submissions = root / "submissions"
    (submissions / "solutions").mkdir(parents=True)
    for path in NOTEBOOKS.glob("*.ipynb"):
        shutil.copy(path, submissions / "solutions" / path.name)
    student = root / "student"
    gan_course.make_student(NOTEBOOKS, student)
    (submissions / "slope").mkdir()
    nbformat.write(with_slope(NOTEBOOKS / COURSE[0], 0.3), str(submissions / "slope" / COURSE[0]))
    shutil.copy(NOTEBOOKS / COURSE[3], submissions / "slope" / COURSE[3])
    (submissions / "student").mkdir()
    for name in COURSE[1:3]:
        shutil.copy(student / name, submissions / "student" / name)
    lines = []
    results = gan_course.grade(submissions, root / "report.csv", notebooks_dir=NOTEBOOKS, log=lines.append, jobs=2)
    checks = {name: gan_course.read_notebook_json(NOTEBOOKS / name) for name in COURSE}
    return {(row.student, row.notebook, row.check): row for row in results}, checks, lines


def test_the_course_solutions_graded_as_a_submission_get_full_marks(graded):
    results, _, _ = graded
    mine = {key[1:]: row for key, row in results.items() if key[0] == "solutions"}
    expected = {(path.name, check.name) for path in sorted(NOTEBOOKS.glob("*.ipynb"))
                for check in gan_course.find_checks(gan_course.read_notebook_json(path))}
    assert set(mine) == expected and len({notebook for notebook, _ in expected}) == 13
    failed = {key: row.message for key, row in mine.items() if not row.passed}
    assert not failed, failed


def test_every_cell_of_every_solution_notebook_runs_without_an_error(graded):
    _, _, lines = graded
    mine = [line for line in lines if line.startswith("solutions: ")]
    assert len(mine) == 13
    failed = [line for line in mine if "cells other than checks that failed" in line]
    assert not failed, failed


def test_one_wrong_function_fails_its_check_alone(graded):
    results, _, _ = graded
    wrong = results[("slope", COURSE[0], "test_leaky_relu")]
    assert not wrong.passed and wrong.message.startswith("AssertionError: test_leaky_relu failed")
    passed = {key[1:] for key, row in results.items() if key[0] == "slope" and row.passed}
    assert passed == {(COURSE[0], "test_sample_noise"), (COURSE[3], "test_discriminator_loss"),
                      (COURSE[3], "test_generator_loss"), (COURSE[3], "test_lsgan_loss")}
    for name in set(path.name for path in NOTEBOOKS.glob("*.ipynb")) - {COURSE[0], COURSE[3]}:
        assert all(row.message == "missing notebook" for key, row in results.items() if key[:2] == ("slope", name))


def test_student_version_fails_exactly_the_exercise_checks(graded):
    results, notebooks, _ = graded
    for name in COURSE[1:3]:
        exercises = exercise_checks(notebooks[name])
        assert exercises, name
        rows = {key[2]: row for key, row in results.items() if key[:2] == ("student", name)}
        assert {check for check, row in rows.items() if not row.passed} == exercises
        assert all("is not implemented yet" in rows[check].message for check in exercises), rows


def test_every_check_of_notebooks_01_to_04_is_an_exercise_check(graded):
    _, notebooks, _ = graded
    for name, notebook in notebooks.items():
        assert exercise_checks(notebook) == {check.name for check in gan_course.find_checks(notebook)}, name
