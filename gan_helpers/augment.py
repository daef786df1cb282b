"""Differentiable augmentation (DiffAugment, Zhao et al., 2020): random changes a discriminator sees
on real *and* generated images alike.

A GAN trained on a few thousand images has a discriminator that starts to memorise them. Showing it
each image changed at random (moved, recoloured, with a hole cut out) makes memorising harder. The
change must be applied to the generated images too, in the discriminator's update *and* in the
generator's, with gradients flowing through it to the generator: augmenting the real images alone
teaches the generator to draw augmented images (notebook 13). Hence every transformation here is
differentiable in the images and runs inside a compiled train step::

    run_a_gan(..., augment=diff_augment)    # D sees diff_augment(real) and diff_augment(G(z))

The operations and their ranges are those of Zhao et al.'s official TensorFlow code, for images in
[-1, 1] of shape (N, H, W, C), each image with its own random draw:

- ``color``: brightness + U(-0.5, 0.5); saturation x U(0, 2) around each pixel's mean over the
  colours (skipped for greyscale images, where it changes nothing); contrast x U(0.5, 1.5) around
  the image's mean.
- ``translation``: a shift by whole pixels, uniform on {-s, ..., s} per axis with s = size / 8 rounded
  (4 pixels for 28 x 28, as ``int(size * 0.125 + 0.5)`` in their code), filled with zeros (mid-grey for images in [-1, 1], as in the official code).
- ``cutout``: a square of side size / 2 (rounded), centred anywhere in the image (clipped at its
  border), set to zero.
"""

import tensorflow as tf

DEFAULT_POLICY = "color,translation,cutout"
# Largest shift, as a fraction of the image's height (rows) and width (columns).
TRANSLATION_RATIO = 0.125
# Side of the cut-out square, as a fraction of the image's height and width.
CUTOUT_RATIO = 0.5


def _check_images(images, what):
    images = tf.convert_to_tensor(images)
    if images.shape.rank != 4:
        raise ValueError(f"{what} takes a batch of images of shape (N, height, width, channels); got shape "
                         f"{tuple(images.shape)}. Flat images (N, 784) must be reshaped to (N, 28, 28, 1) first "
                         "(a discriminator that takes flat images cannot be trained with augmentation).")
    if not images.dtype.is_floating:
        raise ValueError(f"{what} takes float images in [-1, 1], not {images.dtype.name}: scale them first "
                         "(ops.scale_pixels).")
    return images


def _with_sizes(images, what):
    """(images as a checked tensor, the batch size as a tensor, the height and width as ints)."""
    images = _check_images(images, what)
    height, width = images.shape[1], images.shape[2]
    if height is None or width is None:
        raise ValueError(f"{what} needs the images' height and width to be known.")
    return images, tf.shape(images)[0], height, width


def _per_image_uniform(images, low, high):
    """One uniform draw in [low, high) per image, shape (N, 1, 1, 1), in the images' dtype."""
    draw = tf.random.uniform((tf.shape(images)[0], 1, 1, 1), low, high, dtype=tf.float32)
    return tf.cast(draw, images.dtype)


def random_brightness(images):
    """Add one random value in [-0.5, 0.5) to every pixel and colour of each image."""
    images = _check_images(images, "random_brightness")
    return images + _per_image_uniform(images, -0.5, 0.5)


def random_saturation(images):
    """Scale each pixel's colours around their mean by a random factor in [0, 2) per image.

    A factor of 0 turns the image grey, 2 doubles its colourfulness. Greyscale images (one
    channel) are returned unchanged: their only colour is its own mean.
    """
    images = _check_images(images, "random_saturation")
    if images.shape[-1] == 1:
        return images
    mean = tf.reduce_mean(images, axis=3, keepdims=True)
    return (images - mean) * _per_image_uniform(images, 0.0, 2.0) + mean


def random_contrast(images):
    """Scale each image around its mean (over all pixels and colours) by a random factor in [0.5, 1.5)."""
    images = _check_images(images, "random_contrast")
    mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    return (images - mean) * _per_image_uniform(images, 0.5, 1.5) + mean


def _shifted_indices(size, limit, count):
    """Per image, the source index of each output row (or column) after a random shift, in the padded axis.

    Shifts are uniform on {-limit, ..., limit}; the axis is padded by ``limit`` on both sides, so
    output index i reads padded index i + limit + shift, always inside. Shape (count, size).
    """
    shift = tf.random.uniform((count, 1), -limit, limit + 1, dtype=tf.int32)
    return tf.range(size)[None, :] + limit + shift


