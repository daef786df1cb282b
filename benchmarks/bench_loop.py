"""The training loop's cost: run_a_gan's step against a bare step, XLA, and the work at each epoch's end.

    python benchmarks/bench_loop.py            # full: about 10 minutes on 2 quiet cores
    python benchmarks/bench_loop.py --quick    # a smoke test: about 2 minutes, measures little

(a) **The step.** Images per second of the same alternating GAN step (one discriminator
    update on real images and G(z), then one generator update on fresh noise) three ways,
    on the same models, optimizers (``get_solvers()``), losses and MNIST images:

    - ``run_a_gan`` as a notebook calls it (losses read back every 50 steps, a sample
      grid every 250, no display), its steady speed (``history.images_per_sec``:
      tracing and the first step left out);
    - a bare ``tf.function`` of the step, written as a tutorial would (noise drawn in the
      step), fed by a plain ``tf.data`` pipeline (``from_tensor_slices``, ``batch``, a
      ``map`` scaling to [-1, 1], ``prefetch``);
    - the same bare step with ``jit_compile=True`` (XLA).

    For the MLP GAN of notebook 05 and the MNIST DCGAN of notebook 07
    (``models.dc_discriminator``, ``models.dc_generator``). The three run ``--repeats``
    times interleaved in one process (the order rotating from one repeat to the next),
    so that each repeat gives a pair of ratios measured a minute apart at most:
    run_a_gan / bare and XLA / bare. The machine's noise swamps a single pair; the
    median of the paired ratios and their range say what holds.

    Then the compiled steps alone, without a pipeline or a loop around them: the very
    function ``run_a_gan`` trains with (``GanRun.train_step``, kept from a two-step call)
    and the two bare steps, each called in bursts of ``steps / 10`` on one batch held in
    memory, ``2 x --repeats`` times interleaved. Short bursts close together make these
    pairs far less noisy, and they tell the step's own cost from the loop's. Each burst is
    also timed in this process's CPU time (``time.process_time``, all its threads): the
    work a step costs, which other processes on a shared machine disturb far less than
    they disturb the wall clock.

(b) **Per-epoch cost.** ``python -m gan_helpers train --data FOLDER --model dcgan
    --image-size 32 --print-every 2`` on a folder of 12,000 PNG pictures (the first
    12,000 MNIST training digits, 28x28, written to a temporary folder), for ``--epochs``
    epochs. A callback placed first records the time of every report and of every
    epoch's end. The windows between two reports within an epoch give the steady time
    per step (their median); the window across an epoch's end, less its steps at that
    pace, is the work done there: checkpoint, sample grid, TensorBoard, the next
    epoch's pipeline. Its share of an epoch is that over the epoch's steps at the steady
    pace plus that work. (Reports every 2 steps make the windows short, so the machine's
    noise hardly enters; they also draw a sample grid every 10 steps, which slows the
    steps a little, not the epoch's end.)

Writes benchmarks/results/loop.json and loop.md (``loop_quick.*`` with --quick).
"""

import argparse
import contextlib
import io
import os
import statistics
import tempfile
import time
from pathlib import Path

import _common

_common.force_full_mode()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402

from gan_helpers import losses, models, training  # noqa: E402
from gan_helpers.cli import main as command_line  # noqa: E402
from gan_helpers.data import load_mnist  # noqa: E402

BATCH_SIZE = 128
NOISE_DIM = models.NOISE_DIM
WARMUP_STEPS = 2  # steps of the bare loops left out of their timing (tracing, building the optimizers)
MODELS = {
    "MLP GAN": (models.discriminator, models.generator, (784,)),
    "DCGAN": (models.dc_discriminator, models.dc_generator, (28, 28, 1)),
}
FOLDER_IMAGES = 12_000
GAP_TARGET = 0.10  # run_a_gan may be at most this much behind the bare step
XLA_GAIN = 0.10  # XLA is worth using by default from this median gain on
EPOCH_END_TARGET = 0.05  # end-of-epoch work as a share of an epoch


# ----------------------------------------------------------------------------
# (a) The step, three ways
# ----------------------------------------------------------------------------


def build(name, seed):
    make_D, make_G, _ = MODELS[name]
    keras.utils.set_random_seed(seed)
    return training.build_gan(make_D, make_G)


def bare_step(D, G, D_solver, G_solver, jit_compile):
    """The alternating step as a tutorial writes it: one ``tf.function``, noise drawn inside."""

    @tf.function(jit_compile=jit_compile)
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

    def __init__(self, name, images, jit_compile, seed=0):
        self.shape = MODELS[name][2]
        self.step = bare_step(*build(name, seed), jit_compile=jit_compile)
        self.images = images

    def images_per_sec(self):
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
        return timed / (time.perf_counter() - start)


class Library:
    """``run_a_gan`` as a notebook calls it, without a display; the same models every repeat."""

    def __init__(self, name, images, seed=0):
        self.images, self.seed = images, seed
        self.parts = build(name, seed)

    def images_per_sec(self):
        history = training.run_a_gan(*self.parts, losses.discriminator_loss, losses.generator_loss,
                                     batch_size=BATCH_SIZE, num_epochs=1, dataset=self.images, seed=self.seed,
                                     verbose=False)
        if history.stopped != "completed":
            raise RuntimeError(f"run_a_gan stopped: {history.message}")
        return history.images_per_sec


