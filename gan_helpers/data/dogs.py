"""Stanford Dogs: find the photos and their boxes, crop every dog to 64x64, cache, feed.

The Stanford Dogs set (20,580 photos of 120 breeds, a Pascal-VOC box around every dog)
holds the photos of Kaggle's "Generative Dog Images" competition. ``load_dogs`` accepts
it in any of these layouts, looked for in the folder it is given:

- the original archives ``images.tar`` and ``annotation.tar``;
- their extracted folders ``Images/`` and ``Annotation/``;
- the Kaggle layout: ``all-dogs.zip`` or ``all-dogs/``, with ``Annotation.zip``
  or ``Annotation/``;
- any plain folder of images (no boxes: each whole photo, center-cropped square).

Every dog is cropped to a square around its box (a photo with two dogs gives two crops)
by ``folder.read_crops``, the course's one picture reader (transparency, 16-bit greys,
EXIF orientation), resized to 64x64 with an antialiasing filter, and written into one
uint8 array cached on disk, keyed by a hash of the source listing and the settings:
later epochs and sessions never decode a JPEG again. Preparing streams one photo at a
time (JPEGs decoded at reduced size) into a memory-mapped array, so memory stays
bounded; corrupt, empty or tiny images are skipped and counted in the report.

``dogs_dataset`` turns the prepared set into a ``tf.data`` pipeline of float32 images
in [-1, 1], flipped, zoomed and sheared at random per batch inside the graph. Where the
photos are not found, ``load_dogs_or_standin`` falls back on the synthetic "dog-like"
blobs of ``gan_helpers.data.standin``, saying so loudly.
"""

import collections
import contextlib
import dataclasses
import hashlib
import json
import os
import tarfile
import time
import urllib.request
import xml.etree.ElementTree as ElementTree
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from gan_helpers import settings
from gan_helpers.data.folder import (PreparedImages, is_hidden, is_image_name, print_progress, read_crops,
                                     visible_files)
from gan_helpers.data.mnist import CorruptDatasetError, DatasetNotFoundError
from gan_helpers.data.standin import standin_images

# Side of the prepared square images, in pixels.
IMAGE_SIZE = 64
# A crop whose side in the original photo is below this many pixels is "tiny" and skipped.
MIN_SIDE = 16
# Bump when the preparation changes, so that old caches are not reused.
PREPARATION_VERSION = 2

# The Stanford Dogs set: 20,580 photos, a box around every dog (some photos show two or more).
STANFORD_DOGS_PAGE = "http://vision.stanford.edu/aditya86/ImageNetDogs/"
STANFORD_DOGS_URLS = {
    "images.tar": STANFORD_DOGS_PAGE + "images.tar",
    "annotation.tar": STANFORD_DOGS_PAGE + "annotation.tar",
}

# Names looked for in a data folder (compared case-insensitively), first match wins.
IMAGE_CONTAINERS = ("images.tar", "Images", "all-dogs.zip", "all-dogs")
ANNOTATION_CONTAINERS = ("annotation.tar", "Annotation", "Annotation.zip")

CACHE_ROOT = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gan_helpers"
DEFAULT_CACHE_DIR = CACHE_ROOT / "dogs"
DEFAULT_DOWNLOAD_DIR = CACHE_ROOT / "stanford-dogs"
REPO_DOGS = Path(__file__).resolve().parents[2] / "data" / "dogs"
SEARCH_DIRS = (REPO_DOGS, DEFAULT_DOWNLOAD_DIR)

ACCEPTED_LAYOUTS = (
    "Accepted layouts, inside the folder you pass as load_dogs(root=...):\n"
    "  1. the Stanford archives: images.tar and annotation.tar (as downloaded from {page});\n"
    "  2. their extracted folders: Images/ and Annotation/;\n"
    "  3. the Kaggle 'Generative Dog Images' layout: all-dogs.zip or all-dogs/, plus Annotation.zip or Annotation/;\n"
    "  4. any plain folder of images (.jpg, .png, ...), used without boxes.\n"
    "With no root, the course looks in {search}. load_dogs(download=True) fetches the "
    "Stanford archives (about 800 MB) into {download} when online."
)


