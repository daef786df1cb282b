"""The top of a course notebook: its Colab badge, its title, and which version it is.

The course comes in two versions of every notebook. ``exercises/`` (the student version,
written by ``make-student``) is where learners start: its badge opens
``exercises/NAME`` in Colab. ``notebooks/`` holds the solutions, for instructors and for
checking one's work afterwards: its badge opens ``notebooks/NAME``, its title ends in
``(solutions)`` and a note under the title links to the exercise version::

    [![Open In Colab](...)](https://colab.research.google.com/github/gan-course/gan-course/blob/main/notebooks/01_x.ipynb)

    # 01 · Title (solutions)

    > **Solutions.** ... [exercise version](../exercises/01_x.ipynb) ...

:func:`with_solutions_header` writes that header into a solution notebook (idempotent);
:func:`exercise_header` turns it into the exercise version's (``make-student`` does).
"""

import re

from gan_course.notebook_files import NotebookFormatError, cell_source, with_source

# The course's repository on GitHub; a placeholder until the course is published.
# Notebooks' set-up cells, their Colab badges and the README all name it.
REPOSITORY = "gan-course/gan-course"
COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
SOLUTIONS_FOLDER = "notebooks"
EXERCISES_FOLDER = "exercises"
SOLUTIONS_SUFFIX = " (solutions)"
SOLUTIONS_NOTE_START = "> **Solutions.**"

_BADGE_LINE = re.compile(r"^\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)$")


def colab_url(notebook_name, repository=REPOSITORY, branch="main", folder=SOLUTIONS_FOLDER):
    """The address that opens a notebook of the repository's ``folder`` from GitHub in Google Colab."""
    return f"https://colab.research.google.com/github/{repository}/blob/{branch}/{folder}/{notebook_name}"


def colab_badge(notebook_name, repository=REPOSITORY, folder=SOLUTIONS_FOLDER):
    """The markdown of an "Open in Colab" badge for a course notebook (``folder``: notebooks or exercises)."""
    return f"[![Open In Colab]({COLAB_BADGE_IMAGE})]({colab_url(notebook_name, repository, folder=folder)})"


def solutions_note(notebook_name):
    """The line under a solution notebook's title that sends learners to the exercise version."""
    return (f"{SOLUTIONS_NOTE_START} This notebook shows the answers, for instructors and for checking "
            "your work afterwards. To work through it yourself, open the exercise version: "
            f"[{EXERCISES_FOLDER}/{notebook_name}](../{EXERCISES_FOLDER}/{notebook_name}) "
            f"([in Colab]({colab_url(notebook_name, folder=EXERCISES_FOLDER)})).")


def _parts(text):
    """(badge line or None, title line or None, the rest) of a first markdown cell, notes dropped."""
    blocks = text.split("\n\n")
    badge = blocks.pop(0) if blocks and _BADGE_LINE.match(blocks[0].strip()) else None
    title = blocks.pop(0) if blocks and blocks[0].startswith("# ") and "\n" not in blocks[0] else None
    blocks = [block for block in blocks if not block.startswith(SOLUTIONS_NOTE_START)]
    if title is not None and title.endswith(SOLUTIONS_SUFFIX):
        title = title[: -len(SOLUTIONS_SUFFIX)]
    return badge, title, "\n\n".join(blocks)


def solutions_header(text, notebook_name):
    """A first markdown cell's text with the solution version's header (badge, title suffix, note)."""
    _, title, rest = _parts(text)
    if title is None:
        raise NotebookFormatError(f"{notebook_name}: the first markdown cell must hold the title, '# NN · Title', "
                                  "in a paragraph of its own (under the Colab badge, if it has one).")
    blocks = [colab_badge(notebook_name), title + SOLUTIONS_SUFFIX, solutions_note(notebook_name)]
    return "\n\n".join(blocks + ([rest] if rest else []))


def exercise_header(text, notebook_name):
    """The exercise version of a first markdown cell: its badge opens exercises/, no solutions label.

    A cell that does not start with a course badge is left as it is (a notebook of the
    instructor's own).
    """
    badge, title, rest = _parts(text)
    if badge is None:
        return text
    blocks = [colab_badge(notebook_name, folder=EXERCISES_FOLDER)] + ([title] if title else [])
    return "\n\n".join(blocks + ([rest] if rest else []))


def first_markdown_cell(notebook):
    return next((cell for cell in notebook["cells"] if cell["cell_type"] == "markdown"), None)


def with_solutions_header(notebook, notebook_name):
    """Put the solutions header into a notebook (a dict, changed in place; a cell already right is left alone)."""
    cell = first_markdown_cell(notebook)
    if cell is None:
        raise NotebookFormatError(f"{notebook_name} has no markdown cell for its title and Colab badge.")
    header = solutions_header(cell_source(cell), notebook_name)
    if header != cell_source(cell):
        with_source(cell, header)
