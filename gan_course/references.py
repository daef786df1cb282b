"""Which library functions each check's exercise re-implements: what a graded submission may not hand in.

The library holds a reference answer for every exercise (``gan_helpers.ops.leaky_relu``
for the exercise that ``test_leaky_relu`` checks, ...), so that later notebooks and the
command line can use it. When *grading*, a check must grade the learner's code: the
grader (``judge``) fails a check whose graded arguments are, reach or call the
exercise's reference answer. Only the exercise's own references are off limits; a
learner's function may use any other part of the library (``sample_noise`` in a
training step, say). Outside grading, the checks accept anything, as a learner expects.

**Adding a check.** Every ``test_*`` function of ``gan_helpers.checks`` needs a row in
``EXERCISES`` (``tests/instructor/test_references.py`` fails until it has one, and
checks that every reference named here exists):

    "test_train_step": Exercise(("gan_helpers.training:train_step",), learner_arguments=(0,)),

``references`` are ``"module:qualified_name"`` strings (``()`` when the library has no
answer to the exercise); ``learner_arguments`` are the positions of the check's
arguments that are the learner's code (``None``, the default: all of them), e.g.
``(0,)`` for a check that takes the learner's ``train_step`` and two library models.
This module imports nothing: the grader reads it without TensorFlow.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Exercise:
    """What a check grades: the library's reference answers, and which arguments are the learner's code."""

    references: tuple = ()
    learner_arguments: tuple | None = None


EXERCISES = {
    "test_leaky_relu": Exercise(("gan_helpers.ops:leaky_relu",)),
    "test_sample_noise": Exercise(("gan_helpers.ops:sample_noise",)),
    "test_discriminator": Exercise(("gan_helpers.models:discriminator",)),
    "test_generator": Exercise(("gan_helpers.models:generator",)),
    "test_discriminator_loss": Exercise(("gan_helpers.losses:discriminator_loss",)),
    "test_generator_loss": Exercise(("gan_helpers.losses:generator_loss",)),
    "test_lsgan_loss": Exercise(("gan_helpers.losses:ls_discriminator_loss", "gan_helpers.losses:ls_generator_loss")),
    "test_interpolate": Exercise(("gan_helpers.ops:interpolate_noise",)),
    "test_nearest_neighbours": Exercise(("gan_helpers.metrics:nearest_neighbours",)),
    "test_dc_discriminator": Exercise(("gan_helpers.models:dc_discriminator",)),
    "test_dc_generator": Exercise(("gan_helpers.models:dc_generator",)),
    "test_dog_discriminator": Exercise(("gan_helpers.models:dog_discriminator",)),
    "test_dog_generator": Exercise(("gan_helpers.models:dog_generator",)),
    "test_get_solvers": Exercise(("gan_helpers.training:get_solvers",)),
    "test_train_step": Exercise(("gan_helpers.checks.training:reference_step",)),
    "test_xy_updates": Exercise(("gan_helpers.checks.dynamics:iterates",)),
    "test_generator_gradient_factors": Exercise(("gan_helpers.losses:generator_gradient_factors",)),
    "test_frechet_distance": Exercise(("gan_helpers.metrics:frechet_distance",)),
    "test_gradient_penalty": Exercise(("gan_helpers.losses:gradient_penalty",)),
    "test_conditional_generator": Exercise(("gan_helpers.models:conditional_generator",
                                            "gan_helpers.models:_conditional_generator")),
    "test_conditional_discriminator": Exercise(("gan_helpers.models:conditional_discriminator",
                                                "gan_helpers.models:_projection_discriminator")),
    "test_add_mirror_images": Exercise(),  # no library answer: notebook 10 trains on the learner's mirror images
    "test_hinge_loss": Exercise(("gan_helpers.losses:hinge_discriminator_loss", "gan_helpers.losses:hinge_generator_loss",
                                 "gan_helpers.losses:wasserstein_generator_loss")),  # the same -E[D(G(z))]
    "test_random_translation": Exercise(("gan_helpers.augment:random_translation", "gan_helpers.augment:diff_augment")),
    "test_ema_update": Exercise(("gan_helpers.ops:ema_update",)),
}  # fmt: skip


def exercise(check_name):
    """The row of a check (a check without one grades every argument and forbids no reference)."""
    return EXERCISES.get(check_name, Exercise())