def _accepted_layouts():
    return ACCEPTED_LAYOUTS.format(
        page=STANFORD_DOGS_PAGE,
        search=" and ".join(str(path) for path in SEARCH_DIRS),
        download=DEFAULT_DOWNLOAD_DIR,
    )


# -------------------------- reading files out of a folder, a tar or a zip, one at a time


class _Entry(NamedTuple):
    name: str  # path inside the container, with '/' separators
    size: int
    mtime: float


class _FolderFiles:
    """The regular files under a folder, read by relative path."""

    def __init__(self, folder):
        self.path = Path(folder)

    def entries(self):
        stats = ((name, (self.path / name).stat()) for name in visible_files(self.path))
        return [_Entry(name, stat.st_size, stat.st_mtime) for name, stat in stats]

    def read(self, name):
        return (self.path / name).read_bytes()

    def close(self):
        pass


def _unreadable_archive(path, kind, error):
    return CorruptDatasetError(
        f"{path} is not a readable {kind} archive ({error}). Download it again, "
        f"or extract it elsewhere and pass that folder.\n{_accepted_layouts()}"
    )


class _TarFiles:
    """The regular files inside a tar archive, read one at a time by name."""

    def __init__(self, path):
        try:
            self._tar = tarfile.open(path, "r:*")
            self._members = {m.name: m for m in self._tar.getmembers() if m.isfile()}
        except (tarfile.TarError, OSError, EOFError) as error:
            raise _unreadable_archive(path, "tar", error) from None

    def entries(self):
        return sorted(
            _Entry(name, m.size, float(m.mtime)) for name, m in self._members.items() if not is_hidden(name)
        )

    def read(self, name):
        return self._tar.extractfile(self._members[name]).read()

    def close(self):
        self._tar.close()


class _ZipFiles:
    """The regular files inside a zip archive, read one at a time by name."""

    def __init__(self, path):
        try:
            self._zip = zipfile.ZipFile(path)
            self._infos = {i.filename: i for i in self._zip.infolist() if not i.is_dir()}
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            raise _unreadable_archive(path, "zip", error) from None

    def entries(self):
        return sorted(
            _Entry(name, i.file_size, float(time.mktime(i.date_time + (0, 0, -1))))
            for name, i in self._infos.items()
            if not is_hidden(name)
        )

    def read(self, name):
        return self._zip.read(self._infos[name])

    def close(self):
        self._zip.close()


def _open_container(path):
    """The files in ``path``, a folder, a zip or a tar archive; closed when a ``with`` block ends."""
    path = Path(path)
    kind = _FolderFiles if path.is_dir() else _ZipFiles if path.suffix.lower() == ".zip" else _TarFiles
    return contextlib.closing(kind(path))


# ------------------------------------------------- finding the data: which layout, where


@dataclasses.dataclass
class DogsSource:
    """Where the dog photos (and their boxes, if any) are, and in which layout."""

    layout: str
    images: Path
    annotations: Path = None

    def describe(self):
        boxes = f" + boxes from {self.annotations}" if self.annotations else " (no boxes: whole photos)"
        return f"{self.layout}: {self.images}{boxes}"


def _first_child(folder, names):
    """The first of ``names`` in ``folder`` (the exact name, else the name in another case), or None."""
    by_lower_name = {child.name.lower(): child for child in folder.iterdir()}
    for name in names:
        found = folder / name if (folder / name).exists() else by_lower_name.get(name.lower())
        if found is not None:
            return found
    return None


def _layout_name(images):
    name = images.name.lower()
    if name.startswith("all-dogs"):
        return "Kaggle Generative Dog Images"
    stanford = {"images.tar": "Stanford Dogs archives", "images": "Stanford Dogs folders"}
    return stanford.get(name, "archive of images")


