"""The MLP GAN's speed: run_a_gan against a plain eager loop, and ten MNIST epochs.

    python benchmarks/bench_mlp_speed.py            # full: about 5 minutes on 2 cores
    python benchmarks/bench_mlp_speed.py --quick    # a smoke test: under a minute, measures little

Two speed targets of the course, measured on its MLP GAN (``models.discriminator``,
``models.generator``, the cross-entropy losses, ``get_solvers()``, batches of 128):

(a) **Speed-up over an eager loop.** Images per second of ``run_a_gan`` against a
    plain eager ``tf.GradientTape`` loop over the same models, the way most GAN
    tutorials train (notebook 05's ``train_step``, called from Python for every
    batch, with a ``tf.data`` pipeline feeding it). Same batch size, same images,
    same process; the two alternate ``--repeats`` times (in alternating order, so
    that a drifting machine load hurts neither side) and the medians are compared.
    Both figures are steady-state: the first steps (tracing, building the
    optimizers) are left out. ``run_a_gan`` runs with the notebooks' defaults
    (losses read back every 50 steps, a sample grid every 250).
(b) **Ten MNIST epochs.** Wall-clock seconds of one ``run_a_gan`` call training 10
    epochs of the 60,000 MNIST images, from the call to its return (tracing,
    compiling and the data pipeline included), with the notebooks' defaults and no
    display. The arithmetic beside it: FLOPs per image per step
    (``_common.gan_step_flops_per_image``: matmuls only, 4 generator + 8
    discriminator forward passes), the FLOP/s this reaches, and the FLOP/s of plain
    float32 matmuls measured in the same run, which bound what any training loop
    can reach on this machine.

With ``--quick``, (a) uses a few steps and one repeat, and (b) is an estimate
extrapolated from a short run (labelled as such).

Writes benchmarks/results/mlp_speed.json and mlp_speed.md, plus the ten-epoch
generator's samples and loss curves (mlp_speed_samples.png, mlp_speed_losses.png);
``mlp_speed_quick.*`` with --quick.
"""

import argparse
import os
import statistics
import time
from pathlib import Path

import _common

_common.force_full_mode()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from gan_helpers import NOISE_DIM, sample_noise, scale_pixels, viz  # noqa: E402
from gan_helpers.data import load_mnist  # noqa: E402
from gan_helpers.losses import discriminator_loss, generator_loss  # noqa: E402
from gan_helpers.models import discriminator, generator  # noqa: E402
from gan_helpers.training import get_solvers, run_a_gan  # noqa: E402

BATCH_SIZE = 128
EPOCHS = 10
MNIST_TRAIN = 60000
PRINT_EVERY, SHOW_EVERY = 50, 250  # run_a_gan's (and the notebooks') defaults
TARGET_RATIO = 5.0
TARGET_SECONDS = 90.0
WARMUP_STEPS = 2  # steps left out of the eager loop's timing (building the optimizers)


# ----------------------------------------------------------------------------
# Matmul FLOP/s: what the machine can do at best
# ----------------------------------------------------------------------------


def matmul_flops(m, k, n, repeats=5, chained=8):
    """Best FLOP/s of ``chained`` float32 (m x k) @ (k x n) matmuls in one graph."""
    a = tf.random.uniform((chained, m, k))
    b = tf.random.uniform((k, n)) / k

    @tf.function
    def run(a):
        return [tf.matmul(a[i], b) for i in range(chained)]

    [x.numpy() for x in run(a)]
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        [x.numpy() for x in run(a)]
        best = max(best, chained * 2 * m * k * n / (time.perf_counter() - start))
    return best


# ----------------------------------------------------------------------------
# (a) The eager loop against run_a_gan
# ----------------------------------------------------------------------------


def build(seed):
    keras.utils.set_random_seed(seed)
    D, G = discriminator(), generator()
    return (D, G, *get_solvers())


