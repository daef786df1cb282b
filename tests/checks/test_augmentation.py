"""The check of notebook 10's mirror augmentation: right answers pass, each wrong axis is named."""

import numpy as np
import pytest
import tensorflow as tf

from check_helpers import fails_with, stub
from gan_helpers import checks


def test_right_answers_pass(capsys):
    rights = [
        lambda images: np.concatenate([images, images[:, :, ::-1]]),
        lambda images: np.concatenate([images, np.flip(images, axis=2)], axis=0),
        lambda images: np.vstack([images, np.flip(images, axis=-2)]),
        lambda images: tf.concat([images, tf.image.flip_left_right(images)], axis=0),
        lambda images: np.array([*images, *[np.fliplr(image) for image in images]]),
    ]
    for right in rights:
        checks.test_add_mirror_images(right)
    assert capsys.readouterr().out.count("test_add_mirror_images passed") == len(rights)


def mirrors_in_place(images):
    images[:, :, :] = images[:, :, ::-1].copy()
    return np.concatenate([images, images[:, :, ::-1]])


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda x: np.concatenate([x, np.fliplr(x)]), r"upside down: np.fliplr flips axis 1.*np.flip\(images, axis=2\)"),
        (lambda x: np.concatenate([x, tf.image.flip_up_down(x)]), "upside down"),
        (lambda x: np.concatenate([x, x[..., ::-1]]), r"colours are reversed \(RGB became BGR\)"),
        (lambda x: np.concatenate([x, np.flipud(x)]), "same images in reverse order"),
        (lambda x: np.concatenate([x, np.flip(x)]), "np.flip without an axis flips every axis"),
        (lambda x: np.concatenate([x, np.rot90(x, 2, axes=(1, 2))]), "turned by 180 degrees"),
        (lambda x: np.concatenate([x, x]), "a copy of the first: nothing was mirrored"),
        (lambda x: np.concatenate([x[:, :, ::-1], x]), r"wrong order: the originals come first"),
        (lambda x: np.stack([x, x[:, :, ::-1]], axis=1).reshape((-1, *x.shape[1:])), "each original next to its mirror"),
        (lambda x: x[:, :, ::-1], r"returned shape \(5, 6, 8, 3\), expected \(10, 6, 8, 3\).*one image out for each image in"),
        (lambda x: np.concatenate([x, np.roll(x, 1, axis=2)]), "image N \\+ i must be image i mirrored left-right"),
        (lambda x: np.swapaxes(np.concatenate([x, x[:, :, ::-1]]), 1, 2), "height and width are swapped"),
        (lambda x: np.stack([x, x[:, :, ::-1]]), "np.stack adds an axis"),
        (lambda x: np.concatenate([x, x[:, :, ::-1]], axis=2), "joined along the wrong axis"),
        (lambda x: np.concatenate([x, x[:, :, ::-1]]) / 255.0, "turned uint8 images into float64"),
        (lambda x: np.concatenate([x[:, :, ::-1], x[:, :, ::-1]]), "the first N images must be the originals"),
        (mirrors_in_place, "changed the images it was given"),
        (lambda x: None, "returned None"),
        (stub, "add_mirror_images is not implemented yet"),
    ],
)
def test_mistakes_fail_with_their_hint(wrong, hint):
    fails_with(checks.test_add_mirror_images, wrong, match=f"(?s){hint}")
