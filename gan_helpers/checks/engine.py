"""What every check is made of: failing with a hint, calling a learner's code safely,
checking the tensors it returns, and matching a wrong value to a known mistake.

Tolerances are loose enough for float32 on any CPU or GPU and tight enough that
every known mistake is far outside them (the tests of the checks hold both margins).
"""

import functools
import inspect
import pathlib
import re
import sysconfig
import traceback

import numpy as np
import tensorflow as tf

from gan_helpers.checks import values

# Pass thresholds on the (floored) relative error. Float32 rounding reaches about
# 1e-4 on model outputs and 1e-6 on losses; the nearest known mistake is at least
# 2e-2 away.
ELEMENTWISE_TOLERANCE = 1e-5
MODEL_TOLERANCE = 1e-3
LOSS_TOLERANCE = 1e-4
# A wrong answer is attributed to a known mistake when it matches that mistake this closely.
MISTAKE_MATCH_TOLERANCE = 1e-3
# The longest error message of a learner's code that a failure quotes.
QUOTED_ERROR_LIMIT = 300

STUB_HINT = (
    "not implemented yet: fill in the exercise cell (between ### BEGIN SOLUTION and "
    "### END SOLUTION, or where it says # YOUR CODE HERE, deleting the "
    "`raise NotImplementedError` line), run that cell, then run this check again."
)


def rel_error(x, y, floor=1e-8):
    """Largest elementwise relative error ``|x - y| / max(floor, |x| + |y|)``.

    ``floor`` keeps entries where both values are close to 0 from dominating:
    the checks pass 1% of the largest expected magnitude, so that float32
    rounding on a value near 0 does not count as a large relative error.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(floor, np.abs(x) + np.abs(y))))


def scaled_error(actual, expected):
    """rel_error with a floor of 1% of the largest expected magnitude."""
    scale = float(np.max(np.abs(expected))) if np.size(expected) else 0.0
    return rel_error(actual, expected, floor=max(1e-8, 0.01 * scale))


@functools.lru_cache(maxsize=1)
def expected_values():
    """The shipped expected values (read once)."""
    return values.load_expected()


def fail(check, problem, hint=None):
    message = f"{check} failed: {problem}"
    if hint:
        message += f"\nHint: {hint}"
    raise AssertionError(message)


def passed(check, error, what="max relative error"):
    print(f"{check} passed ({what} {error:.1e})")


def call_student(check, name, function, *args, **kwargs):
    """Call the learner's function; turn any exception into a clear AssertionError."""
    try:
        return function(*args, **kwargs)
    except Exception as error:
        if is_stub(error):
            raise stub_failure(check, name) from error
        raise student_error(check, f"your {name} raised", error) from error


def is_stub(error):
    """Whether ``error`` comes from an exercise's stub: a ``raise NotImplementedError`` without a message, in the
    learner's code.

    The student version's stub is ``raise NotImplementedError`` (``make-student``) or ``raise
    NotImplementedError()`` (nbgrader's). Keras and TensorFlow raise NotImplementedError too, with a message (a
    ``layers.Lambda`` whose output shape Keras cannot infer) or without one from their own files (an abstract
    method): that is an error of the learner's code, to be reported as such, not an unwritten exercise.
    """
    if not isinstance(error, NotImplementedError) or error.args:
        return False
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and not _in_library(frames[-1].filename)


def stub_failure(check, name):
    """The AssertionError for an exercise that still holds its stub."""
    return AssertionError(f"{check} failed: {name} is {STUB_HINT}")


def student_error(check, what, error, hint=None):
    """The AssertionError for an exception of the learner's code: what, the error in short, where, the hint.

    Raise it ``from error``, so that the full traceback stays above the message.
    """
    message = f"{check} failed: {what} {type(error).__name__}: {short_message(error)}"
    line = learner_line(error)
    if line:
        message += f"\nIn your code: {line}"
    if hint:
        message += f"\nHint: {hint}"
    return AssertionError(message)


