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


# ---------------------------------------------------------------------------
# Notebook 13: random_translation
# ---------------------------------------------------------------------------

import keras  # noqa: E402

from gan_helpers import augment  # noqa: E402


def translate_by_matrices(images, ratio=0.125):
    """One-hot shift matrices, as a matmul (limits rounded half up, 4 pixels for 28): another right answer."""
    count, height, width = tf.shape(images)[0], images.shape[1], images.shape[2]

    def shifts(size):
        limit = int(ratio * size + 0.5)
        shift = tf.random.uniform((count,), -limit, limit + 1, dtype=tf.int32)
        # (N, size, size): M[i, j] = 1 where output j reads input i
        return tf.cast(tf.equal(tf.range(size)[None, :, None], tf.range(size)[None, None, :] - shift[:, None, None]),
                       images.dtype)

    rows, cols = shifts(height), shifts(width)
    moved = tf.einsum("nhic,nij->nhjc", images, cols)  # column i of the input goes to column i + shift
    return tf.einsum("niwc,nij->njwc", moved, rows)


def translate_with_official_indexing(images, ratio=0.125):
    """Index clamping into a one-pixel zero pad and limits rounded half up, as Zhao et al.'s code does."""
    count, height, width = tf.shape(images)[0], images.shape[1], images.shape[2]
    sx, sy = int(width * ratio + 0.5), int(height * ratio + 0.5)
    tx = tf.random.uniform([count, 1], -sx, sx + 1, dtype=tf.int32)
    ty = tf.random.uniform([count, 1], -sy, sy + 1, dtype=tf.int32)
    grid_x = tf.clip_by_value(tf.range(width)[None, :] + tx + 1, 0, width + 1)
    grid_y = tf.clip_by_value(tf.range(height)[None, :] + ty + 1, 0, height + 1)
    padded = tf.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]])
    moved = tf.gather(padded, grid_y, axis=1, batch_dims=1)
    return tf.gather(moved, grid_x, axis=2, batch_dims=1)


def test_right_translations_pass(capsys):
    for right in (augment.random_translation, translate_by_matrices, translate_with_official_indexing):
        checks.test_random_translation(right)
    assert capsys.readouterr().out.count("test_random_translation passed") == 3


def translation(draw, fill=0.0, mode="CONSTANT", same_axes=False, limit_side=None, stop_gradient=False,
                rounding=0.5):
    """A translation built from a drawing function ``draw(count, limit) -> (count,) int32`` and a padding.

    The limits are int(ratio * side + rounding): rounded half up, or down with ``rounding=0``."""

    def random_translation(images, ratio=0.125):
        count, height, width = tf.shape(images)[0], images.shape[1], images.shape[2]
        sy = int(ratio * (limit_side or height) + rounding)
        sx = int(ratio * (limit_side or width) + rounding)
        pad = max(sy, sx)
        padded = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode=mode, constant_values=fill)
        ty = draw(count, sy)
        tx = ty if same_axes else draw(count, sx)
        rows = tf.range(height)[None, :] + pad + ty[:, None]
        cols = tf.range(width)[None, :] + pad + tx[:, None]
        out = tf.gather(tf.gather(padded, rows, axis=1, batch_dims=1), cols, axis=2, batch_dims=1)
        return tf.stop_gradient(out) if stop_gradient else out

    return random_translation


def uniform_int(count, limit):
    return tf.random.uniform((count,), -limit, limit + 1, dtype=tf.int32)


def one_for_the_batch(count, limit):
    return tf.fill((count,), tf.random.uniform((), -limit, limit + 1, dtype=tf.int32))


def maxval_excluded(count, limit):
    return tf.random.uniform((count,), -limit, limit, dtype=tf.int32)


def truncated_float(count, limit):
    return tf.cast(tf.random.uniform((count,), -limit, limit), tf.int32)


def rounded_float(count, limit):
    return tf.cast(tf.round(tf.random.uniform((count,), -float(limit), float(limit))), tf.int32)


