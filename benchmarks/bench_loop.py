"""The training loop's cost: run_a_gan on Keras's fit against the loop it replaced, a bare step, and each epoch's end.

    python benchmarks/bench_loop.py            # full: about 15 minutes on 2 quiet cores
    python benchmarks/bench_loop.py --quick    # a smoke test: about 3 minutes, measures little

(a) **The loop.** Images per second of the same alternating GAN step (one discriminator
    update on real images and G(z), then one generator update on fresh noise), on the same
    models, optimizers (``get_solvers()``), losses and MNIST images, five ways:

    - ``run_a_gan`` as a notebook calls it (no display), which builds a ``gan.GAN`` and
      calls ``keras.Model.fit`` with the course's callbacks;
    - ``run_a_gan`` of commit d70c562, the course's own loop that ``fit`` replaced (issue
      19), read from the repository's history at run time (``git show``), so that no
      copy of it stays in the tree;
    - the ``gan.GAN`` model trained by ``fit`` directly on the course's data feed, without
      the course's callbacks, with ``steps_per_execution`` 1 and 8 (Keras then runs 8
      steps per call from Python, in a ``tf.while_loop``, and calls the callbacks once
      for the 8);
    - a bare ``tf.function`` of the step, written as a tutorial would (noise drawn in the
      step), fed by a plain ``tf.data`` pipeline.

    Each way's steady speed: from the end of its first step (tracing and compilation left
    out) to its last, in wall time (``history.images_per_sec`` for both ``run_a_gan``s,
    a callback's clock for ``fit``, the loop's for the bare step); and for both
    ``run_a_gan``s the whole call too, compilation included, as a learner waits for it.
    For the MLP GAN of notebook 05 and the MNIST DCGAN of notebook 07. The ways run
    ``--repeats`` times interleaved in one process (the order rotating), so that each
    repeat gives paired ratios measured within a minute: the machine's noise swamps a
    single pair, the median of the paired ratios and their range say what holds.

(b) **Per-epoch cost.** ``python -m gan_helpers train --data FOLDER --model dcgan
    --image-size 32 --print-every 2`` on a folder of 12,000 PNG pictures (the first
    12,000 MNIST training digits, 28x28, written to a temporary folder), for ``--epochs``
    epochs. A callback records the time of every report (every 2 steps) and of every
    epoch's end. The windows between two reports within an epoch give the steady time
    per step (their median); the window across an epoch's end, less its steps at that
    pace, is the work done there: checkpoint, sample grid, TensorBoard. Its share of an
    epoch is that over the epoch's steps at the steady pace plus that work.

Writes benchmarks/results/loop.json and loop.md (``loop_quick.*`` with --quick).
"""

import argparse
import contextlib
import importlib.util
import io
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import _common

_common.force_full_mode()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402

from gan_helpers import GAN, losses, models, training  # noqa: E402
from gan_helpers.cli import main as command_line  # noqa: E402
from gan_helpers.data import load_mnist  # noqa: E402
from gan_helpers.data.feed import GanFeed  # noqa: E402

BATCH_SIZE = 128
NOISE_DIM = models.NOISE_DIM
WARMUP_STEPS = 2  # steps of the bare loops left out of their timing (tracing, building the optimizers)
MODELS = {
    "MLP GAN": (models.discriminator, models.generator, (784,)),
    "DCGAN": (models.dc_discriminator, models.dc_generator, (28, 28, 1)),
}
FOLDER_IMAGES = 12_000
REPLACED = "d70c562"  # the commit whose run_a_gan fit replaced
NOT_SLOWER = 0.95  # the fit-based loop's median paired ratio to the replaced one must be at least this
PAYS = 1.10  # steps_per_execution is used where its median gain is at least 10 %, as XLA is
EPOCH_END_TARGET = 0.05  # end-of-epoch work as a share of an epoch


# ----------------------------------------------------------------------------
# (a) The loop, five ways
# ----------------------------------------------------------------------------


