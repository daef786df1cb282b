"""Checks of notebook 10: doubling a set of photographs with their left-right mirror images.

The learner's ``add_mirror_images(images)`` is run on a small batch of uint8 colour
images whose height and width differ (so that turning them on their side shows in the
shape), then on float32 greyscale ones, and compared with the images followed by their
mirrors. A wrong result is matched against the known ways of flipping the wrong axis.
"""

import numpy as np

from gan_helpers.checks.engine import array_values, call_student, fail

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
