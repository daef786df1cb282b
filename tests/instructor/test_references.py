"""Every check of the library names the reference answers of its exercise (gan_course.references).

The grader refuses those references (and wrappers of them) in a submission, so each row
must name real library functions, and a new check must add its row.
"""

import types

import pytest

from gan_course import judge
from gan_course.check_cells import library_check_names
from gan_course.course_files import library_folder
from gan_course.references import EXERCISES

LIBRARY_CHECKS = sorted(library_check_names(library_folder()))


def test_every_check_has_a_row():
    missing = [name for name in LIBRARY_CHECKS if name not in EXERCISES]
    assert not missing, (f"add a row for {missing} to EXERCISES in gan_course/references.py: "
                         "the library's reference answers of the exercise each check grades")
    assert not set(EXERCISES) - set(LIBRARY_CHECKS), "rows for checks the library does not have"


@pytest.mark.parametrize("check", sorted(EXERCISES))
def test_references_are_library_functions(check):
    for reference in EXERCISES[check].references:
        value = judge.resolve(reference)
        assert any(isinstance(item, types.FunctionType) for item in judge.unwrapped(value)), reference
        assert reference.startswith("gan_helpers."), reference
