"""DiffAugment: each transformation's range per image, translation's zero fill, cutout's square,
gradients, shapes and dtypes, compiled steps, and the policy string."""

import numpy as np
import pytest
import tensorflow as tf

from gan_helpers import augment
from gan_helpers.augment import (
    diff_augment,
    random_brightness,
    random_contrast,
    random_cutout,
    random_saturation,
    random_translation,
)

TRANSFORMS = [random_brightness, random_saturation, random_contrast, random_translation, random_cutout, diff_augment]


def images(shape, seed=0):
    """Images in [-1, 1] without a zero pixel (so that zero fill and masks show), float32 numpy."""
    rng = np.random.default_rng(seed)
    return (rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.2, 1.0, size=shape)).astype(np.float32)


def per_image_factor(before, after, centre):
    """k per image such that after - centre(after) = k (before - centre(before)), and the largest misfit."""
    x, y = before - centre(before), after - centre(after)
    k = np.sum(x * y, axis=(1, 2, 3)) / np.sum(x * x, axis=(1, 2, 3))
    return k, float(np.max(np.abs(y - k[:, None, None, None] * x)))


def image_mean(x):
    return x.mean(axis=(1, 2, 3), keepdims=True)


def colour_mean(x):
    return x.mean(axis=3, keepdims=True)


def test_brightness_adds_one_value_per_image_from_minus_half_to_half():
    x = images((256, 5, 6, 3))
    shift = np.asarray(random_brightness(tf.constant(x))) - x
    per_image = shift.reshape(len(x), -1)
    np.testing.assert_allclose(per_image, per_image[:, :1].repeat(per_image.shape[1], axis=1), atol=1e-6)
    assert per_image.min() >= -0.5 and per_image.max() < 0.5
    assert per_image.min() < -0.4 and per_image.max() > 0.4  # the whole range is used
    assert len(np.unique(np.round(per_image[:, 0], 5))) > 250  # one draw per image


def test_saturation_scales_each_pixels_colours_around_their_mean_by_zero_to_two():
    x = images((256, 4, 5, 3))
    y = np.asarray(random_saturation(tf.constant(x)))
    np.testing.assert_allclose(colour_mean(y), colour_mean(x), atol=1e-6)  # grey level kept
    k, misfit = per_image_factor(x, y, colour_mean)
    assert misfit < 1e-5
    assert k.min() >= 0.0 and k.max() < 2.0 and k.min() < 0.1 and k.max() > 1.9
    assert len(np.unique(np.round(k, 5))) > 250


def test_saturation_leaves_greyscale_images_as_they_are():
    x = tf.constant(images((8, 6, 6, 1)))
    np.testing.assert_array_equal(random_saturation(x), x)


def test_contrast_scales_each_image_around_its_mean_by_a_half_to_one_and_a_half():
    x = images((256, 4, 5, 3))
    y = np.asarray(random_contrast(tf.constant(x)))
    np.testing.assert_allclose(image_mean(y), image_mean(x), atol=1e-6)
    k, misfit = per_image_factor(x, y, image_mean)
    assert misfit < 1e-5
    assert k.min() >= 0.5 and k.max() < 1.5 and k.min() < 0.6 and k.max() > 1.4
    assert len(np.unique(np.round(k, 5))) > 250


def shifted(image, rows, cols):
    """``image`` (H, W, C) moved down by ``rows`` and right by ``cols`` pixels, zeros coming in."""
    height, width = image.shape[:2]
    out = np.zeros_like(image)
    out[max(rows, 0):height + min(rows, 0), max(cols, 0):width + min(cols, 0)] = \
        image[max(-rows, 0):height - max(rows, 0), max(-cols, 0):width - max(cols, 0)]
    return out


def find_shift(before, after, largest=6):
    """The (rows, cols) shift with zero fill that turns ``before`` into ``after``, or None."""
    for rows in range(-largest, largest + 1):
        for cols in range(-largest, largest + 1):
            if np.array_equal(shifted(before, rows, cols), after):
                return rows, cols
    return None


