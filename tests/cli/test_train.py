"""`python -m gan_helpers train` (what `./course demo` runs): real short runs into real run folders.

Quick mode (conftest.py) stops every call of run_a_gan after 20 steps; MNIST is then cut
to 2,048 images, so an epoch of 128-image batches is 16 steps.
"""

import contextlib
import io
import json
import shutil

import keras
import numpy as np
import pytest
from PIL import Image

from gan_helpers import models, settings
from gan_helpers.cli import main

from tensorboard_events import read_events

GRID_SIDE = (8 * (28 + 2) + 2) * 2  # 64 digits, 8 x 8, 2-pixel borders, every pixel doubled


def train(*arguments):
    """Run the train command in this process; returns (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["train", *arguments])
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One quick-mode run of the default GAN (MLP, MNIST), one whole epoch, shared by the tests below."""
    assert settings.quick_mode(), "the root conftest.py puts tests in quick mode"
    out = tmp_path_factory.mktemp("runs") / "demo"
    status, printed, _ = train("--out", str(out), "--epochs", "1", "--seed", "3", "--print-every", "5")
    return out, status, printed


def test_train_exits_0_and_prints_progress_and_where_the_sample_grid_is(demo_run):
    out, status, printed = demo_run
    assert status == 0
    assert "step 15/16  epoch 1/1  D loss " in printed and " G loss " in printed  # a progress line per report
    assert "epoch 1/1 done at step 16: D loss " in printed and "all 1 epochs done" in printed
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


def test_a_grid_per_epoch_matches_the_final_grid_of_the_same_noise(demo_run):
    out, _, _ = demo_run
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["epoch_001.png"]
    with Image.open(out / "samples" / "epoch_001.png") as epoch_grid, Image.open(out / "samples.png") as final:
        # training ended with epoch 1, so the grid of that epoch and the final one show the same images
        np.testing.assert_array_equal(np.asarray(epoch_grid), np.asarray(final))


def test_losses_progress_and_generator_are_written(demo_run):
    out, _, _ = demo_run
    with Image.open(out / "losses.png") as picture:
        assert picture.format == "PNG" and picture.width > 300
    with Image.open(out / "progress.gif") as picture:
        assert picture.format == "GIF" and picture.n_frames >= 2  # before training and at the end
    G = keras.models.load_model(out / "generator.keras")
    assert G.output_shape == (None, 784)


def test_config_json_records_the_configuration_and_how_to_resume(demo_run):
    out, _, _ = demo_run
    state = json.loads((out / "config.json").read_text())
    assert state["config"] == {
        "data": "mnist", "data_class": None, "model": "mlp", "loss": "bce", "image_shape": [784],
        "noise_dim": 96, "batch_size": 128, "learning_rate": 0.001, "seed": 3,
        "discriminator": "discriminator", "generator": "generator", "conditional": False, "num_classes": None,
        "spectral_norm": False, "ema": None, "augment": None, "d_steps": 1, "d_learning_rate": None,
        "g_learning_rate": None,
    }
    assert state["command"].startswith("python -m gan_helpers train --data mnist --model mlp --loss bce")
    assert f"--seed 3 --epochs 1 --out {out}" in state["command"]


def test_tensorboard_logs_hold_the_losses_and_sample_grids(demo_run):
    out, _, _ = demo_run
    events = read_events(out / "logs")
    scalars = {}
    for tag, step, plugin, value in events:
        if plugin == "scalars":
            scalars.setdefault(tag, []).append((step, float(value)))
    assert [step for step, _ in scalars["d_loss"]] == [5, 10, 15]  # every --print-every steps
    assert [step for step, _ in scalars["g_loss"]] == [5, 10, 15]
    assert all(np.isfinite(v) for _, v in scalars["d_loss"] + scalars["g_loss"])
    (epoch, mean), = scalars["epoch_d_loss"]  # keras.callbacks.TensorBoard: the epoch's mean, at epoch 0
    assert epoch == 0 and np.isfinite(mean)
    images = [(step, value) for tag, step, plugin, value in events if tag == "samples"]
    assert [step for step, _ in images] == [0, 16]  # before training and at the end
    assert {plugin for tag, _, plugin, _ in events if tag == "samples"} == {"images"}
    width, height, png = images[-1][1]
    with Image.open(io.BytesIO(png)) as picture:
        assert picture.format == "PNG" and picture.size == (int(width), int(height)) == (4 * 30 + 2,) * 2


@pytest.fixture(scope="module")
def resumed_run(tmp_path_factory):
    """The same command twice: quick mode stops the first call at step 20, in epoch 2 of 2."""
    out = tmp_path_factory.mktemp("runs") / "resumed"
    command = ("--out", str(out), "--epochs", "2", "--print-every", "4")
    first = train(*command)
    second = train(*command)
    return out, first, second


