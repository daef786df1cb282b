"""MNIST: the embedded copy is the real thing, the loader finds it offline and fails
clearly on a missing or corrupt file, and the tf.data pipeline feeds [-1, 1] batches."""

import hashlib
from pathlib import Path

import keras
import numpy as np
import pytest

from gan_helpers import settings
from gan_helpers.data import CorruptDatasetError, DatasetNotFoundError, find_mnist, load_mnist, mnist_dataset
from gan_helpers.data import mnist as mnist_module

# From ../shared/data/README.md, where the embedded copy comes from.
MNIST_SHA256 = "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
FIRST_TRAIN_LABELS = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
REAL_MNIST = Path(__file__).resolve().parents[2] / "data" / "mnist.npz"


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """No MNIST in the repository nor in Keras's cache: both point into an empty folder."""
    monkeypatch.setattr(mnist_module, "REPO_MNIST", tmp_path / "repo" / "data" / "mnist.npz")
    monkeypatch.setattr(mnist_module, "KERAS_CACHE_MNIST", tmp_path / "keras" / "datasets" / "mnist.npz")
    return tmp_path


def mnist_like(**overrides):
    """Arrays in MNIST's layout (zeros), with some replaced or (value None) removed."""
    arrays = {name: np.zeros(shape, dtype=np.uint8) for name, shape in mnist_module.EXPECTED_ARRAYS.items()}
    arrays.update(overrides)
    return {name: array for name, array in arrays.items() if array is not None}


def test_embedded_copy_is_the_file_from_the_shared_data_folder():
    assert mnist_module.REPO_MNIST == REAL_MNIST
    digest = hashlib.sha256(REAL_MNIST.read_bytes()).hexdigest()
    assert digest == MNIST_SHA256


def test_embedded_copy_has_mnist_shapes_and_class_counts():
    (x_train, y_train), (x_test, y_test) = load_mnist()
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and y_test.dtype == np.uint8
    assert np.bincount(y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == TEST_COUNTS
    assert y_train[:10].tolist() == FIRST_TRAIN_LABELS
    counts = np.bincount(x_train.ravel(), minlength=256)
    levels = np.arange(256) / 255.0
    mean = (counts * levels).sum() / counts.sum()
    std = np.sqrt((counts * (levels - mean) ** 2).sum() / counts.sum())
    assert abs(mean - 0.1307) < 1e-4 and abs(std - 0.3081) < 1e-4


def test_load_mnist_needs_no_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("load_mnist tried to download although the repository has a copy")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", no_network)
    assert find_mnist() == mnist_module.REPO_MNIST
    (x_train, _), _ = load_mnist()
    assert x_train.shape == (60000, 28, 28)


def test_an_explicit_path_comes_first(tmp_path):
    path = tmp_path / "my_mnist.npz"
    np.savez(path, **mnist_like(x_train=np.full((60000, 28, 28), 7, dtype=np.uint8)))
    assert find_mnist(path) == path
    (x_train, _), _ = load_mnist(path=str(path))
    assert np.all(x_train == 7)


def test_keras_cache_is_used_when_the_repository_has_no_copy(nowhere):
    cache = mnist_module.KERAS_CACHE_MNIST
    cache.parent.mkdir(parents=True)
    cache.symlink_to(REAL_MNIST)
    assert find_mnist() == cache
    (_, y_train), _ = load_mnist(download=False)
    assert y_train[:10].tolist() == FIRST_TRAIN_LABELS


def test_nothing_found_and_no_download_says_where_to_put_the_file(nowhere):
    with pytest.raises(DatasetNotFoundError) as error:
        load_mnist(download=False)
    message = str(error.value)
    assert str(mnist_module.REPO_MNIST) in message
    assert str(mnist_module.KERAS_CACHE_MNIST) in message
    assert "load_mnist(path=" in message
    assert find_mnist() is None


def test_a_failed_download_says_where_to_put_the_file(nowhere, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(DatasetNotFoundError, match="downloading it failed.*network is unreachable.*Put the"):
        load_mnist()


def test_a_missing_explicit_path_is_reported(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="No MNIST file at .*nope.npz"):
        load_mnist(path=tmp_path / "nope.npz")
    assert issubclass(DatasetNotFoundError, FileNotFoundError)


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],
        lambda data: data[:-100],
        lambda data: data[:1000] + bytes(64) + data[1064:],
        lambda data: data[: len(data) // 3] + bytes(4096) + data[len(data) // 3 + 4096 :],
        lambda data: b"",
        lambda data: b"<html>404 Not Found</html>",
    ],
    ids=["half", "tail-cut", "header-zeroed", "middle-zeroed", "empty", "html"],
)
def test_a_truncated_or_corrupt_file_is_reported_as_such(tmp_path, damage):
    path = tmp_path / "mnist.npz"
    path.write_bytes(damage(REAL_MNIST.read_bytes()))
    with pytest.raises(CorruptDatasetError, match="mnist.npz"):
        load_mnist(path=path)


