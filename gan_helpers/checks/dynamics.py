"""Checks of notebook 05's game on f(x, y) = x y: gradient steps that take turns, and steps taken together.

x descends f (the generator's role), y ascends it (the discriminator's role). The
learner's functions return the iterates, start included; the check compares them
with the iterates computed here in float64 and matches a wrong answer against
known mistakes (another order, the other kind of update, a flipped sign, a row
too few, the same row appended every step, a learning rate ignored).
"""

import numpy as np

from gan_helpers.checks.engine import (ELEMENTWISE_TOLERANCE, array_values, call_student, fail,
                                       matching_mistake, passed, scaled_error)

# (x0, y0, learning rate, steps): the CS231n question's start, step size and six steps first.
CASES = [(1.0, 1.0, 1.0, 6), (0.5, -0.3, 0.1, 40), (-2.0, 0.7, 0.25, 13)]


def iterates(x0, y0, learning_rate, steps, *, order="y first", x_sign=-1.0, y_sign=1.0):
    """Iterates (steps + 1, 2) of gradient steps on f = x y, float64.

    ``order``: "y first" (y moves, then x with the new y), "x first", or
    "simultaneous" (both from the old pair). ``x_sign``, ``y_sign``: -1 descends,
    +1 ascends (the right game has x descending, y ascending).
    """
    x, y = float(x0), float(y0)
    rows = [(x, y)]
    for _ in range(steps):
        if order == "y first":
            y = y + y_sign * learning_rate * x
            x = x + x_sign * learning_rate * y
        elif order == "x first":
            x = x + x_sign * learning_rate * y
            y = y + y_sign * learning_rate * x
        else:
            x, y = x + x_sign * learning_rate * y, y + y_sign * learning_rate * x
        rows.append((x, y))
    return np.array(rows)


_ALTERNATING = "y first"
_RULES = {
    "y first": "y_{t+1} = y_t + lr * x_t, then x_{t+1} = x_t - lr * y_{t+1}",
    "simultaneous": "x_{t+1} = x_t - lr * y_t and y_{t+1} = y_t + lr * x_t, both from the old pair",
}
_SIGNS = [
    (1.0, -1.0, "the signs are flipped: x descends f (x - lr * df/dx = x - lr * y) and y ascends it "
                "(y + lr * df/dy = y + lr * x)."),
    (-1.0, -1.0, "y descends f: y is the maximising player, so it climbs, y + lr * df/dy = y + lr * x."),
    (1.0, 1.0, "x ascends f: x is the minimising player, so it descends, x - lr * df/dx = x - lr * y."),
]


def _mistakes(order, x0, y0, learning_rate, steps):
    """(hint, iterates) of the known mistakes for the update ``order`` ("y first" or "simultaneous")."""
    mistakes = []
    if order == _ALTERNATING:
        mistakes += [
            ("this is the simultaneous update: x's step uses the old y. Taking turns, y moves first and x then uses "
             "the new y_{t+1}.", iterates(x0, y0, learning_rate, steps, order="simultaneous")),
            ("x moves first here: in this notebook y (the discriminator's part) moves first and x (the generator's) "
             "then uses the new y, as in the GAN's step, where D is updated before G.",
             iterates(x0, y0, learning_rate, steps, order="x first")),
        ]
    else:
        for other in ("y first", "x first"):
            mistakes.append((f"this is the alternating update ({other}): in the simultaneous update both players "
                             "step from the old pair; update both in one assignment, x, y = x - lr * y, y + lr * x, "
                             "or keep the old x for y's step.", iterates(x0, y0, learning_rate, steps, order=other)))
    for x_sign, y_sign, hint in _SIGNS:
        mistakes.append((hint, iterates(x0, y0, learning_rate, steps, order=order, x_sign=x_sign, y_sign=y_sign)))
    if learning_rate != 1.0:
        mistakes.append((f"these are the iterates for a learning rate of 1, not {learning_rate:g}: the function "
                         "ignores its learning_rate argument.", iterates(x0, y0, 1.0, steps, order=order)))
    return mistakes


def _shape_hint(values, expected):
    steps = len(expected) - 1
    if values.shape == expected.shape[::-1]:
        return ("the two dimensions are swapped: one row per iterate, (x_t, y_t), shape (steps + 1, 2); "
                "np.stack([xs, ys], axis=1) makes it from two lists.")
    if values.shape == (steps, 2):
        if np.allclose(values, expected[1:], rtol=1e-5, atol=1e-8):
            return "the starting point is missing: the first row is (x0, y0), then one row per step, steps + 1 rows."
        if np.allclose(values, expected[:-1], rtol=1e-5, atol=1e-8):
            return "the last iterate is missing: steps + 1 rows, the start and one after each of the steps."
        return "steps + 1 rows: the starting point (x0, y0), then one row after each step."
    if values.shape == (steps + 2, 2):
        return "one row too many: the starting point, then one row after each of the steps (steps + 1 rows)."
    return "return an array of shape (steps + 1, 2): row t is (x_t, y_t), row 0 the starting point."


def _pair(row):
    return f"({row[0]:.6g}, {row[1]:.6g})"


def _check_updates(check, name, function, order):
    worst = 0.0
    for x0, y0, learning_rate, steps in CASES:
        call = f"{name}({x0:g}, {y0:g}, learning_rate={learning_rate:g}, steps={steps})"
        output = call_student(check, name, function, x0, y0, learning_rate, steps)
        values = array_values(check, call, output)
        expected = iterates(x0, y0, learning_rate, steps, order=order)
        if values.shape != expected.shape:
            fail(check, f"{call} returned shape {values.shape}, expected {expected.shape}.", _shape_hint(values, expected))
        error = scaled_error(values, expected)
        if error > ELEMENTWISE_TOLERANCE:
            hint = matching_mistake(values, _mistakes(order, x0, y0, learning_rate, steps))
            if hint is None and len(values) > 2 and np.all(values[1:] == values[-1]):
                hint = ("every row after the first is the same: is the same array appended at every step and then "
                        "changed in place? Append a new pair, e.g. rows.append((x, y)).")
            if hint is None:
                hint = f"{'taking turns' if order == _ALTERNATING else 'together'}: {_RULES[order]}."
            row = int(np.argmax(np.any(np.abs(values - expected) > 1e-6 * (1 + np.abs(expected)), axis=1)))
            fail(check, f"{call} is wrong from row {row} on: got {_pair(values[row])}, expected "
                        f"{_pair(expected[row])}.", hint)
        worst = max(worst, error)
    return worst


def test_xy_updates(alternating_updates, simultaneous_updates):
    """Check both functions ``(x0, y0, learning_rate, steps) -> iterates (steps + 1, 2)`` on f(x, y) = x y.

    ``alternating_updates``: y ascends first, then x descends with the new y.
    ``simultaneous_updates``: both step from the old pair.
    """
    check = "test_xy_updates"
    error = _check_updates(check, "alternating_updates", alternating_updates, _ALTERNATING)
    error = max(error, _check_updates(check, "simultaneous_updates", simultaneous_updates, "simultaneous"))
    passed(check, error)
