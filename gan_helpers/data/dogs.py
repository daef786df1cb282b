"""Stanford Dogs: find the photos and their boxes, crop every dog to 64x64, cache, feed.

The set is the Stanford Dogs data set (20,580 photos of 120 breeds, with a
Pascal-VOC box around every dog), the same photos the Kaggle "Generative Dog
Images" competition used. ``load_dogs`` accepts it in any of these layouts,
looked for in the folder it is given:

- the original archives ``images.tar`` and ``annotation.tar``;
- their extracted folders ``Images/`` and ``Annotation/``;
- the Kaggle layout: ``all-dogs.zip`` or ``all-dogs/``, with ``Annotation.zip``
  or ``Annotation/``;
- any plain folder of images (no boxes: each whole photo, center-cropped square).

Every dog is cropped to a square around its box (a photo with two dogs gives
two crops), resized to 64x64 with an antialiasing filter, and written into one
uint8 array cached on disk, keyed by a hash of the source listing and the
settings: later epochs and later sessions never decode a JPEG again.
Preparing streams one photo at a time (JPEGs decoded at reduced size through
PIL's draft mode, straight into a preallocated memory-mapped array), so
memory stays bounded however many photos there are. Corrupt, empty or tiny
images are skipped and counted in the report, never fatal.

``dogs_dataset`` turns the prepared set into a ``tf.data`` pipeline of float32
images in [-1, 1], with random horizontal flips, zooms and shears done per
batch inside the graph. ``make_standin_dogs`` draws synthetic "dog-like" blobs
for CI and for machines without the real photos; ``load_dogs_or_standin``
falls back on them, saying so loudly.
"""

import collections
import dataclasses
import hashlib
import io
import json
import math
import os
import sys
import tarfile
import time
import urllib.request
import xml.etree.ElementTree as ElementTree
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from gan_helpers import settings
from gan_helpers.data.mnist import CorruptDatasetError, DatasetNotFoundError

# Side of the prepared square images, in pixels.
IMAGE_SIZE = 64
# A crop whose side in the original photo is below this many pixels is "tiny" and skipped.
MIN_SIDE = 16
# Bump when the preparation changes, so that old caches are not reused.
PREPARATION_VERSION = 1

# The Stanford Dogs set: photos and the dogs their boxes hold (some photos show two or more).
STANFORD_DOGS_PHOTOS = 20580
STANFORD_DOGS_PAGE = "http://vision.stanford.edu/aditya86/ImageNetDogs/"
STANFORD_DOGS_URLS = {
    "images.tar": STANFORD_DOGS_PAGE + "images.tar",
    "annotation.tar": STANFORD_DOGS_PAGE + "annotation.tar",
}

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")
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


# ---------------------------------------------------------------------------
# Reading files out of a folder, a tar or a zip, one at a time.
# ---------------------------------------------------------------------------


class _Entry(NamedTuple):
    name: str  # path inside the container, with '/' separators
    size: int
    mtime: float


def _is_hidden(name):
    return any(part.startswith(".") or part == "__MACOSX" for part in name.split("/"))


class _FolderFiles:
    """The regular files under a folder, read by relative path."""

    def __init__(self, folder):
        self.path = Path(folder)

    def entries(self):
        found = []
        for dirpath, _, filenames in os.walk(self.path):
            for filename in filenames:
                full = Path(dirpath) / filename
                name = full.relative_to(self.path).as_posix()
                if _is_hidden(name):
                    continue
                stat = full.stat()
                found.append(_Entry(name, stat.st_size, stat.st_mtime))
        return sorted(found)

    def read(self, name):
        return (self.path / name).read_bytes()

    def close(self):
        pass


class _TarFiles:
    """The regular files inside a tar archive, read one at a time by name."""

    def __init__(self, path):
        self.path = Path(path)
        try:
            self._tar = tarfile.open(self.path, "r:*")
            self._members = {m.name: m for m in self._tar.getmembers() if m.isfile()}
        except (tarfile.TarError, OSError, EOFError) as error:
            raise CorruptDatasetError(
                f"{self.path} is not a readable tar archive ({error}). Download it again, "
                f"or extract it elsewhere and pass that folder.\n{_accepted_layouts()}"
            ) from None

    def entries(self):
        return sorted(
            _Entry(name, m.size, float(m.mtime)) for name, m in self._members.items() if not _is_hidden(name)
        )

    def read(self, name):
        return self._tar.extractfile(self._members[name]).read()

    def close(self):
        self._tar.close()


