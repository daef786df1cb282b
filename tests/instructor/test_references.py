"""Every check of the library names the reference answers of its exercise (instructor.references).

The grader refuses those references (and wrappers of them) in a submission, so each row
must name real library functions, and a new check must add its row.
"""

import re
import types
from pathlib import Path

import pytest

from gan_helpers.instructor import judge
from gan_helpers.instructor.references import EXERCISES

CHECKS = Path(__file__).resolve().parents[2] / "gan_helpers" / "checks"
LIBRARY_CHECKS = sorted({name for path in CHECKS.rglob("*.py")
                         for name in re.findall(r"^def (test_\w+)\(", path.read_text(encoding="utf-8"), re.MULTILINE)})


def test_every_check_has_a_row():
    missing = [name for name in LIBRARY_CHECKS if name not in EXERCISES]
    assert not missing, (f"add a row for {missing} to EXERCISES in gan_helpers/instructor/references.py: "
                         "the library's reference answers of the exercise each check grades")
    assert not set(EXERCISES) - set(LIBRARY_CHECKS), "rows for checks the library does not have"


@pytest.mark.parametrize("check", sorted(EXERCISES))
def test_references_are_library_functions(check):
    for reference in EXERCISES[check].references:
        value = judge.resolve(reference)
        assert any(isinstance(item, types.FunctionType) for item in judge.unwrapped(value)), reference
        assert reference.startswith("gan_helpers."), reference
