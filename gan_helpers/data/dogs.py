"""Stanford Dogs: find the extracted photos and their boxes, crop every dog to 64x64, cache, feed.

The Stanford Dogs (20,580 photos of 120 breeds, a Pascal-VOC box around every dog; the
photos of Kaggle's "Generative Dog Images") are read extracted: Stanford's ``Images/`` and
``Annotation/`` or Kaggle's ``all-dogs/`` and ``Annotation/``, or any folder of photos.
Every dog is cropped to a square around its box (a photo without one: its central square)
by ``folder.read_crops``, the course's one picture reader, and written, one photo at a
time, into a memory-mapped uint8 ``.npy`` cache named by a hash of the files' names, sizes
and dates and of the settings, so that memory stays bounded and later sessions decode
nothing. Corrupt, empty or tiny images are skipped and counted.

``dogs_dataset`` feeds the crops to a GAN, flipped, zoomed and sheared at random;
``load_dogs_or_standin`` falls back on labelled synthetic stand-ins without the photos.
"""

import dataclasses
import hashlib
import json
import os
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np

from gan_helpers import settings
from gan_helpers.data.folder import PreparedImages, is_image_name, print_progress, read_crops, visible_files
from gan_helpers.data.mnist import CorruptDatasetError, DatasetNotFoundError
from gan_helpers.data.standin import standin_images

# Side of the prepared square images, in pixels.
IMAGE_SIZE = 64
# A crop whose side in the original photo is below this many pixels is "tiny" and skipped.
MIN_SIDE = 16
# Bump when the preparation changes, so that old caches are not reused.
PREPARATION_VERSION = 3

# The archives the photos and boxes come in, which the course does not read: they are to be extracted.
ARCHIVES = ("images.tar", "annotation.tar", "all-dogs.zip", "Annotation.zip")
REPO_DOGS = Path(__file__).resolve().parents[2] / "data" / "dogs"
DEFAULT_CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gan_helpers" / "dogs"

HOW_TO_GET_THEM = (
    "Download images.tar and annotation.tar from http://vision.stanford.edu/aditya86/ImageNetDogs/ "
    "(or all-dogs.zip and Annotation.zip from https://www.kaggle.com/competitions/generative-dog-images/data), "
    "extract them into one folder (tar -xf images.tar; tar -xf annotation.tar; or unzip), which then holds "
    f"Images/ (or all-dogs/) and Annotation/; pass it as load_dogs(root=...) or --data-root, or make it {REPO_DOGS}. "
    "A folder of your own photos works too."
)


def find_dogs(root=None):
    """``(photos folder, boxes folder or None)`` in ``root`` (default: the repository's ``data/dogs/``).

    ``root`` holds ``Images/`` or ``all-dogs/`` (or is one of them) and ``Annotation/``, or is
    any folder of photos. Raises DatasetNotFoundError, saying how to get and extract the
    files, where there are no photos or only their archives.
    """
    root = REPO_DOGS if root is None else Path(root).expanduser()
    if root.is_file():
        raise DatasetNotFoundError(f"{root} is a file: extract it and pass the folder.\n{HOW_TO_GET_THEM}")
    if not root.is_dir():
        raise DatasetNotFoundError(f"No dog photos at {root}: it does not exist.\n{HOW_TO_GET_THEM}")
    images = next((root / name for name in ("Images", "all-dogs") if (root / name).is_dir()), None)
    if images is None and root.name in ("Images", "all-dogs"):
        images, root = root, root.parent  # given the photos' folder: the boxes are beside it
    annotations = root / "Annotation" if (root / "Annotation").is_dir() else None
    if images is None and any(is_image_name(name) for name in visible_files(root)):
        images = root
    packed = [name for name in ARCHIVES if (root / name).exists()]
    if (images is None or annotations is None) and packed:
        raise DatasetNotFoundError(f"{root} holds {', '.join(packed)}, not extracted: extract them.\n{HOW_TO_GET_THEM}")
    if images is None:
        found = " (only the boxes, Annotation/)" if annotations else ""
        raise DatasetNotFoundError(f"No dog photos found in {root}{found}.\n{HOW_TO_GET_THEM}")
    return images, annotations


def _read_boxes(annotations):
    """Pascal-VOC boxes (xmin, ymin, xmax, ymax) by photo, and how many box files were unreadable.

    A photo is named by its file name without suffix: ``Annotation/n02085620-Chihuahua/n02085620_10074``
    holds the boxes of ``Images/n02085620-Chihuahua/n02085620_10074.jpg``.
    """
    boxes, unreadable = {}, 0
    for name in visible_files(annotations) if annotations else ():
        try:
            found = [tuple(float(box.findtext(key)) for key in ("xmin", "ymin", "xmax", "ymax"))
                     for box in ElementTree.parse(annotations / name).iter("bndbox")]
        except (ElementTree.ParseError, OSError, TypeError, ValueError):
            unreadable += 1
            continue
        boxes.setdefault(Path(name).stem, []).extend(found)
    return boxes, unreadable


