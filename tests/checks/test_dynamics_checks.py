"""The check of the x y game (notebook 05): right iterates pass, plausible mistakes fail with their hint."""

import numpy as np
import pytest
import tensorflow as tf

from check_helpers import fails_with, stub
from gan_helpers import checks
from gan_helpers.checks import dynamics, engine


def alternating_loop(x0, y0, learning_rate, steps):
    x, y = x0, y0
    rows = [(x, y)]
    for _ in range(steps):
        y = y + learning_rate * x
        x = x - learning_rate * y
        rows.append((x, y))
    return np.array(rows)


def simultaneous_loop(x0, y0, learning_rate, steps):
    x, y = x0, y0
    rows = [(x, y)]
    for _ in range(steps):
        x, y = x - learning_rate * y, y + learning_rate * x
        rows.append((x, y))
    return np.array(rows)


def alternating_preallocated(x0, y0, learning_rate, steps):
    out = np.zeros((steps + 1, 2))
    out[0] = x0, y0
    for t in range(steps):
        y = out[t, 1] + learning_rate * out[t, 0]
        out[t + 1] = out[t, 0] - learning_rate * y, y
    return out


def simultaneous_by_matrix(x0, y0, learning_rate, steps):
    update = np.array([[1.0, -learning_rate], [learning_rate, 1.0]])
    rows = [np.array([x0, y0])]
    for _ in range(steps):
        rows.append(update @ rows[-1])
    return np.stack(rows)


def alternating_with_tensorflow(x0, y0, learning_rate, steps):
    """With tf.Variables and a GradientTape, as the GAN's step is written; returns a tensor (float32)."""
    x, y = tf.Variable(float(x0), dtype=tf.float64), tf.Variable(float(y0), dtype=tf.float64)
    rows = [tf.stack([x, y])]
    for _ in range(steps):
        with tf.GradientTape() as tape:
            f = x * y
        y.assign_add(learning_rate * tape.gradient(f, y))
        with tf.GradientTape() as tape:
            f = x * y
        x.assign_sub(learning_rate * tape.gradient(f, x))
        rows.append(tf.stack([x, y]))
    return tf.cast(tf.stack(rows), tf.float32)


def as_lists(function):
    return lambda *args: function(*args).tolist()


@pytest.mark.parametrize("alternating, simultaneous", [
    (alternating_loop, simultaneous_loop),
    (alternating_preallocated, simultaneous_by_matrix),
    (alternating_with_tensorflow, as_lists(simultaneous_loop)),
])
def test_right_updates_pass(alternating, simultaneous, capsys):
    checks.test_xy_updates(alternating, simultaneous)
    assert capsys.readouterr().out.startswith("test_xy_updates passed (max relative error")


def test_the_iterates_are_the_cs231n_table():
    """CS231n's question: six alternating steps of size 1 from (1, 1), y first; simultaneous steps grow by sqrt(2)."""
    assert dynamics.iterates(1, 1, 1, 6).tolist() == [[1, 1], [-1, 2], [-2, 1], [-1, -1], [1, -2], [2, -1], [1, 1]]
    together = dynamics.iterates(1, 1, 1, 6, order="simultaneous")
    assert together.tolist() == [[1, 1], [0, 2], [-2, 2], [-4, 0], [-4, -4], [0, -8], [8, -8]]
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), np.sqrt(2) ** np.arange(1, 8))


def test_alternating_steps_keep_their_quadratic_form_and_simultaneous_ones_spiral_out():
    """The notebook's claims: x^2 + lr x y + y^2 is conserved (y first), and |z| grows by sqrt(1 + lr^2) a step."""
    lr = 0.3
    z = dynamics.iterates(0.5, -0.3, lr, 200)
    np.testing.assert_allclose(z[:, 0] ** 2 + lr * z[:, 0] * z[:, 1] + z[:, 1] ** 2, 0.5**2 - lr * 0.15 + 0.3**2)
    radius = np.linalg.norm(dynamics.iterates(0.5, -0.3, lr, 200, order="simultaneous"), axis=1)
    np.testing.assert_allclose(radius[1:] / radius[:-1], np.sqrt(1 + lr**2))
    # the average of the orbit approaches the equilibrium (0, 0)
    orbit = dynamics.iterates(0.5, -0.3, lr, 2000)
    assert np.abs(orbit.mean(axis=0)).max() < 0.005 < 0.5 < np.abs(orbit).max(axis=0).min()


