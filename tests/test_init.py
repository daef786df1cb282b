"""gan_helpers/__init__.py: every name a notebook uses, importable in one statement."""

import ast
import importlib
import importlib.util
import re

import pytest

import gan_helpers
from gan_course.notebook_files import COURSE_NOTEBOOKS, cell_source, course_notebooks, read_notebook_json


def test_every_exported_name_is_the_object_of_its_module():
    for module, names in gan_helpers._EXPORTS.items():
        source = importlib.import_module(f"gan_helpers.{module}")
        for name in names:
            assert getattr(gan_helpers, name) is getattr(source, name), f"gan_helpers.{name}"
    assert sorted(gan_helpers.__all__) == sorted(gan_helpers._WHERE)
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        gan_helpers.no_such_name  # noqa: B018


def _code(cell):
    """A code cell's Python, IPython's magics and shell lines left out."""
    return "\n".join(line for line in cell_source(cell).splitlines() if not re.match(r"\s*[%!]", line))


def _library_imports(path):
    """(module, imported names) of every import from gan_helpers in a notebook's code cells."""
    found = []
    for cell in read_notebook_json(path)["cells"]:
        if cell["cell_type"] != "code":
            continue
        for node in ast.walk(ast.parse(_code(cell))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "gan_helpers":
                found.append((node.module, [alias.name for alias in node.names]))
            elif isinstance(node, ast.Import):
                found += [(alias.name, []) for alias in node.names if alias.name.startswith("gan_helpers.")]
    return found


@pytest.mark.parametrize("path", course_notebooks(COURSE_NOTEBOOKS), ids=lambda path: path.stem)
def test_a_notebook_imports_the_library_in_one_statement_and_the_checks_in_another(path):
    imports = _library_imports(path)
    modules = [module for module, _ in imports]
    assert set(modules) <= {"gan_helpers", "gan_helpers.checks"}, (
        f"{path.name} imports from {sorted(set(modules))}: import from gan_helpers itself (add the name to "
        "gan_helpers/__init__.py), checks from gan_helpers.checks")
    assert modules.count("gan_helpers") <= 1 and modules.count("gan_helpers.checks") <= 1, (
        f"{path.name} has {modules.count('gan_helpers')} statements importing from gan_helpers: make it one")
    for module, names in imports:
        if module != "gan_helpers":
            continue
        for name in names:
            exported = name in gan_helpers.__all__ or importlib.util.find_spec(f"gan_helpers.{name}") is not None
            assert exported, f"{path.name} imports {name}, which gan_helpers/__init__.py does not hand on"
