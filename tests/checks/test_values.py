"""The checks' fixed inputs: one description of each reference model, deterministic weights.

Regenerating the expected values is the maintainers' tool: tests/instructor/test_expected_values.py.
"""

import numpy as np
import pytest

from gan_helpers import models
from gan_helpers.checks import values as check_values


@pytest.mark.parametrize(
    "builder, plan",
    [
        (models.discriminator, check_values.DISCRIMINATOR_PLAN),
        (models.generator, check_values.generator_plan()),
        (models.dc_discriminator, check_values.DC_DISCRIMINATOR_PLAN),
        (models.dc_generator, check_values.dc_generator_plan()),
        (models.dog_discriminator, check_values.dog_discriminator_plan()),
        (models.dog_generator, check_values.dog_generator_plan()),
    ],
)
def test_each_plan_describes_its_reference_model_weight_by_weight(builder, plan):
    model = builder()
    assert [tuple(w.shape) for w in model.weights] == check_values.weight_shapes(plan)
    weights = check_values.fixed_weights(plan)
    assert [w.shape for w in weights] == check_values.weight_shapes(plan)
    assert all(w.dtype == np.float32 for w in weights)
    model.set_weights(weights)  # they load


def test_fixed_weights_are_deterministic_and_scaled_by_fan_in():
    plan = check_values.dense_plan(784, 256, 1)
    first, again = check_values.fixed_weights(plan), check_values.fixed_weights(plan)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(first, again))
    kernel, bias = first[0], first[1]
    assert np.abs(kernel).max() <= np.sqrt(6 / 784) and np.abs(kernel).max() > 0.9 * np.sqrt(6 / 784)
    assert np.abs(bias).max() <= 0.5 and np.abs(bias).max() > 0.45
    other_seed = check_values.fixed_weights(plan, seed=check_values.WEIGHTS_SEED + 1)
    assert not np.array_equal(other_seed[0], kernel)
