"""Progress of a training run on the terminal."""

import sys

from gan_helpers import training

class ProgressBar(training.GanCallback):
    """A text progress bar: redrawn in place on a terminal, one line per update elsewhere (logs, CI).

    ``epoch 2/10 [#######.............] 35%  step 330/938  D: 1.2034  G: 0.8713  5,210 img/s  ~1m05s left``
    """

    WIDTH = 24

    def __init__(self, stream=None, grids=None):
        self.stream = stream or sys.stdout
        self.grids = grids
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.open_line = False

    def _print(self, text, end="\n"):
        if self.open_line:
            self.stream.write("\n")
            self.open_line = False
        self.stream.write(text + end)
        self.stream.flush()

    def on_train_begin(self, run):
        self.run = run
        total = run.total_steps if run.total_steps is not None else "?"
        resumed = f", resuming at step {run.start_step}" if run.start_step else ""
        self._print(f"Training {run.num_epochs} epochs x {run.steps_per_epoch or '?'} steps of {run.batch_size} "
                    f"images ({total} steps{resumed}).")

    def _bar(self, step):
        total = self.run.total_steps
        if not total:
            return f"step {step}"
        done = min(step / total, 1.0)
        filled = int(round(done * self.WIDTH))
        return f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {done:4.0%}  step {step}/{total}"

    def on_log(self, step, logs):
        left = "" if logs["seconds_left"] is None else f"  ~{training.format_seconds(logs['seconds_left'])} left"
        line = (f"epoch {logs['epoch']}/{self.run.num_epochs} {self._bar(step)}  D: {logs['d_loss']:.4f}  "
                f"G: {logs['g_loss']:.4f}  {logs['images_per_sec']:,.0f} img/s{left}")
        if self.tty:
            self.stream.write("\r" + line.ljust(getattr(self, "_last_width", 0)))
            self.stream.flush()
            self._last_width = len(line)
            self.open_line = True
        else:
            self._print(line)

    def on_epoch_end(self, epoch, logs):
        grid = f"; samples in {self.grids.paths[-1]}" if self.grids and self.grids.paths else ""
        self._print(f"epoch {epoch}/{self.run.num_epochs} done at step {logs['step']}: mean D: {logs['d_loss']:.4f}  "
                    f"G: {logs['g_loss']:.4f}, {logs['images_per_sec']:,.0f} img/s{grid}")

    def on_train_end(self, history):
        self._print(f"{history.stopped.capitalize()}: {history.steps_done} steps, {history.epochs_done} epochs, "
                    f"{training.format_seconds(history.elapsed_s)}, {history.images_per_sec:,.0f} img/s.")