@dataclasses.dataclass
class DogsReport:
    """What ``load_dogs`` did: where the photos came from and what was skipped.

    ``photos`` counts the image files read, ``crops`` the images prepared (one per box;
    one per photo without any, ``no_box`` of them). ``skipped`` counts 'corrupt' and
    'empty' files, 'tiny' boxes (under MIN_SIDE pixels) and 'bad annotation' files.
    ``cache_file`` is the .npy holding the crops; ``seconds`` the time spent preparing
    them or reading them back (``from_cache``). ``standin`` marks the synthetic stand-ins.
    """

    source: str
    photos: int = 0
    crops: int = 0
    image_size: int = IMAGE_SIZE
    skipped: dict = dataclasses.field(default_factory=dict)
    no_box: int = 0
    from_cache: bool = False
    cache_file: str = None
    seconds: float = 0.0
    standin: bool = False

    def __str__(self):
        if self.standin:
            return f"STAND-IN DATA: {self.crops} synthetic dog-like images (not photos). {self.source}"
        skipped = ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items()) if n) or "none"
        origin = "read from cache" if self.from_cache else f"prepared in {self.seconds:.1f} s, cached in"
        return (
            f"{self.crops} dog images, {self.image_size}x{self.image_size}, from {self.photos} photos ({self.source}); "
            f"skipped: {skipped}; photos without a box: {self.no_box}; {origin} {self.cache_file}."
        )


def _cache_key(images, annotations, image_size, limit):
    """A hash of everything the prepared crops depend on, read without decoding a photo."""
    listing = [PREPARATION_VERSION, image_size, MIN_SIDE, limit]
    for folder in filter(None, (images, annotations)):
        stats = ((name, (folder / name).stat()) for name in visible_files(folder))
        listing.append([(name, stat.st_size, stat.st_mtime) for name, stat in stats])
    return hashlib.sha256(json.dumps(listing).encode()).hexdigest()[:20]


def _read_cache(cache_file, image_size):
    """The cached crops and their report, or None when missing or damaged."""
    started = time.perf_counter()
    try:
        report = DogsReport(**json.loads(cache_file.with_suffix(".json").read_text()))
        images = np.load(cache_file, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, TypeError):
        return None
    if images.dtype != np.uint8 or images.shape[1:] != (image_size, image_size, 3) or len(images) < report.crops:
        return None
    report.from_cache, report.seconds = True, time.perf_counter() - started
    return PreparedImages(images[: report.crops], report)


def _prepare(images, annotations, cache_file, image_size, limit, verbose):
    """Crop every photo into ``cache_file`` (one row per box; skipped ones stay unused at the end); the report."""
    started = time.perf_counter()
    boxes_by_photo, bad_annotations = _read_boxes(annotations)
    names = [name for name in visible_files(images) if is_image_name(name)]
    capacity = sum(max(1, len(boxes_by_photo.get(Path(name).stem, ()))) for name in names)
    capacity = capacity if limit is None else min(capacity, limit)
    boxes_from = f" with boxes from {annotations}" if annotations else " (no boxes: whole photos)"
    report = DogsReport(f"{images}{boxes_from}", image_size=image_size, cache_file=str(cache_file),
                        skipped={"corrupt": 0, "empty": 0, "tiny": 0, "bad annotation": bad_annotations})
    partial = cache_file.with_name(cache_file.stem + ".partial.npy")
    out = np.lib.format.open_memmap(partial, mode="w+", dtype=np.uint8, shape=(capacity, image_size, image_size, 3))
    last = 0.0
    for name in names:
        if report.crops == capacity:
            break
        boxes = boxes_by_photo.get(Path(name).stem, [])
        crops, problem, tiny = read_crops(images / name, image_size, boxes, min_side=MIN_SIDE)
        for crop in crops[: capacity - report.crops]:
            out[report.crops] = crop
            report.crops += 1
        report.photos += 1
        report.no_box += not boxes
        report.skipped["tiny"] += tiny
        if problem:
            report.skipped[problem] += 1
        if verbose and time.monotonic() - last > 1.0:
            last = time.monotonic()
            print_progress(f"Preparing dogs: {report.photos}/{len(names)} photos, {report.crops} crops")
    out.flush()
    del out
    if report.crops == 0:
        partial.unlink()
        raise CorruptDatasetError(
            f"None of the {len(names)} image files in {images} could be used (skipped: {report.skipped}). "
            f"Check that they are photos of at least {MIN_SIDE}x{MIN_SIDE} pixels."
        )
    partial.replace(cache_file)
    report.seconds = time.perf_counter() - started
    cache_file.with_suffix(".json").write_text(json.dumps(dataclasses.asdict(report), indent=1))
    return report


