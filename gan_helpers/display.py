"""What ``run_a_gan`` shows while it trains: the course's displays, as Keras callbacks.

``run_a_gan`` adds :func:`default_display` after the learner's callbacks (``verbose=False``
leaves it out; a display among the callbacks replaces it):

- in a notebook with a widget front end (JupyterLab, Jupyter Notebook, VS Code,
  Colab), :class:`LiveTraining`: a progress bar, the step, epoch, losses, images per
  second and time left, the loss curves and the latest grid of samples, updated in
  place; when training ends, a slider browses every grid saved during training;
- where no widget front end runs (a notebook executed by nbval or by the grader),
  :class:`TextProgress`, a line of text per report, and each sample grid drawn inline
  (:class:`InlineSamples`, ``viz.show_images``): no widgets, no errors, no warnings;
- in plain Python and on the command line, :class:`TextProgress`: on a terminal a bar
  redrawn in place (``keras.utils.Progbar``), elsewhere (a log file, CI) a line per report.

All of them say the same thing at the start and the end (:func:`start_text`,
:func:`status_parts`, :func:`end_text`), and share :class:`Display`, which decides when
to say what. Which one runs is decided by ``widgets.widget_frontend`` each time
``run_a_gan`` starts (``GAN_COURSE_WIDGETS`` overrides it). ``training`` imports this
module only when a call starts, never at import.
"""

import html
import sys
import time

import keras
import numpy as np

from gan_helpers import viz
from gan_helpers.widgets import (GRID_DISPLAY_WIDTH, grid_png, grid_slider, in_notebook_kernel, losses_png,
                                 show_widget, widget_frontend)

# The loss plot is redrawn at most this often while training (seconds); always at the end.
PLOT_INTERVAL_S = 1.0


# --------------------------------------------------------------- what every display says


def format_seconds(seconds):
    """'42s', '3m05s' or '1h02m' for a duration in seconds."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def start_text(params):
    """'Training 10 epochs x 469 steps of 128 images (4690 steps, resuming at step 20).' and the run's notes.

    ``params``: a display's ``self.params`` (see ``gan_helpers.callbacks``)."""
    resumed = f", resuming at step {params['start_step']}" if params["start_step"] else ""
    return " ".join([f"Training {params['epochs']} epochs x {params['steps']} steps of {params['batch_size']} "
                     f"images ({params['epochs'] * params['steps']} steps{resumed}).", *params["notes"]])


def status_parts(params, step, logs):
    """``['step 330/938', 'epoch 1/2', 'D loss 1.2034', 'G loss 0.8713', '5,210 img/s', '~1m05s left']``.

    Losses, speed and time left appear when ``logs`` has them.
    """
    parts = [f"step {step}/{params['epochs'] * params['steps']}", f"epoch {logs.get('epoch', '?')}/{params['epochs']}"]
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


def epoch_text(params, epoch, logs):
    """'epoch 2/10 done at step 938: D loss 1.2034  G loss 0.8713 (means), 5,210 img/s'."""
    return (f"epoch {epoch}/{params['epochs']} done at step {logs['step']}: D loss {logs['d_loss']:.4f}  "
            f"G loss {logs['g_loss']:.4f} (means), {logs['images_per_sec']:,.0f} img/s")


class Display(keras.callbacks.Callback):
    """What the course's displays share: when to say what, as a Keras callback of ``run_a_gan``.

    It calls ``begin()`` when training begins, ``report(step, logs)`` every ``print_every``
    steps (``logs``: this step's losses, ``epoch`` counted from 1, ``images_per_sec`` since
    the last report and ``seconds_left`` in this call), ``show_samples(step, images)`` for each
    new sample grid of the history, ``epoch_done(epoch, logs)`` after each complete epoch
    (its mean losses, ``step``, ``images_per_sec``) and ``end(history)`` at the end. Given
    one with ``is_display = True`` among its callbacks, ``run_a_gan`` adds none of its own.
    """

    is_display = True

    def begin(self):
        pass

    def report(self, step, logs):
        pass

    def show_samples(self, step, images):
        pass

    def epoch_done(self, epoch, logs):
        pass

    def end(self, history):
        pass

    def on_train_begin(self, logs=None):
        self.history = self.model.history
        self.images_per_step = self.params["batch_size"] * self.params["d_steps"]
        self.last_report = self.epoch_start = (time.perf_counter(), self.params["start_step"])
        self.grids_shown = 0
        self.begin()
        self._show_new_samples()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        step = self.history.steps_done
        if step % self.params["print_every"] == 0 and step != self.last_report[1]:
            speed = self._speed(self.last_report, step)
            self.last_report = (time.perf_counter(), step)
            left = (self.params["end_step"] - step) * self.images_per_step / speed if speed > 0 else None
            self.report(step, {**logs, "epoch": self.epoch, "images_per_sec": speed, "seconds_left": left})
        self._show_new_samples()

    def on_epoch_end(self, epoch, logs=None):
        if self.history.epochs_done == epoch + 1:
            step = self.history.steps_done
            self.epoch_done(epoch + 1, {**logs, "step": step, "images_per_sec": self._speed(self.epoch_start, step)})
            self.epoch_start = (time.perf_counter(), step)

    def on_train_end(self, logs=None):
        self._show_new_samples()
        self.end(self.history)

    def _speed(self, since, step):
        """Real images per second from ``since`` (a (time, step) pair) to now, at ``step``."""
        return (step - since[1]) * self.images_per_step / max(time.perf_counter() - since[0], 1e-9)

    def _show_new_samples(self):
        for step, images in self.history.samples[self.grids_shown:]:
            self.show_samples(step, images)
        self.grids_shown = len(self.history.samples)


