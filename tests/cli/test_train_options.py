"""`train`'s later-notebook options: conditional GANs and `sample --label`, WGAN-GP, the stabilisation toolbox,
greyscale folders; and the combinations that cannot work, each with a message."""

import contextlib
import io
import json

import numpy as np
import pytest
from PIL import Image
from cifar10_files import make_batches

from gan_helpers.cli import main, runs

GRID_CELL = 30  # a 28x28 digit and its 2-pixel border


def command(*arguments):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(arguments))
    return status, out.getvalue(), err.getvalue()


def config_of(run):
    return json.loads((run / "config.json").read_text())


def pixels(path):
    with Image.open(path) as picture:
        return np.asarray(picture)


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory):
    """A quick-mode conditional DCGAN on MNIST (20 steps), with a checkpoint."""
    out = tmp_path_factory.mktemp("runs") / "conditional"
    status, printed, errors = command("train", "--conditional", "--epochs", "1", "--batch-size", "8", "--seed", "0",
                                      "--print-every", "5", "--num-samples", "20", "--out", str(out))
    assert status == 0, printed + errors
    return out, printed


def test_train_conditional_builds_the_conditional_dcgan_and_records_it(conditional_run):
    out, printed = conditional_run
    assert "conditional DCGAN (cross-entropy loss, 10 classes) on MNIST" in printed
    state = config_of(out)
    config = state["config"]
    assert (config["conditional"], config["num_classes"], config["model"]) == (True, 10, "dcgan")
    assert (config["generator"], config["discriminator"]) == ("conditional_generator", "conditional_discriminator")
    assert "--conditional" in state["command"]
    # the final grid: 20 images, a class per column (two rows of the ten digits)
    assert pixels(out / "samples.png").shape == ((2 * GRID_CELL + 2) * 2, (10 * GRID_CELL + 2) * 2)


def test_sample_label_draws_one_class_and_a_wrong_label_is_refused(conditional_run, tmp_path):
    out, _ = conditional_run
    status, printed, errors = command("sample", "--run", str(out), "--label", "7", "--n", "4", "--seed", "3",
                                      "--out", str(tmp_path / "sevens.png"))
    assert status == 0, errors
    assert "4 images of class 7 from conditional DCGAN" in printed
    status, _, _ = command("sample", "--run", str(out), "--label", "2", "--n", "4", "--seed", "3",
                           "--out", str(tmp_path / "twos.png"))
    assert status == 0
    sevens, twos = pixels(tmp_path / "sevens.png"), pixels(tmp_path / "twos.png")
    assert sevens.shape == twos.shape == ((2 * GRID_CELL + 2) * 2,) * 2
    assert not np.array_equal(sevens, twos), "the same noise with another label draws other images"
    status, _, errors = command("sample", "--run", str(out), "--label", "10", "--out", str(tmp_path / "x.png"))
    assert status == 2 and "--label 10 is not a class of this run: its classes are 0 to 9" in errors


def test_train_conditional_on_cifar10_uses_its_ten_classes(tmp_path):
    make_batches(tmp_path / "cifar-10-batches-py")
    out = tmp_path / "run"
    status, printed, errors = command("train", "--data", "cifar10", "--data-root", str(tmp_path), "--conditional",
                                      "--epochs", "1", "--batch-size", "4", "--num-samples", "10",
                                      "--print-every", "2", "--out", str(out))
    assert status == 0, errors
    config = config_of(out)["config"]
    assert (config["conditional"], config["num_classes"], config["image_shape"]) == (True, 10, [32, 32, 3])
    assert config["generator"].startswith("conditional_cifar")
    status, printed, _ = command("sample", "--run", str(out), "--label", "5", "--n", "4",
                                 "--out", str(tmp_path / "dogs.png"))
    assert status == 0 and "of class 5 (dog)" in printed


