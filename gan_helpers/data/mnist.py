"""MNIST: find it, check it, load it, and feed it to a GAN through tf.data.

``load_mnist`` looks, in order, at an explicit path, the repository's embedded
``data/mnist.npz``, Keras's cache (``~/.keras/datasets/mnist.npz``) and finally
Keras's download. Whatever it finds is checked before use, so a truncated or
wrong file is reported as such rather than as a numpy traceback.
"""

import functools
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from gan_helpers import settings

REPO_MNIST = Path(__file__).resolve().parents[2] / "data" / "mnist.npz"
KERAS_CACHE_MNIST = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets" / "mnist.npz"

EXPECTED_ARRAYS = {
    "x_train": (60000, 28, 28),
    "y_train": (60000,),
    "x_test": (10000, 28, 28),
    "y_test": (10000,),
}

WHERE_TO_PUT_IT = (
    "Put the Keras-format mnist.npz (x_train, y_train, x_test, y_test) at {repo} "
    "(the course ships it there) or at {cache}, or pass its path: load_mnist(path=...)."
)


class DatasetNotFoundError(FileNotFoundError):
    """No copy of a data set was found where the course looks, and none could be downloaded."""


class CorruptDatasetError(ValueError):
    """A data set file exists but is truncated, corrupt or holds the wrong arrays."""


def _where_to_put_it():
    return WHERE_TO_PUT_IT.format(repo=REPO_MNIST, cache=KERAS_CACHE_MNIST)


def _check_arrays(arrays, path):
    for name, shape in EXPECTED_ARRAYS.items():
        if name not in arrays:
            raise CorruptDatasetError(
                f"{path} is not MNIST in Keras's layout: it has no array '{name}' "
                f"(found: {sorted(arrays)}). {_where_to_put_it()}"
            )
        array = arrays[name]
        if array.shape != shape or array.dtype != np.uint8:
            raise CorruptDatasetError(
                f"{path}: '{name}' has shape {array.shape} and dtype {array.dtype}; "
                f"MNIST's is {shape} uint8. {_where_to_put_it()}"
            )
    for name in ("y_train", "y_test"):
        if arrays[name].max() > 9:
            raise CorruptDatasetError(f"{path}: '{name}' holds labels above 9; this is not MNIST.")


@functools.lru_cache(maxsize=4)
def _read_npz(path, size, mtime):
    """Read and check an MNIST .npz; cached per file version (size and mtime)."""
    if not zipfile.is_zipfile(path):
        raise CorruptDatasetError(
            f"{path} is not a .npz archive: it is truncated or another kind of file. "
            f"Delete it and copy it again. {_where_to_put_it()}"
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as error:
        raise CorruptDatasetError(
            f"{path} is truncated or corrupt and cannot be read as .npz ({error}). "
            f"Delete it and copy it again. {_where_to_put_it()}"
        ) from None
    _check_arrays(arrays, path)
    for array in arrays.values():
        array.setflags(write=False)
    return arrays


def _load_npz(path):
    stat = os.stat(path)
    arrays = _read_npz(str(path), stat.st_size, stat.st_mtime_ns)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def find_mnist(path=None):
    """The first MNIST file found: ``path``, the repository's copy, Keras's cache; else None."""
    if path is not None:
        path = Path(path).expanduser()
        if not path.is_file():
            raise DatasetNotFoundError(f"No MNIST file at {path}. {_where_to_put_it()}")
        return path
    for candidate in (REPO_MNIST, KERAS_CACHE_MNIST):
        if candidate.is_file():
            return candidate
    return None


def load_mnist(path=None, download=True):
    """Full MNIST as uint8 arrays: ``(x_train, y_train), (x_test, y_test)``.

    ``x_*`` have shape (N, 28, 28), values 0..255; ``y_*`` are digit labels 0..9.
    The arrays are read-only and shared between calls (copy before changing).

    Raises:
        DatasetNotFoundError: nothing found, and the download failed or was not allowed.
        CorruptDatasetError: the file found is truncated, corrupt or not MNIST.
    """
    found = find_mnist(path)
    if found is not None:
        return _load_npz(found)
    if download:
        try:
            import keras

            keras.datasets.mnist.load_data()
        except Exception as error:  # no network, a proxy, a partial download...
            raise DatasetNotFoundError(
                f"MNIST is not on this machine and downloading it failed ({error}). "
                f"{_where_to_put_it()}"
            ) from None
        if KERAS_CACHE_MNIST.is_file():
            return _load_npz(KERAS_CACHE_MNIST)
    raise DatasetNotFoundError(f"MNIST is not on this machine. {_where_to_put_it()}")


def load_mnist_split(split, path=None):
    """``(images, labels)`` of MNIST's 'train' or 'test' split, as ``load_mnist(path)`` gives them."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}.")
    train, test = load_mnist(path)
    return train if split == "train" else test


def mnist_dataset(batch_size=128, flat=True, split="train", shuffle=True, seed=None, limit=None, path=None):
    """A ``tf.data`` pipeline of MNIST images scaled to [-1, 1], float32.

    Batches have shape (B, 784) when ``flat`` else (B, 28, 28, 1); the last
    batch keeps the remainder (60000 is no multiple of 128). Images only: a GAN
    needs no labels. Scaling runs once per batch inside the graph, so there is
    no Python work per step. ``limit`` keeps the first N images; quick mode
    (``GAN_COURSE_QUICK``) caps it at ``settings.QUICK_MAX_EXAMPLES``.
    """
    import tensorflow as tf

    from gan_helpers.ops import scale_pixels

    images = load_mnist_split(split, path)[0][: settings.quick_limit(limit)]
    ds = tf.data.Dataset.from_tensor_slices(images)
    if shuffle:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    shape = (-1, 784) if flat else (-1, 28, 28, 1)

    def scale(batch):
        return tf.reshape(scale_pixels(batch), shape)

    return ds.map(scale, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
