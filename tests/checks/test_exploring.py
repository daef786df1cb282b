"""The checks of notebook 09's exercises (interpolation, nearest neighbours): right answers pass, mistakes are named.

More cases: tests/test_metrics.py (test_notebook_09_checks_*).
"""

import numpy as np
import pytest
import tensorflow as tf

from check_helpers import fails_with, stub
from gan_helpers import checks


def right_nearest(queries, pool, k):
    distances = ((queries[:, None, :].astype(np.float64) - pool[None, :, :]) ** 2).sum(axis=2)
    return np.argsort(distances, axis=1)[:, :k]


def test_other_right_answers_pass(capsys):
    checks.test_interpolate(lambda z0, z1, steps: tf.linspace(z0, z1, steps))
    checks.test_interpolate(lambda z0, z1, steps: np.stack([(1 - t) * z0 + t * z1 for t in np.linspace(0, 1, steps)]))

    def partitioned_then_sorted(queries, pool, k):
        distances = ((queries[:, None, :] - pool[None, :, :]) ** 2).sum(axis=2)
        nearest = np.argpartition(distances, k, axis=1)[:, :k]
        order = np.argsort(np.take_along_axis(distances, nearest, axis=1), axis=1)
        return np.take_along_axis(nearest, order, axis=1)

    checks.test_nearest_neighbours(partitioned_then_sorted)
    checks.test_nearest_neighbours(lambda q, p, k: tf.math.top_k(-tf.reduce_sum((q[:, None] - p[None]) ** 2, -1), k).indices)
    assert capsys.readouterr().out.count("passed") == 4


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda z0, z1, steps: z0 + np.arange(1, steps + 1)[:, None] / (steps + 1) * (z1 - z0), "both ends must be included"),
        (lambda z0, z1, steps: np.concatenate([z0 + t * (z1 - z0) for t in np.linspace(0, 1, steps)]), "one row per step"),
        (lambda z0, z1, steps: z0 + np.linspace(0, 1, steps)[:, None] ** 2 * (z1 - z0), "equal steps along the straight line"),
        (lambda z0, z1, steps: None, "returned None"),
        (stub, "interpolate is not implemented yet"),
    ],
)
def test_interpolate_mistakes_fail_with_hint(wrong, hint):
    fails_with(checks.test_interpolate, wrong, match=hint)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda q, p, k: np.argsort(-((q[:, None] - p[None]) ** 2).sum(2), axis=1)[:, :k], "these are the farthest images"),
        (lambda q, p, k: right_nearest(q, p, k)[:, [1, 0, 2, 3]], "the right neighbours in the wrong order"),
        (lambda q, p, k: right_nearest(q, p, k).T, "the two dimensions are swapped"),
        (lambda q, p, k: np.argsort(np.abs(q[:, None] - p[None]).sum(2), axis=1)[:, :k], "wrong indices for"),
    ],
)
def test_nearest_neighbours_mistakes_fail_with_hint(wrong, hint):
    fails_with(checks.test_nearest_neighbours, wrong, match=hint)