class Keep(training.GanCallback):
    def on_train_begin(self, run):
        self.run = run


class StepsAlone:
    """The compiled steps alone, called ``burst`` times in a row on one batch held in memory.

    run_a_gan's is the very function it trains with (``GanRun.train_step``, taken from a
    two-step call); no pipeline and no Python loop around either.
    """

    def __init__(self, name, images, burst):
        shape = MODELS[name][2]
        self.real = tf.reshape(tf.cast(images[:BATCH_SIZE], tf.float32) / 127.5 - 1.0, (-1, *shape))
        z_d, z_g = (tf.random.uniform((BATCH_SIZE, NOISE_DIM), -1.0, 1.0) for _ in range(2))
        keep, parts = Keep(), build(name, 0)
        training.run_a_gan(*parts, losses.discriminator_loss, losses.generator_loss, batch_size=BATCH_SIZE,
                           num_epochs=1, dataset=images[: 2 * BATCH_SIZE], seed=0, verbose=False, callbacks=[keep])
        library, G = keep.run.train_step, parts[1]
        bare, xla = (bare_step(*build(name, 0), jit_compile=jit) for jit in (False, True))
        batch = {"real": self.real, "z_d": z_d, "z_g": z_g}  # one step's batch, as run_a_gan's pipeline yields it
        self.ways = {"run_a_gan": (lambda: library(batch), lambda _: G.trainable_variables[-1].numpy()),
                     "bare": (lambda: bare(self.real), lambda out: float(out[1])),
                     "bare_xla": (lambda: xla(self.real), lambda out: float(out[1]))}
        self.burst, self.cpu_speeds = burst, {way: [] for way in self.ways}
        for way in self.ways:
            self.images_per_sec(way)  # traced and warm
            self.cpu_speeds[way].clear()

    def images_per_sec(self, way):
        """Images per second of wall time; images per second of this process's CPU time go to ``cpu_speeds``."""
        call, wait = self.ways[way]
        start, cpu_start = time.perf_counter(), time.process_time()
        for _ in range(self.burst):
            out = call()
        wait(out)
        images = self.burst * BATCH_SIZE
        self.cpu_speeds[way].append(images / (time.process_time() - cpu_start))
        return images / (time.perf_counter() - start)


def spread(values):
    values = sorted(values)
    return {"median": statistics.median(values), "min": values[0], "max": values[-1],
            "quartiles": [float(q) for q in np.percentile(values, [25, 75])] if len(values) > 1 else values * 2}


def interleaved(measures, repeats, label):
    """``repeats`` rounds of every way (the order rotating), then the paired ratios to the bare step."""
    order = list(measures)
    speeds = {way: [] for way in order}
    for repeat in range(repeats):
        for way in order[repeat % 3:] + order[: repeat % 3]:
            speeds[way].append(measures[way]())
        print(f"  {label}, repeat {repeat + 1}/{repeats}: " +
              ", ".join(f"{way} {speeds[way][-1]:,.0f}" for way in order) + " images/s", flush=True)
    library = [a / b for a, b in zip(speeds["run_a_gan"], speeds["bare"])]
    xla = [a / b for a, b in zip(speeds["bare_xla"], speeds["bare"])]
    return {"repeats": repeats, "images_per_sec": speeds, "run_a_gan_over_bare": {"paired": library, **spread(library)},
            "xla_over_bare": {"paired": xla, **spread(xla)}}


def compare_steps(name, images, repeats, burst):
    """The three ways, whole loops (fed by tf.data) and the compiled steps alone."""
    loops = {"run_a_gan": Library(name, images).images_per_sec,
             "bare": Bare(name, images, jit_compile=False).images_per_sec,
             "bare_xla": Bare(name, images, jit_compile=True).images_per_sec}
    whole = interleaved(loops, repeats, f"{name}, whole loops")
    alone = StepsAlone(name, images, burst)
    steps = interleaved({way: (lambda way=way: alone.images_per_sec(way)) for way in alone.ways}, 2 * repeats,
                        f"{name}, steps alone")
    cpu = {key: [a / b for a, b in zip(alone.cpu_speeds[way], alone.cpu_speeds["bare"])]
           for key, way in (("run_a_gan_over_bare", "run_a_gan"), ("xla_over_bare", "bare_xla"))}
    steps["cpu_time"] = {"images_per_sec": alone.cpu_speeds, **{key: {"paired": r, **spread(r)} for key, r in cpu.items()}}
    return {"loops": {"steps_per_run": len(images) // BATCH_SIZE, **whole},
            "steps_alone": {"burst": burst, **steps}}


# ----------------------------------------------------------------------------
# (b) What an epoch costs beyond its steps
# ----------------------------------------------------------------------------


class Timer(training.GanCallback):
    """Times every report and every epoch's end (called first, before the run's other callbacks)."""

    def __init__(self):
        self.logs, self.epochs = [], []

    def on_log(self, step, logs):
        self.logs.append((time.perf_counter(), step))

    def on_epoch_end(self, epoch, logs):
        self.epochs.append((time.perf_counter(), logs["step"]))


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
    holds that end's work (checkpoint, grids, logs, the next epoch's pipeline) on top.
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


