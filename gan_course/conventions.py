"""The course's notebook conventions, a check of them, and the command that brings notebooks up to them.

The conventions: the first cell is markdown with the notebook's header (``headers``: the
Colab badge, the title, "(solutions)" and a note in ``notebooks/``, neither in
``exercises/``); the first code cell is the set-up cell (``SETUP_CELL``); no cell has
outputs or an execution count; solution regions are balanced and each solution cell is
followed by its check (a cell of ``test_*`` calls); every cell carries the nbgrader
metadata its role gives it (``nbgrader_cells``); ``exercises/`` holds no solutions.
``tests/instructor/test_conventions.py`` holds every notebook of both folders to them.

After adding or changing a notebook in ``notebooks/``::

    python -m gan_course update-notebooks

writes the header and the nbgrader metadata into ``notebooks/`` (changing nothing else)
and writes ``exercises/`` afresh with ``make-student``.
"""

import sys
from pathlib import Path

from gan_course.check_cells import check_code
from gan_course.headers import (
    EXERCISES_FOLDER,
    REPOSITORY,
    SOLUTIONS_NOTE_START,
    SOLUTIONS_SUFFIX,
    colab_badge,
    solutions_header,
    with_solutions_header,
)
from gan_course.nbgrader_cells import nbgrader_problems, with_nbgrader_metadata
from gan_course.notebook_files import (
    COURSE_NOTEBOOKS,
    NotebookFormatError,
    cell_source,
    course_notebooks,
    notebook_json_text,
    read_notebook_json,
)
from gan_course.student import SOLUTION_BEGIN, make_student, strip_code_solutions, strip_markdown_answer

COURSE_EXERCISES = COURSE_NOTEBOOKS.parent / EXERCISES_FOLDER
UPDATE_COMMAND = "python -m gan_course update-notebooks"

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


def add_course_header(path):
    """Bring a solution notebook's header and nbgrader metadata up to the conventions; True when it changed.

    Idempotent, and nothing else of the notebook changes; the file is written as Jupyter does.
    """
    path = Path(path)
    notebook = with_nbgrader_metadata(read_notebook_json(path))
    with_solutions_header(notebook, path.name)
    text = notebook_json_text(notebook)
    if text == path.read_text(encoding="utf-8"):
        return False
    path.write_text(text, encoding="utf-8")
    return True


def update_notebooks(solutions_dir=COURSE_NOTEBOOKS, exercises_dir=None):
    """``add_course_header`` on every solution notebook, then ``exercises/`` written afresh by make-student.

    Returns ``(solution notebooks changed, exercise notebooks written, stale exercise notebooks removed)``.
    """
    solutions_dir = Path(solutions_dir)
    exercises_dir = solutions_dir.parent / EXERCISES_FOLDER if exercises_dir is None else Path(exercises_dir)
    changed = [path for path in course_notebooks(solutions_dir) if add_course_header(path)]
    written = make_student(solutions_dir, exercises_dir)
    names = {path.name for path in written}
    stale = [path for path in course_notebooks(exercises_dir) if path.name not in names]
    for path in stale:
        path.unlink()
    return changed, written, stale


def add_arguments(parser):
    """``python -m gan_course update-notebooks``: headers, nbgrader metadata, exercises/ afresh."""
    parser.add_argument("--notebooks", default=str(COURSE_NOTEBOOKS),
                        help="the solution notebooks (%(default)s)")
    parser.add_argument("--exercises", default=None,
                        help="where the student version goes (default: exercises/ beside the solution "
                             "notebooks)")


def run(args):
    try:
        changed, written, stale = update_notebooks(args.notebooks, args.exercises)
    except (OSError, ValueError) as error:
        print(f"update-notebooks: {error}", file=sys.stderr)
        return 2
    for path in changed:
        print(f"updated {path}")
    for path in stale:
        print(f"removed {path} (no such solution notebook)")
    print(f"Wrote {len(written)} exercise notebooks to {written[0].parent if written else args.exercises}.")
    return 0


def _header_problems(cells, name, version):
    if not cells or cells[0]["cell_type"] != "markdown":
        return [f"{name}: the first cell must be markdown (the title, under the Colab badge)."]
    text = cell_source(cells[0])
    if version == EXERCISES_FOLDER:
        badge = colab_badge(name, folder=EXERCISES_FOLDER)
        if not text.startswith(badge + "\n\n# ") or SOLUTIONS_NOTE_START in text or SOLUTIONS_SUFFIX + "\n" in text:
            return [f"{name}: the exercise version's first cell must start with its badge {badge} and the title, "
                    f"without the solutions label ({UPDATE_COMMAND} writes exercises/)."]
        return []
    try:
        wanted = solutions_header(text, name)
    except NotebookFormatError as error:
        return [str(error)]
    if text != wanted:
        return [f"{name}: the first cell must start with the solution version's header: the Colab badge "
                f"{colab_badge(name)}, the title ending in '{SOLUTIONS_SUFFIX.strip()}' and the note that links "
                f"to the exercise version ({UPDATE_COMMAND} writes it)."]
    return []


def convention_problems(path, version=None):
    """What a course notebook gets wrong of the course's conventions: a list of sentences (empty: none).

    ``version``: ``"notebooks"`` (solutions) or ``"exercises"``; by default the name of
    the notebook's folder decides (``exercises`` or anything else).
    """
    path = Path(path)
    version = version or (EXERCISES_FOLDER if path.parent.name == EXERCISES_FOLDER else "notebooks")
    try:
        notebook = read_notebook_json(path)
    except NotebookFormatError as error:
        return [str(error)]
    cells, name = notebook["cells"], path.name
    problems = _header_problems(cells, name, version)
    code_cells = [(index, cell) for index, cell in enumerate(cells) if cell["cell_type"] == "code"]
    if not code_cells or cell_source(code_cells[0][1]) != SETUP_CELL:
        where = f"cell {code_cells[0][0]}" if code_cells else "no code cell"
        problems.append(f"{name}: the first code cell ({where}) must be the set-up cell, exactly:\n{SETUP_CELL}")
    for index, cell in code_cells:
        if cell.get("outputs") or cell.get("execution_count") is not None:
            problems.append(f"{name}, cell {index}: has outputs or an execution count; commit notebooks "
                            "without outputs (clear them, or write the notebook with nbformat and empty outputs).")
    if version == EXERCISES_FOLDER:
        for index, cell in enumerate(cells):
            if SOLUTION_BEGIN in cell_source(cell):
                problems.append(f"{name}, cell {index}: a solution region in the exercise version "
                                f"({UPDATE_COMMAND} writes exercises/).")
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
    if version != EXERCISES_FOLDER:  # the exercise version carries a copy of the solutions' metadata
        problems.extend(nbgrader_problems(notebook, name))
    return problems
