"""`python -m gan_helpers train` on CIFAR-10, the dogs and a folder of images; bad data gets a clear message."""

import contextlib
import io
import json

import numpy as np
import pytest
from PIL import Image
from cifar10_files import make_batches  # small batches in the original pickle format

from gan_helpers.cli import runs
from gan_helpers.cli import main
from gan_helpers.data import dogs

COLOUR_GRID_SIDE = lambda count, side, scale: (count * (side + 2) + 2) * scale  # noqa: E731


def train(*arguments):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["train", *arguments])
    return status, out.getvalue(), err.getvalue()


def _colour_grid(path):
    with Image.open(path) as picture:
        assert picture.format == "PNG" and picture.mode == "RGB"
        return np.asarray(picture)


def test_cifar10_one_class_trains_the_32x32_dcgan(tmp_path):
    made = make_batches(tmp_path / "cifar-10-batches-py")
    dogs_made = sum(int(np.sum(made[name][1] == 5)) for name in ("data_batch_1", "data_batch_2", "data_batch_3",
                                                                  "data_batch_4", "data_batch_5"))
    out = tmp_path / "run"
    status, printed, errors = train("--data", "cifar10", "--data-root", str(tmp_path), "--class", "dog",
                                    "--model", "dcgan", "--epochs", "2", "--batch-size", "4", "--num-samples", "4",
                                    "--print-every", "2", "--out", str(out))
    assert status == 0, errors
    assert f"CIFAR-10: {dogs_made} training images (the dogs)." in printed
    assert "DCGAN (cross-entropy loss) on CIFAR-10 (dogs only), images 32x32 colour" in printed
    config = json.loads((out / "config.json").read_text())["config"]
    assert (config["data"], config["data_class"], config["generator"]) == ("cifar10", "dog", "cifar_generator")
    assert _colour_grid(out / "samples.png").shape == (COLOUR_GRID_SIDE(2, 32, 2),) * 2 + (3,)
    assert (out / "samples" / "epoch_001.png").is_file()


def test_missing_cifar10_says_where_to_put_it(tmp_path):
    status, _, errors = train("--data", "cifar10", "--data-root", str(tmp_path / "nowhere"), "--model", "dcgan",
                              "--out", str(tmp_path / "run"))
    assert status == 1 and "Nothing at" in errors and "cifar-10-python.tar.gz" in errors
    assert not (tmp_path / "run" / "config.json").exists(), "a run that never started left a config behind"


@pytest.fixture()
def pictures(tmp_path):
    """Six small pictures of mixed formats and sizes, and one corrupt file."""
    folder = tmp_path / "my pictures"
    (folder / "more").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for index in range(3):
        Image.fromarray(rng.integers(0, 256, (40 + 10 * index, 50, 3), dtype=np.uint8)).save(folder / f"p{index}.png")
    Image.fromarray(rng.integers(0, 256, (70, 30), dtype=np.uint8)).save(folder / "grey.jpg")
    Image.fromarray(rng.integers(0, 256, (20, 20, 4), dtype=np.uint8)).save(folder / "more" / "rgba.png")
    Image.fromarray(rng.integers(0, 256, (90, 90, 3), dtype=np.uint8)).save(folder / "more" / "big.jpeg")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    return folder


def test_a_folder_of_pictures_trains_the_dcgan_and_counts_the_corrupt_file(pictures, tmp_path, monkeypatch):
    out = tmp_path / "run"
    arguments = ("--data", str(pictures), "--model", "dcgan", "--image-size", "32", "--epochs", "1",
                 "--batch-size", "4", "--num-samples", "9", "--print-every", "1", "--out", str(out))
    status, printed, errors = train(*arguments)
    assert status == 0, errors
    assert f"6 images from {pictures}, resized to 32x32 RGB" in printed
    assert "skipped 1 unreadable file (1 corrupt: broken.jpg)" in printed
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["data"] == str(pictures.resolve()) and config["image_shape"] == [32, 32, 3]
    assert _colour_grid(out / "samples.png").shape == (COLOUR_GRID_SIDE(3, 32, 2),) * 2 + (3,)
    # the folder given by a relative path is the same data: the run resumes (nothing left to train)
    monkeypatch.chdir(pictures.parent)
    status, printed, errors = train("--data", pictures.name, *arguments[2:])
    assert status == 0 and any(line.startswith("Resuming") for line in printed.splitlines()), errors


