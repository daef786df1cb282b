"""widgets: the live training view, the sample browser, latent interpolation, and the plain fallback.

The widget tests drive the view with a real (tiny) ``run_a_gan`` on real MNIST and read
the widgets' values, as a front end would see them. The fallback is tested where it
runs: in this plain Python process, and in a real notebook kernel that nobody watches
(as under nbval), which must print text and draw the grids inline, with no widgets and
no warnings; the same kernel shows the widget view when ``GAN_COURSE_WIDGETS=1``, and
always once it finds itself in Colab.
"""

import ast
import io
import os
import re
import warnings
from pathlib import Path

import types

import keras
import nbformat
import numpy as np
import pytest
from PIL import Image

import gan_helpers
from gan_helpers import GanHistory, display, load_mnist, losses, models, training, widgets

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def digits():
    (x_train, _), _ = load_mnist()
    return x_train[:256].reshape(-1, 784)


def tiny_run(digits, callbacks, **kwargs):
    D, G = models.discriminator(), models.generator()
    D_solver, G_solver = training.get_solvers()
    options = dict(show_every=4, print_every=2, batch_size=32, num_epochs=1, dataset=digits, seed=0)
    options.update(kwargs)
    history = training.run_a_gan(D, G, D_solver, G_solver, losses.discriminator_loss, losses.generator_loss,
                                 callbacks=callbacks, **options)
    return history, G


def png_size(data):
    with Image.open(io.BytesIO(data)) as picture:
        assert picture.format == "PNG"
        return picture.size


class Recorder:
    """Every value a widget trait takes, in order (what a front end would be sent)."""

    def __init__(self):
        self.values = {}

    def watch(self, name, widget, trait="value"):
        self.values[name] = [getattr(widget, trait)]
        widget.observe(lambda change: self.values[name].append(change["new"]), names=trait)


class WatchedView(display.LiveTraining):
    """The live view with a recorder attached to its parts as soon as they exist."""

    def __init__(self, **kwargs):
        super().__init__(display=False, plot_interval_s=0, **kwargs)
        self.recorder = Recorder()

    def begin(self):
        super().begin()
        for name in ("progress", "status", "losses", "samples", "samples_label"):
            self.recorder.watch(name, getattr(self, name))


@pytest.fixture(scope="module")
def watched_run(digits):
    view = WatchedView(print_summary=False)
    history, G = tiny_run(digits, [view])
    return view, history, G


def test_live_view_updates_in_place_as_training_runs(watched_run):
    view, history, _ = watched_run
    seen = view.recorder.values
    assert history.steps_done == 8 and view.progress.max == 8
    # the bar moves at every report (print_every=2), never backwards, and ends full and green
    assert seen["progress"][0] == 0 and seen["progress"][-1] == 8
    assert len(set(seen["progress"])) >= 4 and seen["progress"] == sorted(seen["progress"])
    assert view.progress.bar_style == "success" and view.progress.description == "100%"
    # the status line shows step, losses, speed and time left while training, a summary at the end
    during = [text for text in seen["status"] if "step 4/8" in text]
    assert during and "img/s" in during[0] and "left" in during[0] and "D loss" in during[0]
    assert view.status.value.startswith("<b>Completed: 8 steps, 1 epochs")
    # the loss plot is redrawn while training; the sample grid at steps 0, 4 and 8
    plots = [value for value in seen["losses"] if value]
    assert len(plots) >= 4 and png_size(plots[-1])[0] > 200
    assert len({value for value in seen["samples"] if value}) >= 3
    assert [label for label in seen["samples_label"] if "at step" in label][:3] == [
        "<b>Samples</b> at step 0", "<b>Samples</b> at step 4", "<b>Samples</b> at step 8"]
    # 4 x 4 MNIST digits (122 px) enlarged by whole pixels to about 256 px
    assert png_size(view.samples.value) == (244, 244)


def test_after_training_a_slider_browses_the_saved_grids(watched_run):
    view, history, _ = watched_run
    assert [step for step, _ in history.samples] == [0, 4, 8]
    assert view.browser is not None and view.browser in view.samples_box.children
    assert (view.browser.min, view.browser.max, view.browser.value) == (0, 2, 2)
    last = view.samples.value
    view.browser.value = 0
    assert view.samples.value != last
    assert view.samples_label.value == "<b>Samples</b> at step 0 (1 of 3)"
    assert view.samples.value == widgets.grid_png(history.samples[0][1])


def test_sample_browser_of_a_history(watched_run):
    _, history, _ = watched_run
    browser = widgets.SampleBrowser(history)
    assert browser.slider.max == 2 and "at step 8" in browser.label.value
    browser.slider.value = 1
    assert browser.label.value == "<b>Samples</b> at step 4 (2 of 3)"
    assert browser.image.value == widgets.grid_png(history.samples[1][1])
    with pytest.raises(TypeError, match="needs the history run_a_gan returns"):
        widgets.SampleBrowser(42)
    with pytest.raises(ValueError, match="no sample grids"):
        widgets.SampleBrowser(GanHistory())