class _ZipFiles:
    """The regular files inside a zip archive, read one at a time by name."""

    def __init__(self, path):
        self.path = Path(path)
        try:
            self._zip = zipfile.ZipFile(self.path)
            self._infos = {i.filename: i for i in self._zip.infolist() if not i.is_dir()}
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            raise CorruptDatasetError(
                f"{self.path} is not a readable zip archive ({error}). Download it again, "
                f"or extract it elsewhere and pass that folder.\n{_accepted_layouts()}"
            ) from None

    def entries(self):
        return sorted(
            _Entry(name, i.file_size, float(time.mktime(i.date_time + (0, 0, -1))))
            for name, i in self._infos.items()
            if not _is_hidden(name)
        )

    def read(self, name):
        return self._zip.read(self._infos[name])

    def close(self):
        self._zip.close()


def _open_container(path):
    path = Path(path)
    if path.is_dir():
        return _FolderFiles(path)
    if path.suffix.lower() == ".zip":
        return _ZipFiles(path)
    return _TarFiles(path)


def _is_image_name(name):
    return name.lower().endswith(IMAGE_SUFFIXES)


# ---------------------------------------------------------------------------
# Finding the data: which layout, where.
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class DogsSource:
    """Where the dog photos (and their boxes, if any) are, and in which layout."""

    layout: str
    images: Path
    annotations: Path = None

    def describe(self):
        boxes = f" + boxes from {self.annotations}" if self.annotations else " (no boxes: whole photos)"
        return f"{self.layout}: {self.images}{boxes}"


def _child(folder, name):
    """``folder/name`` matched case-insensitively, or None."""
    exact = folder / name
    if exact.exists():
        return exact
    wanted = name.lower()
    for child in folder.iterdir():
        if child.name.lower() == wanted:
            return child
    return None


def _first_child(folder, names):
    for name in names:
        found = _child(folder, name)
        if found is not None:
            return found
    return None


def _layout_name(images):
    name = images.name.lower()
    if name == "images.tar":
        return "Stanford Dogs archives"
    if name == "images":
        return "Stanford Dogs folders"
    if name.startswith("all-dogs"):
        return "Kaggle Generative Dog Images"
    return "archive of images"


def _has_images(folder):
    for _, _, filenames in os.walk(folder):
        if any(_is_image_name(f) and not f.startswith(".") for f in filenames):
            return True
    return False


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
    if _has_images(root):
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


# ---------------------------------------------------------------------------
# Downloading, only when asked.
# ---------------------------------------------------------------------------


def _print_progress(text, final=False):
    print(f"\r{text}", end="\n" if final else "", flush=True)


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
                    _print_progress(f"Downloading {target.name}: {done / 1e6:.0f}{of_total}")
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
        _print_progress(f"Downloaded {target.name}: {done / 1e6:.0f} MB to {target.parent}", final=True)


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


# ---------------------------------------------------------------------------
# Boxes and crops.
# ---------------------------------------------------------------------------


def _parse_boxes(raw):
    """Pascal-VOC XML -> list of (xmin, ymin, xmax, ymax) in 1-based inclusive pixels."""
    tree = ElementTree.fromstring(raw)
    boxes = []
    for box in tree.iter("bndbox"):
        boxes.append(tuple(float(box.findtext(key)) for key in ("xmin", "ymin", "xmax", "ymax")))
    return boxes


def _read_boxes(annotations):
    """All boxes by photo name stem (e.g. 'n02085620_10074'), and how many files were unreadable."""
    boxes, unreadable = {}, 0
    if annotations is None:
        return boxes, unreadable
    files = _open_container(annotations)
    try:
        for entry in files.entries():
            if _is_image_name(entry.name):
                continue
            try:
                found = _parse_boxes(files.read(entry.name))
            except (ElementTree.ParseError, TypeError, ValueError):
                unreadable += 1
                continue
            boxes.setdefault(_stem(entry.name), []).extend(found)
    finally:
        files.close()
    return boxes, unreadable


def _stem(name):
    base = name.rsplit("/", 1)[-1]
    head, dot, suffix = base.rpartition(".")
    return head if dot and (suffix.lower() == "xml" or ("." + suffix.lower()) in IMAGE_SUFFIXES) else base