@pytest.mark.parametrize("height, width", [(16, 24), (28, 28)])
def test_translation_shifts_each_image_by_whole_pixels_up_to_an_eighth_with_zero_fill(height, width):
    x = images((200, height, width, 2), seed=height)
    y = np.asarray(random_translation(tf.constant(x)))
    shifts = [find_shift(before, after) for before, after in zip(x, y)]
    assert None not in shifts, "every output is its input moved by whole pixels, zeros filling in"
    rows, cols = np.array(shifts).T
    # size / 8 rounded half up each way (Zhao et al.'s code: 4 for 28), both ends included, every value drawn
    row_limit, col_limit = {16: 2, 24: 3, 28: 4}[height], {16: 2, 24: 3, 28: 4}[width]
    assert sorted(set(rows)) == list(range(-row_limit, row_limit + 1))
    assert sorted(set(cols)) == list(range(-col_limit, col_limit + 1))
    assert np.mean(rows == cols) < 0.5, "rows and columns are drawn separately"


def test_translation_ratio_sets_the_largest_shift():
    x = images((300, 16, 16, 1))
    y = np.asarray(random_translation(tf.constant(x), ratio=0.25))
    rows, cols = np.array([find_shift(a, b) for a, b in zip(x, y)]).T
    assert set(rows) == set(cols) == set(range(-4, 5))
    np.testing.assert_array_equal(random_translation(tf.constant(x), ratio=0.0), x)


def cutout_box(before, after):
    """(top, left, bottom, right) of the zeroed rectangle of one image (all channels), or None if none."""
    zeroed = np.all(after == 0, axis=-1)
    kept = np.all(after == before, axis=-1)
    assert np.all(zeroed | kept), "a pixel is either kept or set to zero"
    if not zeroed.any():
        return None
    rows, cols = np.nonzero(zeroed)
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    assert zeroed[top:bottom, left:right].all() and zeroed.sum() == (bottom - top) * (right - left), "a rectangle"
    return top, left, bottom, right


@pytest.mark.parametrize("height, width", [(16, 24), (28, 28), (15, 15)])
def test_cutout_zeroes_a_square_of_half_the_side_centred_anywhere(height, width):
    x = images((1000, height, width, 3), seed=width)
    y = np.asarray(random_cutout(tf.constant(x)))
    boxes = np.array([cutout_box(a, b) for a, b in zip(x, y)])
    side_rows, side_cols = (height + 1) // 2, (width + 1) // 2  # size / 2 rounded half up, as Zhao et al.'s code
    tops, lefts, bottoms, rights = boxes.T
    sizes = np.stack([bottoms - tops, rights - lefts], axis=1)
    assert sizes[:, 0].max() == side_rows and sizes[:, 1].max() == side_cols
    # A square at most: a quarter of the image, less where the border clips it
    whole = np.all(sizes == (side_rows, side_cols), axis=1)
    assert 0.1 < np.mean(whole) < 0.6, "some squares clipped, some whole"
    # The centre ranges over the whole image (past its far edge for an even side), as in Zhao et al.'s code:
    # the square reaches every border, and as little as half of it (rounded up) can remain.
    assert tops.min() == 0 and lefts.min() == 0 and bottoms.max() == height and rights.max() == width
    assert bottoms.min() == (side_rows + 1) // 2 and rights.min() == (side_cols + 1) // 2
    assert tops.max() == height - side_rows // 2 - side_rows % 2
    assert lefts.max() == width - side_cols // 2 - side_cols % 2
    assert len({tuple(box) for box in boxes}) > 100, "one square per image"