def eager_train_step(D, G, D_solver, G_solver, real_images):
    """Notebook 05's ``train_step`` (which takes the noise as arguments; here it is drawn inside), eagerly."""
    batch_size = real_images.shape[0]
    with tf.GradientTape() as tape:
        fake_images = G(sample_noise(batch_size, NOISE_DIM), training=True)
        d_loss = discriminator_loss(D(real_images, training=True), D(fake_images, training=True))
    d_grads = tape.gradient(d_loss, D.trainable_variables)
    D_solver.apply_gradients(zip(d_grads, D.trainable_variables))
    with tf.GradientTape() as tape:
        fake_images = G(sample_noise(batch_size, NOISE_DIM), training=True)
        g_loss = generator_loss(D(fake_images, training=True))
    g_grads = tape.gradient(g_loss, G.trainable_variables)
    G_solver.apply_gradients(zip(g_grads, G.trainable_variables))
    return d_loss, g_loss


def eager_images_per_sec(images, seed):
    """Steady images/s of the eager loop over ``images`` (uint8, (N, 28, 28)), one pass."""
    D, G, D_solver, G_solver = build(seed)
    batches = (tf.data.Dataset.from_tensor_slices(images).batch(BATCH_SIZE)
               .map(lambda b: tf.reshape(scale_pixels(b), (-1, 784)))
               .prefetch(tf.data.AUTOTUNE))
    start, timed = None, 0
    for step, real in enumerate(batches):
        d_loss, g_loss = eager_train_step(D, G, D_solver, G_solver, real)
        if step == WARMUP_STEPS - 1:
            float(g_loss)  # wait for the warm-up steps to finish
            start = time.perf_counter()
        elif step >= WARMUP_STEPS:
            timed += int(real.shape[0])
    float(g_loss)
    return timed / (time.perf_counter() - start)


def compiled_images_per_sec(images, seed):
    """Steady images/s that ``run_a_gan`` reports for one pass over ``images`` (compiling left out)."""
    D, G, D_solver, G_solver = build(seed)
    history = run_a_gan(D, G, D_solver, G_solver, discriminator_loss, generator_loss, show_every=SHOW_EVERY,
                        print_every=PRINT_EVERY, batch_size=BATCH_SIZE, num_epochs=1, dataset=images, seed=seed,
                        callbacks=[])
    return history.images_per_sec


def speed_ratio(images, repeats):
    eager, compiled = [], []
    for repeat in range(repeats):
        order = [("eager", eager_images_per_sec, eager), ("run_a_gan", compiled_images_per_sec, compiled)]
        for name, measure, speeds in order if repeat % 2 == 0 else order[::-1]:
            speeds.append(measure(images, seed=repeat))
            print(f"  repeat {repeat + 1}/{repeats}: {name} {speeds[-1]:,.0f} images/s", flush=True)
    ratio = statistics.median(compiled) / statistics.median(eager)
    return {
        "timed_steps_per_run": len(images) // BATCH_SIZE - WARMUP_STEPS,
        "repeats": repeats,
        "eager_images_per_sec": eager,
        "run_a_gan_images_per_sec": compiled,
        "eager_median": statistics.median(eager),
        "run_a_gan_median": statistics.median(compiled),
        "ratio": ratio,
        "paired_ratios": [c / e for c, e in zip(compiled, eager)],
        "target": TARGET_RATIO,
        "met": ratio >= TARGET_RATIO,
    }


# ----------------------------------------------------------------------------
# (b) Ten MNIST epochs
# ----------------------------------------------------------------------------