def alternating_rule(order="y first", x_sign=-1.0, y_sign=1.0, rate=None):
    def function(x0, y0, learning_rate, steps):
        return dynamics.iterates(x0, y0, learning_rate if rate is None else rate, steps, order=order,
                                 x_sign=x_sign, y_sign=y_sign)

    return function


def aliased(x0, y0, learning_rate, steps):
    state = np.array([x0, y0], dtype=float)
    rows = [state]
    for _ in range(steps):
        state[1] += learning_rate * state[0]
        state[0] -= learning_rate * state[1]
        rows.append(state)
    return np.array(rows)


def without_start(x0, y0, learning_rate, steps):
    return alternating_loop(x0, y0, learning_rate, steps)[1:]


def two_lists(x0, y0, learning_rate, steps):
    rows = alternating_loop(x0, y0, learning_rate, steps)
    return list(rows[:, 0]), list(rows[:, 1])


def one_step_short(x0, y0, learning_rate, steps):
    return alternating_loop(x0, y0, learning_rate, steps - 1)


ALTERNATING_MISTAKES = [
    (alternating_rule("simultaneous"), "this is the simultaneous update: x's step uses the old y"),
    (alternating_rule("x first"), "x moves first here"),
    (alternating_rule(x_sign=1.0, y_sign=-1.0), "the signs are flipped"),
    (alternating_rule(y_sign=-1.0), "y descends f"),
    (alternating_rule(x_sign=1.0), "x ascends f"),
    (alternating_rule(rate=1.0), r"learning rate of 1, not 0.1: the function ignores its learning_rate"),
    (aliased, "every row after the first is the same"),
    (without_start, r"shape \(6, 2\), expected \(7, 2\).*the starting point is missing"),
    (one_step_short, "the last iterate is missing"),
    (two_lists, r"shape \(2, 7\).*the two dimensions are swapped"),
    (lambda *args: None, "returned None"),
    (stub, "alternating_updates is not implemented yet"),
]


@pytest.mark.parametrize("wrong, hint", ALTERNATING_MISTAKES)
def test_alternating_mistakes_fail_with_hint(wrong, hint):
    fails_with(checks.test_xy_updates, wrong, simultaneous_loop, match=f"(?s){hint}")


SIMULTANEOUS_MISTAKES = [
    (alternating_rule(), r"this is the alternating update \(y first\)"),
    (alternating_rule("x first"), r"this is the alternating update \(x first\)"),
    (alternating_rule("simultaneous", x_sign=1.0, y_sign=-1.0), "the signs are flipped"),
    (alternating_rule("simultaneous", y_sign=-1.0), "y descends f"),
    (stub, "simultaneous_updates is not implemented yet"),
]


@pytest.mark.parametrize("wrong, hint", SIMULTANEOUS_MISTAKES)
def test_simultaneous_mistakes_fail_with_hint(wrong, hint):
    fails_with(checks.test_xy_updates, alternating_loop, wrong, match=f"(?s){hint}")


def test_the_failure_names_the_first_wrong_row():
    error = fails_with(checks.test_xy_updates, alternating_rule("x first"), simultaneous_loop, match="from row 1 on")
    assert "got (0, 1), expected (-1, 2)" in str(error)


def test_known_mistakes_are_far_outside_the_tolerance_and_told_apart():
    for order in ("y first", "simultaneous"):
        for x0, y0, learning_rate, steps in dynamics.CASES:
            expected = dynamics.iterates(x0, y0, learning_rate, steps, order=order)
            mistakes = [value for _, value in dynamics._mistakes(order, x0, y0, learning_rate, steps)]
            for i, value in enumerate(mistakes):
                assert engine.scaled_error(value, expected) > 100 * engine.ELEMENTWISE_TOLERANCE
                assert all(engine.scaled_error(value, other) > 10 * engine.MISTAKE_MATCH_TOLERANCE
                           for other in mistakes[i + 1:])