def _detect(root):
    """The DogsSource in folder (or archive) ``root``, or None when it holds no dogs."""
    if root.is_file():
        annotations = _first_child(root.parent, ANNOTATION_CONTAINERS)
        return DogsSource(_layout_name(root), root, annotations)
    if not root.is_dir():
        return None
    images = _first_child(root, IMAGE_CONTAINERS)
    annotations = _first_child(root, ANNOTATION_CONTAINERS)
    if images is not None:
        return DogsSource(_layout_name(images), images, annotations)
    if root.name.lower() in ("images", "all-dogs") and annotations is None:
        annotations = _first_child(root.parent, ANNOTATION_CONTAINERS)
        if annotations is not None:
            return DogsSource(_layout_name(root), root, annotations)
    if any(is_image_name(name) for name in visible_files(root)):
        return DogsSource("plain folder of images", root, None)
    if annotations is not None:
        raise DatasetNotFoundError(
            f"{root} holds the dog boxes ({annotations.name}) but not the photos. "
            f"Put images.tar, Images/, all-dogs.zip or all-dogs/ next to it.\n{_accepted_layouts()}"
        )
    return None


def find_dogs(root=None):
    """The DogsSource found in ``root`` (or, with no root, the course's usual places).

    Raises:
        DatasetNotFoundError: nothing usable there; the message lists the accepted layouts.
    """
    if root is not None:
        root = Path(root).expanduser()
        if not root.exists():
            raise DatasetNotFoundError(f"No dog photos at {root}: it does not exist.\n{_accepted_layouts()}")
        source = _detect(root)
        if source is None:
            raise DatasetNotFoundError(f"No dog photos found in {root}.\n{_accepted_layouts()}")
        return source
    for folder in SEARCH_DIRS:
        source = _detect(folder) if folder.exists() else None
        if source is not None:
            return source
    raise DatasetNotFoundError(f"The Stanford Dogs photos are not on this machine.\n{_accepted_layouts()}")


# ---------------------------------------------------------- downloading, only when asked


def _download(url, target, verbose=True):
    partial = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done, last = 0, 0.0
            while chunk := response.read(1 << 20):
                out.write(chunk)
                done += len(chunk)
                if verbose and time.monotonic() - last > 0.5:
                    last = time.monotonic()
                    of_total = f" of {total / 1e6:.0f} MB ({100 * done / total:.0f}%)" if total else " MB"
                    print_progress(f"Downloading {target.name}: {done / 1e6:.0f}{of_total}")
        if total and done != total:
            raise OSError(f"got {done} of {total} bytes")
    except Exception as error:  # no network, a proxy, a timeout, a full disk...
        partial.unlink(missing_ok=True)
        raise DatasetNotFoundError(
            f"Downloading {url} failed ({type(error).__name__}: {error}). Download images.tar and "
            f"annotation.tar from {STANFORD_DOGS_PAGE} yourself and put them in {target.parent}, "
            f"or pass load_dogs(root=...) a folder holding them.\n{_accepted_layouts()}"
        ) from None
    partial.replace(target)
    if verbose:
        print_progress(f"Downloaded {target.name}: {done / 1e6:.0f} MB to {target.parent}", final=True)


def download_dogs(folder=None, verbose=True):
    """Fetch the Stanford archives (images.tar, annotation.tar) into ``folder``; returns it.

    Files already there are kept. Only ever called when asked (``download=True``).
    """
    folder = Path(folder or DEFAULT_DOWNLOAD_DIR).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    for name, url in STANFORD_DOGS_URLS.items():
        if not (folder / name).is_file():
            _download(url, folder / name, verbose=verbose)
    return folder


# ----------------------------------------------------------------------- the dogs' boxes


def _parse_boxes(raw):
    """Pascal-VOC XML -> list of (xmin, ymin, xmax, ymax) in 1-based inclusive pixels."""
    boxes = ElementTree.fromstring(raw).iter("bndbox")
    return [tuple(float(box.findtext(key)) for key in ("xmin", "ymin", "xmax", "ymax")) for box in boxes]


