"""The ./course script and .ci/run: the README's commands, without running the set-up."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_course(*args):
    return subprocess.run([str(ROOT / "course"), *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args", [(), ("nonsense",)], ids=["no-command", "unknown-command"])
def test_without_a_known_command_it_prints_usage_and_exits_2(args):
    result = run_course(*args)
    assert result.returncode == 2
    assert "usage" in result.stderr
    for command in ("lab", "demo", "test"):
        assert command in result.stderr


def test_scripts_are_valid_bash_and_executable():
    for script in (ROOT / "course", ROOT / ".ci" / "run"):
        assert script.stat().st_mode & 0o111, f"{script} is not executable"
        subprocess.run(["bash", "-n", str(script)], check=True)


def test_ci_runs_the_readme_test_command_and_nothing_else():
    commands = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#") and not line.startswith(("set ", "cd "))
    ]
    assert commands == ["exec ./course test"]
    assert "./course test" in (ROOT / "README.md").read_text()


def test_demo_runs_the_train_command_into_runs_demo():
    script = (ROOT / "course").read_text()
    assert "-m gan_helpers train --out runs/demo" in script


def test_test_installs_the_browser_for_the_browser_test_when_it_can():
    script = (ROOT / "course").read_text()
    assert "test) setup dev tools; browser_setup;" in script
    assert "apt-get install -y -qq chromium chromium-driver" in script
    assert '[ "$(id -u)" != 0 ] || ! command -v apt-get' in script
    assert '"selenium' in (ROOT / "pyproject.toml").read_text()


def test_lab_opens_the_student_version_and_test_installs_nbgrader():
    script = (ROOT / "course").read_text()
    assert "jupyter lab exercises/" in script and "lab)  setup dev\n" in script
    assert '"nbgrader' in (ROOT / "gan_course" / "pyproject.toml").read_text()
