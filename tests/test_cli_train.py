"""`python -m gan_helpers train` (what `./course demo` runs): a short real run writes real pictures."""

import contextlib
import io

import numpy as np
import pytest
from PIL import Image

from gan_helpers import settings
from gan_helpers.__main__ import main

GRID_SIDE = (8 * (28 + 2) + 2) * 2  # 64 digits, 8 x 8, 2-pixel borders, every pixel doubled


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One quick-mode training run of the default GAN, shared by the tests below."""
    assert settings.quick_mode(), "the root conftest.py puts tests in quick mode"
    out = tmp_path_factory.mktemp("runs") / "demo"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = main(["train", "--out", str(out), "--epochs", "1", "--seed", "3", "--print-every", "5"])
    return out, status, printed.getvalue()


def test_train_exits_0_and_prints_where_the_sample_grid_is(demo_run):
    out, status, printed = demo_run
    assert status == 0
    assert "D: " in printed and "G: " in printed  # progress lines
    assert printed.rstrip().splitlines()[-1].endswith(str(out / "samples.png"))


def test_samples_png_is_a_grid_of_64_generated_images(demo_run):
    out, _, _ = demo_run
    with Image.open(out / "samples.png") as picture:
        assert picture.format == "PNG" and picture.mode == "L"
        pixels = np.asarray(picture)
    assert pixels.shape == (GRID_SIDE, GRID_SIDE)
    assert np.all(pixels[:4] == 128) and np.all(pixels[:, 60:64] == 128)  # grey borders between tiles
    first_tile = pixels[4:60, 4:60]
    last_tile = pixels[-60:-4, -60:-4]
    assert first_tile.std() > 5, "a generated image is one flat colour"
    assert not np.array_equal(first_tile, last_tile), "different noise gave the same image"


def test_losses_and_progress_pictures_are_written(demo_run):
    out, _, _ = demo_run
    with Image.open(out / "losses.png") as picture:
        assert picture.format == "PNG" and picture.width > 300
    with Image.open(out / "progress.gif") as picture:
        assert picture.format == "GIF" and picture.n_frames >= 2  # before training and at the end


@pytest.mark.parametrize(
    "arguments, message",
    [(["--epochs", "0"], "must be at least 1"), (["--batch-size", "many"], "whole number"),
     (["--learning-rate", "-1"], "greater than 0")],
)
def test_bad_arguments_exit_2_with_a_message(arguments, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", *arguments])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_an_output_path_that_is_a_file_is_refused(tmp_path, capsys):
    out = tmp_path / "a_file"
    out.write_text("not a folder")
    assert main(["train", "--out", str(out)]) == 2
    assert "is a file" in capsys.readouterr().err