def test_the_toolbox_options_train_are_recorded_and_resume_and_sample_refuses_a_label(tmp_path):
    out = tmp_path / "run"
    options = ["--model", "dcgan", "--loss", "hinge", "--spectral-norm", "--ema", "0.9", "--augment",
               "translation,cutout", "--d-learning-rate", "4e-4", "--g-learning-rate", "1e-4"]
    status, printed, errors = command("train", *options, "--epochs", "1", "--batch-size", "8", "--seed", "0",
                                      "--print-every", "5", "--num-samples", "4", "--out", str(out))
    assert status == 0, errors
    assert "hinge loss, spectral norm, EMA 0.9, DiffAugment translation,cutout" in printed
    state = config_of(out)
    config = state["config"]
    assert (config["loss"], config["spectral_norm"], config["ema"], config["augment"]) == \
        ("hinge", True, 0.9, "translation,cutout")
    assert (config["d_learning_rate"], config["g_learning_rate"]) == (4e-4, 1e-4)
    for option in ("--spectral-norm", "--ema 0.9", "--augment translation,cutout", "--d-learning-rate 0.0004"):
        assert option in state["command"]
    status, printed, errors = command("train", *options, "--epochs", "1", "--batch-size", "8", "--seed", "0",
                                      "--out", str(out))
    assert status == 0 and any(line.startswith("Resuming") for line in printed.splitlines()), errors
    status, _, errors = command("train", "--model", "dcgan", "--epochs", "1", "--batch-size", "8", "--seed", "0",
                                "--out", str(out))
    assert status == 1 and "--spectral-norm" in errors  # another configuration is refused, naming what differs
    status, printed, errors = command("sample", "--run", str(out), "--n", "4", "--out", str(tmp_path / "s.png"))
    assert status == 0, errors  # from the moving average (G_ema) the checkpoint holds
    status, _, errors = command("sample", "--run", str(out), "--label", "3", "--out", str(tmp_path / "x.png"))
    assert status == 2 and "this run is not conditional (train one with --conditional)" in errors


def test_wgan_gp_takes_the_papers_settings_unless_told_otherwise():
    config = runs.make_config(data="mnist", data_class=None, model="dcgan", loss="wgan-gp", image_size=None,
                              batch_size=64, learning_rate=None, seed=0)
    assert (config.d_steps, config.learning_rate) == (5, 1e-4)
    assert config.optimizer_settings()["beta1"] == 0.0 and config.optimizer_settings()["beta2"] == 0.9
    assert config.training_options()["discriminator_penalty"].__name__ == "gradient_penalty"
    told = runs.make_config(data="mnist", data_class=None, model="dcgan", loss="wgan-gp", image_size=None,
                            batch_size=64, learning_rate=1e-3, seed=0, d_steps=2)
    assert (told.d_steps, told.learning_rate) == (2, 1e-3)
    assert "5 discriminator steps per generator step" in config.describe()


@pytest.fixture()
def grey_pictures(tmp_path):
    folder = tmp_path / "grey"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(6):
        Image.fromarray(rng.integers(0, 256, (36, 36), dtype=np.uint8)).save(folder / f"g{index}.png")
    return folder


def test_a_folder_of_grey_pictures_trains_a_grey_gan_unless_asked_for_colour(grey_pictures, tmp_path):
    out = tmp_path / "run"
    status, printed, errors = command("train", "--data", str(grey_pictures), "--model", "dcgan", "--image-size", "32",
                                      "--epochs", "1", "--batch-size", "3", "--num-samples", "4", "--out", str(out))
    assert status == 0, errors
    assert f"6 images from {grey_pictures}, resized to 32x32 greyscale (every picture is grey)" in printed
    assert config_of(out)["config"]["image_shape"] == [32, 32, 1]
    assert pixels(out / "samples.png").ndim == 2  # a grey grid
    colour = runs.make_config(data=str(grey_pictures), data_class=None, model="dcgan", loss="bce", image_size=32,
                              batch_size=3, learning_rate=None, seed=0, channels=3)
    assert colour.image_shape == [32, 32, 3] and colour.build_generator().output_shape[1:] == (32, 32, 3)


@pytest.mark.parametrize("arguments, message", [
    (["--conditional", "--data", "dogs"], "--conditional trains on a data set with classes"),
    (["--conditional", "--spectral-norm"], "--spectral-norm is not available for the conditional discriminators"),
    (["--conditional", "--model", "mlp"], "use --model dcgan"),
    (["--model", "mlp", "--augment"], "the MLP GAN's images are flat vectors"),
    (["--model", "mlp", "--spectral-norm"], "--spectral-norm applies to the DCGAN discriminators"),
    (["--model", "dcgan", "--augment", "colour"], "a DiffAugment policy is a comma-separated list of"),
    (["--model", "dcgan", "--augment", ","], "a DiffAugment policy is a comma-separated list of"),
    (["--channels", "1"], "--channels chooses grey or colour for a folder of pictures"),
])
def test_options_that_cannot_work_together_exit_2_with_a_message(arguments, message, tmp_path):
    status, _, errors = command("train", *arguments, "--out", str(tmp_path / "run"))
    assert status == 2 and message in errors
    assert not (tmp_path / "run" / "config.json").exists()


@pytest.mark.parametrize("arguments, message", [
    (["--ema", "1.5"], "must be between 0 and 1"), (["--ema", "fast"], "expected a number"),
    (["--d-steps", "0"], "must be at least 1"), (["--d-learning-rate", "0"], "greater than 0"),
    (["--loss", "wgan"], "choose from 'bce', 'ls', 'hinge', 'wgan-gp'"), (["--channels", "2"], "choose from 1, 3"),
])
def test_bad_values_of_the_new_options_exit_2_with_a_message(arguments, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", *arguments])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
