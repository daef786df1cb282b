"""CIFAR-10 loader: small batches written in the original pickle format, as archive and folder."""

import os
import pickle
import tarfile

import numpy as np
import pytest

from gan_helpers.data import cifar10
from gan_helpers import settings
from gan_helpers.data.cifar10 import CLASS_NAMES, load_cifar10, load_cifar10_images, load_cifar10_or_standin
from gan_helpers.data.mnist import CorruptDatasetError, DatasetNotFoundError

from cifar10_files import PER_BATCH, batch_bytes, make_batches

@pytest.fixture()
def batches(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    return folder, make_batches(folder)


def _check_loaded(loaded, made):
    (x_train, y_train), (x_test, y_test) = loaded
    assert x_train.shape == (5 * PER_BATCH, 32, 32, 3) and x_train.dtype == np.uint8
    assert x_test.shape == (PER_BATCH, 32, 32, 3)
    expected_train = np.concatenate([made[name][0] for name in cifar10.TRAIN_BATCHES])
    np.testing.assert_array_equal(x_train, expected_train)
    np.testing.assert_array_equal(y_train, np.concatenate([made[name][1] for name in cifar10.TRAIN_BATCHES]))
    np.testing.assert_array_equal(x_test, made["test_batch"][0])
    np.testing.assert_array_equal(y_test, made["test_batch"][1])


def test_loads_the_extracted_folder_and_its_parent(batches):
    folder, made = batches
    _check_loaded(load_cifar10(folder), made)
    _check_loaded(load_cifar10(folder.parent), made)


def test_loads_the_original_archive(batches, tmp_path):
    folder, made = batches
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    _check_loaded(load_cifar10(archive), made)


def test_pixels_keep_their_channel_order(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    make_batches(folder)
    red = np.zeros((1, 32, 32, 3), np.uint8)
    red[..., 0] = 255
    (folder / "test_batch").write_bytes(batch_bytes(red, [3]))
    _, (x_test, y_test) = load_cifar10(folder)
    assert x_test[0, :, :, 0].min() == 255 and x_test[0, :, :, 1:].max() == 0
    assert y_test.tolist() == [3]


def test_missing_data_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar10, "KERAS_CACHE_CIFAR", tmp_path / "nothing-here")
    with pytest.raises(DatasetNotFoundError, match="cifar-10-python.tar.gz"):
        load_cifar10()
    with pytest.raises(DatasetNotFoundError, match="Nothing at"):
        load_cifar10(tmp_path / "absent.tar.gz")


def test_incomplete_folder_names_the_missing_batch(batches):
    folder, _ = batches
    (folder / "data_batch_3").unlink()
    with pytest.raises(DatasetNotFoundError, match="data_batch_3"):
        load_cifar10(folder)


def test_truncated_archive_and_corrupt_batch_are_reported(batches, tmp_path):
    folder, _ = batches
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[:2000])
    with pytest.raises(CorruptDatasetError, match="truncated"):
        load_cifar10(truncated)
    (folder / "data_batch_2").write_bytes(b"not a pickle at all")
    with pytest.raises(CorruptDatasetError, match="data_batch_2"):
        load_cifar10(folder)


def test_a_pickle_that_would_run_code_is_refused(batches, tmp_path):
    folder, _ = batches
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (folder / "data_batch_1").write_bytes(pickle.dumps({b"data": Payload(), b"labels": []}, protocol=2))
    with pytest.raises(CorruptDatasetError, match="not part of a CIFAR-10 batch"):
        load_cifar10(folder)
    assert not marker.exists()


def test_one_class_of_one_split_capped_in_quick_mode(batches, monkeypatch):
    folder, made = batches
    frogs = made["test_batch"][0][made["test_batch"][1] == CLASS_NAMES.index("frog")]
    loaded = load_cifar10_images(folder, only_class=6, split="test")
    np.testing.assert_array_equal(loaded.images, frogs)
    assert loaded.source == f"CIFAR-10: {len(frogs)} test images (the frogs)" and not loaded.standin
    monkeypatch.setattr(settings, "QUICK_MAX_EXAMPLES", 3)
    assert len(load_cifar10_images(folder).images) == 3
    with pytest.raises(ValueError, match="dog"):
        load_cifar10_images(folder, only_class="dragon")


def test_one_class_or_stand_ins_labelled_as_such(batches, tmp_path, monkeypatch, capsys):
    folder, made = batches
    loaded = load_cifar10_or_standin(folder, "dog")
    dog = CLASS_NAMES.index("dog")
    expected = np.concatenate([made[name][0][made[name][1] == dog] for name in cifar10.TRAIN_BATCHES])
    np.testing.assert_array_equal(loaded.images, expected)
    assert not loaded.standin and loaded.source == f"CIFAR-10: {len(expected)} training images (the dogs)"
    assert "STAND-IN" not in capsys.readouterr().out

    monkeypatch.setattr(cifar10, "KERAS_CACHE_CIFAR", tmp_path / "nothing-here")
    monkeypatch.setattr(settings, "QUICK_MAX_EXAMPLES", 12)
    loaded = load_cifar10_or_standin(None, "dog")
    printed = capsys.readouterr().out
    assert "STAND-IN DATA: CIFAR-10 could not be found" in printed and "NOT photographs" in printed
    assert "CIFAR-10 is not on this machine" in printed  # the reason, with where to put the files
    assert loaded.standin and "STAND-IN" in loaded.source
    assert loaded.images.shape == (12, 32, 32, 3) and loaded.images.dtype == np.uint8 and loaded.images.std() > 20