def random_translation(images, ratio=TRANSLATION_RATIO):
    """Shift each image by its own random whole number of pixels, filling what comes in with zeros.

    The vertical shift is uniform on {-s, ..., s} with s = ratio * height rounded to the nearest
    whole number (``int(ratio * height + 0.5)``, as Zhao et al.'s code), the horizontal one, drawn
    separately, on {-s', ..., s'} with s' = ratio * width rounded: up to 4 pixels for MNIST's
    28 x 28 and for 32 x 32, 8 for 64 x 64. Pixels shifted out are lost; those shifted in
    are 0 (mid-grey for images in [-1, 1]). Differentiable: the gradient of a pixel that stays in
    the image goes back to where it came from.

    Args:
        images: float tensor (N, H, W, C).
        ratio: the largest shift as a fraction of the image's side (Zhao et al.: 1/8).
    Returns:
        a tensor of the same shape and dtype.
    """
    images, count, height, width = _with_sizes(images, "random_translation")
    rows_limit, cols_limit = _rounded(ratio * height), _rounded(ratio * width)
    padded = tf.pad(images, [[0, 0], [rows_limit, rows_limit], [cols_limit, cols_limit], [0, 0]])
    rows = _shifted_indices(height, rows_limit, count)
    cols = _shifted_indices(width, cols_limit, count)
    moved = tf.gather(padded, rows, axis=1, batch_dims=1)  # (N, H, W + 2 s', C)
    return tf.gather(moved, cols, axis=2, batch_dims=1)  # (N, H, W, C)


def random_cutout(images, ratio=CUTOUT_RATIO):
    """Set a square of each image to zero: side ratio * size (rounded), centred at a random pixel.

    The centre is uniform over the image (one position past its far edge too, for an even
    side, as in Zhao et al.'s code), so the square is often clipped by the border: it covers
    a quarter of the image at most (ratio 1/2), less when clipped. One square per image.

    Args:
        images: float tensor (N, H, W, C).
        ratio: the square's side as a fraction of the image's height and width (Zhao et al.: 1/2).
    Returns:
        a tensor of the same shape and dtype.
    """
    images, count, height, width = _with_sizes(images, "random_cutout")

    def outside(size):
        """(N, size) booleans: is each row (or column) outside this image's square, along one axis."""
        side = _rounded(ratio * size)
        centre = tf.random.uniform((count, 1), 0, size + 1 - side % 2, dtype=tf.int32)
        first = centre - side // 2
        index = tf.range(size)[None, :]
        return (index < first) | (index >= first + side)

    keep = outside(height)[:, :, None] | outside(width)[:, None, :]  # (N, H, W)
    return images * tf.cast(keep, images.dtype)[..., None]


def _rounded(size):
    """A fraction of an image's side in whole pixels, rounded half up as in Zhao et al.'s code."""
    return int(size + 0.5)


AUGMENTATIONS = {
    "color": (random_brightness, random_saturation, random_contrast),
    "translation": (random_translation,),
    "cutout": (random_cutout,),
}


def policy_names(policy):
    """The transformations a policy names, in order: a comma-separated string or a list; ValueError for an unknown name."""
    if policy is None:
        return []
    if isinstance(policy, str):
        names = [name.strip() for name in policy.split(",") if name.strip()]
    elif isinstance(policy, (list, tuple)):
        names = list(policy)
    else:
        raise TypeError(f"policy must be a string such as {DEFAULT_POLICY!r} (or a list of names), "
                        f"not {type(policy).__name__}.")
    unknown = [name for name in names if name not in AUGMENTATIONS]
    if unknown:
        raise ValueError(f"Unknown augmentation {', '.join(map(repr, unknown))} in policy {policy!r}; choose "
                         f"from {', '.join(AUGMENTATIONS)} (comma-separated, e.g. {DEFAULT_POLICY!r}).")
    return names


def diff_augment(images, policy=DEFAULT_POLICY):
    """DiffAugment (Zhao et al., 2020): random, differentiable changes, one draw per image.

    Applies the transformations of ``policy`` in its order (within ``color``: brightness,
    saturation, contrast), each to every image. Use the same function on real and generated
    images, every time the discriminator sees them: ``run_a_gan(..., augment=diff_augment)``.

    Args:
        images: float tensor (N, H, W, C) in [-1, 1] (float32, or float16 under mixed precision).
        policy: comma-separated names among ``color``, ``translation``, ``cutout`` (the default:
            all three, the paper's choice for small data sets), or a list of them; '' changes nothing.
    Returns:
        a tensor of the same shape and dtype.
    """
    names = policy_names(policy)
    images = _check_images(images, "diff_augment")
    for name in names:
        for transform in AUGMENTATIONS[name]:
            images = transform(images)
    return images
