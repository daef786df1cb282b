"""The ways to install the course agree: environment.yml, the ./course script and pyproject.toml."""

import re
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
ENVIRONMENT = yaml.safe_load((ROOT / "environment.yml").read_text())
EDITABLE_INSTALL = re.compile(r'^-e\s+"?\.\[(?P<extras>[\w,\s-]+)\]"?$')


def normalized(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_packages():
    project = PYPROJECT["project"]
    requirements = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    return {normalized(Requirement(r).name) for r in requirements}


def conda_entries():
    return [entry for entry in ENVIRONMENT["dependencies"] if isinstance(entry, str)]


def pip_entries():
    sections = [entry["pip"] for entry in ENVIRONMENT["dependencies"] if isinstance(entry, dict) and "pip" in entry]
    assert len(sections) == 1, "environment.yml should have exactly one pip section"
    return sections[0]


def editable_extras(line):
    match = EDITABLE_INSTALL.match(line.strip())
    return {normalized(e) for e in match.group("extras").split(",")} if match else None


def test_conda_route_uses_conda_forge_python_3_11_and_pip():
    assert ENVIRONMENT["channels"] == ["conda-forge"]
    pythons = [e for e in conda_entries() if re.match(r"^python\b", e)]
    assert pythons == ["python=3.11"]
    assert "pip" in conda_entries()


def test_python_3_11_is_allowed_by_the_package():
    assert "3.11" in SpecifierSet(PYPROJECT["project"]["requires-python"])


def test_pip_section_installs_this_package_with_its_dev_extra():
    installs = [editable_extras(line) for line in pip_entries()]
    installs = [extras for extras in installs if extras is not None]
    assert len(installs) == 1, f"expected one '-e .[dev]' line in environment.yml, got {pip_entries()}"
    assert "dev" in installs[0]
    assert installs[0] <= set(PYPROJECT["project"]["optional-dependencies"])


def test_environment_lists_no_package_that_pyproject_does_not_declare():
    """Dependencies belong in pyproject.toml; environment.yml must not drift from it."""
    others = [e for e in conda_entries() if not re.match(r"^(python|pip)\b", e)]
    others += [line for line in pip_entries() if editable_extras(line) is None]
    undeclared = {normalized(re.match(r"[\w.-]+", entry).group()) for entry in others}
    assert undeclared <= declared_packages(), f"declare these in pyproject.toml: {undeclared - declared_packages()}"


def test_course_script_installs_the_same_extras_as_environment_yml():
    script = (ROOT / "course").read_text()
    assert 'install=(-e ".[$extras]")' in script, "./course should pip install -e .[EXTRAS]"
    assert "install+=(-e ./gan_course)" in script, "./course should install the course's tools for the tests"
    routes = {name: words.split() for name, words in
              re.findall(r"^\s*(\w+)\)\s+setup ([\w, ]+?)\s*(?:;|$)", script, flags=re.MULTILINE)}
    env_extras = next(e for e in map(editable_extras, pip_entries()) if e is not None)
    # A learner's routes (lab, demo) install what the conda route installs; the tests add the course's tools.
    assert routes["lab"] == routes["demo"] and len(routes["lab"]) == 1
    assert {normalized(x) for x in routes["lab"][0].split(",")} == env_extras
    assert routes["test"] == routes["lab"] + ["tools"]


def test_a_learners_install_carries_no_course_tools():
    """The learner's distribution packages gan_helpers alone; the tools are a distribution of their own."""
    find_packages = pytest.importorskip("setuptools").find_packages
    packages = find_packages(str(ROOT), include=PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"])
    assert "gan_helpers" in packages and all(name.split(".")[0] == "gan_helpers" for name in packages), packages
    tools = tomllib.loads((ROOT / "gan_course" / "pyproject.toml").read_text())
    assert tools["project"]["name"] == "gan_course" and tools["tool"]["setuptools"]["packages"] == ["gan_course"]
    assert "gan-helpers" in {normalized(Requirement(r).name) for r in tools["project"]["dependencies"]}


def test_dev_extra_holds_what_the_tests_and_notebooks_need():
    dev = {normalized(Requirement(r).name) for r in PYPROJECT["project"]["optional-dependencies"]["dev"]}
    assert {"pytest", "nbval", "jupyterlab", "ipykernel", "pyyaml"} <= dev
    runtime = {normalized(Requirement(r).name) for r in PYPROJECT["project"]["dependencies"]}
    assert {"tensorflow", "keras", "numpy", "matplotlib", "ipywidgets", "pillow"} <= runtime
