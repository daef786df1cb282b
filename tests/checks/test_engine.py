"""What the checks share: relative errors, and calling a learner's code that raises."""

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
