"""Checks of notebook 10 (doubling a set of photographs with their left-right mirror images) and
notebook 13 (DiffAugment's random translation, at the end).

The learner's ``add_mirror_images(images)`` is run on a small batch of uint8 colour
images whose height and width differ (so that turning them on their side shows in the
shape), then on float32 greyscale ones, and compared with the images followed by their
mirrors. A wrong result is matched against the known ways of flipping the wrong axis.
"""

import inspect

import numpy as np
import tensorflow as tf

from gan_helpers.checks.engine import accepts, array_values, call_student, fail, student_error, tensor_values

_AXES = "a batch of images is (N, height, width, channels): axis 0 the images, 1 the rows, 2 the columns, 3 the colours"
_MIRROR = "mirror with np.flip(images, axis=2) (or images[:, :, ::-1])"


def _fixed_images():
    """Two batches: uint8 colour (5, 6, 8, 3) and float32 greyscale (3, 4, 5, 1) in [-1, 1]."""
    rng = np.random.default_rng(2009)
    colour = rng.integers(0, 256, size=(5, 6, 8, 3), dtype=np.uint8)
    grey = rng.uniform(-1.0, 1.0, size=(3, 4, 5, 1)).astype(np.float32)
    return colour, grey


def _mirror_mistakes(x):
    """(hint, wrong result) of each known mistake, for images ``x`` of shape (N, H, W, C)."""
    mirrored = x[:, :, ::-1]
    return [
        ("the second half is upside down: np.fliplr flips axis 1, which for a single picture (height, width) is "
         f"left-right but for a batch is the rows. {_AXES}. An upside-down dog is not a photograph the data set "
         "could hold: the generator would learn to draw dogs on their heads. " + _MIRROR + ".",
         np.concatenate([x, x[:, ::-1]])),
        (f"the colours are reversed (RGB became BGR): axis 3 is the colours, not the columns. {_AXES}. " + _MIRROR + ".",
         np.concatenate([x, x[..., ::-1]])),
        (f"the second half is the same images in reverse order (np.flipud flips axis 0, the images). {_AXES}. "
         + _MIRROR + ".", np.concatenate([x, x[::-1]])),
        ("np.flip without an axis flips every axis: the second half is upside down, mirrored, in reverse order "
         f"and with its colours reversed. {_MIRROR}.", np.concatenate([x, x[::-1, ::-1, ::-1, ::-1]])),
        (f"the second half is turned by 180 degrees (rows and columns flipped): flip only the columns. {_MIRROR}.",
         np.concatenate([x, x[:, ::-1, ::-1]])),
        (f"the second half is a copy of the first: nothing was mirrored. {_MIRROR}.", np.concatenate([x, x])),
        ("the right images in the wrong order: the originals come first, then their mirror images in the same "
         "order, np.concatenate([images, mirrored]).", np.concatenate([mirrored, x])),
        ("the right images in the wrong order (each original next to its mirror): the originals come first, then "
         "their mirror images in the same order, np.concatenate([images, mirrored]).",
         np.stack([x, mirrored], axis=1).reshape((-1, *x.shape[1:]))),
    ]


def _shape_hint(x, shape):
    n, h, w, c = x.shape
    if shape == x.shape:
        return ("one image out for each image in: return the originals followed by their mirror images, "
                "np.concatenate([images, mirrored]).")
    if shape == (2 * n, w, h, c):
        return ("height and width are swapped: np.transpose, np.swapaxes or np.rot90 turn an image on its side. "
                + _MIRROR + ".")
    if shape == (2, n, h, w, c):
        return "np.stack adds an axis: np.concatenate([images, mirrored]) joins the two along the images' axis 0."
    if shape in ((n, 2 * h, w, c), (n, h, 2 * w, c), (n, h, w, 2 * c)):
        return ("the mirror images were joined along the wrong axis: concatenate along axis 0, the images, so that "
                f"there are 2N of them (np.concatenate's default). {_AXES}.")
    return None


