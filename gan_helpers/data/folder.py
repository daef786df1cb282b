"""Any folder of images, as a GAN's training set: every picture squared and resized.

``load_image_folder(folder, image_size)`` reads every image file under ``folder``
(sub-folders included; hidden files and folders skipped), whatever its size and
format: JPEG, PNG, BMP, GIF (first frame), WebP; RGB, greyscale, palette, 16-bit,
with or without transparency. Each picture is

- turned upright, when a camera stored its orientation in EXIF;
- flattened onto white where it is transparent, and converted to RGB (grey
  pictures get three equal channels);
- cropped to its central square and resized to ``image_size`` x ``image_size``
  with an antialiasing filter (small pictures are enlarged).

Files that cannot be decoded (truncated, empty, not really images) are skipped and
counted in the report, never fatal; only a folder without a single usable image is
an error. The result is one uint8 array (N, S, S, 3), the form ``run_a_gan(dataset=...)``
and ``dogs_dataset(images)`` take.
"""

import dataclasses
import os
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from gan_helpers import settings
from gan_helpers.data.dogs import IMAGE_SUFFIXES, square_region
from gan_helpers.data.mnist import CorruptDatasetError, DatasetNotFoundError

# Side of the prepared images when none is asked for (the size of the course's dog DCGAN).
DEFAULT_IMAGE_SIZE = 64
# How many names of skipped files a report keeps, as examples.
EXAMPLES_KEPT = 5


@dataclasses.dataclass
class FolderReport:
    """What ``load_image_folder`` did.

    Attributes:
        folder: the folder read.
        image_size: side of the prepared square images.
        files: image files found (by their suffix) and read.
        images: images prepared (``files`` minus the skipped ones).
        skipped: counts by reason: 'corrupt' (could not be decoded) and 'empty' (0 bytes).
        skipped_examples: the first few skipped files, relative to ``folder``.
        other_files: files without an image suffix, ignored.
        seconds: time spent.
    """

    folder: str
    image_size: int
    files: int = 0
    images: int = 0
    skipped: dict = dataclasses.field(default_factory=lambda: {"corrupt": 0, "empty": 0})
    skipped_examples: list = dataclasses.field(default_factory=list)
    other_files: int = 0
    seconds: float = 0.0

    @property
    def num_skipped(self):
        return sum(self.skipped.values())

    def __str__(self):
        text = (f"{self.images} images from {self.folder}, resized to {self.image_size}x{self.image_size} RGB "
                f"({self.seconds:.1f} s)")
        if self.num_skipped:
            reasons = ", ".join(f"{count} {why}" for why, count in self.skipped.items() if count)
            examples = ", ".join(self.skipped_examples)
            more = ", ..." if self.num_skipped > len(self.skipped_examples) else ""
            text += f"; skipped {self.num_skipped} unreadable file{'s' * (self.num_skipped != 1)} ({reasons}: {examples}{more})"
        return text + "."


class LoadedFolder(NamedTuple):
    """The prepared images, uint8 (N, S, S, 3), and the ``FolderReport``."""

    images: np.ndarray
    report: FolderReport


def _is_hidden(relative):
    return any(part.startswith(".") or part == "__MACOSX" for part in relative.parts)


def list_image_files(folder):
    """``(image files, number of other files)`` under ``folder``, sorted, hidden ones left out."""
    folder = Path(folder)
    images, others = [], 0
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__MACOSX")
        for filename in filenames:
            path = Path(dirpath) / filename
            if _is_hidden(path.relative_to(folder)):
                continue
            if filename.lower().endswith(IMAGE_SUFFIXES):
                images.append(path)
            else:
                others += 1
    return sorted(images), others


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


def decode_image(source, image_size):
    """One image file (a path or a file object) -> uint8 (image_size, image_size, 3).

    Raises whatever PIL raises for a file it cannot decode.
    """
    from PIL import Image, ImageOps

    with Image.open(source) as picture:
        if picture.format == "JPEG":
            # Decode at reduced size when the picture is much larger than needed.
            picture.draft("RGB", (image_size, image_size))
        picture.load()
        picture = ImageOps.exif_transpose(picture)
        rgb = _to_rgb(picture)
    width, height = rgb.size
    if width < 1 or height < 1:
        raise ValueError("an image of no pixels")
    region = square_region(None, width, height)
    resized = rgb.resize((image_size, image_size), Image.Resampling.LANCZOS, box=region, reducing_gap=3.0)
    return np.asarray(resized, dtype=np.uint8)


def _print_progress(text, final=False):
    print(f"\r{text}", end="\n" if final else "", flush=True)


def load_image_folder(folder, image_size=DEFAULT_IMAGE_SIZE, *, limit=None, verbose=True):
    """Every readable image under ``folder`` as ``LoadedFolder(images, report)``.

    ``images`` is uint8 (N, image_size, image_size, 3); see the module docstring for
    what happens to each picture. ``limit`` keeps the first N images (in sorted path
    order); quick mode (``GAN_COURSE_QUICK``) caps it at ``settings.QUICK_MAX_EXAMPLES``.
    With ``verbose``, progress and the report are printed.

    Raises:
        DatasetNotFoundError: ``folder`` does not exist, is not a folder, or holds no
            image files.
        CorruptDatasetError: image files were found but none could be decoded.
    """
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)) or image_size < 1:
        raise ValueError(f"image_size must be a whole number of pixels >= 1, not {image_size!r}.")
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
    if settings.quick_mode():
        limit = min(limit or settings.QUICK_MAX_EXAMPLES, settings.QUICK_MAX_EXAMPLES)
    report = FolderReport(folder=str(folder), image_size=int(image_size), other_files=others)
    wanted = len(paths) if limit is None else min(limit, len(paths))
    images = np.empty((wanted, image_size, image_size, 3), np.uint8)
    last = time.monotonic()
    for path in paths:
        if report.images >= wanted:
            break
        report.files += 1
        problem = None
        try:
            if path.stat().st_size == 0:
                problem = "empty"
            else:
                images[report.images] = decode_image(path, image_size)
        except Exception:  # a broken file can make PIL raise nearly anything; it is skipped, not fatal
            problem = "corrupt"
        if problem is None:
            report.images += 1
        else:
            report.skipped[problem] += 1
            if len(report.skipped_examples) < EXAMPLES_KEPT:
                report.skipped_examples.append(path.relative_to(folder).as_posix())
        if verbose and time.monotonic() - last > 1.0:
            last = time.monotonic()
            _print_progress(f"Reading images: {report.files}/{len(paths)} files, {report.images} images")
    report.seconds = time.perf_counter() - started
    if report.images == 0:
        raise CorruptDatasetError(
            f"None of the {report.files} image files in {folder} could be read "
            f"({', '.join(f'{n} {why}' for why, n in report.skipped.items() if n)}: "
            f"{', '.join(report.skipped_examples)}{', ...' if report.files > EXAMPLES_KEPT else ''}). "
            "Check that they are pictures that open in an image viewer."
        )
    if verbose:
        _print_progress(str(report), final=True)
    if report.images < wanted:
        images = images[: report.images].copy()
    return LoadedFolder(images, report)