def ten_epochs(quick, quick_steps, output_dir, suffix):
    D, G, D_solver, G_solver = build(seed=0)
    flops_per_image = _common.gan_step_flops_per_image(D, G)
    (x_train, _), _ = load_mnist()
    steps_per_epoch = -(-MNIST_TRAIN // BATCH_SIZE)
    images = x_train[: quick_steps * BATCH_SIZE] if quick else None  # None: all of MNIST, as the notebooks
    num_epochs = 1 if quick else EPOCHS
    start = time.perf_counter()
    history = run_a_gan(D, G, D_solver, G_solver, discriminator_loss, generator_loss, show_every=SHOW_EVERY,
                        print_every=PRINT_EVERY, batch_size=BATCH_SIZE, num_epochs=num_epochs, dataset=images, seed=0,
                        callbacks=[])
    seconds = time.perf_counter() - start
    steady = history.images_per_sec
    result = {"flops_per_image": flops_per_image, "steps": history.steps_done, "epochs": history.epochs_done,
              "steady_images_per_sec": steady, "stopped": history.stopped}
    if quick:
        # Everything but the steady steps (tracing, compiling, set-up), plus all steps at the steady speed.
        overhead = max(seconds - history.steps_done * BATCH_SIZE / steady, 0.0)
        result.update(measured_seconds=seconds, estimated=True,
                      seconds=overhead + EPOCHS * MNIST_TRAIN / steady)
    else:
        result.update(seconds=seconds, estimated=False,
                      final_epoch_d_loss=float(np.mean(history.d_loss[-steps_per_epoch:])),
                      final_epoch_g_loss=float(np.mean(history.g_loss[-steps_per_epoch:])))
    result["achieved_flops"] = EPOCHS * MNIST_TRAIN * flops_per_image / result["seconds"]
    samples = G(sample_noise(64, NOISE_DIM, seed=1), training=False)
    result["samples_png"] = str(viz.save_image_grid(samples, output_dir / f"mlp_speed_samples{suffix}.png", scale=2))
    result["losses_png"] = str(viz.plot_losses(history, path=output_dir / f"mlp_speed_losses{suffix}.png",
                                               title=f"MLP GAN, {history.steps_done} steps"))
    result["target"] = TARGET_SECONDS
    result["met"] = result["seconds"] <= TARGET_SECONDS
    return result


# ----------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------


def markdown(results, command):
    m, a, b = results["machine"], results["speed_ratio"], results["ten_epochs"]
    peak, step_mm = results["matmul_flops_2048"], results["matmul_flops_step_shape"]
    total_flops = EPOCHS * MNIST_TRAIN * b["flops_per_image"]
    ratio_table = _common.markdown_table(
        ["loop", "images/s (median)", "each repeat"],
        [["eager GradientTape loop (notebook 05's train_step)", f"{a['eager_median']:,.0f}",
          ", ".join(f"{s:,.0f}" for s in a["eager_images_per_sec"])],
         ["run_a_gan (one compiled step)", f"{a['run_a_gan_median']:,.0f}",
          ", ".join(f"{s:,.0f}" for s in a["run_a_gan_images_per_sec"])]],
    )
    how = (f"estimated from {b['steps']} steps ({b['measured_seconds']:.1f} s measured): set-up and compiling, "
           f"plus {EPOCHS * MNIST_TRAIN:,} images at the steady speed" if b["estimated"]
           else f"measured, one call of run_a_gan, {b['steps']:,} steps")
    lines = [
        "# MLP GAN speed",
        "",
        f"{m['cpu']}, {m['cores']} cores, TensorFlow {m['tensorflow']}, Keras {m['keras']}, {m['date']}. "
        f"Load average {results['load_before'][0]:.2f} before, {results['load_after'][0]:.2f} after "
        "(other processes share these cores when it is above 0).",
        "",
        f"## (a) run_a_gan against an eager loop: {a['ratio']:.1f}x (target >= {TARGET_RATIO:.0f}x: "
        f"{'met' if a['met'] else 'not met'})",
        "",
        f"Same models, batch {BATCH_SIZE}, {a['timed_steps_per_run']} timed steps per run (after "
        f"{WARMUP_STEPS} untimed ones), {a['repeats']} alternating repeat(s) "
        f"(paired ratios {', '.join(f'{r:.1f}' for r in a['paired_ratios'])}).",
        "",
        ratio_table,
        "",
        f"## (b) Ten MNIST epochs: {b['seconds']:.0f} s (target <= {TARGET_SECONDS:.0f} s: "
        f"{'met' if b['met'] else 'not met'})",
        "",
        f"- {how}; steady speed {b['steady_images_per_sec']:,.0f} images/s.",
        f"- Work: {b['flops_per_image'] / 1e6:.1f} MFLOP per image per step (matmuls: 4 generator + 8 discriminator "
        f"forward passes), {EPOCHS} x {MNIST_TRAIN:,} images = {total_flops / 1e12:.1f} TFLOP.",
        f"- Reached: {b['achieved_flops'] / 1e9:.1f} GFLOP/s over the whole run.",
        f"- This machine's float32 matmul: {peak / 1e9:.1f} GFLOP/s at 2048x2048x2048, {step_mm / 1e9:.1f} GFLOP/s "
        f"at the step's largest shape (128x1024 @ 1024x1024). At the faster of the two, the {total_flops / 1e12:.1f} "
        f"TFLOP alone take {total_flops / max(peak, step_mm):.0f} s; "
        f"{TARGET_SECONDS:.0f} s needs {total_flops / TARGET_SECONDS / 1e9:.0f} GFLOP/s.",
    ]
    if not b["estimated"]:
        lines.append(f"- Last epoch's mean losses: D {b['final_epoch_d_loss']:.3f}, G {b['final_epoch_g_loss']:.3f}. "
                     f"Samples: `{os.path.basename(b['samples_png'])}`, losses: `{os.path.basename(b['losses_png'])}`.")
    lines += ["", f"Command: `{command}`"]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="timed steps per run in (a) (default 100)")
    parser.add_argument("--repeats", type=int, default=3, help="alternating repeats in (a); medians count (default 3)")
    parser.add_argument("--quick", action="store_true", help="a smoke test: tiny sizes, (b) extrapolated")
    parser.add_argument("--output-dir", default=_common.RESULTS_DIR, help="where to write results")
    args = parser.parse_args(argv)
    steps, repeats, quick_steps = args.steps, args.repeats, 30
    if args.quick:
        steps, repeats = 20, 1
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    suffix = "_quick" if args.quick else ""
    load_before = os.getloadavg()

    (x_train, _), _ = load_mnist()
    print("Matmul FLOP/s ...", flush=True)
    matmuls = [matmul_flops(2048, 2048, 2048, repeats=2 if args.quick else 5, chained=2 if args.quick else 4),
               matmul_flops(BATCH_SIZE, 1024, 1024)]
    print(f"(a) eager loop against run_a_gan, {steps} steps x {repeats} ...", flush=True)
    ratio = speed_ratio(x_train[: (steps + WARMUP_STEPS) * BATCH_SIZE], repeats)
    print(f"(b) {EPOCHS} MNIST epochs{' (estimated from a short run)' if args.quick else ''} ...", flush=True)
    epochs = ten_epochs(args.quick, quick_steps, output_dir, suffix)
    matmuls[0] = max(matmuls[0], matmul_flops(2048, 2048, 2048, repeats=2 if args.quick else 5,
                                              chained=2 if args.quick else 4))

    results = {
        "machine": _common.machine(),
        "settings": {"batch_size": BATCH_SIZE, "steps": steps, "repeats": repeats, "quick": args.quick,
                     "print_every": PRINT_EVERY, "show_every": SHOW_EVERY},
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "matmul_flops_2048": matmuls[0],
        "matmul_flops_step_shape": matmuls[1],
        "speed_ratio": ratio,
        "ten_epochs": epochs,
    }
    command = f"python benchmarks/bench_mlp_speed.py{' --quick' if args.quick else ''}"
    _common.write_results(f"mlp_speed{suffix}", results, markdown(results, command), output_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
