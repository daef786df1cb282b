"""The course's notebook conventions: the Colab badge, the set-up cell, no outputs, checks after exercises.

``tests/instructor/test_conventions.py`` holds every notebook of the course to them.
"""

from pathlib import Path

from gan_helpers.instructor.notebook_files import (
    NotebookFormatError,
    cell_source,
    notebook_json_text,
    read_notebook_json,
    with_source,
)
from gan_helpers.instructor.grading import check_code
from gan_helpers.instructor.student import SOLUTION_BEGIN, strip_code_solutions, strip_markdown_answer

# The course's repository on GitHub; a placeholder until the course is published.
# Notebooks' set-up cells, their Colab badges and the README all name it.
REPOSITORY = "gan-course/gan-course"
COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"


def colab_url(notebook_name, repository=REPOSITORY, branch="main"):
    """The address that opens a course notebook from GitHub in Google Colab."""
    return f"https://colab.research.google.com/github/{repository}/blob/{branch}/notebooks/{notebook_name}"


def colab_badge(notebook_name, repository=REPOSITORY):
    """The markdown of an "Open in Colab" badge for a course notebook."""
    return f"[![Open In Colab]({COLAB_BADGE_IMAGE})]({colab_url(notebook_name, repository)})"


# The first code cell of every notebook: installs the library where it is missing (Colab).
# On Colab, load_mnist then finds no data/mnist.npz and takes Keras's download of MNIST.
SETUP_CELL = (
    "# Set-up: on Colab this installs the course's library; elsewhere it does nothing.\n"
    "try:\n"
    "    import gan_helpers\n"
    "except ImportError:\n"
    f'    %pip install -q "gan_helpers @ git+https://github.com/{REPOSITORY}"\n'
    "    import gan_helpers"
)


def add_colab_badge(path):
    """Put the notebook's Colab badge at the top of its first markdown cell; True when it changed.

    Idempotent: a notebook whose first markdown cell already starts with its badge is
    left as it is. Only that cell's source changes; the file is written as Jupyter does.
    """
    path = Path(path)
    notebook = read_notebook_json(path)
    badge = colab_badge(path.name)
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            text = cell_source(cell)
            if text.startswith(badge):
                return False
            with_source(cell, f"{badge}\n\n{text}")
            break
    else:
        raise NotebookFormatError(f"{path.name} has no markdown cell to put the Colab badge in.")
    path.write_text(notebook_json_text(notebook), encoding="utf-8")
    return True


def convention_problems(path):
    """What a course notebook gets wrong of the course's conventions: a list of sentences (empty: none).

    The conventions: the first cell is markdown starting with the notebook's Colab
    badge; the first code cell is the set-up cell (``SETUP_CELL``); no cell has
    outputs or an execution count; solution regions are balanced and the next code
    cell after each solution cell is its check (a cell of ``test_*`` calls).
    """
    path = Path(path)
    try:
        notebook = read_notebook_json(path)
    except NotebookFormatError as error:
        return [str(error)]
    problems, cells, name = [], notebook["cells"], path.name
    badge = colab_badge(name)
    if not cells or cells[0]["cell_type"] != "markdown":
        problems.append(f"{name}: the first cell must be markdown (the title, under the Colab badge).")
    elif not cell_source(cells[0]).startswith(badge):
        problems.append(f"{name}: the first markdown cell must start with the Colab badge line {badge} "
                        f"(python -c 'from gan_helpers.instructor.conventions import add_colab_badge; "
                        f"add_colab_badge(\"notebooks/{name}\")' adds it).")
    code_cells = [(index, cell) for index, cell in enumerate(cells) if cell["cell_type"] == "code"]
    if not code_cells or cell_source(code_cells[0][1]) != SETUP_CELL:
        where = f"cell {code_cells[0][0]}" if code_cells else "no code cell"
        problems.append(f"{name}: the first code cell ({where}) must be the set-up cell, exactly:\n{SETUP_CELL}")
    for index, cell in code_cells:
        if cell.get("outputs") or cell.get("execution_count") is not None:
            problems.append(f"{name}, cell {index}: has outputs or an execution count; commit notebooks "
                            "without outputs (clear them, or write the notebook with nbformat and empty outputs).")
    for position, (index, cell) in enumerate(code_cells):
        source = cell_source(cell)
        if SOLUTION_BEGIN not in source:
            continue
        try:
            strip_code_solutions(source, f"{name}, cell {index}")
        except NotebookFormatError as error:
            problems.append(str(error))
        following = code_cells[position + 1] if position + 1 < len(code_cells) else None
        if following is None or check_code(cell_source(following[1])) is None:
            problems.append(f"{name}, cell {index}: the solution region is not followed by its check "
                            "(the next code cell must hold only test_* calls, e.g. test_leaky_relu(leaky_relu)).")
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "markdown":
            try:
                strip_markdown_answer(cell_source(cell), f"{name}, cell {index}")
            except NotebookFormatError as error:
                problems.append(str(error))
    return problems

