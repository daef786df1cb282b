"""nbgrader grades the course's notebooks as ``python -m gan_course grade`` does (the course's tools install it).

A temporary nbgrader course holds notebook 01 as its source (with the course's nbgrader
metadata and the README's nbgrader_config.py). ``nbgrader generate_assignment`` makes
the student version, two students hand it back filled in, one right and one with a
leaky ReLU of slope 0.3, ``nbgrader autograde`` grades them, and ``gan_course grade``
grades the same files: the two agree on every check, and the wrong slope fails
``test_leaky_relu`` alone.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import gan_course
from gan_course.nbgrader_cells import NBGRADER_CONFIG

pytest.importorskip("nbgrader", reason="nbgrader comes with the course's tools: pip install -e ./gan_course")

REPO = Path(__file__).resolve().parents[2]
NAME = "01_leaky_relu_and_noise"
RIGHT = "return tf.maximum(x, alpha * x)"


def nbgrader(course, *args):
    # nbgrader runs its `alembic` from PATH: this Python's folder first, as in an activated environment.
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def handed_in(release, source, slope=None):
    """The released notebook with the source's solutions filled in (and the leaky ReLU's slope changed)."""
    answers = {cell["metadata"]["nbgrader"]["grade_id"]: "".join(cell["source"]) for cell in source["cells"]
               if cell["metadata"].get("nbgrader", {}).get("solution")}
    notebook = json.loads(json.dumps(release))
    for cell in notebook["cells"]:
        role = cell["metadata"].get("nbgrader", {})
        if role.get("solution"):
            text = answers[role["grade_id"]]
            if slope is not None and RIGHT in text:
                text = text.replace(RIGHT, f"return tf.maximum(x, {slope} * x)")
            cell["source"] = text
    return notebook


@pytest.fixture(scope="module")
def graded_both_ways(tmp_path_factory):
    course = tmp_path_factory.mktemp("nbgrader_course")
    (course / "nbgrader_config.py").write_text(
        NBGRADER_CONFIG + f'c.CourseDirectory.root = r"{course}"\nc.CourseDirectory.db_url = "sqlite:///{course}/gradebook.db"\n')
    (course / "source" / "ps1").mkdir(parents=True)
    shutil.copy(REPO / "notebooks" / f"{NAME}.ipynb", course / "source" / "ps1")
    nbgrader(course, "generate_assignment", "ps1")

    source = json.loads((course / "source" / "ps1" / f"{NAME}.ipynb").read_text())
    release = json.loads((course / "release" / "ps1" / f"{NAME}.ipynb").read_text())
    assert RIGHT not in json.dumps(release), "the released notebook still holds the solution"
    for student, slope in [("ada", None), ("bob", 0.3)]:
        folder = course / "submitted" / student / "ps1"
        folder.mkdir(parents=True)
        (folder / f"{NAME}.ipynb").write_text(json.dumps(handed_in(release, source, slope)))
    nbgrader(course, "autograde", "ps1")

    from nbgrader.api import Gradebook

    by_nbgrader = {}
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gradebook:
        for student in ("ada", "bob"):
            for grade in gradebook.find_submission_notebook(NAME, "ps1", student).grades:
                if grade.cell_type == "code":
                    by_nbgrader[(student, grade.name)] = grade.auto_score == grade.max_score
    results = gan_course.grade(course / "submitted", course / "report.csv", notebooks_dir=course / "source" / "ps1",
                               log=None, jobs=2, time_limit=300)
    by_course = {(row.student, row.check): row.passed for row in results}
    return by_nbgrader, by_course


def test_nbgrader_and_grade_agree_on_every_check(graded_both_ways):
    by_nbgrader, by_course = graded_both_ways
    assert by_nbgrader == by_course
    assert by_course == {("ada", "test_leaky_relu"): True, ("ada", "test_sample_noise"): True,
                         ("bob", "test_leaky_relu"): False, ("bob", "test_sample_noise"): True}


def test_the_readme_shows_the_nbgrader_config():
    readme = (REPO / "README.md").read_text()
    assert NBGRADER_CONFIG in readme, "README's nbgrader_config.py differs from nbgrader_cells.NBGRADER_CONFIG"
