"""Stand-in pictures for a machine without a data set: synthetic 'dog-like' blobs, labelled loudly.

The Stanford Dogs photos and CIFAR-10 are not shipped and cannot be downloaded in the
course's CI. Notebooks 08 and 10 then train on these stand-ins (``load_dogs_or_standin``,
``load_cifar10_or_standin``), so that every cell still runs, and say so in a banner: the
stand-ins only show that the code works. They are NOT photographs.
"""

from typing import NamedTuple

import numpy as np

from gan_helpers import settings

# How many stand-in pictures a run gets when it asks for none in particular.
DEFAULT_COUNT = 2048

# Fur colours (RGB 0..1): tan, brown, black, white, golden, grey, red.
_FUR = np.array(
    [[0.82, 0.68, 0.48], [0.45, 0.29, 0.16], [0.12, 0.11, 0.10], [0.92, 0.90, 0.86],
     [0.85, 0.62, 0.25], [0.55, 0.55, 0.55], [0.66, 0.33, 0.16]],
    dtype=np.float32,
)  # fmt: skip

BANNER = (
    "=" * 78 + "\n"
    "STAND-IN DATA: {missing} could not be found, so this run uses\n"
    "SYNTHETIC 'dog-like' blobs (a body, a head, ears, eyes) drawn by the course.\n"
    "They only show that the code runs. They are NOT photographs.\n"
    "(Why: {reason})\n" + "=" * 78
)


class LoadedImages(NamedTuple):
    """Training images, uint8 (N, S, S, 3); ``source`` says what they are; ``standin`` is True for stand-ins."""

    images: np.ndarray
    source: str
    standin: bool


def _ellipse(xx, yy, cx, cy, rx, ry):
    """Soft mask (B, S, S) in [0, 1] of ellipses with per-image centers and radii (B,)."""
    d = ((xx - cx[:, None, None]) / rx[:, None, None]) ** 2 + ((yy - cy[:, None, None]) / ry[:, None, None]) ** 2
    return np.clip((1.0 - d) * 8.0, 0.0, 1.0)


def _draw(rng, count, size):
    coords = (np.arange(size, dtype=np.float32) + 0.5) / size * 2.0 - 1.0
    xx, yy = np.meshgrid(coords, coords)
    uniform = lambda low, high: rng.uniform(low, high, count).astype(np.float32)  # noqa: E731
    top, bottom = rng.uniform(0.2, 0.9, (2, count, 1, 1, 3)).astype(np.float32)
    image = top + (bottom - top) * ((yy + 1.0) / 2.0)[None, :, :, None]
    fur = np.clip(_FUR[rng.integers(len(_FUR), size=count)] + rng.normal(0, 0.05, (count, 3)), 0, 1)
    dark = fur * 0.55
    side = rng.choice([-1.0, 1.0], count).astype(np.float32)
    body_x, body_y = uniform(-0.2, 0.2), uniform(0.2, 0.45)
    head_x, head_y = body_x + side * uniform(0.15, 0.35), body_y - uniform(0.45, 0.65)
    head_r = uniform(0.22, 0.32)
    layers_ = [
        (_ellipse(xx, yy, body_x, body_y, uniform(0.4, 0.6), uniform(0.28, 0.4)), fur),
        (_ellipse(xx, yy, head_x - 0.7 * head_r, head_y - 0.5 * head_r, 0.35 * head_r, 0.8 * head_r), dark),
        (_ellipse(xx, yy, head_x + 0.7 * head_r, head_y - 0.5 * head_r, 0.35 * head_r, 0.8 * head_r), dark),
        (_ellipse(xx, yy, head_x, head_y, head_r, 0.9 * head_r), fur),
    ]
    eye_r = np.full(count, 0.05, np.float32)
    black = np.zeros((count, 3), np.float32)
    for dx, dy in ((-0.4, -0.15), (0.4, -0.15), (0.0, 0.35)):
        spot = _ellipse(xx, yy, head_x + dx * head_r, head_y + dy * head_r, eye_r, eye_r)
        layers_.append((spot, black))
    for mask, colour in layers_:
        image = image * (1.0 - mask[..., None]) + mask[..., None] * colour[:, None, None, :]
    return np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)


def make_standin_dogs(count=DEFAULT_COUNT, image_size=64, seed=0):
    """Synthetic 'dog-like' images for CI: (count, S, S, 3) uint8. NOT photographs.

    Each is a two-tone background with a fur-coloured body, a head, darker ears,
    eyes and a nose, at random places and sizes, so that a GAN has shapes and
    colours to learn. The same seed gives the same images.
    """
    rng = np.random.default_rng(seed)
    chunks = [_draw(rng, min(256, count - start), image_size) for start in range(0, count, 256)]
    return np.concatenate(chunks) if chunks else np.zeros((0, image_size, image_size, 3), np.uint8)


def standin_images(missing, reason, *, count=DEFAULT_COUNT, image_size=64):
    """Print the stand-in banner and return ``make_standin_dogs`` pictures (at most the quick-mode cap).

    Args:
        missing: what was not found, e.g. "CIFAR-10".
        reason: why, in a sentence, with how to provide the real data.
    """
    print(BANNER.format(missing=missing, reason=reason))
    return make_standin_dogs(settings.quick_limit(count), image_size)