def build(name, seed):
    make_D, make_G, _ = MODELS[name]
    keras.utils.set_random_seed(seed)
    return training.build_gan(make_D, make_G)


def replaced_training():
    """``gan_helpers.training`` as it was at commit ``REPLACED``, imported from the repository's history."""
    root = Path(__file__).resolve().parents[1]
    source = subprocess.run(["git", "show", f"{REPLACED}:gan_helpers/training.py"], cwd=root, check=True,
                            capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "replaced_training.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("replaced_training", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bare_step(D, G, D_solver, G_solver):
    """The alternating step as a tutorial writes it: one ``tf.function``, noise drawn inside."""

    @tf.function
    def step(real):
        batch = tf.shape(real)[0]
        with tf.GradientTape() as tape:
            fake = G(tf.random.uniform((batch, NOISE_DIM), -1.0, 1.0), training=True)
            d_loss = losses.discriminator_loss(D(real, training=True), D(fake, training=True))
        D_solver.apply_gradients(zip(tape.gradient(d_loss, D.trainable_variables), D.trainable_variables))
        with tf.GradientTape() as tape:
            fake = G(tf.random.uniform((batch, NOISE_DIM), -1.0, 1.0), training=True)
            g_loss = losses.generator_loss(D(fake, training=True))
        G_solver.apply_gradients(zip(tape.gradient(g_loss, G.trainable_variables), G.trainable_variables))
        return d_loss, g_loss

    return step


class Bare:
    """A bare step and its models, built once and timed over the same images each repeat."""

    def __init__(self, name, images, seed=0):
        self.shape = MODELS[name][2]
        self.step = bare_step(*build(name, seed))
        self.images = images

    def __call__(self):
        shape = self.shape
        batches = (tf.data.Dataset.from_tensor_slices(self.images).batch(BATCH_SIZE)
                   .map(lambda b: tf.reshape(tf.cast(b, tf.float32) / 127.5 - 1.0, (-1, *shape)))
                   .prefetch(tf.data.AUTOTUNE))
        start, timed = None, 0
        for index, real in enumerate(batches):
            d_loss, g_loss = self.step(real)
            if index == WARMUP_STEPS - 1:
                float(g_loss)  # the warm-up steps are done
                start = time.perf_counter()
            elif index >= WARMUP_STEPS:
                timed += int(real.shape[0])
        float(g_loss)
        return {"steady": timed / (time.perf_counter() - start)}


class Call:
    """A ``run_a_gan`` (today's, or the replaced one) as a notebook calls it, without a display, on fresh models."""

    def __init__(self, module, name, images):
        self.module, self.name, self.images = module, name, images

    def __call__(self):
        parts = build(self.name, 0)
        start = time.perf_counter()
        history = self.module.run_a_gan(*parts, losses.discriminator_loss, losses.generator_loss,
                                        batch_size=BATCH_SIZE, num_epochs=1, dataset=self.images, seed=0,
                                        verbose=False)
        seconds = time.perf_counter() - start
        if history.stopped != "completed":
            raise RuntimeError(f"run_a_gan stopped: {history.message}")
        return {"steady": history.images_per_sec, "whole": history.steps_done * BATCH_SIZE / seconds}


class SteadyClock(keras.callbacks.Callback):
    """Images per second from the end of the first call of the train function to the end of training."""

    def on_train_batch_end(self, batch, logs=None):
        if not hasattr(self, "first"):
            self.first = (time.perf_counter(), batch + 1)
        self.last = (time.perf_counter(), batch + 1)

    def images_per_sec(self):
        (t0, s0), (t1, s1) = self.first, self.last
        return (s1 - s0) * BATCH_SIZE / (t1 - t0)


class Fit:
    """``gan.GAN`` trained by ``fit`` on the course's data feed, no course callback, ``steps_per_execution``."""

    def __init__(self, name, images, steps_per_execution):
        self.images, self.steps_per_execution = images, steps_per_execution
        D, G, D_solver, G_solver = build(name, 0)
        self.gan = GAN(D, G, NOISE_DIM, data_shape=MODELS[name][2])
        self.gan.compile(D_solver, G_solver, losses.discriminator_loss, losses.generator_loss,
                         steps_per_execution=steps_per_execution)
        self.feed = GanFeed(images, MODELS[name][2], BATCH_SIZE, NOISE_DIM, 0)

    def __call__(self):
        clock = SteadyClock()
        self.gan.fit(self.feed.steps(0, 1), epochs=1, steps_per_epoch=self.feed.steps_per_epoch, verbose=0,
                     callbacks=[clock], shuffle=False)
        return {"steady": clock.images_per_sec()}


def spread(values):
    values = sorted(values)
    return {"median": statistics.median(values), "min": values[0], "max": values[-1],
            "quartiles": [float(q) for q in np.percentile(values, [25, 75])] if len(values) > 1 else values * 2}


def interleaved(measures, repeats, label):
    """``repeats`` rounds of every way (the order rotating): ``{way: {"steady": [...], "whole": [...]}}``."""
    order = list(measures)
    speeds = {way: {} for way in order}
    for repeat in range(repeats):
        for way in order[repeat % len(order):] + order[: repeat % len(order)]:
            for clock, value in measures[way]().items():
                speeds[way].setdefault(clock, []).append(value)
        print(f"  {label}, repeat {repeat + 1}/{repeats}: " +
              ", ".join(f"{way} {speeds[way]['steady'][-1]:,.0f}" for way in order) + " images/s", flush=True)
    return speeds


RATIOS = {  # name: (numerator way, denominator way, clock)
    "fit / replaced, steady": ("run_a_gan", "replaced", "steady"),
    "fit / replaced, whole calls": ("run_a_gan", "replaced", "whole"),
    "fit / bare step": ("run_a_gan", "bare", "steady"),
    "replaced / bare step": ("replaced", "bare", "steady"),
    "steps_per_execution 8 / 1": ("fit, 8 steps a call", "fit, 1 step a call", "steady"),
}


def compare_loops(name, images, repeats):
    measures = {"run_a_gan": Call(training, name, images), "replaced": Call(replaced_training(), name, images),
                "fit, 1 step a call": Fit(name, images, 1), "fit, 8 steps a call": Fit(name, images, 8),
                "bare": Bare(name, images)}
    speeds = interleaved(measures, repeats, name)
    ratios = {}
    for key, (top, bottom, clock) in RATIOS.items():
        paired = [a / b for a, b in zip(speeds[top][clock], speeds[bottom][clock])]
        ratios[key] = {"paired": paired, **spread(paired)}
    return {"repeats": repeats, "steps_per_run": len(images) // BATCH_SIZE, "images_per_sec": speeds,
            "ratios": ratios}


# ----------------------------------------------------------------------------
# (b) What an epoch costs beyond its steps
# ----------------------------------------------------------------------------


class Timer(keras.callbacks.Callback):
    """Times every report (every ``print_every`` steps) and every epoch's end."""

    def __init__(self):
        super().__init__()
        self.logs, self.epochs = [], []

    def on_train_batch_end(self, batch, logs=None):
        step = self.model.history.steps_done
        if step % self.params["print_every"] == 0:
            self.logs.append((time.perf_counter(), step))

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append((time.perf_counter(), self.model.history.steps_done))


def write_pictures(folder, count):
    (x_train, _), _ = load_mnist()
    for index, digit in enumerate(x_train[:count]):
        Image.fromarray(digit).save(folder / f"{index:05d}.png")


def train_folder(folder, out, epochs, print_every):
    """``train --data FOLDER --model dcgan --image-size 32``, timed from inside; (timer, seconds, output)."""
    timer, run_a_gan = Timer(), training.run_a_gan

    def timed(*args, callbacks=(), **kwargs):
        return run_a_gan(*args, callbacks=[timer, *callbacks], **kwargs)

    training.run_a_gan = timed
    printed = io.StringIO()
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(printed):
            status = command_line(["train", "--data", str(folder), "--model", "dcgan", "--image-size", "32",
                                   "--epochs", str(epochs), "--print-every", str(print_every), "--seed", "0",
                                   "--out", str(out)])
    finally:
        training.run_a_gan = run_a_gan
    if status != 0:
        raise RuntimeError(f"train exited with {status}:\n{printed.getvalue()[-3000:]}")
    return timer, time.perf_counter() - start, printed.getvalue()


def epoch_costs(timer, steps_per_epoch):
    """What each epoch's end costs: the report window that holds it, less the same steps at the steady pace.

    Reports come every few steps; the windows between two reports without an epoch's end
    give the steady time per step (their median), the window across an epoch's end
    holds that end's work (checkpoint, grids, logs) on top.
    """
    boundaries = [step for _, step in timer.epochs]
    steady, crossing = [], []
    for (t0, s0), (t1, s1) in zip(timer.logs, timer.logs[1:]):
        if any(s0 <= boundary < s1 for boundary in boundaries):
            crossing.append((t1 - t0, s1 - s0))
        else:
            steady.append((t1 - t0) / (s1 - s0))
    per_step = statistics.median(steady)
    overheads = [seconds - steps * per_step for seconds, steps in crossing]
    epoch_seconds = [steps_per_epoch * per_step + overhead for overhead in overheads]
    shares = [overhead / seconds for overhead, seconds in zip(overheads, epoch_seconds)]
    return {"steady_s_per_step": per_step, "steps_per_epoch": steps_per_epoch,
            "images_per_sec_in_epoch": BATCH_SIZE / per_step,
            "images_per_sec_over_epoch": statistics.median(steps_per_epoch * BATCH_SIZE / s for s in epoch_seconds),
            "epoch_ends": [{"overhead_s": o, "share": sh} for o, sh in zip(overheads, shares)],
            "share": spread(shares), "overhead_s": spread(overheads)}


def measure_epochs(count, epochs, print_every):
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "pictures"
        folder.mkdir()
        write_pictures(folder, count)
        timer, seconds, printed = train_folder(folder, Path(scratch) / "run", epochs, print_every)
    result = epoch_costs(timer, steps_per_epoch=-(-count // BATCH_SIZE))
    result.update(pictures=count, epochs_trained=epochs, print_every=print_every, total_seconds=seconds)
    return result


# ----------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------


def _range(stats, digits=2):
    return f"{stats['median']:.{digits}f} ({stats['min']:.{digits}f} to {stats['max']:.{digits}f})"


WAYS = ("bare", "replaced", "run_a_gan", "fit, 1 step a call", "fit, 8 steps a call")


def markdown(results, command):
    m = results["machine"]
    lines = ["# The training loop's cost", "",
             f"{m['cpu']}, {m['cores']} cores, TensorFlow {m['tensorflow']}, Keras {m['keras']}, {m['date']}. "
             f"Load average {results['load_before'][0]:.2f} before, {results['load_after'][0]:.2f} after "
             "(other processes share these cores when it is above 0).", "",
             f"## (a) The loop: run_a_gan on `fit`, the loop it replaced ({REPLACED}), `fit` alone, a bare step", "",
             "Steady images per second (median of the repeats, wall time, compilation left out), and the median of "
             "the paired ratios (lowest to highest). \"Whole calls\" count the compilation in, as a learner waits.", ""]
    if results["settings"]["quick"]:
        lines += _common.SMOKE_TEST_LINES
    rows = []
    for name, loops in results["loops"].items():
        speeds = loops["images_per_sec"]
        rows.append([name, f"{loops['repeats']} x {loops['steps_per_run']} steps",
                     *(f"{statistics.median(speeds[way]['steady']):,.0f}" for way in WAYS)])
    lines += [_common.markdown_table(["model", "repeats", "bare step", f"run_a_gan {REPLACED}", "run_a_gan (fit)",
                                      "fit, 1 step a call", "fit, 8 steps a call"], rows), ""]
    rows = [[name, *(_range(loops["ratios"][key]) for key in RATIOS)] for name, loops in results["loops"].items()]
    lines += [_common.markdown_table(["model", *RATIOS], rows), ""]
    for name, loops in results["loops"].items():
        for key, ratio in loops["ratios"].items():
            lines.append(f"- {name}, {key}: {', '.join(f'{r:.2f}' for r in ratio['paired'])}.")
    e = results.get("epochs")
    if e:
        lines += ["", "## (b) Per-epoch cost of `train --data FOLDER --model dcgan --image-size 32`", "",
                  f"{e['pictures']:,} pictures (MNIST digits as 28x28 PNGs), {e['epochs_trained']} epochs, reports "
                  f"every {e['print_every']} steps, {e['total_seconds']:.0f} s in all (loading the pictures "
                  f"included); {len(e['epoch_ends'])} epoch ends measured.", "",
                  f"- Within an epoch: {e['images_per_sec_in_epoch']:,.0f} images/s; over whole epochs: "
                  f"{e['images_per_sec_over_epoch']:,.0f} images/s.",
                  f"- End-of-epoch work (checkpoint, grids, logs): {_range(e['overhead_s'])} s per epoch, "
                  f"{_range({k: 100 * v for k, v in e['share'].items() if k != 'quartiles'}, 1)} % of an epoch "
                  f"(target: under {100 * EPOCH_END_TARGET:.0f} %)."]
    lines += ["", f"Command: `{command}`"]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="interleaved repeats in (a) (default 7)")
    parser.add_argument("--steps", type=int, default=None,
                        help="timed steps per run in (a) (default 150 for the MLP GAN, 60 for the DCGAN)")
    parser.add_argument("--epochs", type=int, default=5, help="epochs trained in (b) (default 5)")
    parser.add_argument("--only", choices=["loops", "epochs"], default=None, help="run one part only")
    parser.add_argument("--quick", action="store_true", help="a smoke test: tiny sizes, 2 repeats")
    parser.add_argument("--output-dir", type=Path, default=_common.RESULTS_DIR, help="where to write results")
    args = parser.parse_args(argv)
    repeats, epochs, pictures = args.repeats, args.epochs, FOLDER_IMAGES
    steps = {"MLP GAN": args.steps or 150, "DCGAN": args.steps or 60}
    if args.quick:
        repeats, epochs, pictures, steps = 2, 3, 1_280, {"MLP GAN": 12, "DCGAN": 6}
    load_before = os.getloadavg()
    (x_train, _), _ = load_mnist()
    results = {"machine": _common.machine(), "load_before": load_before,
               "settings": {"batch_size": BATCH_SIZE, "repeats": repeats, "steps": steps, "quick": args.quick}}
    if args.only != "epochs":
        results["loops"] = {}
        for name in MODELS:
            print(f"(a) {name}: {', '.join(WAYS)}, {repeats} repeats ...", flush=True)
            images = x_train[: (steps[name] + WARMUP_STEPS) * BATCH_SIZE]
            results["loops"][name] = compare_loops(name, images, repeats)
    if args.only != "loops":
        print(f"(b) train --data FOLDER on {pictures:,} pictures, {epochs} epochs ...", flush=True)
        results["epochs"] = measure_epochs(pictures, epochs, print_every=2)
    results["load_after"] = os.getloadavg()
    suffix = "_quick" if args.quick else ""
    command = "python benchmarks/bench_loop.py" + (" --quick" if args.quick else "")
    if args.only is not None:
        suffix += f"_{args.only}"
        command += f" --only {args.only}"
    _common.write_results(f"loop{suffix}", results, markdown(results, command), args.output_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