def short_message(error, limit=QUOTED_ERROR_LIMIT):
    """An exception's message on one line, without what Keras wraps around it, at most ``limit`` characters.

    Keras adds 'Exception encountered when calling ...' and lists the arguments
    it received; TensorFlow adds its function node; colour codes go too.
    """
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    text = text.split("Arguments received by")[0]
    text = re.sub(r"Exception encountered when calling [\w.]+\(?\)?\.?", "", text)
    text = re.sub(r"\{\{function_node [^}]*\}\}", "", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _library_folders():
    paths = sysconfig.get_paths()
    folders = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    folders.add(str(pathlib.Path(__file__).resolve().parents[1]))  # gan_helpers
    return [pathlib.Path(folder).resolve() for folder in folders]


_LIBRARY_FOLDERS = _library_folders()


def _in_library(filename):
    """Whether a traceback's file is Python's, an installed package's or gan_helpers'."""
    path = pathlib.Path(filename).resolve()
    return any(path.is_relative_to(folder) for folder in _LIBRARY_FOLDERS)


def learner_line(error):
    """The line of the learner's own code where ``error`` was raised, or None.

    The deepest frame of the traceback outside Python, installed packages,
    gan_helpers and the code TensorFlow's autograph generates for a ``tf.function``:
    in a notebook, a line of the learner's cell.
    """
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename.startswith("<frozen") or "__autograph_generated" in frame.filename or not frame.line:
            continue
        if not _in_library(frame.filename):
            return frame.line.strip()
    return None


def accepts(function, parameter):
    """Whether ``function`` takes an argument called ``parameter``."""
    try:
        return parameter in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


def tensor_values(check, name, output, shape=None):
    """Check that ``output`` is a float32 tf tensor of ``shape``; return it as numpy."""
    if output is None:
        fail(check, f"{name} returned None.", "did you forget the `return` statement?")
    if isinstance(output, (np.ndarray, np.generic, float, int)):
        fail(check, f"{name} returned a {type(output).__name__} instead of a TensorFlow tensor.",
             "compute it with TensorFlow operations (tf.* or keras.ops.*), not numpy, "
             "so that it runs inside a compiled train step and gradients flow through it.")
    if not tf.is_tensor(output):
        fail(check, f"{name} returned a {type(output).__name__}, expected a tf.Tensor.")
    if output.dtype != tf.float32:
        fail(check, f"{name} returned dtype {output.dtype.name}, expected float32.",
             "a float64 constant or numpy value mixed in? Keep everything float32 "
             "(e.g. tf.constant(..., dtype=tf.float32) or tf.cast(x, tf.float32)).")
    if shape is not None and tuple(output.shape) != tuple(shape):
        fail(check, f"{name} returned shape {tuple(output.shape)}, expected {tuple(shape)}.",
             _shape_hint(tuple(shape), tuple(output.shape)))
    result = np.asarray(output)
    if not np.all(np.isfinite(result)):
        fail(check, f"{name} returned values that are not finite (nan or inf).")
    return result


def _shape_hint(expected, actual):
    if expected == () and len(actual) >= 1 and max(actual, default=1) > 1:
        return "that is one value per example: take the mean over the batch (tf.reduce_mean) to return a scalar."
    if expected == ():
        return "a loss is a scalar (shape ()): reduce with tf.reduce_mean, which returns shape () without keepdims."
    if tuple(reversed(expected)) == tuple(actual):
        return "the two dimensions are swapped: the shape is (batch_size, dim)."
    return None


def array_values(check, name, output):
    """A learner's numpy array or tensor as a finite float64 numpy array."""
    if output is None:
        fail(check, f"{name} returned None.", "did you forget the `return` statement?")
    try:
        result = np.asarray(output, dtype=np.float64)
    except (TypeError, ValueError):
        fail(check, f"{name} returned a {type(output).__name__}, expected an array of numbers (numpy or a tensor).")
    if not np.all(np.isfinite(result)):
        fail(check, f"{name} returned values that are not finite (nan or inf).")
    return result


def matching_mistake(actual, mistakes):
    """The hint of the first known mistake ``(hint, value)`` whose value matches ``actual``, else None."""
    for hint, value in mistakes:
        value = np.asarray(value, dtype=np.float64)
        if value.shape == np.shape(actual) and np.all(np.isfinite(value)):
            if scaled_error(actual, value) < MISTAKE_MATCH_TOLERANCE:
                return hint
    return None
