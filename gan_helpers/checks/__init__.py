"""Checks a learner runs on their own code, with hints when it is wrong.

Each ``test_*`` function takes the learner's function, runs it on fixed inputs
and compares with the expected values the package ships
(``gan_helpers/reference/checks.npz``; the maintainers regenerate them with
``python -m gan_course regenerate-checks``). A pass prints one line with the largest
relative error.
A failure raises ``AssertionError`` saying what is wrong and, where the wrong
value matches a known mistake, what the mistake probably is.

By topic: :mod:`~gan_helpers.checks.basics` (notebook 01),
:mod:`~gan_helpers.checks.models` (02, 03, 07, 08, on one engine),
:mod:`~gan_helpers.checks.losses` (04, 06), :mod:`~gan_helpers.checks.training`
(05: the optimizers and the training step), :mod:`~gan_helpers.checks.dynamics`
(05: gradient play on f(x, y) = x y), :mod:`~gan_helpers.checks.evaluation` and
:mod:`~gan_helpers.checks.exploring` (09), :mod:`~gan_helpers.checks.augmentation`
(10, 13), :mod:`~gan_helpers.checks.wasserstein` (11: the gradient penalty),
:mod:`~gan_helpers.checks.conditional` (12: behavioural checks of conditional
models); notebook 13's hinge loss is in ``losses`` and its moving average in ``training``;
:mod:`~gan_helpers.checks.engine` holds what they share.
"""

from gan_helpers.checks.augmentation import test_add_mirror_images, test_random_translation
from gan_helpers.checks.basics import test_leaky_relu, test_sample_noise
from gan_helpers.checks.conditional import test_conditional_discriminator, test_conditional_generator
from gan_helpers.checks.dynamics import test_xy_updates
from gan_helpers.checks.engine import rel_error
from gan_helpers.checks.evaluation import test_frechet_distance
from gan_helpers.checks.exploring import test_interpolate, test_nearest_neighbours
from gan_helpers.checks.losses import (test_discriminator_loss, test_generator_gradient_factors,
                                       test_generator_loss, test_hinge_loss, test_lsgan_loss)
from gan_helpers.checks.models import (describe_layers, test_dc_discriminator, test_dc_generator,
                                       test_discriminator, test_dog_discriminator, test_dog_generator,
                                       test_generator)
from gan_helpers.checks.training import test_ema_update, test_get_solvers, test_train_step
from gan_helpers.checks.wasserstein import test_gradient_penalty

__all__ = [
    "describe_layers", "rel_error", "test_add_mirror_images", "test_conditional_discriminator",
    "test_conditional_generator", "test_dc_discriminator", "test_dc_generator", "test_discriminator",
    "test_discriminator_loss", "test_dog_discriminator", "test_dog_generator", "test_ema_update",
    "test_frechet_distance", "test_generator", "test_generator_gradient_factors", "test_generator_loss",
    "test_get_solvers", "test_gradient_penalty", "test_hinge_loss", "test_interpolate", "test_leaky_relu",
    "test_lsgan_loss", "test_nearest_neighbours", "test_random_translation", "test_sample_noise",
    "test_train_step", "test_xy_updates",
]
