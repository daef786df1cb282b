"""Every notebook in notebooks/ and exercises/ keeps the course's conventions (gan_course.convention_problems).

One test per notebook and folder, so a new notebook is covered as soon as it lands, and a
failure names the notebook and says what is missing: the header (the Colab badge of its
own folder, the solutions label), the set-up cell as the first code cell, outputs left
in, a solution region without its check right after it, stale nbgrader metadata.
"""

import json
from pathlib import Path

import nbformat
import pytest

import gan_course
from gan_course.cli import main

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
ALL = [(folder, path.name) for folder in ("notebooks", "exercises") for path in sorted((REPO / folder).glob("*.ipynb"))]


@pytest.mark.parametrize("folder, name", ALL, ids=[f"{folder}/{name}" for folder, name in ALL])
def test_notebook_keeps_the_conventions(folder, name):
    problems = gan_course.convention_problems(REPO / folder / name)
    assert not problems, "\n".join([f"{folder}/{name} breaks the notebook conventions:"] + [f"- {p}" for p in problems])


def test_each_version_opens_itself_in_colab():
    names = {name for folder, name in ALL if folder == "notebooks"}
    assert names and names == {name for folder, name in ALL if folder == "exercises"}
    assert gan_course.colab_badge("05_vanilla_gan_mnist.ipynb") == (
        "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        "(https://colab.research.google.com/github/gan-course/gan-course/blob/main/notebooks/05_vanilla_gan_mnist.ipynb)"
    )
    assert gan_course.colab_url("05_x.ipynb", repository="me/course", folder="student") == (
        "https://colab.research.google.com/github/me/course/blob/main/student/05_x.ipynb")
    assert "git+https://github.com/gan-course/gan-course" in gan_course.SETUP_CELL


def notebook(*cells):
    made = [nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
            for kind, source in cells]
    return nbformat.v4.new_notebook(cells=made)


EXERCISE = "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"


def test_problems_are_named(tmp_path):
    path = tmp_path / "11_extra.ipynb"
    broken = notebook(("md", "# 11 · Extra"), ("code", "import numpy"), ("code", EXERCISE),
                      ("md", "Now the check."), ("code", "f()"))
    broken.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi\n")]
    nbformat.write(broken, str(path))
    problems = gan_course.convention_problems(path)
    assert "the solution version's header" in problems[0] and "update-notebooks" in problems[0]
    assert "must be the set-up cell" in problems[1]
    assert problems[2].startswith("11_extra.ipynb, cell 1: has outputs")
    assert problems[3].startswith("11_extra.ipynb, cell 2: the solution region is not followed by its check")
    assert problems[4:] and all("nbgrader metadata is missing or stale" in problem for problem in problems[4:])


def test_update_writes_header_metadata_and_exercises_once(tmp_path, capsys):
    solutions = tmp_path / "notebooks"
    solutions.mkdir()
    path = solutions / "11_extra.ipynb"
    nbformat.write(notebook(("md", "# 11 · Extra\n\nSome words."), ("code", gan_course.SETUP_CELL), ("code", EXERCISE),
                            ("code", "test_f(f)"), ("md", "**Answer.** Because."), ("code", "print(1)")), str(path))
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "12_gone.ipynb").write_text("{}")
    before = json.loads(path.read_text())

    assert main(["update-notebooks", "--notebooks", str(solutions)]) == 0
    printed = capsys.readouterr().out
    assert "updated" in printed and "removed" in printed and "Wrote 1 exercise notebooks" in printed
    after = path.read_text()
    assert gan_course.convention_problems(path) == []
    assert gan_course.convention_problems(tmp_path / "exercises" / "11_extra.ipynb") == []
    assert not (tmp_path / "exercises" / "12_gone.ipynb").exists()

    cells = json.loads(after)["cells"]
    header = cells[0]["source"]
    assert header[0] == gan_course.colab_badge(path.name) + "\n" and header[2] == "# 11 · Extra (solutions)\n"
    assert [cell["metadata"].get("nbgrader", {}).get("grade_id") for cell in cells] == [
        "text-" + cells[0]["id"], None, "solution-f", "test_f", "answer-" + cells[4]["id"], None]
    assert cells[3]["metadata"]["nbgrader"] == {"grade": True, "grade_id": "test_f", "locked": True, "points": 1,
                                               "schema_version": 3, "solution": False}
    # only the header and metadata changed
    for old, new in zip(before["cells"], cells):
        assert new["source"] == old["source"] or old is before["cells"][0]
    exercise = json.loads((tmp_path / "exercises" / "11_extra.ipynb").read_text())["cells"]
    assert exercise[0]["source"][0] == gan_course.colab_badge(path.name, folder="exercises") + "\n"
    assert exercise[0]["source"][2] == "# 11 · Extra\n" and "Solutions." not in "".join(exercise[0]["source"])
    assert exercise[3]["metadata"]["editable"] is False and exercise[3]["metadata"]["deletable"] is False

    assert main(["update-notebooks", "--notebooks", str(solutions)]) == 0
    assert "updated" not in capsys.readouterr().out and path.read_text() == after