def test_interpolation_moves_from_z0_to_z1(watched_run):
    _, _, G = watched_run
    z0, z1 = np.full((3, 96), -0.5, np.float32), np.full((3, 96), 0.5, np.float32)
    images = widgets.interpolation_images(G, z0, z1, [0.0, 0.5, 1.0])
    assert images.shape == (3, 3, 784)
    np.testing.assert_allclose(images[0], G(z0, training=False), atol=1e-5)
    np.testing.assert_allclose(images[2], G(z1, training=False), atol=1e-5)
    np.testing.assert_allclose(images[1], G(np.zeros((3, 96), np.float32), training=False), atol=1e-5)

    view = widgets.InterpolationView(G, num=4, seed=3)
    assert view.z0.shape == (4, 96) and not np.allclose(view.z0, view.z1)
    start = view.image.value
    view.slider.value = 1.0
    assert view.image.value != start and "t = 1.00" in view.label.value
    assert view.image.value == widgets.grid_png(G(view.z1, training=False).numpy(), ncols=4,
                                                width=2 * widgets.GRID_DISPLAY_WIDTH)
    with pytest.raises(ValueError, match="same shape"):
        widgets.interpolation_images(G, np.zeros(96), np.zeros(95), [0.5])
    with pytest.raises(ValueError, match="length 96"):
        widgets.InterpolationView(G, np.zeros(10), np.ones(10))


class Steps(keras.callbacks.Callback):
    """The steps done at each batch's end, and the epoch logs, as a learner's callback sees them."""

    def __init__(self):
        super().__init__()
        self.logged, self.epochs = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.logged.append(self.model.history.steps_done)

    def on_epoch_end(self, epoch, logs=None):
        logs["seen_by"] = "a learner's callback"


def test_plain_python_falls_back_to_text_without_warnings_and_callbacks_add_to_it(digits, capsys):
    assert not widgets.widget_frontend() and not widgets.in_notebook_kernel()
    assert [type(callback) for callback in display.default_display()] == [display.TextProgress]
    steps = Steps()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history, G = tiny_run(digits, [steps])
        widgets.browse_samples(history)
        widgets.latent_walk(G, num=2, steps=3)
    printed = capsys.readouterr().out
    assert printed.startswith("Training 1 epochs x 8 steps of 32 images (8 steps).\n")
    assert "step 4/8  epoch 1/1  D loss " in printed and "img/s" in printed
    assert "epoch 1/1 done at step 8: D loss " in printed and "Completed: 8 steps" in printed
    assert steps.logged == [1, 2, 3, 4, 5, 6, 7, 8]
    assert [str(warning.message) for warning in caught] == []


class SpyDisplay(display.Display):
    def __init__(self):
        super().__init__()
        self.epoch_logs = []

    def epoch_done(self, epoch, logs):
        self.epoch_logs.append(logs)


def test_the_learners_callbacks_run_before_the_display(digits, monkeypatch):
    spy = SpyDisplay()
    monkeypatch.setattr(display, "default_display", lambda: [spy])
    tiny_run(digits, [Steps()])
    (logs,) = spy.epoch_logs
    assert logs["seen_by"] == "a learner's callback" and logs["step"] == 8


def test_verbose_false_silences_the_display_and_a_display_given_replaces_it(digits, capsys):
    steps = Steps()
    tiny_run(digits, [steps], verbose=False)
    assert capsys.readouterr().out == "" and steps.logged == [1, 2, 3, 4, 5, 6, 7, 8]
    view = display.LiveTraining(display=False, print_summary=False)
    tiny_run(digits, view, print_every=4)
    assert capsys.readouterr().out == "" and view.progress.value == 8


class Terminal(io.StringIO):
    def isatty(self):
        return True


def attached(display, history, **params):
    """``display`` set up as ``run_a_gan`` sets it up, with ``params`` changed from a small run's."""
    display.set_params({"epochs": 2, "steps": 10, "batch_size": 8, "d_steps": 1, "start_step": 0, "end_step": 20,
                        "print_every": 5, "show_every": 10, "notes": [], **params})
    display.set_model(types.SimpleNamespace(history=history))
    return display


