"""regenerate-checks: the checks' expected values, recomputed deterministically as the package ships them."""

import numpy as np

from gan_course import expected_values
from gan_course.cli import main
from gan_helpers.checks import values as check_values


def test_regeneration_is_deterministic_and_matches_the_shipped_file(tmp_path):
    first, second = tmp_path / "first.npz", tmp_path / "second.npz"
    assert main(["regenerate-checks", "--output", str(first)]) == 0
    expected_values.write_expected(second)
    a, b = check_values.load_expected(first), check_values.load_expected(second)
    shipped = check_values.load_expected()
    assert sorted(a) == sorted(b) == sorted(shipped)
    for key in a:
        assert a[key].dtype == b[key].dtype and a[key].tobytes() == b[key].tobytes(), key
        np.testing.assert_allclose(a[key], shipped[key], rtol=1e-4, atol=1e-5, err_msg=key)
