"""Checks of notebook 09's exercises: latent interpolation and nearest neighbours (is the generator copying?)."""

import numpy as np

from gan_helpers.checks.engine import (ELEMENTWISE_TOLERANCE, array_values, call_student, fail,
                                       matching_mistake, passed, scaled_error)
from gan_helpers.models import NOISE_DIM


def _interpolate_mistakes(z0, z1, steps):
    t = np.arange(steps)[:, None]
    return [
        ("the last vector must be z1 itself: t runs from 0 to 1 with both ends included, "
         "t = i / (steps - 1), as np.linspace(0, 1, steps) gives.", z0 + t / steps * (z1 - z0)),
        ("both ends must be included: the first vector is z0 and the last is z1 "
         "(t = i / (steps - 1), not i / (steps + 1)).", z0 + (t + 1) / (steps + 1) * (z1 - z0)),
        ("the path runs the wrong way: it starts at z0 (t = 0) and ends at z1 (t = 1).",
         z1 + t / (steps - 1) * (z0 - z1)),
    ]


def test_interpolate(interpolate):
    """Check ``interpolate(z0, z1, steps)``: ``steps`` vectors from z0 to z1 in equal steps, both ends included."""
    check = "test_interpolate"
    rng = np.random.default_rng(2019)
    z0, z1 = rng.uniform(-1, 1, (2, NOISE_DIM)).astype(np.float32)
    worst = 0.0
    for steps in (2, 5, 11):
        values = array_values(check, "interpolate", call_student(check, "interpolate", interpolate, z0, z1, steps))
        expected = z0 + np.linspace(0.0, 1.0, steps)[:, None] * (z1.astype(np.float64) - z0)
        if values.shape != expected.shape:
            hint = (f"one row per step: stack the {steps} vectors into shape (steps, dim), e.g. "
                    "z0 + t[:, None] * (z1 - z0) with t of shape (steps,).")
            if values.shape == expected.shape[::-1]:
                hint = "the two dimensions are swapped: one row per step, shape (steps, dim)."
            fail(check, f"interpolate(z0, z1, {steps}) returned shape {values.shape}, expected {expected.shape}.", hint)
        error = scaled_error(values, expected)
        if error > ELEMENTWISE_TOLERANCE:
            mistakes = _interpolate_mistakes(z0.astype(np.float64), z1.astype(np.float64), steps)
            hint = matching_mistake(values, mistakes) or ("vector i is z0 + t_i (z1 - z0) with t_i = i / (steps - 1): "
                                                          "equal steps along the straight line.")
            fail(check, f"interpolate(z0, z1, {steps}) is wrong (max relative error {error:.2g}).", hint)
        worst = max(worst, error)
    passed(check, worst)


def _nearest_mistakes(queries, pool, k):
    distances = np.sum((queries[:, None, :] - pool[None, :, :]) ** 2, axis=2)
    nearest = np.argsort(distances, axis=1)[:, :k]
    return [
        ("these are the farthest images: np.argsort sorts ascending, so the nearest come first "
         "without negating the distances.", np.argsort(-distances, axis=1)[:, :k]),
        ("the right neighbours, farthest first: return them nearest first.", nearest[:, ::-1]),
        ("indices count from 0, as numpy's do: do not add 1.", nearest + 1),
        ("a larger dot product a.b does not mean a nearer image: |a - b|^2 = |a|^2 - 2 a.b + |b|^2, and the "
         "|b|^2 term differs from one pool image to the next, so keep it.", np.argsort(-queries @ pool.T, axis=1)[:, :k]),
    ]


def test_nearest_neighbours(nearest_neighbours):
    """Check ``nearest_neighbours(queries, pool, k)``: indices (N, k) into pool, nearest first."""
    check = "test_nearest_neighbours"
    rng = np.random.default_rng(2020)
    pool = rng.normal(size=(300, 16)) * rng.uniform(0.3, 3.0, size=(300, 1))
    queries = np.concatenate([rng.normal(size=(6, 16)), pool[[17, 230]]])
    pool, queries = pool.astype(np.float32), queries.astype(np.float32)
    k = 4
    pool64, queries64 = pool.astype(np.float64), queries.astype(np.float64)
    expected = np.argsort(np.sum((queries64[:, None, :] - pool64[None, :, :]) ** 2, axis=2), axis=1)[:, :k]
    output = call_student(check, "nearest_neighbours", nearest_neighbours, queries, pool, k)
    values = array_values(check, "nearest_neighbours", output)
    if values.shape != expected.shape:
        hint = "one row per query image, k indices into pool in each row."
        if values.shape == expected.shape[::-1]:
            hint = "the two dimensions are swapped: " + hint
        fail(check, f"nearest_neighbours(queries (8, 16), pool (300, 16), k=4) returned shape {values.shape}, "
                     f"expected {expected.shape}.", hint)
    if not np.array_equal(values, np.round(values)):
        fail(check, "nearest_neighbours returned fractional numbers: return the indices of the nearest pool "
                     "images (np.argsort gives indices), not their distances.")
    if np.array_equal(values, expected):
        print(f"{check} passed (all {expected.size} neighbours right, nearest first)")
        return
    mistakes = _nearest_mistakes(queries64, pool64, k)
    hint = next((hint for hint, wrong in mistakes if np.array_equal(values, wrong)), None)
    if hint is None and all(set(row) == set(want) for row, want in zip(values.astype(np.int64), expected)):
        hint = "the right neighbours in the wrong order: sort them nearest first (np.argsort; np.argpartition does not sort)."
    if hint is None and not np.array_equal(values[6:, 0], [17, 230]):
        hint = "two queries are copies of pool[17] and pool[230]: each one's nearest image is itself, at distance 0."
    wrong_rows = int(np.sum(np.any(values != expected, axis=1)))
    fail(check, f"nearest_neighbours gave the wrong indices for {wrong_rows} of 8 queries.", hint)