# --------------------------------------------- plain text: lines, or a bar on a terminal


class TextProgress(Display):
    """Progress as text: a line per report and per epoch; on a terminal, a bar redrawn in place.

    On a terminal (``sys.stdout.isatty()``) the reports move a ``keras.utils.Progbar``
    over this call's steps (with its time left and time per step, and the losses);
    elsewhere (a notebook, a log file, CI) each report prints one line of
    :func:`status_parts`. Both print :func:`start_text`, a line per epoch and :func:`end_text`.
    """

    def begin(self):
        self.bar = None
        if sys.stdout.isatty():
            self.bar = keras.utils.Progbar(self.params["end_step"] - self.params["start_step"], unit_name="step",
                                           interval=0, stateful_metrics=["D loss", "G loss"])
        self.open_line = False
        print(start_text(self.params), flush=True)

    def report(self, step, logs):
        if self.bar is None:
            print("  ".join(status_parts(self.params, step, logs)), flush=True)
            return
        self.bar.update(step - self.params["start_step"], [("D loss", logs["d_loss"]), ("G loss", logs["g_loss"])],
                        finalize=False)
        self.open_line = True
        sys.stdout.flush()

    def _line(self, text):
        if self.open_line:
            print()
            self.open_line = False
        print(text, flush=True)

    def epoch_done(self, epoch, logs):
        self._line(epoch_text(self.params, epoch, logs))

    def end(self, history):
        self._line(end_text(history))


# ---------------------------------------------------------------- the live training view


class LiveTraining(Display):
    """A widget that shows a ``run_a_gan`` run as it trains (``callbacks=[LiveTraining()]``).

    Its parts are attributes, so a notebook (or a test) can read them: ``progress``
    (an ``IntProgress`` of this call's steps), ``status`` (HTML: step, epoch, losses,
    images per second, time left), ``losses`` and ``samples`` (``Image`` widgets with PNG
    pictures), ``samples_label``, and, once training has ended, ``browser`` (an
    ``IntSlider`` over the saved sample grids). ``widget`` is the whole view.

    Args:
        display: show the view when training begins (False builds it only).
        plot_interval_s: redraw the loss curves at most this often while training.
        print_summary: print :func:`end_text` at the end too (it stays in a saved
            notebook, where widgets do not).
    """

    def __init__(self, *, display=True, plot_interval_s=PLOT_INTERVAL_S, print_summary=True):
        super().__init__()
        self.display = display
        self.plot_interval_s = plot_interval_s
        self.print_summary = print_summary
        self.widget = None
        self.browser = None

    def _build(self):
        import ipywidgets as w

        steps = int(self.params["end_step"] - self.params["start_step"])
        self.title = w.HTML(html.escape(start_text(self.params)))
        self.progress = w.IntProgress(value=0, min=0, max=max(1, steps), description="0%", bar_style="info",
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

    def _set_progress(self, step):
        """Move the bar to ``step`` (this call's steps)."""
        self.progress.value = int(min(max(step - self.params["start_step"], 0), self.progress.max))
        self.progress.description = f"{100 * self.progress.value / max(self.progress.max, 1):.0f}%"

    def _status_html(self, step, logs):
        first, *rest = status_parts(self.params, step, logs)
        return " &nbsp;·&nbsp; ".join([f"<b>{first}</b>", *rest])

    def _plot(self, force=False):
        history, now = self.history, time.monotonic()
        too_soon = not force and now - self._last_plot < self.plot_interval_s
        if too_soon or not (history.d_loss or history.g_loss):
            return
        self._last_plot = now
        self.losses.value = losses_png(history.d_loss, history.g_loss)
        self.losses_label.value = f"<b>Losses</b> ({len(history.d_loss)} steps)"

    def begin(self):
        self.browser = None
        self._last_plot = -np.inf
        self._logs = {}
        self._build()
        if self.display:
            show_widget(self.widget)

    def report(self, step, logs):
        self._logs = dict(logs)
        self._set_progress(step)
        self.status.value = self._status_html(step, logs)
        self._plot()

    def show_samples(self, step, images):
        self.samples.value = grid_png(images)
        self.samples_label.value = f"<b>Samples</b> at step {step}"
        self._set_progress(step)

    def epoch_done(self, epoch, logs):
        self._logs.update(epoch=epoch, images_per_sec=logs.get("images_per_sec"))
        self._set_progress(logs["step"])
        self.status.value = self._status_html(logs["step"], {**self._logs, "d_loss": logs["d_loss"],
                                                              "g_loss": logs["g_loss"], "seconds_left": None})

    def end(self, history):
        self._set_progress(history.steps_done)
        if history.stopped == "completed":
            self.progress.value = self.progress.max
            self.progress.description = "100%"
        self.progress.bar_style = {"completed": "success", "interrupted": "warning",
                                   "stopped": "warning"}.get(history.stopped, "danger")
        self._plot(force=True)
        if history.samples:
            self.browser = grid_slider(history.samples, self.samples, self.samples_label)
            self.samples_box.children = (self.samples_label, self.samples, self.browser)
        summary, *message = html.escape(end_text(history)).split("\n", 1)
        self.status.value = f"<b>{summary}</b>" + "".join(f"<br>{part}" for part in message)  # last: the view is complete
        if self.print_summary:
            print(end_text(history))


class InlineSamples(Display):
    """Plain-output fallback for samples: draws each grid with ``viz.show_images`` (titled by step)."""

    is_display = False

    def show_samples(self, step, images):
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