def _read_boxes(annotations):
    """All boxes by photo name stem (e.g. 'n02085620_10074'), and how many files were unreadable."""
    boxes, unreadable = {}, 0
    if annotations is None:
        return boxes, unreadable
    with _open_container(annotations) as files:
        for entry in files.entries():
            if is_image_name(entry.name):
                continue
            try:
                found = _parse_boxes(files.read(entry.name))
            except (ElementTree.ParseError, TypeError, ValueError):
                unreadable += 1
                continue
            boxes.setdefault(_stem(entry.name), []).extend(found)
    return boxes, unreadable


def _stem(name):
    base = name.rsplit("/", 1)[-1]
    head, dot, suffix = base.rpartition(".")
    return head if dot and (suffix.lower() == "xml" or is_image_name(base)) else base


# ----------------------------------------------------------------- preparing and caching


@dataclasses.dataclass
class DogsReport:
    """What ``load_dogs`` did: where the photos came from and what was skipped.

    Attributes:
        source: where the photos were found (layout and paths).
        photos: image files found (after ``limit``, only those read are counted).
        crops: prepared images (one per dog box; one per photo without boxes).
        image_size: their side in pixels (64 unless asked otherwise).
        skipped: counts by reason: 'corrupt' and 'empty' files, 'tiny' boxes
            (under MIN_SIDE pixels), 'bad annotation' files that could not be parsed.
        no_box: photos without any box, used whole (center square).
        from_cache: True when the prepared set was read back from the cache.
        cache_file: the .npy cache holding the crops (None for stand-in data).
        seconds: time spent preparing (or loading the cache).
        standin: True for the synthetic stand-in set, not photos of dogs.
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
        origin = f"read from cache {self.cache_file}" if self.from_cache else f"prepared in {self.seconds:.1f} s"
        return (
            f"{self.crops} dog images, {self.image_size}x{self.image_size}, from {self.photos} photos ({self.source}); "
            f"skipped: {skipped}; photos without a box: {self.no_box}; {origin}."
        )


def _cache_key(source, image_size, limit):
    """A hash of everything the prepared array depends on, read without decoding a photo."""
    listing = {"version": PREPARATION_VERSION, "size": image_size, "min_side": MIN_SIDE, "limit": limit}
    for role, path in (("images", source.images), ("annotations", source.annotations)):
        if path is not None:
            with _open_container(path) as files:
                listing[role] = [tuple(entry) for entry in files.entries()]
    return hashlib.sha256(json.dumps(listing).encode()).hexdigest()[:20]


def _read_cache(cache_file, image_size):
    """The cached array and report, or None when missing, stale or damaged."""
    report_file = cache_file.with_suffix(".json")
    if not (cache_file.is_file() and report_file.is_file()):
        return None
    try:
        started = time.perf_counter()
        images = np.load(cache_file, mmap_mode="r", allow_pickle=False)
        report = DogsReport(**json.loads(report_file.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    if images.dtype != np.uint8 or images.shape[1:] != (image_size, image_size, 3) or len(images) != report.crops:
        return None
    report.from_cache, report.seconds, report.image_size = True, time.perf_counter() - started, image_size
    return PreparedImages(images, report)


def _prepare(source, cache_file, image_size, limit, verbose):
    """Decode, crop and resize every photo into ``cache_file``; returns its report."""
    started = time.perf_counter()
    boxes_by_stem, bad_annotations = _read_boxes(source.annotations)
    skipped = collections.Counter({"corrupt": 0, "empty": 0, "tiny": 0, "bad annotation": bad_annotations})
    with _open_container(source.images) as photos:
        entries = [e for e in photos.entries() if is_image_name(e.name)]
        capacity = sum(max(1, len(boxes_by_stem.get(_stem(e.name), ()))) for e in entries)
        capacity = min(capacity, limit) if limit is not None else capacity
        partial = cache_file.with_name(cache_file.stem + ".partial.npy")
        out = np.lib.format.open_memmap(partial, mode="w+", dtype=np.uint8, shape=(capacity, image_size, image_size, 3))
        count, read, no_box, last = 0, 0, 0, 0.0
        for entry in entries:
            if count >= capacity:
                break
            read += 1
            boxes = boxes_by_stem.get(_stem(entry.name), [])
            no_box += not boxes
            try:
                raw = photos.read(entry.name)
            except OSError:
                raw = None
            crops, problem, tiny = read_crops(raw, image_size, boxes, min_side=MIN_SIDE)
            if problem is not None:
                skipped[problem] += 1
            skipped["tiny"] += tiny
            for crop in crops[: capacity - count]:
                out[count] = crop
                count += 1
            if verbose and time.monotonic() - last > 1.0:
                last = time.monotonic()
                print_progress(f"Preparing dogs: {read}/{len(entries)} photos, {count} crops")
    if count == 0:
        del out
        partial.unlink(missing_ok=True)
        raise CorruptDatasetError(
            f"None of the {len(entries)} image files in {source.describe()} could be used "
            f"(skipped: {dict(skipped)}). Check that they are photos of at least {MIN_SIDE}x{MIN_SIDE} pixels."
        )
    _finish_cache(out, partial, cache_file, count)
    report = DogsReport(
        source=source.describe(),
        photos=read,
        crops=count,
        image_size=image_size,
        skipped=dict(skipped),
        no_box=no_box if source.annotations is not None else read,
        cache_file=str(cache_file),
        seconds=time.perf_counter() - started,
    )
    cache_file.with_suffix(".json").write_text(json.dumps(dataclasses.asdict(report), indent=1))
    if verbose:
        print_progress(f"Prepared {count} dog images in {report.seconds:.0f} s; cached in {cache_file}", final=True)
    return report


def _finish_cache(out, partial, cache_file, count):
    """Move the first ``count`` rows of the partial memmap into ``cache_file``, in chunks."""
    out.flush()
    if count == len(out):
        del out
        partial.replace(cache_file)
        return
    final = np.lib.format.open_memmap(
        cache_file.with_name(cache_file.stem + ".tmp.npy"), mode="w+", dtype=np.uint8, shape=(count,) + out.shape[1:]
    )
    for start in range(0, count, 1024):
        final[start : start + 1024] = out[start : min(start + 1024, count)]
    final.flush()
    tmp_name = final.filename
    del final, out
    partial.unlink()
    Path(tmp_name).replace(cache_file)


def load_dogs(root=None, *, image_size=IMAGE_SIZE, limit=None, cache_dir=None, download=False, verbose=True):
    """The dogs, cropped to their boxes: ``PreparedImages(images, report)``.

    ``images`` has shape (N, image_size, image_size, 3), uint8 0..255, read-only
    (memory-mapped from the cache). The first call prepares the set (about a
    minute per few thousand photos on a laptop CPU); later calls read the cache
    in ``cache_dir`` (default ``~/.cache/gan_helpers/dogs``), keyed by the source
    listing and the settings, so nothing is decoded again. ``limit`` stops after N
    crops; quick mode (``GAN_COURSE_QUICK``) caps it at ``settings.QUICK_MAX_EXAMPLES``.

    Raises:
        DatasetNotFoundError: no photos found (the message lists the accepted
            layouts) and ``download`` was False or the download failed.
        CorruptDatasetError: an archive cannot be read, or not one photo was usable.
    """
    limit = settings.quick_limit(limit)
    try:
        source = find_dogs(root)
    except DatasetNotFoundError:
        if not download:
            raise
        source = find_dogs(download_dogs(root, verbose=verbose))
    cache_dir = Path(cache_dir or DEFAULT_CACHE_DIR).expanduser()
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache_file = cache_dir / f"dogs-{image_size}px-{_cache_key(source, image_size, limit)}.npy"
    cached = _read_cache(cache_file, image_size)
    if cached is not None:
        if verbose:
            print(cached.report)
        return cached
    report = _prepare(source, cache_file, image_size, limit, verbose)
    images = np.load(cache_file, mmap_mode="r", allow_pickle=False)
    if verbose:
        print(report)
    return PreparedImages(images, report)


def load_dogs_or_standin(root=None, *, standin_count=2048, image_size=IMAGE_SIZE, **kwargs):
    """``load_dogs(root, ...)``, or, when the photos are not found, stand-in data with a loud note.

    The stand-ins are the synthetic blobs of ``gan_helpers.data.standin``. The report's
    ``standin`` is True in that case, and its text says so.
    """
    try:
        return load_dogs(root, image_size=image_size, **kwargs)
    except DatasetNotFoundError as error:
        reason = f"{str(error).splitlines()[0]} See load_dogs for the layouts it accepts."
    started = time.perf_counter()
    images = standin_images("the Stanford Dogs photos", reason, count=standin_count, image_size=image_size)
    report = DogsReport(
        source="synthetic blobs from gan_helpers.data.make_standin_dogs",
        crops=len(images),
        image_size=image_size,
        seconds=time.perf_counter() - started,
        standin=True,
    )
    return PreparedImages(images, report)


# ------------------- the tf.data pipeline, with augmentation done per batch in the graph

# Augmentation, as the dogs seed project did: flip left-right, zoom, shear.
ZOOM_RANGE = 0.1  # scale factor drawn from [1 - 0.1, 1 + 0.1]
SHEAR_RANGE = 0.1  # shear angle in radians (about 6 degrees) drawn from [-0.1, 0.1]


def augment_images(images, seed, flip=True, zoom=ZOOM_RANGE, shear=SHEAR_RANGE):
    """Random horizontal flip, zoom and shear of a batch, one affine warp per image.

    Args:
        images: float32 (B, H, W, C).
        seed: int tensor of shape (2,): the stateless seed of this batch's draws.
        flip: mirror each image left-right with probability 1/2.
        zoom: zoom factor drawn uniformly from [1 - zoom, 1 + zoom] (above 1 magnifies).
        shear: horizontal shear angle in radians drawn uniformly from [-shear, shear].
    Returns:
        float32 (B, H, W, C); pixels pulled from outside the image are mirrored back in
        (reflect), so no black borders appear. With zoom=0, shear=0 every image is
        returned unchanged or exactly mirrored.
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
    transforms = tf.stack(
        [a0, a1, cx - a0 * cx - a1 * cy, zeros, b1, cy - b1 * cy, zeros, zeros], axis=1
    )  # maps each output pixel (x, y) to the input pixel it is read from
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=shape[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="REFLECT",
    )


def dogs_dataset(
    images=None,
    batch_size=64,
    *,
    root=None,
    augment=True,
    shuffle=True,
    seed=None,
    limit=None,
    drop_remainder=False,
    **load_kwargs,
):
    """A ``tf.data`` pipeline of dog images, float32 (B, S, S, 3) in [-1, 1].

    ``images`` is a uint8 (N, S, S, 3) array (e.g. ``load_dogs_or_standin().images``);
    when None, ``load_dogs(root, **load_kwargs)`` provides it. The array lives in the
    graph once; each epoch reshuffles indices (not images) and gathers a batch at a
    time, so shuffling costs no copy of the set. Scaling and augmentation
    (``augment_images``) run on whole batches; the random draws come from a seeded
    stream that differs from epoch to epoch. Quick mode caps N at
    ``settings.QUICK_MAX_EXAMPLES``.
    """
    import tensorflow as tf

    from gan_helpers.ops import scale_pixels

    if images is None:
        images = load_dogs(root, limit=limit, **load_kwargs).images
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
        ds = tf.data.Dataset.zip(ds, seeds).map(
            lambda indices, pair: augment_images(to_images(indices), pair), num_parallel_calls=tf.data.AUTOTUNE
        )
    else:
        ds = ds.map(to_images, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