def _check_batch(check, add_mirror_images, x):
    n = len(x)
    given = x.copy()
    output = call_student(check, "add_mirror_images", add_mirror_images, given)
    if not np.array_equal(given, x):
        fail(check, "add_mirror_images changed the images it was given.",
             "build new arrays (np.flip and slicing give views; np.concatenate makes a new array) instead of "
             "assigning into the input, e.g. images[...] = ...: the caller's data set must stay as it was.")
    result = array_values(check, "add_mirror_images", output)
    expected = np.concatenate([x, x[:, :, ::-1]])
    if result.shape != expected.shape:
        fail(check, f"add_mirror_images on images of shape {x.shape} returned shape {result.shape}, "
                    f"expected {expected.shape}.", _shape_hint(x, result.shape))
    dtype = np.asarray(output).dtype
    if dtype != x.dtype:
        fail(check, f"add_mirror_images turned {x.dtype} images into {dtype}.",
             "keep the images' dtype: a mirror moves pixels, it does not change their values (run_a_gan scales "
             "uint8 pixels to [-1, 1] itself; float pixels of 0..255 would be out of range).")
    if not np.array_equal(result, expected.astype(np.float64)):
        hint = next((hint for hint, wrong in _mirror_mistakes(x) if np.array_equal(result, wrong)), None)
        if hint is None:
            hint = (f"image N + i must be image i mirrored left-right: {_MIRROR}." if np.array_equal(result[:n], x)
                    else "the first N images must be the originals, unchanged.")
        fail(check, f"add_mirror_images returned the wrong images for a batch of shape {x.shape}.", hint)


def test_add_mirror_images(add_mirror_images):
    """Check ``add_mirror_images(images)``: (N, H, W, C) -> (2N, H, W, C), the images, then their mirrors.

    Runs it on uint8 colour images of 6 x 8 pixels and on float32 greyscale ones; the
    result must keep the dtype and leave the input unchanged.
    """
    check = "test_add_mirror_images"
    for images in _fixed_images():
        _check_batch(check, add_mirror_images, images)
    print(f"{check} passed (all images right, on {' and '.join(str(x.shape) for x in _fixed_images())})")


# Notebook 13: the learner's random_translation(images, ratio=0.125) is random, so it is checked by what every
# output must be: each image moved by whole pixels (rows, columns), zeros filling in, with shifts
# drawn per image and per axis, uniform on {-s, ..., s}, s = ratio * side rounded half up as notebook 13
# asks and Zhao et al.'s code does (floor(ratio * side + 1/2): 4 pixels for 28). The shift of each
# output image is read off the image itself (the inputs have no two equal pixels), so that a wrong
# fill, a wrong range, one draw for the batch or a frozen draw can each be named.

_TRANSLATION_BATCHES = ((64, 16, 24, 3), (64, 28, 28, 1))  # height != width in the first, to tell rows from columns
_TRANSLATION_CALLS = 16  # calls per batch for the statistics: 1,024 shifts per axis
_TRANSLATION_RATIO = 0.125
# A shift count this far from uniform (chi-squared, p < 1e-6 for a right answer) fails.
_CHI2_LIMITS = {5: 33.4, 7: 38.0, 9: 42.4, 13: 49.1}
_PAIR_TOLERANCE = 1e-6


def _translation_images(shape, seed):
    """Float32 images in [-1, 1] with no pixel 0 or +/-1 and no two pixels alike."""
    rng = np.random.default_rng((2020, seed))
    return (rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.2, 0.99, size=shape)).astype(np.float32)


def _moved(image, rows, cols, fill="zeros"):
    """``image`` (H, W, C) moved down ``rows`` and right ``cols`` pixels; what comes in per ``fill``."""
    height, width = image.shape[:2]
    if fill == "wrap":
        return np.roll(image, (rows, cols), axis=(0, 1))
    if fill in ("edge", "reflect", "symmetric"):
        pad = ((abs(rows), abs(rows)), (abs(cols), abs(cols)), (0, 0))
        padded = np.pad(image, pad, mode=fill)
        return padded[abs(rows) - rows:abs(rows) - rows + height, abs(cols) - cols:abs(cols) - cols + width]
    out = np.full_like(image, -1.0 if fill == "minus_one" else 0.0)
    out[max(rows, 0):height + min(rows, 0), max(cols, 0):width + min(cols, 0)] = \
        image[max(-rows, 0):height - max(rows, 0), max(-cols, 0):width - max(cols, 0)]
    return out


