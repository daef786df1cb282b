"""CIFAR-10: the original python batches (archive or folder) or Keras's download.

``load_cifar10`` accepts ``cifar-10-python.tar.gz``, the extracted
``cifar-10-batches-py/`` folder (``data_batch_1`` .. ``data_batch_5``,
``test_batch``), or Keras's cache, and downloads through Keras only when asked.
The batches are Python pickles; they are read with an unpickler that admits
only the few numpy names the format needs, so a file that is not CIFAR-10
cannot run code while it is read. ``load_cifar10_or_standin`` falls back on the
labelled stand-in pictures of ``gan_helpers.data.standin`` where none is found.
"""

import codecs
import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np

from gan_helpers import settings
from gan_helpers.data.mnist import CorruptDatasetError, DatasetNotFoundError
from gan_helpers.data.standin import DEFAULT_COUNT, LoadedImages, standin_images

CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
BATCHES = TRAIN_BATCHES + (TEST_BATCH,)
BATCH_FOLDER = "cifar-10-batches-py"
KERAS_CACHE_CIFAR = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets" / BATCH_FOLDER

_RECONSTRUCT = np.ndarray.__reduce__(np.zeros(0))[0]
_SCALAR = np.float64(0).__reduce__()[0]
# The only names a CIFAR-10 batch pickle refers to, under numpy 1 and numpy 2 spellings.
_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy.core.multiarray", "scalar"): _SCALAR,
    ("numpy._core.multiarray", "scalar"): _SCALAR,
    ("_codecs", "encode"): codecs.encode,
}

WHERE_TO_PUT_IT = (
    "Pass load_cifar10(path=...) the file cifar-10-python.tar.gz or its extracted "
    "folder cifar-10-batches-py/, or call load_cifar10(download=True) when online."
)


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a CIFAR-10 batch") from None


def _parse_batch(raw, source):
    """One pickled batch -> (images (N, 32, 32, 3) uint8, labels (N,) uint8)."""
    try:
        batch = _BatchUnpickler(io.BytesIO(raw), encoding="bytes").load()
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except Exception as error:
        raise CorruptDatasetError(
            f"{source} is not a readable CIFAR-10 batch ({type(error).__name__}: {error}). {WHERE_TO_PUT_IT}"
        ) from None
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise CorruptDatasetError(
            f"{source}: expected 'data' of shape (N, 3072) and N labels, "
            f"found {data.shape} and {len(labels)} labels. {WHERE_TO_PUT_IT}"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise CorruptDatasetError(f"{source}: labels outside 0..9; this is not CIFAR-10.")
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels.astype(np.uint8)


def _read_batches_from_folder(folder):
    for name in BATCHES:
        if not (folder / name).is_file():
            raise DatasetNotFoundError(f"{folder} has no '{name}'; it is not a complete CIFAR-10 folder. {WHERE_TO_PUT_IT}")
    return {name: ((folder / name).read_bytes(), folder / name) for name in BATCHES}


def _read_batches_from_archive(archive):
    raws = {}
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                name = Path(member.name).name
                if member.isfile() and name in BATCHES:
                    raws[name] = (tar.extractfile(member).read(), f"{archive}:{member.name}")
    except (tarfile.TarError, OSError, EOFError) as error:
        raise CorruptDatasetError(f"{archive} is truncated or not a tar archive ({error}). {WHERE_TO_PUT_IT}") from None
    missing = [name for name in BATCHES if name not in raws]
    if missing:
        raise CorruptDatasetError(f"{archive} lacks the batches {missing}. {WHERE_TO_PUT_IT}")
    return raws


def _locate(path):
    """The archive or batch folder to read: ``path`` (file or folder), else Keras's cache, else None."""
    if path is not None:
        path = Path(path).expanduser()
        if path.is_dir() and (path / BATCH_FOLDER).is_dir():
            return path / BATCH_FOLDER
        if path.exists():
            return path
        raise DatasetNotFoundError(f"Nothing at {path}. {WHERE_TO_PUT_IT}")
    return KERAS_CACHE_CIFAR if KERAS_CACHE_CIFAR.is_dir() else None


def load_cifar10(path=None, download=False):
    """CIFAR-10 as uint8 arrays: ``(x_train, y_train), (x_test, y_test)``.

    ``x_*`` have shape (N, 32, 32, 3), values 0..255 (50,000 train, 10,000 test);
    ``y_*`` are class indices 0..9 into ``CLASS_NAMES``.

    Raises:
        DatasetNotFoundError: nothing at ``path`` or in Keras's cache, and no download asked for.
        CorruptDatasetError: a batch is truncated, not a pickle of CIFAR-10 arrays, or missing.
    """
    source = _locate(path)
    if source is None:
        if not download:
            raise DatasetNotFoundError(f"CIFAR-10 is not on this machine. {WHERE_TO_PUT_IT}")
        try:
            import keras

            keras.datasets.cifar10.load_data()
        except Exception as error:
            raise DatasetNotFoundError(f"Downloading CIFAR-10 failed ({error}). {WHERE_TO_PUT_IT}") from None
        source = KERAS_CACHE_CIFAR
    raws = _read_batches_from_folder(source) if source.is_dir() else _read_batches_from_archive(source)
    train = [_parse_batch(*raws[name]) for name in TRAIN_BATCHES]
    x_train, y_train = (np.concatenate(arrays) for arrays in zip(*train))
    return (x_train, y_train), _parse_batch(*raws[TEST_BATCH])


def class_index(label):
    """A class name ('dog') or index (5) -> the index; a clear error for anything else."""
    if isinstance(label, str):
        if label not in CLASS_NAMES:
            raise ValueError(f"Unknown CIFAR-10 class {label!r}; the classes are {', '.join(CLASS_NAMES)}.")
        return CLASS_NAMES.index(label)
    if not 0 <= int(label) <= 9:
        raise ValueError(f"CIFAR-10 class indices run 0..9, not {label}.")
    return int(label)


def load_cifar10_images(path=None, only_class=None, split="train", download=False):
    """The images of one split, of one class or of all ten: ``LoadedImages(images, source, False)``.

    ``images`` is uint8 (N, 32, 32, 3); ``only_class`` keeps one class (a name such as
    'dog', or its index), as a first DCGAN on CIFAR-10 often does; quick mode caps N.
    ``source`` says what they are. Raises as ``load_cifar10`` does.
    """
    train, test = load_cifar10(path, download=download)
    images, labels = train if split == "train" else test
    which = "all classes"
    if only_class is not None:
        images = images[labels == class_index(only_class)]
        which = f"the {CLASS_NAMES[class_index(only_class)]}s"
    images = images[: settings.quick_limit()]
    kind = "training" if split == "train" else "test"
    return LoadedImages(images, f"CIFAR-10: {len(images)} {kind} images ({which})", False)


def load_cifar10_or_standin(path=None, only_class=None, *, download=False, standin_count=DEFAULT_COUNT):
    """``load_cifar10_images(path, only_class)``, or labelled stand-in pictures when CIFAR-10 is not found.

    Returns ``LoadedImages(images, source, standin)``: uint8 (N, 32, 32, 3), what they
    are in words, and whether they are the synthetic stand-ins (a banner then says so).
    """
    try:
        return load_cifar10_images(path, only_class, download=download)
    except DatasetNotFoundError as error:
        images = standin_images("CIFAR-10", str(error), count=standin_count, image_size=32)
        return LoadedImages(images, "STAND-IN data (synthetic blobs, not CIFAR-10 photographs)", True)

