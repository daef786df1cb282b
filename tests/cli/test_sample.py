"""`python -m gan_helpers sample` and `evaluate` on a real (quick) training run, and what they refuse."""

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from gan_helpers.cli import runs
from gan_helpers.cli import main


def command(*arguments):
    """Run a command in this process; returns (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(arguments))
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory):
    """A quick-mode MLP GAN run on MNIST: one epoch of 16 steps, checkpoint at step 16."""
    out = tmp_path_factory.mktemp("runs") / "mnist"
    status, printed, errors = command("train", "--out", str(out), "--epochs", "1", "--seed", "1",
                                      "--print-every", "8", "--num-samples", "4")
    assert status == 0, printed + errors
    return out


def _pixels(path):
    with Image.open(path) as picture:
        assert picture.format == "PNG"
        return np.asarray(picture)


def test_sample_writes_a_grid_of_n_images(mnist_run, tmp_path):
    status, printed, _ = command("sample", "--run", str(mnist_run), "--n", "16", "--out", str(tmp_path / "grid.png"))
    assert status == 0
    assert "16 images from MLP GAN (cross-entropy loss) on MNIST" in printed and "step 16" in printed
    pixels = _pixels(tmp_path / "grid.png")
    assert pixels.shape == ((4 * 30 + 2) * 2,) * 2  # 4 x 4 digits of 28 + 2 pixels, doubled
    assert pixels[4:60, 4:60].std() > 5


def test_sample_is_reproducible_by_seed_and_matches_the_run_generator(mnist_run, tmp_path):
    for name, seed in (("a.png", "5"), ("b.png", "5"), ("c.png", "6")):
        assert command("sample", "--run", str(mnist_run), "--n", "4", "--seed", seed, "--out", str(tmp_path / name))[0] == 0
    a, b, c = (_pixels(tmp_path / name) for name in ("a.png", "b.png", "c.png"))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # seed 1 is the run's own: the same images as the run's final samples.png (4 of them)
    assert command("sample", "--run", str(mnist_run), "--n", "4", "--seed", "1", "--out", str(tmp_path / "d.png"))[0] == 0
    np.testing.assert_array_equal(_pixels(tmp_path / "d.png"), _pixels(mnist_run / "samples.png"))


def test_sample_writes_into_the_run_folder_by_default(mnist_run):
    assert command("sample", "--run", str(mnist_run), "--n", "9")[0] == 0
    assert _pixels(mnist_run / "sample.png").shape == ((3 * 30 + 2) * 2,) * 2


def test_evaluate_scores_an_mnist_run_and_keeps_the_scores(mnist_run):
    status, printed, _ = command("evaluate", "--run", str(mnist_run), "--num-samples", "300")
    assert status == 0
    assert "FID" in printed and "digits covered" in printed and "(N=300)" in printed
    records = json.loads((mnist_run / "metrics.json").read_text())
    assert records[-1]["step"] == 16 and records[-1]["num_samples"] == 300
    assert np.isfinite(records[-1]["fid"]) and 0 <= records[-1]["precision"] <= 1


def test_evaluate_says_a_data_set_without_metrics_has_none(tmp_path):
    folder = tmp_path / "pictures"
    folder.mkdir()
    config = runs.make_config(data=str(folder), data_class=None, model="dcgan", loss="ls", image_size=32,
                              batch_size=8, learning_rate=None, seed=0)
    runs.RunFolder(tmp_path / "run").write(config, epochs=3)
    status, printed, errors = command("evaluate", "--run", str(tmp_path / "run"))
    assert status == 0 and errors == ""
    assert f"trained on {folder.resolve()}, which has no metrics" in printed and "gan_helpers sample" in printed


@pytest.mark.parametrize("name", ["sample", "evaluate"])
def test_a_folder_that_is_not_a_run_is_refused(name, tmp_path):
    status, _, errors = command(name, "--run", str(tmp_path))
    assert status == 1 and "is not a run folder" in errors and "config.json" in errors
    status, _, errors = command(name, "--run", str(tmp_path / "missing"))
    assert status == 1 and "No run folder at" in errors


def test_sample_wants_a_png_path(mnist_run, tmp_path):
    status, _, errors = command("sample", "--run", str(mnist_run), "--out", str(tmp_path / "grid.jpg"))
    assert status == 2 and "ending in .png" in errors


def test_a_run_without_a_checkpoint_says_so(mnist_run, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(mnist_run / "config.json", run)
    status, _, errors = command("sample", "--run", str(run))
    assert status == 1 and "has no checkpoint yet" in errors


def _damage(run, how):
    checkpoints = run / "checkpoints"
    if how == "truncated":
        shard = max(checkpoints.glob("ckpt-*.data-*"))
        shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    elif how == "index":
        index = max(checkpoints.glob("ckpt-*.index"))
        index.write_bytes(index.read_bytes()[: index.stat().st_size // 2])
    elif how == "missing":
        for file in checkpoints.glob("ckpt-*"):
            file.unlink()
    elif how == "history":
        (checkpoints / "gan_run.json").write_text('{"history": ')
    elif how == "other models":
        state = json.loads((run / "config.json").read_text())
        state["config"].update(model="dcgan", image_shape=[28, 28, 1], discriminator="dc_discriminator",
                               generator="dc_generator", learning_rate=0.0002)
        (run / "config.json").write_text(json.dumps(state))


@pytest.mark.parametrize("how", ["truncated", "index", "missing", "other models"])
def test_an_unreadable_checkpoint_is_a_clear_error_for_sample_and_evaluate(mnist_run, tmp_path, how):
    run = tmp_path / "run"
    shutil.copytree(mnist_run, run)
    _damage(run, how)
    for name in ("sample", "evaluate"):
        status, _, errors = command(name, "--run", str(run))
        assert status == 1, name
        problem = "was saved for other models" if how == "other models" else "is unreadable"
        assert f"The checkpoint in {run / 'checkpoints'} {problem}" in errors and "Traceback" not in errors


def test_train_refuses_to_resume_when_no_checkpoint_is_readable(mnist_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(mnist_run, run)
    _damage(run, "truncated")  # the run's only checkpoint
    status, _, errors = command("train", "--out", str(run), "--epochs", "2", "--seed", "1", "--num-samples", "4")
    assert status == 1 and "is unreadable: ckpt-16 (" in errors and "--overwrite" in errors


def test_a_damaged_history_loses_the_losses_not_the_weights(mnist_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(mnist_run, run)
    _damage(run, "history")
    status, printed, errors = command("train", "--out", str(run), "--epochs", "2", "--seed", "1", "--num-samples", "4")
    assert status == 0, errors
    assert "resuming at step 16" in printed and "gan_run.json is unreadable" in printed
    history = json.loads((run / "checkpoints" / "gan_run.json").read_text())["history"]
    assert history["steps_done"] == 32 and len(history["d_loss"]) == 32
    assert all(np.isnan(history["d_loss"][:16])) and np.all(np.isfinite(history["d_loss"][16:]))


def test_a_truncated_newest_checkpoint_loses_only_itself(tmp_path):
    """Quick mode stops the first call at step 20, with checkpoints of steps 16 (epoch 1) and 20."""
    run = tmp_path / "run"
    arguments = ("--out", str(run), "--epochs", "2", "--seed", "1", "--print-every", "4", "--num-samples", "4")
    assert command("train", *arguments)[0] == 0
    assert sorted(p.name for p in (run / "checkpoints").glob("*.index")) == ["ckpt-16.index", "ckpt-20.index"]
    shard = run / "checkpoints" / "ckpt-20.data-00000-of-00001"
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])  # a crash while saving

    status, printed, errors = command("sample", "--run", str(run), "--n", "4", "--out", str(tmp_path / "grid.png"))
    assert status == 0, errors
    assert "unreadable: ckpt-20 (" in printed and "Using the one of step 16 instead, 4 steps older" in printed
    assert "checkpoint of step 16" in printed

    status, printed, errors = command("train", *arguments)
    assert status == 0, errors
    assert "resuming at step 16" in printed and "unreadable: ckpt-20 (" in printed
    assert "4 steps older. Those steps are trained again." in printed and "Completed: 32 steps, 2 epochs" in printed
    assert sorted(p.name for p in (run / "checkpoints").glob("*.index")) == ["ckpt-16.index", "ckpt-32.index"]
    history = json.loads((run / "checkpoints" / "gan_run.json").read_text())["history"]
    assert history["steps_done"] == 32 and np.all(np.isfinite(history["d_loss"]))


def test_sample_through_the_real_entry_point_exits_0(mnist_run, tmp_path):
    environment = {**os.environ, "GAN_COURSE_QUICK": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "gan_helpers", "sample", "--run", str(mnist_run), "--n", "4", "--out", str(tmp_path / "g.png")],
        capture_output=True, text=True, env=environment, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith(str(tmp_path / "g.png")) and (tmp_path / "g.png").is_file()