def square_region(box, width, height):
    """The square (left, top, right, bottom) around a VOC box, kept inside the photo.

    The square's side is the box's longer side (so the whole dog fits, undistorted),
    shrunk to the photo's shorter side when the photo is too small. ``box`` is None
    for "no box": the center square of the whole photo. None when the box is empty.
    """
    if box is None:
        x0, y0, x1, y1 = 0.0, 0.0, float(width), float(height)
    else:
        xmin, ymin, xmax, ymax = box
        x0, y0 = max(xmin - 1.0, 0.0), max(ymin - 1.0, 0.0)
        x1, y1 = min(xmax, float(width)), min(ymax, float(height))
        if x1 <= x0 or y1 <= y0:
            return None
    side = min(max(x1 - x0, y1 - y0), width, height)
    left = min(max((x0 + x1 - side) / 2.0, 0.0), width - side)
    top = min(max((y0 + y1 - side) / 2.0, 0.0), height - side)
    return (left, top, left + side, top + side)


def _crops(raw, boxes, image_size):
    """Decode one photo and return (crops, problem, tiny).

    crops: list of (image_size, image_size, 3) uint8 arrays, one per usable box (or
    one center crop when ``boxes`` is empty); problem: None, 'empty' or 'corrupt';
    tiny: how many boxes were dropped for being under MIN_SIDE pixels.
    """
    from PIL import Image

    if not raw:
        return [], "empty", 0
    try:
        with Image.open(io.BytesIO(raw)) as photo:
            width, height = photo.size
            regions = [square_region(box, width, height) for box in (boxes or [None])]
            usable = [r for r in regions if r is not None and r[2] - r[0] >= MIN_SIDE]
            tiny = len(regions) - len(usable)
            if not usable:
                return [], None, tiny
            smallest = min(r[2] - r[0] for r in usable)
            wanted = (max(1, math.ceil(width * image_size / smallest)), max(1, math.ceil(height * image_size / smallest)))
            drafted = photo.draft("RGB", wanted) if photo.format == "JPEG" else None
            scale = drafted[1][2] / width if drafted else 1.0
            rgb = photo.convert("RGB")
            crops = [
                np.asarray(
                    rgb.resize(
                        (image_size, image_size),
                        Image.Resampling.LANCZOS,
                        box=tuple(v * scale for v in region),
                        reducing_gap=3.0,
                    ),
                    dtype=np.uint8,
                )
                for region in usable
            ]
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        return [], "corrupt", 0
    return crops, None, tiny


# ---------------------------------------------------------------------------
# Preparing and caching.
# ---------------------------------------------------------------------------


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


class LoadedDogs(NamedTuple):
    """The prepared set: ``images`` (N, S, S, 3) uint8 (read-only), and its ``report``."""

    images: np.ndarray
    report: DogsReport


def _cache_key(source, image_size, limit):
    """A hash of everything the prepared array depends on, read without decoding a photo."""
    listing = {"version": PREPARATION_VERSION, "size": image_size, "min_side": MIN_SIDE, "limit": limit}
    for role, path in (("images", source.images), ("annotations", source.annotations)):
        if path is None:
            continue
        files = _open_container(path)
        try:
            listing[role] = [tuple(entry) for entry in files.entries()]
        finally:
            files.close()
    digest = hashlib.sha256(json.dumps(listing).encode()).hexdigest()
    return digest[:20]


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
    return LoadedDogs(images, report)