def test_a_npy_file_is_no_npz(tmp_path):
    path = tmp_path / "mnist.npz"
    with open(path, "wb") as file:
        np.save(file, np.zeros((3, 28, 28), dtype=np.uint8))
    with pytest.raises(CorruptDatasetError, match="not a .npz archive"):
        load_mnist(path=path)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"y_test": None}, "no array 'y_test'"),
        ({"x_train": np.zeros((2, 28, 28), dtype=np.float32)}, "'x_train' has shape .* float32"),
        ({"x_test": np.zeros((10000, 32, 32), dtype=np.uint8)}, r"'x_test' has shape \(10000, 32, 32\)"),
        ({"y_train": np.full(60000, 10, dtype=np.uint8)}, "labels above 9"),
    ],
    ids=["missing-array", "float-images", "wrong-size", "bad-labels"],
)
def test_a_file_with_the_wrong_arrays_is_reported(tmp_path, overrides, message):
    path = tmp_path / "not_mnist.npz"
    np.savez(path, **mnist_like(**overrides))
    with pytest.raises(CorruptDatasetError, match=message):
        load_mnist(path=path)


def test_loaded_arrays_are_shared_read_only():
    (x_train, _), _ = load_mnist()
    with pytest.raises(ValueError):
        x_train[0, 0, 0] = 1
    assert load_mnist()[0][0] is x_train


# The pipeline. The root conftest.py sets GAN_COURSE_QUICK=1 for every test.


def first_batch(**kwargs):
    return next(iter(mnist_dataset(**kwargs))).numpy()


def test_flat_batches_are_float32_in_minus_one_to_one():
    batch = first_batch(batch_size=64, shuffle=False)
    assert batch.shape == (64, 784) and batch.dtype == np.float32
    assert batch.min() == -1.0 and batch.max() == 1.0
    (x_train, _), _ = load_mnist()
    np.testing.assert_allclose(batch, x_train[:64].reshape(64, 784) / 127.5 - 1.0, atol=1e-6)


def test_image_batches_are_28_by_28_by_1():
    batch = first_batch(batch_size=32, flat=False, shuffle=False, split="test")
    assert batch.shape == (32, 28, 28, 1)
    (_, _), (x_test, _) = load_mnist()
    np.testing.assert_allclose(batch[..., 0], x_test[:32] / 127.5 - 1.0, atol=1e-6)


def test_the_last_partial_batch_is_kept():
    sizes = [len(batch) for batch in mnist_dataset(batch_size=128, limit=300, shuffle=False)]
    assert sizes == [128, 128, 44]


def test_shuffling_with_a_seed_is_reproducible_and_shuffles():
    a = first_batch(batch_size=16, seed=5, limit=1000)
    b = first_batch(batch_size=16, seed=5, limit=1000)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, first_batch(batch_size=16, shuffle=False))


def test_quick_mode_caps_the_examples(monkeypatch):
    assert settings.quick_mode()
    assert sum(len(batch) for batch in mnist_dataset(batch_size=500)) == settings.QUICK_MAX_EXAMPLES
    assert sum(len(batch) for batch in mnist_dataset(batch_size=500, limit=700)) == 700
    monkeypatch.setenv(settings.QUICK_ENV, "0")
    assert int(mnist_dataset(batch_size=128).cardinality()) == 469  # ceil(60000 / 128)


def test_a_bad_split_is_refused():
    with pytest.raises(ValueError, match="'train' or 'test'"):
        mnist_dataset(split="validation")