def load_dogs(root=None, *, image_size=IMAGE_SIZE, limit=None, cache_dir=None, verbose=True):
    """The dogs in ``root`` (see ``find_dogs``), cropped to their boxes: ``PreparedImages(images, report)``.

    ``images`` is uint8 (N, image_size, image_size, 3), read-only, memory-mapped from the
    cache in ``cache_dir`` (default ``~/.cache/gan_helpers/dogs``): the first call prepares
    it (about a minute per few thousand photos on a laptop CPU), later ones read it while
    the files and settings are the same. ``limit`` stops after N crops; quick mode caps it.

    Raises:
        DatasetNotFoundError: no photos found, or only their archives (see ``find_dogs``).
        CorruptDatasetError: not one photo was usable.
    """
    limit = settings.quick_limit(limit)
    images, annotations = find_dogs(root)
    cache_dir = Path(cache_dir or DEFAULT_CACHE_DIR).expanduser()
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache_file = cache_dir / f"dogs-{image_size}px-{_cache_key(images, annotations, image_size, limit)}.npy"
    prepared = _read_cache(cache_file, image_size)
    if prepared is None:
        report = _prepare(images, annotations, cache_file, image_size, limit, verbose)
        prepared = PreparedImages(np.load(cache_file, mmap_mode="r", allow_pickle=False)[: report.crops], report)
    if verbose:
        print_progress(str(prepared.report), final=True)
    return prepared


def load_dogs_or_standin(root=None, *, standin_count=2048, image_size=IMAGE_SIZE, **kwargs):
    """``load_dogs(root, ...)``, or where the photos are not found the synthetic blobs of
    ``gan_helpers.data.standin``, said loudly: the report's ``standin`` is True and its text says so.
    """
    try:
        return load_dogs(root, image_size=image_size, **kwargs)
    except DatasetNotFoundError as error:
        reason = f"{str(error).splitlines()[0]} See load_dogs for where to get them."
    started = time.perf_counter()
    images = standin_images("the Stanford Dogs photos", reason, count=standin_count, image_size=image_size)
    report = DogsReport(source="synthetic blobs from gan_helpers.data.make_standin_dogs", crops=len(images),
                        image_size=image_size, seconds=time.perf_counter() - started, standin=True)
    return PreparedImages(images, report)


# The tf.data pipeline, with augmentation as the dogs seed project did: flip left-right, zoom, shear.
ZOOM_RANGE = 0.1  # scale factor drawn from [1 - 0.1, 1 + 0.1]
SHEAR_RANGE = 0.1  # shear angle in radians (about 6 degrees) drawn from [-0.1, 0.1]


def augment_images(images, seed, flip=True, zoom=ZOOM_RANGE, shear=SHEAR_RANGE):
    """Float32 images (B, H, W, C), each flipped left-right (if ``flip``, with probability 1/2),
    zoomed by a factor from [1 - zoom, 1 + zoom] and sheared by an angle (radians) from
    [-shear, shear], in one affine warp; ``seed``, an int tensor (2,), seeds the draws.
    Pixels pulled from outside are mirrored back in (no black borders); with zoom=0,
    shear=0 every image comes back unchanged or exactly mirrored.
    """
    import tensorflow as tf

    shape = tf.shape(images)
    batch, height, width = shape[0], tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)
    draws = tf.random.stateless_uniform([3, batch], seed=seed)
    sign = tf.where(draws[0] < 0.5, -1.0, 1.0) if flip else tf.ones([batch])
    inverse_zoom = 1.0 / (1.0 + zoom * (2.0 * draws[1] - 1.0))
    slant = tf.tan(shear * (2.0 * draws[2] - 1.0))
    cx, cy = (width - 1.0) / 2.0, (height - 1.0) / 2.0
    a0, a1, b1 = sign * inverse_zoom, slant * inverse_zoom, inverse_zoom
    zeros = tf.zeros([batch])
    # maps each output pixel (x, y) to the input pixel it is read from
    transforms = tf.stack([a0, a1, cx - a0 * cx - a1 * cy, zeros, b1, cy - b1 * cy, zeros, zeros], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(images=images, transforms=transforms, output_shape=shape[1:3],
                                                 fill_value=0.0, interpolation="BILINEAR", fill_mode="REFLECT")


def dogs_dataset(images, batch_size=64, *, augment=True, shuffle=True, seed=None, limit=None, drop_remainder=False):
    """uint8 ``images`` (N, S, S, 3) as a ``tf.data`` pipeline of float32 batches in [-1, 1].

    The array lives in the graph once; each epoch reshuffles indices (not images) and
    gathers a batch at a time. Scaling and augmentation (``augment_images``) run on whole
    batches, drawn from a seeded stream that differs from epoch to epoch. ``limit`` keeps
    the first N images; quick mode caps N.
    """
    import tensorflow as tf

    from gan_helpers.ops import scale_pixels

    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 of shape (N, S, S, 3); got {images.dtype} {images.shape}.")
    images = images[: settings.quick_limit(limit)]
    table = tf.constant(images)
    ds = tf.data.Dataset.range(len(images))
    if shuffle:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)

    def to_images(indices):
        return scale_pixels(tf.gather(table, indices))

    if augment:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip(ds, seeds).map(lambda indices, pair: augment_images(to_images(indices), pair),
                                                num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = ds.map(to_images, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
