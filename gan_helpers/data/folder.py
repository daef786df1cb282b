"""Any folder of images, as a GAN's training set; and the one reader of picture files.

``load_image_folder(folder, image_size)`` reads every image file under ``folder``
(sub-folders included; hidden files and folders skipped), whatever its size and
format: JPEG, PNG, BMP, GIF (first frame), WebP; RGB, greyscale, palette, 16-bit,
with or without transparency. Each picture is

- flattened onto white where it is transparent, and converted to RGB (grey
  pictures get three equal channels);
- cropped to its central square and resized to ``image_size`` x ``image_size``
  with an antialiasing filter (small pictures are enlarged);
- turned upright, when a camera stored its orientation in EXIF.

A folder whose every picture is grey (a greyscale file, or a colour file whose three
channels agree) gives greyscale images with one channel, so that a GAN trained on it
draws grey pictures; ``channels=1`` or ``3`` decides instead (colour pictures are then
turned grey by their luminance, or grey ones given three equal channels).

Files that cannot be decoded (truncated, empty, not really images) are skipped and
counted in the report, never fatal; only a folder without a single usable image is
an error. The result is one uint8 array (N, S, S, C), C = 1 or 3, the form
``run_a_gan(dataset=...)`` and ``dogs_dataset(images)`` take.

``read_crops`` is that reader for one file, with squares around boxes instead of the
central one if asked: the dogs (``gan_helpers.data.dogs``) read their photos through it.
"""

import dataclasses
import math
import os
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from gan_helpers import settings
from gan_helpers.data.mnist import CorruptDatasetError, DatasetNotFoundError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")
# Side of the prepared images when none is asked for (the size of the course's dog DCGAN).
DEFAULT_IMAGE_SIZE = 64
# How many names of skipped files a report keeps, as examples.
EXAMPLES_KEPT = 5
# A picture is grey when its three channels differ by at most this much anywhere
# (JPEG's colour compression leaves a grey picture saved as colour a level or two off).
GREY_TOLERANCE = 3
# ITU-R BT.601 luma, the weights PIL's convert("L") uses: colour to grey.
LUMA = np.array([0.299, 0.587, 0.114])


@dataclasses.dataclass
class FolderReport:
    """What ``load_image_folder`` did.

    Attributes:
        folder: the folder read.
        image_size: side of the prepared square images.
        channels: 1 (greyscale) or 3 (colour), as the images were prepared.
        grey: whether every picture read was grey.
        files: image files found (by their suffix) and read.
        images: images prepared (``files`` minus the skipped ones).
        skipped: counts by reason: 'corrupt' (could not be decoded) and 'empty' (0 bytes).
        skipped_examples: the first few skipped files, relative to ``folder``.
        other_files: files without an image suffix, ignored.
        seconds: time spent.
    """

    folder: str
    image_size: int
    channels: int = 3
    grey: bool = False
    files: int = 0
    images: int = 0
    skipped: dict = dataclasses.field(default_factory=lambda: {"corrupt": 0, "empty": 0})
    skipped_examples: list = dataclasses.field(default_factory=list)
    other_files: int = 0
    seconds: float = 0.0

    @property
    def num_skipped(self):
        return sum(self.skipped.values())

    @property
    def skipped_text(self):
        """'2 corrupt, 1 empty: a.jpg, b/c.png, ...': the reasons, and the first files skipped."""
        reasons = ", ".join(f"{count} {why}" for why, count in self.skipped.items() if count)
        more = ", ..." if self.num_skipped > len(self.skipped_examples) else ""
        return f"{reasons}: {', '.join(self.skipped_examples)}{more}"

    def __str__(self):
        kind = "RGB" if self.channels == 3 else "greyscale" + (" (every picture is grey)" if self.grey else "")
        text = (f"{self.images} images from {self.folder}, resized to {self.image_size}x{self.image_size} {kind} "
                f"({self.seconds:.1f} s)")
        if self.num_skipped:
            files = f"file{'s' * (self.num_skipped != 1)}"
            text += f"; skipped {self.num_skipped} unreadable {files} ({self.skipped_text})"
        return text + "."


class PreparedImages(NamedTuple):
    """Prepared images, uint8 (N, S, S, C), and the ``FolderReport`` or ``DogsReport`` of what was read."""

    images: np.ndarray
    report: object


def is_hidden(name):
    """True for a path (relative, '/'-separated) inside a hidden folder or file, or macOS's __MACOSX."""
    return any(part.startswith(".") or part == "__MACOSX" for part in name.split("/"))