_FILL_HINTS = {
    "wrap": ("pixels that leave one side come back on the other (tf.roll wraps around): a translation fills what "
             "comes in with 0. Pad with zeros, then crop (or build the image from the part that stays, with zeros "
             "around it)."),
    "minus_one": ("what comes in is -1 (black): Zhao et al.'s code pads with zeros, which for images in [-1, 1] is "
                  "mid-grey. Fill with 0, as the paper does."),
    "edge": "what comes in repeats the edge pixels: pad with zeros (tf.pad's default), not by repeating the border.",
    "reflect": "what comes in mirrors the image: pad with zeros (tf.pad's default mode), not by reflection.",
    "symmetric": "what comes in mirrors the image: pad with zeros (tf.pad's default mode), not by reflection.",
    "edge or symmetric": "what comes in repeats the border pixels, or mirrors the image (for a shift of one pixel "
                         "the two look alike): pad with zeros (tf.pad's default mode), not by reflection or by "
                         "repeating the border.",
}


def _shift_of(check, before, after, where):
    """(rows, cols) such that ``after`` is ``before`` moved with zero fill; a failure names what else it is."""
    flat = np.abs(after[..., 0])
    valid = (flat > 0.1) & (flat < 0.995)  # in the inputs' range: not a fill of 0 or -1
    if not valid.any():
        fail(check, f"random_translation returned an image without a single pixel of its input ({where}).",
             "a shift of at most ratio * size pixels keeps most of the image.")
    # The pixel nearest the centre: never one that came in from outside (those may repeat others)
    rows_grid, cols_grid = np.indices(flat.shape)
    distance_to_centre = np.abs(rows_grid - flat.shape[0] // 2) + np.abs(cols_grid - flat.shape[1] // 2)
    r_out, c_out = np.unravel_index(np.argmin(np.where(valid, distance_to_centre, np.inf)), flat.shape)
    distance = np.abs(before[..., 0] - after[r_out, c_out, 0])
    r_in, c_in = np.unravel_index(np.argmin(distance), distance.shape)
    if distance[r_in, c_in] > _PAIR_TOLERANCE:
        fail(check, f"random_translation changed the pixels' values ({where}): a pixel of the output is not one of "
                    "its input image's pixels.",
             "a translation only moves pixels, by whole pixels (no interpolation, no change of brightness), within "
             "each image. Mind the axes: images are (N, height, width, channels), shift along axes 1 and 2.")
    rows, cols = int(r_out - r_in), int(c_out - c_in)
    fills = [fill for fill in ("zeros", "wrap", "minus_one", "edge", "reflect", "symmetric")
             if np.allclose(_moved(before, rows, cols, fill), after, atol=_PAIR_TOLERANCE, rtol=0)]
    if "zeros" in fills:
        return rows, cols
    if fills:
        fill = "edge or symmetric" if {"edge", "symmetric"} <= set(fills) else fills[0]
        fail(check, f"random_translation moved an image by ({rows}, {cols}) pixels but filled the border "
                    f"wrongly ({where}).", _FILL_HINTS[fill])
    fail(check, f"random_translation's output is not its input moved by whole pixels ({where}).",
         "every pixel of the output is the input's pixel `rows` above and `cols` to the left of it (the same "
         "(rows, cols) for all pixels and channels of one image), or 0 where that is outside the image.")


def _translation_shifts(check, function, x, calls, ratio=None):
    """(calls, N, 2) shifts of ``calls`` calls of the learner's function on ``x``."""
    shifts = []
    for call in range(calls):
        arguments = (tf.constant(x),) if ratio is None else (tf.constant(x), ratio)
        output = call_student(check, "random_translation", function, *arguments)
        after = tensor_values(check, "random_translation", output, shape=x.shape)
        where = f"images of shape {x.shape}" + ("" if ratio is None else f", ratio={ratio}")
        shifts.append([_shift_of(check, a, b, where) for a, b in zip(x, after)])
    return np.array(shifts)


def _check_draws(check, shifts, shape, ratio):
    """Per image, per axis, per call, over the whole range, uniformly."""
    _, height, width, _ = shape
    rows, cols = shifts[..., 0], shifts[..., 1]
    sizes = {"rows": height, "cols": width}
    limits = {axis: _shift_limit(ratio, size) for axis, size in sizes.items()}
    sides = {"rows": "height", "cols": "width"}
    if all(len(np.unique(call, axis=0)) == 1 for call in shifts):
        fail(check, "every image of a batch is moved by the same shift.",
             "draw one shift per image: tf.random.uniform with shape (N, 1) (N = tf.shape(images)[0]), "
             "not one number for the whole batch. DiffAugment changes each image its own way.")
    if len(shifts) > 1 and all(np.array_equal(call, shifts[0]) for call in shifts[1:]):
        fail(check, "every call moves the images by the same shifts.",
             "a fixed seed (tf.random.stateless_uniform with a constant seed, or tf.random.set_seed inside the "
             "function) repeats the draws: use tf.random.uniform without a seed.")
    if np.array_equal(rows, cols):
        fail(check, "each image is moved by the same number of pixels down as to the right.",
             "draw the vertical and the horizontal shifts separately (two calls of tf.random.uniform).")
    for axis, other, word, values in (("rows", "cols", "vertical", rows), ("cols", "rows", "horizontal", cols)):
        limit = limits[axis]
        if limit > 0 and np.all(values == 0):
            fail(check, f"images of shape {shape} are never moved in the {word} direction.",
                 f"shift along both axes: rows (axis 1, the height) and columns (axis 2, the width).")
        largest = int(np.max(np.abs(values)))
        if largest > limit:
            hint = f"the {word} shift must stay within ratio * {sides[axis]} = {limit} pixels each way."
            if largest == limits[other]:
                hint += (f" {largest} is ratio * {sides[other]}: the shift along the {sides[axis]} comes from the "
                         f"{sides[axis]}.")
            fail(check, f"images of shape {shape} were moved by up to {largest} pixels in the {word} direction, "
                        f"expected at most {limit} (ratio {ratio}).", hint)
        missing = sorted(set(range(-limit, limit + 1)) - set(values.ravel().tolist()))
        if missing:
            hint = f"the shifts are whole numbers from -{limit} to {limit}, both ends included."
            if len(missing) == 1 and abs(missing[0]) == limit:
                hint += (f" tf.random.uniform's maxval is excluded: minval=-{limit}, maxval={limit} + 1 "
                         "(dtype=tf.int32) draws from -s to s.")
            elif missing == [-limit, limit] and largest == limits[other] and _uniform(values, largest):
                hint += f" {largest} is ratio * {sides[other]}: the {word} shift's limit comes from the {sides[axis]}."
            elif missing == [-limit, limit] and largest == int(ratio * sizes[axis]) and _uniform(values, largest):
                hint += (f" ratio * {sides[axis]} = {ratio * sizes[axis]:g} was rounded down to {largest}: round "
                         f"it to the nearest whole number, s = int(ratio * {sides[axis]} + 0.5) = {limit}, as Zhao "
                         "et al.'s code does.")
            elif missing == [-limit, limit]:
                hint += (" Casting a float draw to an integer rounds towards 0, so the ends never come: draw "
                         "integers with tf.random.uniform(..., minval=-s, maxval=s + 1, dtype=tf.int32).")
            fail(check, f"in {values.size:,} draws the {word} shift of images of shape {shape} never was "
                        f"{', '.join(map(str, missing))}.", hint)
        if not _uniform(values, limit):
            counts = [int(np.sum(values == v)) for v in range(-limit, limit + 1)]
            fail(check, f"the {word} shifts are not uniform on -{limit}..{limit}: in {values.size:,} draws the values "
                        f"came {', '.join(map(str, counts))} times.",
                 "rounding a float draw (tf.round) makes the two ends half as likely as the others: draw integers "
                 "directly, tf.random.uniform(..., minval=-s, maxval=s + 1, dtype=tf.int32).")


def _shift_limit(ratio, side):
    """The largest shift along one axis: ratio * side rounded half up, as in Zhao et al.'s code (4 for 28 pixels)."""
    return int(ratio * side + 0.5)


def _uniform(values, limit):
    """Whether integer draws look uniform on -limit..limit (chi-squared; a right answer fails with p < 1e-6)."""
    counts = np.array([np.sum(values == v) for v in range(-limit, limit + 1)])
    expected = values.size / len(counts)
    statistic = float(np.sum((counts - expected) ** 2 / expected))
    return statistic <= _CHI2_LIMITS.get(len(counts), 60.0)


def _check_gradient(check, function, x):
    images = tf.constant(x)
    weights = _translation_images(x.shape, seed=99)
    try:
        with tf.GradientTape() as tape:
            tape.watch(images)
            output = function(images)
            loss = tf.reduce_sum(tf.cast(output, tf.float32) * weights)
    except Exception as error:
        raise student_error(check, "your random_translation raised inside a GradientTape:", error) from error
    gradient = tape.gradient(loss, images)
    if gradient is None:
        fail(check, "no gradient flows through random_translation: tf.GradientTape gives None.",
             "the generator learns through the augmentation, so every step must be a TensorFlow operation on the "
             "images (tf.pad, tf.gather, slicing, tf.concat, arithmetic): numpy, .numpy(), tf.py_function or "
             "tf.stop_gradient cut the gradient.")
    after = np.asarray(output)
    for before, moved, w, g in zip(x, after, weights, np.asarray(tf.convert_to_tensor(gradient))):
        rows, cols = _shift_of(check, before, moved, "inside a GradientTape")
        if not np.allclose(g, _moved(w, -rows, -cols), atol=1e-5):
            fail(check, "the gradient through random_translation is wrong: each output pixel's gradient must go "
                        "back to the input pixel it came from (and nothing to the pixels moved out).",
                 "is part of the computation hidden from the tape (tf.stop_gradient), or are the images rebuilt "
                 "from values that do not depend on them?")


def _check_compiled(check, function, x):
    compiled = tf.function(function, input_signature=[tf.TensorSpec((None, *x.shape[1:]), tf.float32)])
    try:
        first, second = compiled(tf.constant(x)), compiled(tf.constant(x))
    except Exception as error:
        raise student_error(
            check, "your random_translation works eagerly, but in a compiled function (a tf.function with the batch "
                   "size unknown, as in run_a_gan's train step) it raised", error,
            "in a compiled step images.shape[0] is None: take the batch size with tf.shape(images)[0]; use "
            "TensorFlow operations only (no numpy, no .numpy(), no Python if on a tensor's value).") from error
    shifts = []
    for output in (first, second):
        after = tensor_values(check, "random_translation in a tf.function", output, shape=x.shape)
        shifts.append([_shift_of(check, a, b, "in a tf.function") for a, b in zip(x, after)])
    if np.array_equal(shifts[0], shifts[1]):
        fail(check, "in a compiled function (tf.function), random_translation moves the images the same way at "
                    "every call.",
             "numpy's (or Python's) random numbers are drawn once, when TensorFlow traces the function, and become "
             "constants of the compiled step: draw with tf.random.uniform, which draws anew at every call.")


def _takes_keywords(function):
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return True  # nothing to read: calling it will tell
    return any(parameter.kind == parameter.VAR_KEYWORD for parameter in parameters)


def test_random_translation(random_translation):
    """Check ``random_translation(images, ratio=0.125)``: each image moved by its own whole-pixel shift, zero fill.

    Per image, the vertical shift is uniform on {-s, ..., s} with s = ratio * height rounded half up
    (int(ratio * height + 0.5), as Zhao et al.'s code: 4 for 28 pixels, where rounding down gives 3) and the
    horizontal one, drawn separately, on {-s', ..., s'} with s' = ratio * width rounded. The check runs it
    on colour images of 16 x 24 and greyscale ones of 28 x 28, many times (the shifts must cover their
    whole range, uniformly), with ratio=0.25, under a GradientTape and in a tf.function.
    """
    check = "test_random_translation"
    if not accepts(random_translation, "ratio") and not _takes_keywords(random_translation):
        fail(check, "random_translation takes no argument `ratio`.",
             "keep the exercise's signature: def random_translation(images, ratio=0.125).")
    for index, shape in enumerate(_TRANSLATION_BATCHES):
        x = _translation_images(shape, seed=index)
        given = x.copy()
        shifts = _translation_shifts(check, random_translation, x, _TRANSLATION_CALLS)
        if not np.array_equal(given, x):
            fail(check, "random_translation changed the images it was given.", "return new images.")
        _check_draws(check, shifts, shape, _TRANSLATION_RATIO)
    x = _translation_images(_TRANSLATION_BATCHES[0], seed=7)
    shifts = _translation_shifts(check, random_translation, x, 4, ratio=0.25)
    default_limits = [_shift_limit(_TRANSLATION_RATIO, side) for side in x.shape[1:3]]
    if all(np.max(np.abs(shifts[..., axis])) <= default_limits[axis] for axis in (0, 1)):
        fail(check, "with ratio=0.25 the shifts stay within what ratio=0.125 allows.",
             "compute the largest shifts from the `ratio` argument, int(ratio * height + 0.5) and "
             "int(ratio * width + 0.5), "
             "rather than from a fixed 1/8.")
    _check_draws(check, shifts, x.shape, 0.25)
    _check_gradient(check, random_translation, x[:8])
    _check_compiled(check, random_translation, x[:16])
    print(f"{check} passed (every output a whole-pixel shift with zero fill, shifts uniform per image and axis, "
          "gradients flow, works compiled)")