def test_the_dogs_train_at_the_size_asked_for(tmp_path, monkeypatch):
    monkeypatch.setattr(dogs, "DEFAULT_CACHE_DIR", tmp_path / "cache")  # keep the test's crops out of ~/.cache
    photos = tmp_path / "dogs"
    photos.mkdir()
    for index, colour in enumerate([(200, 150, 90), (60, 40, 20), (240, 240, 230)]):
        Image.new("RGB", (80, 60), colour).save(photos / f"dog{index}.jpg")
    out = tmp_path / "run"
    status, printed, errors = train("--data", "dogs", "--data-root", str(photos), "--model", "dcgan",
                                    "--image-size", "32", "--epochs", "1", "--batch-size", "2",
                                    "--num-samples", "4", "--out", str(out))
    assert status == 0, errors
    assert "3 dog images" in printed and "DCGAN (cross-entropy loss) on Stanford Dogs, images 32x32 colour" in printed
    assert json.loads((out / "config.json").read_text())["config"]["image_shape"] == [32, 32, 3]


@pytest.mark.parametrize("arguments, message", [
    (["--data", "imagenet"], "Unknown data set 'imagenet' (and no folder of that name exists). "
                             "Valid data sets: mnist, cifar10, dogs, or the path of a folder of images."),
    (["--data", "cifar10"], "--model mlp is the fully connected GAN for 28x28 grey MNIST digits"),
    (["--class", "dog"], "--class picks one CIFAR-10 class; it needs --data cifar10"),
    (["--image-size", "64"], "mnist images are 28x28; --image-size 64 does not apply"),
])
def test_settings_that_cannot_work_exit_2_with_a_message(arguments, message, tmp_path):
    status, printed, errors = train(*arguments, "--out", str(tmp_path / "run"))
    assert status == 2 and message in errors
    assert not (tmp_path / "run").exists()


def test_a_file_given_as_data_is_refused(tmp_path):
    archive = tmp_path / "cifar-10-python.tar.gz"
    archive.write_bytes(b"")
    status, _, errors = train("--data", str(archive), "--model", "dcgan", "--out", str(tmp_path / "run"))
    assert status == 2 and "is a file" in errors and "--data cifar10 --data-root" in errors


@pytest.mark.parametrize("content", [[], ["notes.txt"], ["bad.png"]])
def test_a_folder_without_usable_images_exits_1_with_a_message(tmp_path, content):
    folder = tmp_path / "empty"
    folder.mkdir()
    for name in content:
        (folder / name).write_text("not a picture")
    status, _, errors = train("--data", str(folder), "--model", "dcgan", "--out", str(tmp_path / "run"))
    assert status == 1 and "Nothing was trained." in errors
    assert ("None of the 1 image files" if content == ["bad.png"] else "No images in") in errors
    assert not (tmp_path / "run" / "config.json").exists()


def test_make_config_picks_the_dcgan_for_each_image_size(tmp_path):
    for data, size, expected in (("mnist", None, "dc_generator"), ("cifar10", None, "cifar_generator"),
                                 ("dogs", None, "dog_generator"), (str(tmp_path), 32, "cifar_generator"),
                                 (str(tmp_path), 64, "dog_generator")):
        channels = None if data in ("mnist", "cifar10", "dogs") else 3
        config = runs.make_config(data=data, data_class=None, model="dcgan", loss="bce", image_size=size,
                                  batch_size=8, learning_rate=None, seed=0, channels=channels)
        assert config.generator == expected and config.learning_rate == 2e-4
        assert tuple(config.build_generator().output_shape[1:]) == tuple(config.image_shape)
