"""Every check passes the course's reference answer with one line, and the grader finds every check."""

import pathlib
import re

import numpy as np
import pytest

from gan_helpers import augment, checks, losses, metrics, models, ops, training
from gan_helpers.checks import dynamics
from gan_helpers.checks import training as training_checks


def right_nearest(queries, pool, k):
    squared = (queries**2).sum(1)[:, None] - 2 * queries @ pool.T + (pool**2).sum(1)[None, :]
    return np.argsort(squared, axis=1)[:, :k]


REFERENCES = {
    "test_leaky_relu": (ops.leaky_relu,),
    "test_sample_noise": (ops.sample_noise,),
    "test_discriminator": (models.discriminator,),
    "test_generator": (models.generator,),
    "test_discriminator_loss": (losses.discriminator_loss,),
    "test_generator_loss": (losses.generator_loss,),
    "test_lsgan_loss": (losses.ls_discriminator_loss, losses.ls_generator_loss),
    "test_dc_discriminator": (models.dc_discriminator,),
    "test_dc_generator": (models.dc_generator,),
    "test_dog_discriminator": (models.dog_discriminator,),
    "test_dog_generator": (models.dog_generator,),
    "test_interpolate": (lambda z0, z1, steps: z0 + np.linspace(0, 1, steps)[:, None] * (z1 - z0),),
    "test_nearest_neighbours": (right_nearest,),
    "test_get_solvers": (training.get_solvers,),
    "test_train_step": (training_checks.reference_step,),
    "test_xy_updates": (lambda *game: dynamics.iterates(*game), lambda *game: dynamics.iterates(*game, order="simultaneous")),
    "test_frechet_distance": (metrics.frechet_distance,),
    "test_generator_gradient_factors": (losses.generator_gradient_factors,),
    "test_add_mirror_images": (lambda images: np.concatenate([images, images[:, :, ::-1]]),),
    "test_gradient_penalty": (losses.gradient_penalty,),
    "test_conditional_generator": (models.conditional_generator,),
    "test_conditional_discriminator": (models.conditional_discriminator,),
    "test_hinge_loss": (losses.hinge_discriminator_loss, losses.hinge_generator_loss),
    "test_random_translation": (augment.random_translation,),
    "test_ema_update": (ops.ema_update,),
}
PASS_LINES = {"test_nearest_neighbours": "all 32 neighbours right", "test_get_solvers": "two Adam optimizers",
              "test_add_mirror_images": "all images right", "test_conditional_generator": "two inputs",
              "test_conditional_discriminator": "two inputs", "test_random_translation": "every output a whole-pixel"}
PUBLIC_CHECKS = sorted(name for name in checks.__all__ if name.startswith("test_"))


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_the_reference_passes_with_one_line(name, capsys):
    getattr(checks, name)(*REFERENCES[name])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    what = PASS_LINES.get(name, "max relative error")
    assert lines[0].startswith(f"{name} passed ({what}")


def test_every_check_is_exported_and_has_a_reference_here():
    assert sorted(REFERENCES) == PUBLIC_CHECKS
    assert all(callable(getattr(checks, name)) for name in PUBLIC_CHECKS)


def test_the_checks_the_grader_reads_from_the_source_are_those_the_package_exports():
    """The grader reads check names from the source (`^def test_...(`) without importing TensorFlow."""
    folder = pathlib.Path(checks.__file__).parent
    found = {name for path in folder.glob("*.py")
             for name in re.findall(r"^def (test_\w+)\(", path.read_text(encoding="utf-8"), flags=re.MULTILINE)}
    assert sorted(found) == PUBLIC_CHECKS