def _step_measures(results):
    """``(model, what, measure)`` for the rows of table (a): whole loops, steps alone, steps alone in CPU time."""
    for name, both in results["steps"].items():
        yield name, "whole loops", both["loops"]
        yield name, "steps alone", both["steps_alone"]
        if "cpu_time" in both["steps_alone"]:
            yield name, "steps alone, CPU time", both["steps_alone"]


def markdown(results, command):
    m = results["machine"]
    lines = ["# The training loop's cost", "",
             f"{m['cpu']}, {m['cores']} cores, TensorFlow {m['tensorflow']}, Keras {m['keras']}, {m['date']}. "
             f"Load average {results['load_before'][0]:.2f} before, {results['load_after'][0]:.2f} after "
             "(other processes share these cores when it is above 0).", "",
             "## (a) The step: run_a_gan and XLA against a bare tf.function step", "",
             "Median of the paired ratios (lowest to highest); images/s are medians of the repeats, per second of "
             "wall time, or of the process's CPU time in the CPU-time rows.", ""]
    rows = []
    for name, what, steps in _step_measures(results):
        ratios = steps["cpu_time"] if what.endswith("CPU time") else steps
        speeds = ratios["images_per_sec"]
        size = (f"{steps['repeats']} x {steps['steps_per_run']} steps" if what == "whole loops"
                else f"{steps['repeats']} x bursts of {steps['burst']}")
        rows.append([f"{name}, {what}", size,
                     *(f"{statistics.median(speeds[way]):,.0f}" for way in ("bare", "run_a_gan", "bare_xla")),
                     _range(ratios["run_a_gan_over_bare"]), _range(ratios["xla_over_bare"])])
    lines += [_common.markdown_table(["model", "repeats", "bare step", "run_a_gan", "bare step, XLA",
                                      "run_a_gan / bare", "XLA / bare"], rows), ""]
    for name, what, steps in _step_measures(results):
        ratios = steps["cpu_time"] if what.endswith("CPU time") else steps
        lines.append(f"- {name}, {what}: run_a_gan / bare paired ratios "
                     f"{', '.join(f'{r:.2f}' for r in ratios['run_a_gan_over_bare']['paired'])}; XLA / bare "
                     f"{', '.join(f'{r:.2f}' for r in ratios['xla_over_bare']['paired'])}.")
    e = results["epochs"]
    lines += ["", f"## (b) Per-epoch cost of `train --data FOLDER --model dcgan --image-size 32`", "",
              f"{e['pictures']:,} pictures (MNIST digits as 28x28 PNGs), {e['epochs_trained']} epochs, reports every "
              f"{e['print_every']} steps, {e['total_seconds']:.0f} s in all (loading the pictures included); "
              f"{len(e['epoch_ends'])} epoch ends measured.", "",
              f"- Within an epoch: {e['images_per_sec_in_epoch']:,.0f} images/s; over whole epochs: "
              f"{e['images_per_sec_over_epoch']:,.0f} images/s.",
              f"- End-of-epoch work (checkpoint, grids, logs, the next epoch's pipeline): "
              f"{_range(e['overhead_s'])} s per epoch, {_range({k: 100 * v for k, v in e['share'].items() if k != 'quartiles'}, 1)} % "
              f"of an epoch (target: under {100 * EPOCH_END_TARGET:.0f} %).",
              "", f"Command: `{command}`"]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="interleaved repeats in (a) (default 5)")
    parser.add_argument("--steps", type=int, default=None,
                        help="timed steps per run in (a) (default 150 for the MLP GAN, 60 for the DCGAN)")
    parser.add_argument("--epochs", type=int, default=5, help="epochs trained in (b) (default 5)")
    parser.add_argument("--only", choices=["steps", "epochs"], default=None, help="run one part only")
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
        results["steps"] = {}
        for name in MODELS:
            print(f"(a) {name}: run_a_gan, bare step, bare step with XLA, {repeats} repeats ...", flush=True)
            images = x_train[: (steps[name] + WARMUP_STEPS) * BATCH_SIZE]
            results["steps"][name] = compare_steps(name, images, repeats, burst=max(steps[name] // 10, 3))
    if args.only != "steps":
        print(f"(b) train --data FOLDER on {pictures:,} pictures, {epochs} epochs ...", flush=True)
        results["epochs"] = measure_epochs(pictures, epochs, print_every=2)
    results["load_after"] = os.getloadavg()
    suffix = "_quick" if args.quick else ""
    command = "python benchmarks/bench_loop.py" + (" --quick" if args.quick else "")
    if args.only is None:
        _common.write_results(f"loop{suffix}", results, markdown(results, command), args.output_dir)
    else:
        print(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