def test_on_a_terminal_the_text_is_a_keras_progress_bar_redrawn_in_place():
    import contextlib

    history = GanHistory()
    screen = Terminal()
    with contextlib.redirect_stdout(screen):
        text = attached(display.TextProgress(), history, start_step=4,
                        notes=["Quick mode (GAN_COURSE_QUICK is set): ..."])
        text.on_train_begin()
        for step in (5, 10):
            text.report(step, {"epoch": 1, "d_loss": 1.0, "g_loss": 2.0, "images_per_sec": 100.0, "seconds_left": 3.0})
        text.epoch_done(1, {"step": 10, "d_loss": 1.5, "g_loss": 2.5, "images_per_sec": 100.0})
        history.steps_done, history.epochs_done, history.elapsed_s, history.images_per_sec = 10, 1, 2.0, 100.0
        history.stopped, history.message = "interrupted", "Interrupted at step 10."
        text.on_train_end()
    lines = re.sub(r"\x1b\[[0-9;]*m", "", screen.getvalue()).split("\n")  # without the bar's colours
    assert lines[0] == ("Training 2 epochs x 10 steps of 8 images (20 steps, resuming at step 4). "
                        "Quick mode (GAN_COURSE_QUICK is set): ...")
    redrawn = lines[1].split("\r")[1:]  # both reports on one line, each after a carriage return
    assert len(redrawn) == 2
    assert " 1/16 " in redrawn[0] and " 6/16 " in redrawn[1] and "━" in redrawn[1]  # this call's 16 steps
    assert "D loss: 1.0000 - G loss: 2.0000" in redrawn[1]
    assert lines[2:] == ["epoch 1/2 done at step 10: D loss 1.5000  G loss 2.5000 (means), 100 img/s",
                         "Interrupted: 10 steps, 1 epochs, 2s, 100 img/s.", "Interrupted at step 10.", ""]


def test_training_imports_the_display_only_when_a_call_starts():
    assert "LiveTraining" in gan_helpers.__all__ and gan_helpers.latent_walk is widgets.latent_walk
    tree = ast.parse((ROOT / "gan_helpers" / "training.py").read_text())
    top_level = {alias.name for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
                 for alias in node.names} | {node.module for node in tree.body if isinstance(node, ast.ImportFrom)}
    assert not any("widgets" in str(name) or "display" in str(name) for name in top_level)


KERNEL_RUN = """\
import warnings
from gan_helpers import load_mnist, losses, models, training
(x, _), _ = load_mnist()
def tiny_run():
    D, G = models.discriminator(), models.generator()
    D_solver, G_solver = training.get_solvers()
    return training.run_a_gan(D, G, D_solver, G_solver, losses.discriminator_loss, losses.generator_loss,
                              show_every=4, print_every=2, batch_size=32, num_epochs=1,
                              dataset=x[:128].reshape(-1, 784), seed=0)
"""

KERNEL_FALLBACK = """\
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    history = tiny_run()
print("python warnings:", [str(w.message) for w in caught])
"""

KERNEL_WIDGETS = """\
import os, types
from gan_helpers import display
os.environ["GAN_COURSE_WIDGETS"] = "1"
(view,) = display.default_display()
assert type(view) is display.LiveTraining
view.set_params({"epochs": 1, "steps": 4, "batch_size": 32, "d_steps": 1, "start_step": 0, "end_step": 4,
                 "print_every": 2, "show_every": 4, "notes": []})
view.set_model(types.SimpleNamespace(history=history))
view.on_train_begin()
"""


KERNEL_COLAB = """\
import sys, types
from gan_helpers import widgets
os.environ.pop("GAN_COURSE_WIDGETS")
assert not widgets.widget_frontend()
colab = types.ModuleType("google.colab")  # what Colab's kernel has imported
colab.output = types.SimpleNamespace(enable_custom_widget_manager=lambda: print("custom widget manager on"))
sys.modules["google.colab"] = colab
assert widgets.widget_frontend()
widgets.browse_samples(history)
"""


def test_in_an_unwatched_kernel_text_and_inline_grids_and_widgets_only_when_asked(tmp_path):
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in
                                               (KERNEL_RUN, KERNEL_FALLBACK, KERNEL_WIDGETS, KERNEL_COLAB)])
    env = dict(os.environ, GAN_COURSE_QUICK="1", PYTEST_CURRENT_TEST="tests/test_widgets.py::kernel (call)")
    env.pop(widgets.WIDGETS_ENV, None)
    client = NotebookClient(notebook, kernel_name="python3", timeout=120,
                            resources={"metadata": {"path": str(tmp_path)}})
    with client.setup_kernel(env=env):
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)

    fallback = notebook.cells[1].outputs
    text = "".join(output.get("text", "") for output in fallback if output.output_type == "stream"
                   and output.name == "stdout")
    assert "step 2/4" in text and "img/s" in text and "Completed: 4 steps" in text
    assert "python warnings: []" in text
    pictures = [output for output in fallback if output.output_type == "display_data"]
    assert len(pictures) == 2 and all("image/png" in output.data for output in pictures)  # steps 0 and 4
    assert not any("application/vnd.jupyter.widget-view+json" in output.get("data", {}) for output in fallback)
    errors = "".join(output.get("text", "") for output in fallback if output.get("name") == "stderr")
    assert "Warning" not in errors

    shown = notebook.cells[2].outputs
    assert [output.output_type for output in shown] == ["display_data"]
    assert "application/vnd.jupyter.widget-view+json" in shown[0].data

    colab = notebook.cells[3].outputs
    assert [output.text for output in colab if output.output_type == "stream"] == ["custom widget manager on\n"]
    assert ["application/vnd.jupyter.widget-view+json" in output.get("data", {}) for output in colab
            if output.output_type == "display_data"] == [True]
