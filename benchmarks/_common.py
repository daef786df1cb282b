"""What the benchmark scripts share: the machine's description, results files, FLOP counts."""

import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

RESULTS_DIR = Path(__file__).resolve().parent / "results"
# The lines a results table opens with when it comes from a smoke test (--quick).
SMOKE_TEST_LINES = ["**Smoke test (`--quick`): a few seconds of training measure nothing; run without `--quick` for the "
                    "real table.**", ""]


def machine():
    """CPU model, core count, Python / TensorFlow / Keras versions."""
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "gpus": len(tf.config.list_physical_devices("GPU")),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }


class Budget(keras.callbacks.Callback):
    """A ``run_a_gan`` callback that stops training (``model.stop_training``, the weights kept) once
    ``budget_s`` seconds have passed since ``start`` (a reading of ``clock``: ``time.perf_counter``,
    the wall clock, by default; ``time.process_time`` counts the CPU seconds of this process,
    all its threads, which other jobs on the machine do not use up). It checks the clock after
    every step.
    """

    def __init__(self, start, budget_s, clock=time.perf_counter):
        super().__init__()
        self.start, self.budget_s, self.clock = start, budget_s, clock

    def on_train_batch_end(self, batch, logs=None):
        if self.clock() - self.start >= self.budget_s:
            self.model.stop_training = True


def force_full_mode():
    """Benchmarks measure real training: switch the course's quick mode off in this process."""
    os.environ["GAN_COURSE_QUICK"] = "0"


def write_results(name, results, markdown, directory=RESULTS_DIR):
    """Write ``name``.json and ``name``.md under ``directory``; returns both paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    json_path, md_path = directory / f"{name}.json", directory / f"{name}.md"
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    md_path.write_text(markdown.rstrip() + "\n")
    print(markdown)
    print(f"\nWrote {json_path} and {md_path}")
    return json_path, md_path


def markdown_table(header, rows):
    """A GitHub markdown table from a header list and row lists."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def forward_flops(model):
    """Multiply-add FLOPs (2 per multiply-add) of one image through ``model``'s
    Dense, Conv2D and Conv2DTranspose layers; element-wise work is not counted.

    Dense: 2 * inputs * units. Conv2D: 2 * out_h * out_w * k_h * k_w * c_in * c_out.
    Conv2DTranspose: 2 * in_h * in_w * k_h * k_w * c_in * c_out (every input pixel
    scatters a k x k x c_out patch).
    """
    from keras import layers

    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.Dense):
            total += 2 * int(layer.input.shape[-1]) * layer.units
        elif isinstance(layer, (layers.Conv2DTranspose, layers.Conv2D)):
            kh, kw = layer.kernel_size
            c_in, c_out = int(layer.input.shape[-1]), layer.filters
            h, w = (layer.input if isinstance(layer, layers.Conv2DTranspose) else layer.output).shape[1:3]
            total += 2 * int(h) * int(w) * kh * kw * c_in * c_out
    return total


def gan_step_flops_per_image(D, G, simultaneous=False):
    """Matmul/convolution FLOPs of one GAN train step per real image.

    With backward = 2 x forward (input and weight gradients) and 1 x forward where
    only input gradients are needed (D in the generator's update):
    - alternating (CS231n and the course): D update = G fwd + 2 D fwd + 2 x 2 D fwd;
      G update = G fwd + D fwd + D bwd (inputs only) + 2 G fwd.
      Total 4 G + 8 D forward passes.
    - simultaneous (TF tutorial, two tapes over one forward pass): G fwd + 2 D fwd;
      the discriminator's tape: 2 x 2 D fwd; the generator's tape: D bwd (inputs only)
      + 2 G fwd. Total 3 G + 7 D forward passes.
    """
    g, d = forward_flops(G), forward_flops(D)
    return 3 * g + 7 * d if simultaneous else 4 * g + 8 * d
