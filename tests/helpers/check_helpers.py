"""What the tests of the checks share: running a check that must fail, and an unwritten exercise."""

import pytest


def fails_with(check, *args, match):
    """Run a check that must fail; return the AssertionError (its message must match)."""
    with pytest.raises(AssertionError, match=match) as info:
        check(*args)
    return info.value


def stub(*args, **kwargs):
    """A student's exercise left as the student version hands it out."""
    raise NotImplementedError