def _prepare(source, cache_file, image_size, limit, verbose):
    """Decode, crop and resize every photo into ``cache_file``; returns its report."""
    started = time.perf_counter()
    boxes_by_stem, bad_annotations = _read_boxes(source.annotations)
    photos = _open_container(source.images)
    skipped = collections.Counter({"corrupt": 0, "empty": 0, "tiny": 0, "bad annotation": bad_annotations})
    try:
        entries = [e for e in photos.entries() if _is_image_name(e.name)]
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
                raw, boxes = None, []
            crops, problem, tiny = _crops(raw, boxes, image_size) if raw is not None else ([], "corrupt", 0)
            if problem is not None:
                skipped[problem] += 1
            skipped["tiny"] += tiny
            for crop in crops[: capacity - count]:
                out[count] = crop
                count += 1
            if verbose and time.monotonic() - last > 1.0:
                last = time.monotonic()
                _print_progress(f"Preparing dogs: {read}/{len(entries)} photos, {count} crops")
    finally:
        photos.close()
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
        _print_progress(f"Prepared {count} dog images in {report.seconds:.0f} s; cached in {cache_file}", final=True)
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
    """The dogs, cropped to their boxes: ``LoadedDogs(images, report)``.

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
    if settings.quick_mode():
        limit = min(limit or settings.QUICK_MAX_EXAMPLES, settings.QUICK_MAX_EXAMPLES)
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
    return LoadedDogs(images, report)


# ---------------------------------------------------------------------------
# Stand-in data for machines without the photos.
# ---------------------------------------------------------------------------

# Fur colours (RGB 0..1): tan, brown, black, white, golden, grey, red.
_FUR = np.array(
    [[0.82, 0.68, 0.48], [0.45, 0.29, 0.16], [0.12, 0.11, 0.10], [0.92, 0.90, 0.86],
     [0.85, 0.62, 0.25], [0.55, 0.55, 0.55], [0.66, 0.33, 0.16]],
    dtype=np.float32,
)  # fmt: skip

STANDIN_BANNER = (
    "=" * 78 + "\n"
    "STAND-IN DATA: the Stanford Dogs photos were not found, so this run uses\n"
    "SYNTHETIC 'dog-like' blobs (a body, a head, ears, eyes) drawn by the course.\n"
    "They only show that the code runs. They are NOT photographs of dogs.\n"
    "{reason}\n" + "=" * 78
)


def _ellipse(xx, yy, cx, cy, rx, ry):
    """Soft mask (B, S, S) in [0, 1] of ellipses with per-image centers and radii (B,)."""
    d = ((xx - cx[:, None, None]) / rx[:, None, None]) ** 2 + ((yy - cy[:, None, None]) / ry[:, None, None]) ** 2
    return np.clip((1.0 - d) * 8.0, 0.0, 1.0)


def _draw_standins(rng, count, size):
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


def make_standin_dogs(count=2048, image_size=IMAGE_SIZE, seed=0):
    """Synthetic 'dog-like' images for CI: (count, S, S, 3) uint8. NOT photographs.

    Each is a two-tone background with a fur-coloured body, a head, darker ears,
    eyes and a nose, at random places and sizes, so that a GAN has shapes and
    colours to learn. The same seed gives the same images.
    """
    rng = np.random.default_rng(seed)
    chunks = [_draw_standins(rng, min(256, count - start), image_size) for start in range(0, count, 256)]
    return np.concatenate(chunks) if chunks else np.zeros((0, image_size, image_size, 3), np.uint8)


def load_dogs_or_standin(root=None, *, standin_count=2048, image_size=IMAGE_SIZE, **kwargs):
    """``load_dogs(root, ...)``, or, when the photos are not found, stand-in data with a loud note.

    The report's ``standin`` is True in the second case, and its text says so.
    """
    try:
        return load_dogs(root, image_size=image_size, **kwargs)
    except DatasetNotFoundError as error:
        reason = str(error).splitlines()[0]
    if settings.quick_mode():
        standin_count = min(standin_count, settings.QUICK_MAX_EXAMPLES)
    print(STANDIN_BANNER.format(reason=f"(Why: {reason} See load_dogs for the layouts it accepts.)"))
    started = time.perf_counter()
    images = make_standin_dogs(standin_count, image_size)
    report = DogsReport(
        source="synthetic blobs from gan_helpers.data.make_standin_dogs",
        photos=0,
        crops=len(images),
        image_size=image_size,
        seconds=time.perf_counter() - started,
        standin=True,
    )
    return LoadedDogs(images, report)


# ---------------------------------------------------------------------------
# The tf.data pipeline, with augmentation done per batch in the graph.
# ---------------------------------------------------------------------------

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

    if images is None:
        images = load_dogs(root, limit=limit, **load_kwargs).images
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 of shape (N, S, S, 3); got {images.dtype} {images.shape}.")
    if settings.quick_mode():
        limit = min(limit or len(images), settings.QUICK_MAX_EXAMPLES)
    if limit is not None:
        images = images[:limit]
    table = tf.constant(images)
    ds = tf.data.Dataset.range(len(images))
    if shuffle:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)

    def to_images(indices):
        return tf.cast(tf.gather(table, indices), tf.float32) / 127.5 - 1.0

    if augment:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip(ds, seeds).map(
            lambda indices, pair: augment_images(to_images(indices), pair), num_parallel_calls=tf.data.AUTOTUNE
        )
    else:
        ds = ds.map(to_images, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