def fixed_seed(count, limit):
    return tf.random.stateless_uniform((count,), seed=(1, 2), minval=-limit, maxval=limit + 1, dtype=tf.int32)


FROZEN = np.random.default_rng(0).integers(-3, 4, size=4096).astype(np.int32)


def numpy_draw(count, limit):
    """numpy's draws: fine eagerly, constants once traced."""
    return tf.constant(np.random.randint(-limit, limit + 1, size=4096).astype(np.int32))[:count]


def rolled(images, ratio=0.125):
    def one(image):
        return tf.roll(image, shift=tf.random.uniform([2], -3, 4, dtype=tf.int32), axis=[0, 1])

    return tf.map_fn(one, images)


def ignores_ratio(images, ratio=0.125):
    return augment.random_translation(images, 0.125)


def through_numpy(images, ratio=0.125):
    return tf.convert_to_tensor(augment.random_translation(tf.constant(np.asarray(images)), ratio))


def keras_layer(images, ratio=0.125):
    return keras.layers.RandomTranslation(ratio, ratio, fill_mode="constant")(images, training=True)


def first_axis(images, ratio=0.125):
    return tf.roll(images, 1, axis=0)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (translation(one_for_the_batch), "every image of a batch is moved by the same shift.*one shift per image"),
        (translation(uniform_int, same_axes=True), "same number of pixels down as to the right.*separately"),
        (translation(uniform_int, fill=-1.0), r"what comes in is -1 \(black\).*mid-grey"),
        (translation(uniform_int, mode="REFLECT"), "mirrors the image"),
        (translation(uniform_int, mode="SYMMETRIC"), "mirrors the image"),
        (rolled, r"come back on the other \(tf.roll wraps around\)"),
        (translation(maxval_excluded), r"never was -?2\..*maxval is excluded"),
        (translation(truncated_float), r"never was -2, 2.*rounds towards 0"),
        (translation(uniform_int, rounding=0),
         r"images of shape \(64, 28, 28, 1\) never was -4, 4.*ratio \* height = 3.5 was rounded down to 3.*"
         r"int\(ratio \* height \+ 0.5\) = 4"),
        (translation(rounded_float), r"not uniform.*tf.round"),
        (translation(uniform_int, limit_side=24), r"up to 3 pixels in the vertical direction, expected at most 2.*"
                                                  r"comes from the height"),
        (translation(uniform_int, limit_side=16), r"horizontal shift.*never was -3, 3.*limit comes from the width"),
        (translation(fixed_seed), "every call moves the images by the same shifts.*fixed seed"),
        (translation(numpy_draw), r"in a compiled function.*the same way at every call.*numpy"),
        (translation(uniform_int, stop_gradient=True), r"no gradient flows.*tf.stop_gradient"),
        (through_numpy, r"no gradient flows"),
        (ignores_ratio, r"ratio=0.25 the shifts stay within.*`ratio` argument"),
        (keras_layer, "changed the pixels' values.*no interpolation"),
        (first_axis, "changed the pixels' values.*Mind the axes"),
        (lambda images, ratio=0.125: np.asarray(augment.random_translation(images, ratio)), "instead of a TensorFlow"),
        (lambda images: augment.random_translation(images), "takes no argument `ratio`"),
        (lambda images, ratio=0.125: None, "returned None"),
        (stub, "random_translation is not implemented yet"),
    ],
)
def test_translation_mistakes_fail_with_their_hint(wrong, hint):
    fails_with(checks.test_random_translation, wrong, match=f"(?s){hint}")


def test_a_shape_that_only_graphs_lack_is_explained():
    def uses_static_batch(images, ratio=0.125):
        count = images.shape[0]
        return translation(lambda _, limit: tf.random.uniform((count,), -limit, limit + 1, dtype=tf.int32))(
            images, ratio)

    fails_with(checks.test_random_translation, uses_static_batch,
               match=r"(?s)works eagerly, but in a compiled function.*tf.shape\(images\)\[0\]")
