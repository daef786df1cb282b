"""Every notebook in notebooks/ keeps the course's conventions (instructor.convention_problems).

One test per notebook, so a new notebook is covered as soon as it lands, and a failure
names the notebook and says what is missing: the Colab badge at the top of the first
markdown cell, the set-up cell as the first code cell, outputs left in, a solution
region without its check right after it.
"""

from pathlib import Path

import nbformat
import pytest

from gan_helpers import instructor

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
ALL = sorted(path.name for path in NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.parametrize("name", ALL)
def test_notebook_keeps_the_conventions(name):
    problems = instructor.convention_problems(NOTEBOOKS / name)
    assert not problems, "\n".join([f"{name} breaks the notebook conventions:"] + [f"- {p}" for p in problems])


def test_the_badge_opens_the_notebook_from_the_course_repository_in_colab():
    assert ALL, "notebooks/ holds no notebooks"
    assert instructor.colab_badge("05_vanilla_gan_mnist.ipynb") == (
        "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        "(https://colab.research.google.com/github/gan-course/gan-course/blob/main/notebooks/05_vanilla_gan_mnist.ipynb)"
    )
    assert "git+https://github.com/gan-course/gan-course" in instructor.SETUP_CELL


def notebook(*cells):
    made = [nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
            for kind, source in cells]
    return nbformat.v4.new_notebook(cells=made)


def test_problems_are_named_and_the_badge_is_added_once(tmp_path):
    path = tmp_path / "11_extra.ipynb"
    broken = notebook(("md", "# 11 · Extra"), ("code", "import numpy"),
                      ("code", "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"),
                      ("md", "Now the check."), ("code", "f()"))
    broken.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi\n")]
    nbformat.write(broken, str(path))
    problems = instructor.convention_problems(path)
    assert len(problems) == 4, problems
    assert "must start with the Colab badge" in problems[0] and "add_colab_badge" in problems[0]
    assert "must be the set-up cell" in problems[1]
    assert problems[2].startswith("11_extra.ipynb, cell 1: has outputs")
    assert problems[3].startswith("11_extra.ipynb, cell 2: the solution region is not followed by its check")

    good = notebook(("md", "# 11 · Extra"), ("code", instructor.SETUP_CELL),
                    ("code", "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"),
                    ("md", "Now the check."), ("code", "test_f(f)"))
    nbformat.write(good, str(path))
    before = path.read_text()
    assert instructor.add_colab_badge(path) is True
    after = path.read_text()
    assert instructor.add_colab_badge(path) is False and path.read_text() == after
    assert instructor.convention_problems(path) == []
    assert nbformat.read(str(path), as_version=4).cells[0].source == instructor.colab_badge(path.name) + "\n\n# 11 · Extra"
    # nothing changed but two lines added at the top of the first cell's source
    added = after.splitlines()
    for line in ['    "\\n",', f'    "{instructor.colab_badge(path.name)}\\n",']:
        added.remove(line)
    assert added == before.splitlines()
