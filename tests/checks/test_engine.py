"""What the checks share: relative errors, and calling a learner's code that raises."""

import json
import pathlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from check_helpers import fails_with
from gan_helpers import checks
from gan_helpers.checks import engine


def test_rel_error():
    assert checks.rel_error(np.ones(3), np.ones(3)) == 0.0
    assert checks.rel_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 4.2)
    assert checks.rel_error(0.0, 0.0) == 0.0


def test_a_student_exception_is_named_chained_and_located():
    def broken(x, alpha=0.01):
        return x + "oops"

    error = fails_with(checks.test_leaky_relu, broken, match="your leaky_relu raised")
    assert error.__cause__ is not None
    assert 'In your code: return x + "oops"' in str(error)


def test_the_line_named_is_the_learners_not_the_librarys():
    def calls_tensorflow_wrongly(x, alpha=0.01):
        return tf.reshape(x, (5, 5))  # 24 values do not make 5 x 5

    error = fails_with(checks.test_leaky_relu, calls_tensorflow_wrongly, match="raised InvalidArgumentError")
    assert "In your code: return tf.reshape(x, (5, 5))" in str(error)


def test_a_long_keras_error_is_quoted_short_and_on_one_line():
    message = (
        "Exception encountered when calling Sequential.call().\n\n"
        "\x1b[1mInput 0 of layer 'dense' is incompatible with the layer: expected axis -1 to have value 28\x1b[0m\n\n"
        "Arguments received by Sequential.call():\n  • inputs=tf.Tensor(shape=(16, 784), dtype=float32)\n"
    )
    short = engine.short_message(ValueError(message))
    assert short == "Input 0 of layer 'dense' is incompatible with the layer: expected axis -1 to have value 28"
    assert len(engine.short_message(ValueError("x" * 10_000))) == engine.QUOTED_ERROR_LIMIT


EXERCISES = pathlib.Path(__file__).resolve().parents[2] / "exercises"


def exercise_cell(notebook, defines):
    """The learner's function ``defines`` as the student version hands it out, run as a notebook cell would run it."""
    cells = json.loads((EXERCISES / notebook).read_text())["cells"]
    source = next("".join(cell["source"]) for cell in cells if f"def {defines}(" in "".join(cell["source"]))
    namespace = {}
    exec(compile(source, "/tmp/ipykernel_0/cell.py", "exec"), namespace)
    return namespace[defines]


def nbgrader_stub(x, alpha=0.01):
    # YOUR CODE HERE
    raise NotImplementedError()


@pytest.mark.parametrize("unwritten", [exercise_cell("01_leaky_relu_and_noise.ipynb", "leaky_relu"), nbgrader_stub])
def test_the_exercise_stub_is_reported_as_unwritten(unwritten):
    """The student version's stub (``raise NotImplementedError``) and nbgrader's (``NotImplementedError()``)."""
    error = fails_with(checks.test_leaky_relu, unwritten,
                       match="leaky_relu is not implemented yet: fill in the exercise")
    assert isinstance(error.__cause__, NotImplementedError)


def test_a_not_implemented_error_with_a_message_is_reported_as_the_error():
    def unsupported(x, alpha=0.01):
        raise NotImplementedError("complex inputs are not supported")

    error = fails_with(checks.test_leaky_relu, unsupported,
                       match="your leaky_relu raised NotImplementedError: complex inputs are not supported")
    assert "not implemented yet" not in str(error)
    assert 'In your code: raise NotImplementedError("complex inputs are not supported")' in str(error)


def test_a_bare_not_implemented_error_from_a_library_is_reported_as_the_error():
    """Keras raises NotImplementedError without a message too (an abstract method): not the exercise's stub."""
    def abstract_metric(x, alpha=0.01):
        keras.metrics.Metric(name="unfinished").update_state(x)
        return x

    error = fails_with(checks.test_leaky_relu, abstract_metric, match="your leaky_relu raised NotImplementedError")
    assert "not implemented yet" not in str(error)
    assert 'In your code: keras.metrics.Metric(name="unfinished").update_state(x)' in str(error)