def test_the_same_command_again_resumes_where_the_first_stopped(resumed_run):
    out, (status1, printed1, _), (status2, printed2, _) = resumed_run
    assert status1 == 0 and "1 of 2 epochs done. Run the same command again to resume." in printed1
    assert status2 == 0 and printed2.startswith(f"Resuming {out}")
    assert "resuming at step 20" in printed2 and "Completed: 32 steps, 2 epochs" in printed2
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["epoch_001.png", "epoch_002.png"]
    history = json.loads((out / "checkpoints" / "gan_run.json").read_text())["history"]
    assert history["steps_done"] == 32 and len(history["d_loss"]) == 32
    # TensorBoard's curves go on where the first call's stopped, and no grid is logged twice
    events = read_events(out / "logs")
    assert [step for tag, step, _, _ in events if tag == "d_loss"] == [4, 8, 12, 16, 20, 24, 28, 32]
    grids = [step for tag, step, _, _ in events if tag == "samples"]
    assert len(grids) == len(set(grids)) and grids[0] == 0 and grids[-1] == 32
    # the seed drawn by the first call was kept by the second
    seed = json.loads((out / "config.json").read_text())["config"]["seed"]
    assert f"seed {seed}" in printed1.splitlines()[0] and f"seed {seed}" in printed2.splitlines()[0]


def test_another_configuration_is_refused_and_the_run_left_alone(resumed_run):
    out, _, _ = resumed_run
    config_before = (out / "config.json").read_text()
    status, printed, errors = train("--out", str(out), "--epochs", "2", "--loss", "ls", "--batch-size", "64")
    assert status == 1 and "Traceback" not in errors
    assert f"{out} holds a run with another configuration" in errors
    assert "--loss: bce in the run, ls now" in errors and "--batch-size: 128 in the run, 64 now" in errors
    assert "--overwrite" in errors and "python -m gan_helpers train --data mnist --model mlp --loss bce" in errors
    assert (out / "config.json").read_text() == config_before


def test_overwrite_starts_a_new_run_and_keeps_files_it_did_not_write(resumed_run, tmp_path):
    out = tmp_path / "resumed"
    shutil.copytree(resumed_run[0], out)  # a run of its own to overwrite: the fixture's serves other tests
    (out / "my_notes.txt").write_text("mine")
    status, printed, _ = train("--out", str(out), "--epochs", "1", "--model", "dcgan", "--overwrite",
                               "--batch-size", "64", "--num-samples", "16", "--print-every", "10")
    assert status == 0, printed
    assert "resuming at step" not in printed and "DCGAN (cross-entropy loss) on MNIST, images 28x28 grey" in printed
    config = json.loads((out / "config.json").read_text())["config"]
    assert (config["model"], config["image_shape"], config["generator"]) == ("dcgan", [28, 28, 1], "dc_generator")
    assert not (out / "samples").exists()  # cleared; quick mode: 20 of 32 steps, no epoch ended yet
    assert (out / "my_notes.txt").read_text() == "mine"
    with Image.open(out / "samples.png") as picture:
        assert picture.size == ((4 * 30 + 2) * 2,) * 2  # 16 digits


@pytest.mark.parametrize(
    "arguments, message",
    [(["--epochs", "0"], "must be at least 1"), (["--batch-size", "many"], "whole number"),
     (["--learning-rate", "-1"], "greater than 0"), (["--model", "gan"], "choose from 'mlp', 'dcgan'"),
     (["--loss", "wgan"], "choose from 'bce', 'ls'"), (["--class", "unicorn"], "choose from 'airplane'")],
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


def test_checkpoints_without_a_config_are_not_resumed_blindly(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "checkpoint").write_text('model_checkpoint_path: "ckpt-3"\n')
    status, _, errors = train("--out", str(tmp_path))
    assert status == 1 and "has no config.json" in errors and "--overwrite" in errors


@pytest.mark.parametrize("width", [32, 16])
def test_cifar_models_follow_the_dcgan_guidelines(width):
    D, G = models.cifar_discriminator(width=width), models.cifar_generator(models.NOISE_DIM, width=width)
    assert D.input_shape == (None, 32, 32, 3) and D.output_shape == (None, 1)
    assert G.input_shape == (None, 96) and G.output_shape == (None, 32, 32, 3)
    d_layers = [type(layer).__name__ for layer in D.layers]
    g_layers = [type(layer).__name__ for layer in G.layers]
    assert "MaxPooling2D" not in d_layers and "BatchNormalization" not in d_layers
    assert d_layers.count("Conv2D") == 3 and all(layer.strides == (2, 2) for layer in D.layers if "conv" in layer.name)
    assert {layer.negative_slope for layer in D.layers if type(layer).__name__ == "LeakyReLU"} == {0.2}
    assert D.layers[-1].activation.__name__ == "linear"  # logits out
    assert g_layers.count("Conv2DTranspose") == 3 and g_layers.count("BatchNormalization") == 3
    assert g_layers.count("ReLU") == 3 and G.layers[-1].activation.__name__ == "tanh"
    if width == 32:
        assert (D.count_params(), G.count_params()) == (167_649, 372_707)
    images = G(np.random.default_rng(0).uniform(-1, 1, (4, 96)).astype("float32"), training=False)
    assert float(np.max(np.abs(images))) <= 1.0 and D(images).shape == (4, 1)
