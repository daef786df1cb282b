"""Course notebooks as plain JSON: read, write the way Jupyter does, list a folder.

No validation and no added cell ids, so that a notebook written back is
byte-identical when nothing changed. Used by the student version, the grader and
the conventions check; imports no TensorFlow.
"""

import json
from pathlib import Path

# The solution notebooks next to this package (a source checkout).
COURSE_NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


class NotebookFormatError(ValueError):
    """A file that should be a notebook is not one, or its solution regions are unbalanced."""


def read_notebook_json(path):
    """The notebook at ``path`` as a dict (nbformat 4 JSON), or NotebookFormatError."""
    path = Path(path)
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NotebookFormatError(f"{path.name} is not a notebook: its JSON cannot be read ({error}).") from None
    if not isinstance(notebook, dict) or notebook.get("nbformat") != 4:
        raise NotebookFormatError(f"{path.name} is not an nbformat-4 notebook (save it from Jupyter or Colab).")
    cells = notebook.get("cells")
    if not isinstance(cells, list) or not all(
        isinstance(cell, dict) and cell.get("cell_type") in ("code", "markdown", "raw") for cell in cells
    ):
        raise NotebookFormatError(f"{path.name} is not a notebook: its 'cells' are not a list of cells.")
    return notebook


def cell_source(cell):
    """A cell's source as one string (on disk it may be a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def with_source(cell, text):
    cell["source"] = text.splitlines(keepends=True)
    return cell


def notebook_json_text(notebook):
    """The text Jupyter writes for a notebook: sorted keys, indent 1, a final newline."""
    return json.dumps(notebook, sort_keys=True, indent=1, ensure_ascii=False, separators=(",", ": ")) + "\n"


def course_notebooks(folder):
    """The notebooks directly in ``folder``, sorted by name (checkpoints left out)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder of notebooks.")
    return sorted(path for path in folder.glob("*.ipynb") if path.is_file())

