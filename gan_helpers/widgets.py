"""Watching a GAN train, and exploring a trained generator: sliders with a static fallback.

``run_a_gan`` shows :func:`default_display` while it trains (``verbose=False`` leaves
it out; its ``callbacks`` are added to it):

- in a notebook with a widget front end (JupyterLab, Jupyter Notebook, VS Code,
  Colab), :class:`LiveTraining`: a progress bar, the step, epoch, losses, images per
  second and time left, the loss curves and the latest grid of samples, updated in
  place; when training ends, a slider browses every grid saved during training;
- where no widget front end runs (a notebook executed by nbval or by the grader),
  :class:`TextProgress`, a line of text per report, and each sample grid drawn inline
  (``viz.show_images``): no widgets, no errors, no warnings;
- in plain Python and on the command line, :class:`TextProgress`: on a terminal a bar
  redrawn in place (``keras.utils.Progbar``), elsewhere (a log file, CI) a line per report.

All of them say the same thing at the start and the end (:func:`start_text`,
:func:`status_parts`, :func:`end_text`).

Tools for after training, each a widget where one can be shown, else a static picture:

- :func:`browse_samples` ``(history)``: a slider over the grids in ``history.samples``;
- :func:`latent_walk` ``(G)``: a slider over ``t`` in [0, 1] drawing
  ``G((1 - t) z0 + t z1)`` for a few pairs of noise vectors;
- :func:`conditional_explorer` ``(G)``, for a conditional generator ``G([noise, labels])``:
  a slider for the class and one for the noise (static: a grid of noise x classes).
  :func:`same_noise_images` and :func:`class_interpolation_images` compute the pictures
  of notebook 12: one noise drawn as every class, and a class morphing into another.

Which display runs is decided by :func:`widget_frontend` each time ``run_a_gan``
starts. The environment variable ``GAN_COURSE_WIDGETS`` overrides it: ``0`` always
gives plain output, ``1`` gives widgets in any notebook kernel (even one started by a
test). ``training`` imports this module only when a call starts, never at import.
"""

import contextlib
import html
import io
import os
import sys
import time

import numpy as np

from gan_helpers import viz
from gan_helpers.training import GanCallback

WIDGETS_ENV = "GAN_COURSE_WIDGETS"
_OFF = ("0", "false", "no", "off")
_ON = ("1", "true", "yes", "on")

# Sample grids are enlarged (whole pixels) to about this width on screen.
GRID_DISPLAY_WIDTH = 256
# The loss plot is redrawn at most this often while training (seconds); always at the end.
PLOT_INTERVAL_S = 1.0


# ----------------------------------------------------------------- where are we running?


def _ipython_shell():
    """The running IPython shell, or None (IPython is not imported just to ask)."""
    ipython = sys.modules.get("IPython")
    try:
        return None if ipython is None else ipython.get_ipython()
    except Exception:  # an IPython that cannot answer: treat as plain Python
        return None


def in_notebook_kernel():
    """True inside a Jupyter kernel (ipykernel's shell, Colab's included)."""
    zmqshell = sys.modules.get("ipykernel.zmqshell")
    return zmqshell is not None and isinstance(_ipython_shell(), zmqshell.ZMQInteractiveShell)


def _in_colab():
    return "google.colab" in sys.modules


def _ipywidgets_importable():
    try:
        import ipywidgets  # noqa: F401
    except Exception:
        return False
    return True


def widget_frontend():
    """True when widgets shown now would be seen: a notebook front end is attached.

    - ``GAN_COURSE_WIDGETS=0`` (or false/no/off): False.
    - Not in a notebook kernel (plain Python, the command line, terminal IPython): False.
    - In Google Colab: True.
    - Under pytest (nbval runs the notebooks in kernels nobody looks at, and those
      kernels inherit ``PYTEST_CURRENT_TEST``): False, unless ``GAN_COURSE_WIDGETS=1``.
    - Otherwise, in a kernel: True when ipywidgets can be imported.
    """
    setting = os.environ.get(WIDGETS_ENV, "").strip().lower()
    if setting in _OFF or _ipython_shell() is None:
        return False
    if _in_colab():
        return _ipywidgets_importable()
    if not in_notebook_kernel() or not _ipywidgets_importable():
        return False
    return setting in _ON or "PYTEST_CURRENT_TEST" not in os.environ