def test_cutout_area_averages_what_zhao_et_al_centres_give():
    """The mean share of a 28 x 28 image cut out: side 14, centre uniform on 0..28 per axis."""
    x = np.ones((4000, 28, 28, 1), np.float32)
    share = 1.0 - float(np.mean(random_cutout(tf.constant(x))))
    covered = [len(set(range(c - 7, c + 7)) & set(range(28))) for c in range(29)]
    expected = (np.mean(covered) / 28) ** 2
    assert share == pytest.approx(expected, abs=0.01)
    assert share < 0.25


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", [tf.float32, tf.float16])
def test_shape_and_dtype_are_kept(transform, dtype):
    x = tf.cast(images((5, 12, 10, 3)), dtype)
    y = transform(x)
    assert y.shape == x.shape and y.dtype == dtype


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda f: f.__name__)
def test_each_image_gets_its_own_draw(transform):
    x = tf.constant(np.repeat(images((1, 16, 16, 3)), 16, axis=0))
    y = np.asarray(transform(x)).reshape(16, -1)
    # one draw for the batch gives 1 distinct image; 16 draws of 25 translations give fewer than 6 with p < 1e-6
    assert len({row.tobytes() for row in y}) >= 6


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda f: f.__name__)
def test_gradients_flow_back_to_the_images(transform):
    x = tf.constant(images((6, 16, 16, 3)))
    weights = tf.constant(images((6, 16, 16, 3), seed=1))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = transform(x)
        loss = tf.reduce_sum(weights * y)
    gradient = tape.gradient(loss, x)
    assert gradient is not None and np.all(np.isfinite(gradient)) and np.any(np.asarray(gradient) != 0)


def test_translation_sends_each_pixels_gradient_back_where_it_came_from():
    x = tf.constant(images((20, 16, 16, 1)))
    weights = images((20, 16, 16, 1), seed=3)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = random_translation(x)
        loss = tf.reduce_sum(weights * y)
    gradient = np.asarray(tape.gradient(loss, x))
    for before, after, w, g in zip(np.asarray(x), np.asarray(y), weights, gradient):
        rows, cols = find_shift(before, after)
        np.testing.assert_allclose(g, shifted(w, -rows, -cols), atol=1e-6)  # pixels moved out get no gradient


def test_cutout_gradient_is_zero_inside_the_square_and_one_outside():
    x = tf.constant(images((10, 16, 16, 3)))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = random_cutout(x)
        loss = tf.reduce_sum(y)
    np.testing.assert_array_equal(tape.gradient(loss, x), (np.asarray(y) != 0).astype(np.float32))


def test_diff_augment_applies_the_policy_in_order_inside_a_compiled_step():
    compiled = tf.function(diff_augment, input_signature=[tf.TensorSpec((None, 28, 28, 1), tf.float32)])
    x = tf.constant(images((8, 28, 28, 1)))
    first, second = compiled(x), compiled(x[:5])
    assert first.shape == x.shape and second.shape == (5, 28, 28, 1)
    assert compiled.experimental_get_tracing_count() == 1
    assert not np.array_equal(compiled(x), first), "new random draws at every call of the compiled function"


def test_diff_augment_policy_names_and_errors():
    x = tf.constant(images((6, 8, 8, 3)))
    np.testing.assert_array_equal(diff_augment(x, ""), x)
    np.testing.assert_array_equal(diff_augment(x, None), x)
    moved = np.asarray(diff_augment(x, "translation"))
    assert all(find_shift(a, b) is not None for a, b in zip(np.asarray(x), moved))
    cut = np.asarray(diff_augment(x, ["cutout"]))
    assert all(cutout_box(a, b) is not None for a, b in zip(np.asarray(x), cut))
    assert augment.DEFAULT_POLICY == "color,translation,cutout"
    assert [f.__name__ for f in augment.AUGMENTATIONS["color"]] == [
        "random_brightness", "random_saturation", "random_contrast"]
    with pytest.raises(ValueError, match=r"Unknown augmentation 'colour'.*choose from color, translation, cutout"):
        diff_augment(x, "colour,cutout")
    with pytest.raises(TypeError, match="policy must be a string"):
        diff_augment(x, 3)


def test_flat_or_integer_images_get_a_clear_error():
    with pytest.raises(ValueError, match=r"shape \(N, height, width, channels\).*\(N, 784\) must be reshaped"):
        diff_augment(tf.zeros((4, 784)))
    with pytest.raises(ValueError, match=r"float images in \[-1, 1\], not uint8"):
        random_translation(tf.zeros((4, 8, 8, 1), tf.uint8))


def test_gradient_reaches_a_generator_through_the_augmentation():
    import keras

    G = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8 * 8 * 3, activation="tanh"),
                          keras.layers.Reshape((8, 8, 3))])
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(diff_augment(G(tf.ones((16, 4)))) ** 2)
    gradients = tape.gradient(loss, G.trainable_variables)
    assert all(g is not None and np.any(np.asarray(g) != 0) for g in gradients)
