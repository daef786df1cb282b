"""The student version of the notebooks: solutions stripped, outputs dropped.

    python -m gan_course make-student notebooks/ OUT/

Every ``### BEGIN SOLUTION`` .. ``### END SOLUTION`` region of a code cell becomes
``# YOUR CODE HERE`` and ``raise NotImplementedError`` at the region's indentation; a
markdown answer (a cell that starts with ``**Answer.**``, or a solution region inside
markdown) becomes ``*Your answer here.*``; outputs, execution counts, execution timings
and saved widget state are dropped. The header of a course notebook becomes the
exercise version's (its Colab badge opens ``exercises/NAME``, no "(solutions)" label,
see ``headers``), and check cells that nbgrader's metadata marks as locked tests are
made read-only in JupyterLab (``editable``/``deletable`` false), so that a learner does
not break a check by accident. Everything else is copied as it is, and the files are
written the way Jupyter writes them, so running the command twice gives byte-identical
files.

The course's own student version lives in ``exercises/``, written by
``python -m gan_course make-student notebooks/ exercises/`` (``update-notebooks`` does
it too) and kept identical to it by ``tests/instructor/test_exercises.py``.
"""

import copy
import sys
from pathlib import Path

from gan_course.headers import exercise_header, first_markdown_cell
from gan_course.notebook_files import (
    NotebookFormatError,
    cell_source,
    course_notebooks,
    notebook_json_text,
    read_notebook_json,
    with_source,
)

SOLUTION_BEGIN = "### BEGIN SOLUTION"
SOLUTION_END = "### END SOLUTION"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError")
ANSWER_MARK = "**Answer.**"
ANSWER_STUB = "*Your answer here.*"


def strip_code_solutions(source, where="cell"):
    """Replace each solution region of a code cell's source by the stub, at its indentation."""
    lines = source.split("\n")
    result, indent = [], None
    for number, line in enumerate(lines, start=1):
        marker = line.strip()
        if marker == SOLUTION_BEGIN:
            if indent is not None:
                raise NotebookFormatError(f"{where}, line {number}: {SOLUTION_BEGIN} inside another solution region.")
            indent = line[: len(line) - len(line.lstrip())]
            result.extend(indent + stub for stub in CODE_STUB)
        elif marker == SOLUTION_END:
            if indent is None:
                raise NotebookFormatError(f"{where}, line {number}: {SOLUTION_END} without {SOLUTION_BEGIN}.")
            indent = None
        elif indent is None:
            result.append(line)
    if indent is not None:
        raise NotebookFormatError(f"{where}: {SOLUTION_BEGIN} is never closed by {SOLUTION_END}.")
    return "\n".join(result)


def strip_markdown_answer(source, where="cell"):
    """A markdown answer without its answer: ``**Answer.**`` cells and solution regions."""
    if source.lstrip().startswith(ANSWER_MARK):
        return f"{ANSWER_MARK} {ANSWER_STUB}"
    if SOLUTION_BEGIN not in source:
        return source
    stubbed = strip_code_solutions(source, where)
    return stubbed.replace("\n".join(CODE_STUB), ANSWER_STUB).replace(CODE_STUB[0] + "\n", "")


def _is_locked_test(cell):
    role = cell.get("metadata", {}).get("nbgrader") or {}
    return cell["cell_type"] == "code" and role.get("grade") and role.get("locked") and not role.get("solution")


def student_notebook(notebook, name="notebook"):
    """A student copy of a solution notebook (a dict; the argument is left unchanged)."""
    student = copy.deepcopy(notebook)
    student.get("metadata", {}).pop("widgets", None)
    for index, cell in enumerate(student["cells"]):
        where = f"{name}, cell {index}"
        cell.get("metadata", {}).pop("execution", None)
        if cell["cell_type"] == "code":
            with_source(cell, strip_code_solutions(cell_source(cell), where))
            cell["outputs"] = []
            cell["execution_count"] = None
            if _is_locked_test(cell):
                cell["metadata"].update(editable=False, deletable=False)
        elif cell["cell_type"] == "markdown":
            with_source(cell, strip_markdown_answer(cell_source(cell), where))
    header = first_markdown_cell(student)
    if header is not None:
        with_source(header, exercise_header(cell_source(header), name))
    return student


def make_student(src_dir, out_dir):
    """Write the student version of every notebook in ``src_dir`` to ``out_dir``; return the paths.

    All notebooks are converted before any is written, so a notebook with an
    unbalanced solution region leaves ``out_dir`` untouched.
    """
    src_dir, out_dir = Path(src_dir), Path(out_dir)
    sources = course_notebooks(src_dir)
    if not sources:
        raise FileNotFoundError(f"{src_dir} holds no .ipynb notebooks.")
    if out_dir.resolve() == src_dir.resolve():
        raise ValueError(f"The student version would overwrite the solutions in {src_dir}: pick another folder.")
    texts = {path.name: notebook_json_text(student_notebook(read_notebook_json(path), path.name))
             for path in sources}
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (out_dir / name).write_text(text, encoding="utf-8")
    return [out_dir / name for name in texts]


# ----------------------------------------------------------------------------------------
# Command line


def add_arguments(parser):
    parser.add_argument("src_dir", help="folder of the solution notebooks (notebooks/)")
    parser.add_argument("out_dir", help="folder to write the student notebooks to")


def run(args):
    try:
        written = make_student(args.src_dir, args.out_dir)
    except (OSError, ValueError) as error:
        print(f"make-student: {error}", file=sys.stderr)
        return 2
    print(f"Wrote {len(written)} student notebooks to {args.out_dir}.")
    return 0