def visible_files(folder):
    """The relative '/'-separated names of the files under ``folder``, sorted, hidden ones left out."""
    folder = Path(folder)
    names = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not is_hidden(d)]
        relative = Path(dirpath).relative_to(folder)
        names += [(relative / filename).as_posix() for filename in filenames if not is_hidden(filename)]
    return sorted(names)


def is_image_name(name):
    return name.lower().endswith(IMAGE_SUFFIXES)


def list_image_files(folder):
    """``(image files, number of other files)`` under ``folder``, sorted, hidden ones left out."""
    folder = Path(folder)
    names = visible_files(folder)
    images = [folder / name for name in names if is_image_name(name)]
    return images, len(names) - len(images)


def _to_rgb(picture):
    """Any PIL picture -> RGB, transparency flattened onto white, 16-bit and float scaled to 8 bits."""
    from PIL import Image

    if picture.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(picture, dtype=np.float64)
        top = 65535.0 if picture.mode.startswith("I;16") or values.max() > 255 else 255.0
        if picture.mode == "F":
            top = max(float(values.max()), 1e-12) if values.max() > 1.0 else 1.0
        grey = np.clip(values / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        picture = Image.fromarray(grey, mode="L")
    has_alpha = picture.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        picture.mode in ("P", "L", "RGB") and "transparency" in picture.info
    )
    if has_alpha:
        rgba = picture.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return picture.convert("RGB")