def _display(widget):
    """Show a widget in the notebook; on Colab turn on its manager for ipywidgets 8 first."""
    from IPython.display import display

    if _in_colab():
        with contextlib.suppress(Exception):  # an older Colab: its own widget manager is used
            from google.colab import output

            output.enable_custom_widget_manager()
    display(widget)


# ------------------------------------------ pictures as PNG bytes (for ipywidgets.Image)


def grid_png(images, *, ncols=None, width=GRID_DISPLAY_WIDTH):
    """A batch of images as one grid (``viz.image_grid``), enlarged to about ``width`` px, as PNG bytes."""
    grid = viz.image_grid(images, ncols=ncols)
    buffer = io.BytesIO()
    viz.grid_picture(grid, max(1, int(width) // grid.shape[1])).save(buffer, format="PNG")
    return buffer.getvalue()


def losses_png(d_loss, g_loss):
    """The loss curves (``viz.plot_losses``) as PNG bytes, 400 x 224 px, drawn off-screen (no pyplot)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.0, 2.8), dpi=80)
    ax = figure.add_subplot()
    viz.plot_losses({"d_loss": list(d_loss), "g_loss": list(g_loss)}, ax=ax)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


# --------------------------------------------------------------- what every display says


def format_seconds(seconds):
    """'42s', '3m05s' or '1h02m' for a duration in seconds."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def start_text(run):
    """'Training 10 epochs x 469 steps of 128 images (4690 steps, resuming at step 20).' and the run's notes."""
    total = run.total_steps if run.total_steps is not None else "?"
    resumed = f", resuming at step {run.start_step}" if run.start_step else ""
    return " ".join([f"Training {run.num_epochs} epochs x {run.steps_per_epoch or '?'} steps of {run.batch_size} "
                     f"images ({total} steps{resumed}).", *run.notes])


def status_parts(run, step, logs):
    """``['step 330/938', 'epoch 1/2', 'D loss 1.2034', 'G loss 0.8713', '5,210 img/s', '~1m05s left']``.

    Losses, speed and time left appear when ``logs`` has them.
    """
    total = run.total_steps if run.total_steps is not None else "?"
    parts = [f"step {step}/{total}", f"epoch {logs.get('epoch', '?')}/{run.num_epochs}"]
    if "d_loss" in logs:
        parts += [f"D loss {logs['d_loss']:.4f}", f"G loss {logs['g_loss']:.4f}"]
    if logs.get("images_per_sec") is not None:
        parts.append(f"{logs['images_per_sec']:,.0f} img/s")
    if logs.get("seconds_left") is not None:
        parts.append(f"~{format_seconds(logs['seconds_left'])} left")
    return parts


def end_text(history):
    """'Completed: 4690 steps, 10 epochs, 3m20s, 3,005 img/s.' and, after an early stop, why."""
    summary = (f"{history.stopped.capitalize()}: {history.steps_done} steps, {history.epochs_done} epochs, "
               f"{format_seconds(history.elapsed_s)}, {history.images_per_sec:,.0f} img/s.")
    return f"{summary}\n{history.message}" if history.message else summary


def epoch_text(run, epoch, logs):
    """'epoch 2/10 done at step 938: D loss 1.2034  G loss 0.8713 (means), 5,210 img/s'."""
    return (f"epoch {epoch}/{run.num_epochs} done at step {logs['step']}: D loss {logs['d_loss']:.4f}  "
            f"G loss {logs['g_loss']:.4f} (means), {logs['images_per_sec']:,.0f} img/s")


# --------------------------------------------- plain text: lines, or a bar on a terminal


class TextProgress(GanCallback):
    """Progress as text: a line per report and per epoch; on a terminal, a bar redrawn in place.

    On a terminal (``sys.stdout.isatty()``) the reports move a ``keras.utils.Progbar``
    over this call's steps (with its time left and time per step, and the losses);
    elsewhere (a notebook, a log file, CI) each report prints one line of
    :func:`status_parts`. Both print :func:`start_text`, a line per epoch and :func:`end_text`.
    """

    is_display = True

    def on_train_begin(self, run):
        import keras

        self.run = run
        self.bar = None
        if sys.stdout.isatty():
            steps = run.end_step - run.start_step
            self.bar = keras.utils.Progbar(steps if np.isfinite(steps) else None, unit_name="step", interval=0,
                                           stateful_metrics=["D loss", "G loss"])
        self.open_line = False
        print(start_text(run), flush=True)

    def on_log(self, step, logs):
        if self.bar is None:
            print("  ".join(status_parts(self.run, step, logs)), flush=True)
            return
        self.bar.update(step - self.run.start_step, [("D loss", logs["d_loss"]), ("G loss", logs["g_loss"])],
                        finalize=False)
        self.open_line = True
        sys.stdout.flush()

    def _line(self, text):
        if self.open_line:
            print()
            self.open_line = False
        print(text, flush=True)

    def on_epoch_end(self, epoch, logs):
        self._line(epoch_text(self.run, epoch, logs))

    def on_train_end(self, history):
        self._line(end_text(history))


# ---------------------------------------------------------------- the live training view


class LiveTraining(GanCallback):
    """A widget that shows a ``run_a_gan`` run as it trains (``callbacks=[LiveTraining()]``).

    Its parts are attributes, so a notebook (or a test) can read them: ``progress``
    (an ``IntProgress`` of steps, or of epochs while the data set's length is unknown),
    ``status`` (HTML: step, epoch, losses, images per second, time left), ``losses``
    and ``samples`` (``Image`` widgets with PNG pictures), ``samples_label``, and, once
    training has ended, ``browser`` (an ``IntSlider`` over the saved sample grids).
    ``widget`` is the whole view.

    Args:
        display: show the view when training begins (False builds it only).
        plot_interval_s: redraw the loss curves at most this often while training.
        print_summary: print :func:`end_text` at the end too (it stays in a saved
            notebook, where widgets do not).
    """

    is_display = True

    def __init__(self, *, display=True, plot_interval_s=PLOT_INTERVAL_S, print_summary=True):
        self.display = display
        self.plot_interval_s = plot_interval_s
        self.print_summary = print_summary
        self.widget = None
        self.run = None
        self.browser = None

    def _build(self, run):
        import ipywidgets as w

        self._by_epochs = not np.isfinite(run.end_step)
        steps = 0 if self._by_epochs else int(run.end_step - run.start_step)
        self.title = w.HTML(html.escape(start_text(run)))
        self.progress = w.IntProgress(value=0, min=0, max=max(1, run.num_epochs if self._by_epochs else steps),
                                      description="0%", bar_style="info",
                                      layout=w.Layout(width="320px"))
        self.status = w.HTML("starting...")
        self.losses = w.Image(value=b"", format="png", layout=w.Layout(width="400px"))
        self.losses_label = w.HTML("<b>Losses</b> (from the first report on)")
        self.samples = w.Image(value=b"", format="png", layout=w.Layout(width=f"{GRID_DISPLAY_WIDTH}px"))
        self.samples_label = w.HTML("<b>Samples</b>")
        self.samples_box = w.VBox([self.samples_label, self.samples])
        self.widget = w.VBox([
            self.title,
            w.HBox([self.progress, self.status]),
            w.HBox([w.VBox([self.losses_label, self.losses]), self.samples_box]),
        ])
        self.widget.add_class("gan-live-training")

    def _set_progress(self, step=None, epochs_done=None):
        """Move the bar: by steps (this call's), or by epochs done while the length is unknown."""
        if self._by_epochs:
            if epochs_done is not None:
                self.progress.value = int(min(max(epochs_done, 0), self.progress.max))
        elif step is not None:
            self.progress.value = int(min(max(step - self.run.start_step, 0), self.progress.max))
        self.progress.description = f"{100 * self.progress.value / max(self.progress.max, 1):.0f}%"

    def _status_html(self, step, logs):
        first, *rest = status_parts(self.run, step, logs)
        return " &nbsp;·&nbsp; ".join([f"<b>{first}</b>", *rest])

    def _plot(self, force=False):
        history, now = self.run.history, time.monotonic()
        too_soon = not force and now - self._last_plot < self.plot_interval_s
        if too_soon or not (history.d_loss or history.g_loss):
            return
        self._last_plot = now
        self.losses.value = losses_png(history.d_loss, history.g_loss)
        self.losses_label.value = f"<b>Losses</b> ({len(history.d_loss)} steps)"

    def on_train_begin(self, run):
        self.run = run
        self.browser = None
        self._last_plot = -np.inf
        self._logs = {}
        self._build(run)
        if self.display:
            _display(self.widget)

    def on_log(self, step, logs):
        self._logs = dict(logs)
        self._set_progress(step=step, epochs_done=logs.get("epoch", 1) - 1)
        self.status.value = self._status_html(step, logs)
        self._plot()

    def on_samples(self, step, images):
        self.samples.value = grid_png(images)
        self.samples_label.value = f"<b>Samples</b> at step {step}"
        if step > self.run.start_step:
            self._set_progress(step=step)

    def on_epoch_end(self, epoch, logs):
        self._logs.update(epoch=epoch, images_per_sec=logs.get("images_per_sec"))
        step = logs.get("step", self.run.history.steps_done)
        self._set_progress(step=step, epochs_done=epoch)
        self.status.value = self._status_html(step, {**self._logs, "d_loss": logs["d_loss"],
                                                      "g_loss": logs["g_loss"], "seconds_left": None})

    def on_train_end(self, history):
        self._set_progress(step=history.steps_done, epochs_done=history.epochs_done)
        if history.stopped == "completed" and not self._by_epochs:
            self.progress.value = self.progress.max
            self.progress.description = "100%"
        self.progress.bar_style = {"completed": "success", "interrupted": "warning"}.get(history.stopped, "danger")
        self._plot(force=True)
        if history.samples:
            self.browser = _grid_slider(history.samples, self.samples, self.samples_label)
            self.samples_box.children = (self.samples_label, self.samples, self.browser)
        summary, *message = html.escape(end_text(history)).split("\n", 1)
        self.status.value = f"<b>{summary}</b>" + "".join(f"<br>{part}" for part in message)  # last: the view is complete
        if self.print_summary:
            print(end_text(history))


class InlineSamples(GanCallback):
    """Plain-output fallback for samples: draws each grid with ``viz.show_images`` (titled by step)."""

    def on_samples(self, step, images):
        viz.show_images(images, title=f"step {step}")


def default_display():
    """What ``run_a_gan`` shows unless told ``verbose=False``: the live view where widgets show, text elsewhere.

    With a widget front end: ``[LiveTraining()]``. In a notebook kernel without one
    (nbval, the grader): ``[TextProgress(), InlineSamples()]``. In plain Python or on
    the command line: ``[TextProgress()]`` (no figures: a plotting window would stop
    training until it is closed).
    """
    if widget_frontend():
        return [LiveTraining()]
    if in_notebook_kernel():
        return [TextProgress(), InlineSamples()]
    return [TextProgress()]


# ------------------------------------------------------- browsing the saved sample grids


def _history_samples(history):
    samples = getattr(history, "samples", history)
    try:
        samples = list(samples)
        ok = all(len(entry) == 2 for entry in samples)
    except TypeError:
        ok = False
    if not ok:
        raise TypeError("browse_samples needs the history run_a_gan returns (or its .samples, a list of "
                        f"(step, images) pairs), not {type(history).__name__}.")
    if not samples:
        raise ValueError("The history holds no sample grids: train with run_a_gan first "
                         "(it saves a grid every show_every steps).")
    return samples


def _grid_slider(entries, image, label):
    """An ``IntSlider`` over (step, images) ``entries``, at the last one, showing its grid in ``image``.

    ``image`` is an ``Image`` widget, ``label`` an ``HTML`` one that names the grid's step.
    """
    import ipywidgets as w

    def show(change):
        step, images = entries[change["new"]]
        image.value = grid_png(images)
        label.value = f"<b>Samples</b> at step {step} ({change['new'] + 1} of {len(entries)})"

    last = len(entries) - 1
    slider = w.IntSlider(value=last, min=0, max=last, description="grid", readout=False)
    slider.observe(show, names="value")
    show({"new": slider.value})
    return slider


class _View:
    """A view whose whole widget is ``widget``: in a notebook it shows itself as a cell's last value."""

    def _ipython_display_(self):
        _display(self.widget)


class SampleBrowser(_View):
    """A slider over the sample grids saved during training (``history.samples``).

    ``widget`` is the whole view; ``slider`` picks a grid, ``image`` shows it and
    ``label`` names its step.
    """

    def __init__(self, history):
        import ipywidgets as w

        self.entries = _history_samples(history)
        self.label = w.HTML()
        self.image = w.Image(value=b"", format="png", layout=w.Layout(width=f"{GRID_DISPLAY_WIDTH}px"))
        self.slider = _grid_slider(self.entries, self.image, self.label)
        self.widget = w.VBox([self.label, self.image, self.slider])


def browse_samples(history, *, max_static=4):
    """Browse the sample grids of a training run: a slider in a notebook, else a few grids.

    Args:
        history: what ``run_a_gan`` returned (or its ``samples`` list).
        max_static: without widgets, how many grids to draw (evenly spaced, the last included).
    """
    entries = _history_samples(history)
    if widget_frontend():
        _display(SampleBrowser(entries).widget)
        return
    picks = sorted(set(np.linspace(0, len(entries) - 1, min(max_static, len(entries))).round().astype(int)))
    for index in picks:
        step, images = entries[index]
        viz.show_images(images, title=f"step {step}")


# ------------------------------------------------------------------ latent interpolation


def _as_noise_pairs(z0, z1, size):
    z0, z1 = np.atleast_2d(np.asarray(z0, dtype=np.float32)), np.atleast_2d(np.asarray(z1, dtype=np.float32))
    if z0.shape != z1.shape or z0.ndim != 2:
        raise ValueError(f"z0 and z1 must have the same shape, (noise_size,) or (n, noise_size); "
                         f"got {z0.shape} and {z1.shape}.")
    if size is not None and z0.shape[1] != size:
        raise ValueError(f"G takes noise vectors of length {size}, but z0 and z1 have length {z0.shape[1]}.")
    return z0, z1


def interpolation_images(G, z0, z1, ts):
    """``G((1 - t) z0 + t z1)`` for each ``t`` in ``ts``: numpy (len(ts), n, ...) in G's output range.

    ``z0`` and ``z1`` are one noise vector each (noise_size,) or ``n`` of them (n, noise_size);
    the codes come from ``ops.interpolate_noise``.
    """
    from gan_helpers.ops import interpolate_noise

    z0, z1 = _as_noise_pairs(z0, z1, None)
    codes = interpolate_noise(z0, z1, ts)
    images = np.asarray(G(codes.reshape(-1, z0.shape[1]), training=False), dtype=np.float32)
    return images.reshape(codes.shape[:2] + images.shape[1:])


def _default_pairs(G, z0, z1, num, seed):
    """``_as_noise_pairs(z0, z1)``, an end not given drawn as ``num`` uniform noise vectors with ``seed``."""
    from gan_helpers.metrics import generator_noise_size, is_conditional
    from gan_helpers.ops import sample_noise

    try:
        size = None if is_conditional(G) else generator_noise_size(G)
    except ValueError:
        size = None
    if size is None and (z0 is None or z1 is None):
        raise ValueError("Cannot tell how long G's noise vectors are: build G first (call it once) "
                         "or pass noise vectors z0 and z1.")
    if z0 is None:
        z0 = np.asarray(sample_noise(num, size, seed=seed))
    if z1 is None:
        z1 = np.asarray(sample_noise(num, size or np.asarray(z0).shape[-1], seed=seed + 1))
    return _as_noise_pairs(z0, z1, size)


class InterpolationView(_View):
    """A slider over ``t`` in [0, 1] and the images ``G((1 - t) z0 + t z1)`` for ``n`` pairs, in a row.

    ``widget`` is the whole view, ``slider`` the ``FloatSlider`` of ``t``, ``image``
    the picture. ``z0`` and ``z1`` default to ``num`` pairs of noise drawn with ``seed``.
    """

    def __init__(self, G, z0=None, z1=None, *, num=8, steps=21, seed=0):
        import ipywidgets as w

        self.G = G
        self.z0, self.z1 = _default_pairs(G, z0, z1, num, seed)
        self.label = w.HTML()
        self.image = w.Image(value=b"", format="png")
        self.slider = w.FloatSlider(value=0.0, min=0.0, max=1.0, step=1.0 / max(int(steps) - 1, 1),
                                    description="t", continuous_update=True, readout_format=".2f")
        self.slider.observe(self._show, names="value")
        self._show({"new": 0.0})
        self.widget = w.VBox([self.label, self.image, self.slider])

    def _show(self, change):
        t = float(change["new"])
        images = interpolation_images(self.G, self.z0, self.z1, [t])[0]
        self.image.value = grid_png(images, ncols=len(images), width=GRID_DISPLAY_WIDTH * 2)
        self.label.value = f"<b>G((1 - t) z0 + t z1)</b> at t = {t:.2f}, {len(images)} pairs of noise vectors"


def latent_walk(G, z0=None, z1=None, *, num=8, steps=9, seed=0):
    """Walk the generator's latent space from ``z0`` to ``z1``: a slider in a notebook, else a grid.

    Args:
        G: a generator (noise (n, noise_size) -> images).
        z0, z1: the two ends, one vector (noise_size,) or ``n`` of them; default ``num``
            pairs of uniform noise drawn with ``seed``.
        steps: without widgets, the number of columns of the grid (``t`` from 0 to 1),
            one row per pair; the slider moves in steps of 0.05.
    """
    if widget_frontend():
        _display(InterpolationView(G, z0, z1, num=num, seed=seed).widget)
        return
    z0, z1 = _default_pairs(G, z0, z1, num, seed)
    images = interpolation_images(G, z0, z1, np.linspace(0.0, 1.0, max(int(steps), 2)))
    rows = np.swapaxes(images, 0, 1)  # (pairs, steps, ...)
    viz.show_images(rows.reshape((-1,) + rows.shape[2:]), ncols=rows.shape[1],
                    title="from z0 (left) to z1 (right), one row per pair")



# -------------------------------- conditional generators: pick the class, keep the style


def _conditional_parts(G):
    """G's noise input size and number of classes, for a conditional generator ``G([noise, labels])``."""
    from gan_helpers.metrics import generator_noise_size, is_conditional
    from gan_helpers.models import NUM_CLASSES, label_classes

    if not is_conditional(G):
        raise ValueError("This needs a conditional generator, one that takes [noise, labels] "
                         "(G([noise, labels])); this one takes a single input.")
    return generator_noise_size(G), label_classes(G) or NUM_CLASSES


def labelled_images(G, noise, labels):
    """``G([noise, labels])`` in inference mode, as numpy float32.

    ``noise``: (n, noise_size) floats (numpy or a tensor); ``labels``: n integers, or one
    integer for all. Both are handed to G as tensors (Keras refuses a list mixing
    tensors and numpy arrays).
    """
    import tensorflow as tf

    noise = tf.convert_to_tensor(np.asarray(noise, dtype=np.float32))
    labels = np.broadcast_to(np.asarray(labels, dtype=np.int32), (noise.shape[0],))
    return np.asarray(G([noise, tf.constant(labels)], training=False), dtype=np.float32)


def same_noise_images(G, noise):
    """Every class drawn from each noise vector: numpy (n, num_classes, ...), row i from ``noise[i]``.

    With the noise fixed, only the label changes along a row: what stays the same is
    what the noise controls (slant, thickness, size: the style).
    """
    _, num_classes = _conditional_parts(G)
    noise = np.atleast_2d(np.asarray(noise, dtype=np.float32))
    images = labelled_images(G, np.repeat(noise, num_classes, axis=0), np.tile(np.arange(num_classes), len(noise)))
    return images.reshape((len(noise), num_classes) + images.shape[1:])


def _label_code_path(G):
    """The layers from G's label input to the first whose output is floating point: the label's code
    (an embedding or a one-hot vector). Raises ValueError when the labels reach no such layer on their own."""
    import keras

    try:
        current = G.inputs[1]
    except (AttributeError, IndexError, TypeError, ValueError):
        raise ValueError("Class interpolation needs a functional conditional generator G([noise, labels]).") from None
    path = []
    for layer in G.layers:
        try:
            layer_inputs = keras.tree.flatten(layer.input)
        except (AttributeError, ValueError):  # an input layer, or a layer used twice
            continue
        if not any(tensor is current for tensor in layer_inputs):
            continue
        if len(layer_inputs) != 1:
            break
        path.append(layer)
        current = layer.output
        if "float" in str(current.dtype):
            return path
    raise ValueError("Cannot find where G turns the labels into a vector (an Embedding or a one-hot "
                     "encoding fed by the label input alone), so it cannot mix two classes.")


def class_interpolation_images(G, noise, start_label, end_label, ts):
    """Images between two classes with the noise fixed: numpy (len(ts), n, ...).

    The label's code (G's label embedding, or one-hot vector) moves in a straight line
    from ``start_label``'s (t = 0) to ``end_label``'s (t = 1) while ``noise`` (n, noise_size)
    stays the same, so the style stays and the class morphs. G is not changed: a copy
    that shares its layers, with the label's code layer replaced by a table of the mixed
    codes, draws the frames.
    """
    import keras
    import tensorflow as tf

    path = _label_code_path(G)
    codes = tf.constant([start_label, end_label], tf.int32)
    for layer in path:
        codes = layer(codes)
    codes = np.asarray(codes, dtype=np.float32).reshape(2, -1)
    ts = np.asarray(ts, dtype=np.float32).reshape(-1)
    table = keras.layers.Embedding(len(ts), codes.shape[1])
    code_layer = path[-1]
    if tuple(table.compute_output_shape(code_layer.input.shape)) != tuple(code_layer.output.shape):
        raise ValueError(f"G's label code has shape {tuple(code_layer.output.shape)}: class interpolation "
                         "needs one vector per label.")
    table.build((None,))
    table.set_weights([(1.0 - ts[:, None]) * codes[0] + ts[:, None] * codes[1]])
    mixer = keras.models.clone_model(G, clone_function=lambda layer: table if layer is code_layer else layer)
    noise = tf.constant(np.atleast_2d(np.asarray(noise, dtype=np.float32)))
    frames = [mixer([noise, tf.fill((noise.shape[0],), index)], training=False) for index in range(len(ts))]
    return np.stack([np.asarray(frame, np.float32) for frame in frames])


class ConditionalExplorer(_View):
    """Two sliders, the class and the noise, and what a conditional generator draws from them.

    ``digit`` picks the label, ``noise`` the seed of one noise vector (``sample_noise``);
    ``image`` shows G([noise, digit]) enlarged, ``row`` the same noise drawn as every class.
    """

    def __init__(self, G, *, digit=0, seed=0, max_seed=99):
        import ipywidgets as w

        self.G = G
        self.noise_size, self.num_classes = _conditional_parts(G)
        self.label = w.HTML()
        self.image = w.Image(value=b"", format="png", layout=w.Layout(width="140px"))
        self.row = w.Image(value=b"", format="png")
        self.digit = w.IntSlider(value=digit, min=0, max=self.num_classes - 1, description="class")
        self.noise = w.IntSlider(value=seed, min=0, max=max_seed, description="noise")
        for slider in (self.digit, self.noise):
            slider.observe(self._show, names="value")
        self._show()
        self.widget = w.VBox([self.label, w.HBox([self.image, self.row]), self.digit, self.noise])

    def _show(self, change=None):
        from gan_helpers.ops import sample_noise

        z = np.asarray(sample_noise(1, self.noise_size, seed=int(self.noise.value)))
        every_class = same_noise_images(self.G, z)[0]
        self.image.value = grid_png(every_class[self.digit.value: self.digit.value + 1], width=140)
        self.row.value = grid_png(every_class, ncols=self.num_classes, width=GRID_DISPLAY_WIDTH * 2)
        self.label.value = (f"<b>G([noise #{self.noise.value}, {self.digit.value}])</b>; right: the same noise, "
                            f"every class 0 to {self.num_classes - 1}")


def conditional_explorer(G, *, digit=0, seed=0, max_seed=99, static_rows=4):
    """Pick a class and a noise vector and see what a conditional generator draws.

    A notebook with widgets shows :class:`ConditionalExplorer` (a slider for the class,
    one for the noise). Without widgets, a grid: ``static_rows`` noise vectors (seeds
    ``seed``, ``seed + 1``, ...), one per row, each drawn as every class.
    """
    if widget_frontend():
        _display(ConditionalExplorer(G, digit=digit, seed=seed, max_seed=max_seed).widget)
        return
    from gan_helpers.ops import sample_noise

    noise_size, num_classes = _conditional_parts(G)
    noise = np.concatenate([np.asarray(sample_noise(1, noise_size, seed=seed + row)) for row in range(static_rows)])
    images = same_noise_images(G, noise)
    viz.show_images(images.reshape((-1,) + images.shape[2:]), ncols=num_classes,
                    title=f"noise #{seed} to #{seed + static_rows - 1} (rows), classes 0 to {num_classes - 1} (columns)")
