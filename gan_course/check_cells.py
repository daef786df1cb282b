"""Which cells of a notebook are checks, and how to find them again in a submission.

A check is a code cell whose code is nothing but calls of functions named ``test_*``,
such as ``test_leaky_relu(leaky_relu)``. A submission's check is found by its code,
spacing and comments aside. Imports no TensorFlow.
"""

import ast
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from gan_course.notebook_files import cell_source

# CPython 3.11's ast.parse keeps its depth count in state all threads share, so two grading
# threads parsing at once can fail with "SystemError: AST constructor recursion depth
# mismatch" (python/cpython#106905): they take turns.
_PARSING = threading.Lock()


def parse(source):
    """:func:`ast.parse` of ``source``, one thread at a time."""
    with _PARSING:
        return ast.parse(source)


@dataclass(frozen=True)
class Check:
    """One check of a notebook: its name in the report and its code, normalised."""

    name: str
    code: str


def check_code(source):
    """The normalised code of a check cell, or None when the cell is not a check.

    A check cell holds only calls of ``test_*`` functions (comments and blank lines
    aside); its normalised code is :func:`ast.unparse` of it, so spacing does not matter.
    """
    try:
        tree = parse(source)
    except SyntaxError:
        return None
    return ast.unparse(tree) if tree.body and all(map(_is_check_call, tree.body)) else None


def _is_check_call(statement):
    """A statement that is only a call of a ``test_*`` function."""
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)
            and isinstance(statement.value.func, ast.Name) and statement.value.func.id.startswith("test_"))


def check_function_names(code):
    """The ``test_*`` functions a check's code calls, in order."""
    return [statement.value.func.id for statement in parse(code).body]


def find_checks(notebook):
    """The checks of a notebook (dict), in order, each named after its first ``test_*`` function.

    A function checked twice in one notebook gives ``name``, ``name#2``, ...
    """
    codes = [check_code(cell_source(cell)) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    checks, seen = [], {}
    for code in filter(None, codes):
        base = check_function_names(code)[0]
        seen[base] = seen.get(base, 0) + 1
        checks.append(Check(base if seen[base] == 1 else f"{base}#{seen[base]}", code))
    return checks


def match_checks(checks, notebook):
    """Map each submission cell index that runs a check to that Check (first match, in order)."""
    wanted, matched = list(checks), {}
    for index, cell in enumerate(notebook.cells):
        code = check_code(cell.source) if cell.cell_type == "code" else None
        check = next((check for check in wanted if check.code == code), None)
        if check is not None:
            matched[index] = check
            wanted.remove(check)
    return matched


def library_check_names(library_folder):
    """The names of the ``test_*`` functions that ``gan_helpers.checks`` defines, read from its source.

    Read, not imported: importing the checks would import TensorFlow into the grader.
    """
    names = set()
    for path in (Path(library_folder) / "checks").rglob("*.py"):
        names.update(re.findall(r"^def (test_\w+)\(", path.read_text(encoding="utf-8"), flags=re.MULTILINE))
    return frozenset(names)


def judged_checks(checks, library_names):
    """The checks the grader judges itself: those made only of the library's ``test_*`` functions."""
    return {check for check in checks if set(check_function_names(check.code)) <= library_names}
