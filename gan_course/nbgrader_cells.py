"""nbgrader cell metadata for the course's notebooks, so that instructors can grade with nbgrader too.

nbgrader (the Jupyter ecosystem's grader, which comes with the course's tools) reads the
role of each cell from ``cell.metadata["nbgrader"]`` (schema version 3). The course's
notebooks carry it, derived from what the cells hold:

- a code cell with a ``### BEGIN SOLUTION`` region: a *solution* cell (nbgrader replaces
  the region with ``# YOUR CODE HERE`` / ``raise NotImplementedError()``, as
  ``make-student`` does);
- a check cell (only ``test_*`` calls): an *autograded test*, locked, worth
  ``CHECK_POINTS``; its ``grade_id`` is the check's name in ``grade``'s report
  (``test_leaky_relu``, ``test_leaky_relu-2`` for a second one);
- a markdown answer (``**Answer.** ...``): a *manually graded answer* worth
  ``ANSWER_POINTS`` (nbgrader clears it in the student version);
- every other markdown cell: *read-only* (locked), the instructions;
- other code cells (imports, training, plots): no metadata, learners may change them.

:func:`with_nbgrader_metadata` is a pure function of the cells, so running it again
changes nothing; ``python -m gan_course update-notebooks`` applies it (see
``conventions``), and the conventions test fails when a notebook's metadata is stale.
"""

import copy
import re

from gan_course.check_cells import check_code, find_checks
from gan_course.notebook_files import cell_source
from gan_course.student import ANSWER_MARK, SOLUTION_BEGIN

SCHEMA_VERSION = 3
CHECK_POINTS = 1
ANSWER_POINTS = 1

# The settings an nbgrader course of these notebooks needs (README, For instructors).
# nbgrader gives a test cell no points when it prints anything on stderr; TensorFlow logs
# there (no GPU found, oneDNN notes) and Keras warns there, while a check fails only by
# raising an error. And importing TensorFlow outlasts nbgrader's default of 30 s a cell.
NBGRADER_CONFIG = """\
c = get_config()
c.CourseDirectory.course_id = "gan-course"
# A check fails by raising an error: TensorFlow's log lines on stderr are not failures.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"[\\s\\S]"
# Importing TensorFlow and building models outlasts nbgrader's 30 s per cell.
c.Execute.timeout = 600
"""


def grade_id(name):
    """An nbgrader grade id (letters, digits, - and _) for a check or cell name."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", name)


def _defined_names(source):
    return re.findall(r"^(?:def|class) (\w+)", source, flags=re.MULTILINE)


def _metadata(grade, solution, locked, identity, points=None):
    found = {"grade": grade, "grade_id": identity, "locked": locked, "schema_version": SCHEMA_VERSION,
             "solution": solution}
    if points is not None:
        found["points"] = points
    return found


def is_answer_cell(cell):
    text = cell_source(cell)
    return cell["cell_type"] == "markdown" and (text.lstrip().startswith(ANSWER_MARK) or SOLUTION_BEGIN in text)


def cell_roles(notebook):
    """[nbgrader metadata or None] for each cell of a notebook (a dict), by the rules above."""
    check_names = iter(check.name for check in find_checks(notebook))
    roles, used = [], set()
    for index, cell in enumerate(notebook["cells"]):
        source = cell_source(cell)
        identity = str(cell.get("id") or f"cell-{index}")
        if cell["cell_type"] == "code" and check_code(source) is not None:
            role = _metadata(True, False, True, grade_id(next(check_names)), CHECK_POINTS)
        elif cell["cell_type"] == "code" and SOLUTION_BEGIN in source:
            names = _defined_names(source)
            role = _metadata(False, True, False, grade_id("solution-" + ("-".join(names) if names else identity)))
        elif is_answer_cell(cell):
            role = _metadata(True, True, False, grade_id(f"answer-{identity}"), ANSWER_POINTS)
        elif cell["cell_type"] == "markdown":
            role = _metadata(False, False, True, grade_id(f"text-{identity}"))
        else:
            role = None
        if role is not None:
            if role["grade_id"] in used:
                role["grade_id"] = grade_id(f"{role['grade_id']}-{identity}")
            used.add(role["grade_id"])
        roles.append(role)
    return roles


def with_nbgrader_metadata(notebook):
    """A copy of a notebook (dict) whose cells carry exactly the nbgrader metadata of :func:`cell_roles`."""
    updated = copy.deepcopy(notebook)
    for cell, role in zip(updated["cells"], cell_roles(updated)):
        metadata = cell.setdefault("metadata", {})
        if role is None:
            metadata.pop("nbgrader", None)
        else:
            metadata["nbgrader"] = role
    return updated


def nbgrader_problems(notebook, name):
    """Sentences naming the cells whose nbgrader metadata is not what :func:`cell_roles` gives (empty: none)."""
    return [f"{name}, cell {index}: its nbgrader metadata is missing or stale "
            "(python -m gan_course update-notebooks rewrites it)."
            for index, (cell, role) in enumerate(zip(notebook["cells"], cell_roles(notebook)))
            if cell.get("metadata", {}).get("nbgrader") != role]