def square_region(box, width, height):
    """The square (left, top, right, bottom) around a VOC box, kept inside the picture.

    The square's side is the box's longer side (so the whole object fits, undistorted),
    shrunk to the picture's shorter side when the picture is too small. ``box`` is None
    for "no box": the central square of the whole picture. None when the box is empty.
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


def _upright(picture, orientation):
    """``picture`` turned the way EXIF ``orientation`` says (the table of ``ImageOps.exif_transpose``)."""
    from PIL.Image import Transpose

    method = {2: Transpose.FLIP_LEFT_RIGHT, 3: Transpose.ROTATE_180, 4: Transpose.FLIP_TOP_BOTTOM,
              5: Transpose.TRANSPOSE, 6: Transpose.ROTATE_270, 7: Transpose.TRANSVERSE, 8: Transpose.ROTATE_90}
    return picture.transpose(method[orientation]) if orientation in method else picture


def decode_crops(source, image_size, boxes=(), min_side=1):
    """One picture file (a path or a file object) -> ``(crops, too_small)``.

    ``crops`` holds a uint8 (image_size, image_size, 3) square per box (see
    ``square_region``), or the picture's central square when there are no boxes,
    each flattened to RGB and turned upright (EXIF). Boxes are Pascal-VOC
    (xmin, ymin, xmax, ymax), 1-based inclusive pixels of the picture as stored.
    Squares under ``min_side`` pixels of the picture are dropped: ``too_small`` counts them.
    A JPEG much larger than needed is decoded at reduced size (PIL's draft mode).

    Raises whatever PIL raises for a file it cannot decode.
    """
    from PIL import ExifTags, Image

    with Image.open(source) as picture:
        width, height = picture.size
        regions = [square_region(box, width, height) for box in (boxes or [None])]
        usable = [r for r in regions if r is not None and r[2] - r[0] >= min_side]
        if not usable:
            return [], len(regions)
        smallest = min(r[2] - r[0] for r in usable)
        if picture.format == "JPEG":
            picture.draft("RGB", (math.ceil(width * image_size / smallest), math.ceil(height * image_size / smallest)))
        picture.load()
        scale_x, scale_y = picture.size[0] / width, picture.size[1] / height  # 1 unless drafted
        orientation = picture.getexif().get(ExifTags.Base.Orientation, 1)
        rgb = _to_rgb(picture)
    crops = [
        rgb.resize((image_size, image_size), Image.Resampling.LANCZOS, reducing_gap=3.0,
                   box=(left * scale_x, top * scale_y, right * scale_x, bottom * scale_y))
        for left, top, right, bottom in usable
    ]
    return [np.asarray(_upright(crop, orientation), dtype=np.uint8) for crop in crops], len(regions) - len(usable)


def read_crops(path, image_size, boxes=(), min_side=1):
    """``decode_crops`` of one file, never raising: ``(crops, problem, too_small)``.

    ``problem`` is None, 'empty' (0 bytes) or 'corrupt' (the file cannot be read or decoded).
    """
    try:
        if os.path.getsize(path) == 0:
            return [], "empty", 0
        crops, too_small = decode_crops(path, image_size, boxes, min_side)
    except Exception:  # a broken file can make PIL raise nearly anything; it is skipped, not fatal
        return [], "corrupt", 0
    return crops, None, too_small


def print_progress(text, final=False):
    """A progress line that the next one overwrites (``final`` ends it)."""
    print(f"\r{text}", end="\n" if final else "", flush=True)


def is_grey(image, tolerance=GREY_TOLERANCE):
    """True when the channels of a uint8 (H, W, 3) image agree everywhere (within ``tolerance`` levels)."""
    channels = image.astype(np.int16)
    return bool(np.abs(channels[..., 1:] - channels[..., :1]).max() <= tolerance)


def luminance(images):
    """The luminance of uint8 (N, H, W, 3) images: uint8 (N, H, W, 1)."""
    grey = np.empty(images.shape[:-1] + (1,), np.uint8)
    for start in range(0, len(images), 1024):  # in slices: bounded memory for a large folder
        grey[start:start + 1024, ..., 0] = np.clip(images[start:start + 1024] @ LUMA + 0.5, 0, 255)
    return grey


def load_image_folder(folder, image_size=DEFAULT_IMAGE_SIZE, *, limit=None, verbose=True, channels=None):
    """Every readable image under ``folder`` as ``PreparedImages(images, report)``.

    ``images`` is uint8 (N, image_size, image_size, C); see the module docstring for
    what happens to each picture. ``channels`` None gives C = 1 when every picture is
    grey and C = 3 otherwise; 1 or 3 force it. ``limit`` keeps the first N images (in
    sorted path order); quick mode (``GAN_COURSE_QUICK``) caps it at
    ``settings.QUICK_MAX_EXAMPLES``. With ``verbose``, progress and the report are printed.

    Raises:
        DatasetNotFoundError: ``folder`` does not exist, is not a folder, or holds no
            image files.
        CorruptDatasetError: image files were found but none could be decoded.
    """
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)) or image_size < 1:
        raise ValueError(f"image_size must be a whole number of pixels >= 1, not {image_size!r}.")
    if channels not in (None, 1, 3):
        raise ValueError(f"channels must be None (grey when every picture is), 1 or 3, not {channels!r}.")
    folder = Path(folder).expanduser()
    if not folder.exists():
        raise DatasetNotFoundError(f"No folder at {folder}. Give the path of a folder holding your images.")
    if not folder.is_dir():
        raise DatasetNotFoundError(f"{folder} is a file, not a folder. Give the folder holding your images.")
    started = time.perf_counter()
    paths, others = list_image_files(folder)
    if not paths:
        what = f" (only {others} other file{'s' * (others != 1)})" if others else " (it is empty)"
        raise DatasetNotFoundError(
            f"No images in {folder}{what}. Looked for {', '.join(IMAGE_SUFFIXES)} files, in sub-folders too; "
            "put your pictures there, or give the folder that holds them."
        )
    limit = settings.quick_limit(limit)
    report = FolderReport(folder=str(folder), image_size=int(image_size), other_files=others, grey=True)
    wanted = len(paths) if limit is None else min(limit, len(paths))
    images = np.empty((wanted, image_size, image_size, 3), np.uint8)
    last = time.monotonic()
    for path in paths:
        if report.images >= wanted:
            break
        report.files += 1
        crops, problem, _ = read_crops(path, image_size)
        if crops:
            images[report.images] = crops[0]
            report.grey = report.grey and is_grey(crops[0])
            report.images += 1
        else:
            report.skipped[problem or "corrupt"] += 1
            if len(report.skipped_examples) < EXAMPLES_KEPT:
                report.skipped_examples.append(path.relative_to(folder).as_posix())
        if verbose and time.monotonic() - last > 1.0:
            last = time.monotonic()
            print_progress(f"Reading images: {report.files}/{len(paths)} files, {report.images} images")
    report.seconds = time.perf_counter() - started
    if report.images == 0:
        raise CorruptDatasetError(
            f"None of the {report.files} image files in {folder} could be read ({report.skipped_text}). "
            "Check that they are pictures that open in an image viewer."
        )
    report.channels = channels or (1 if report.grey else 3)
    if report.channels == 1:
        images = luminance(images[: report.images])
    elif report.images < wanted:
        images = images[: report.images].copy()
    if verbose:
        print_progress(str(report), final=True)
    return PreparedImages(images, report)

