"""Throughput of every model's train step, and how much of the machine it uses.

    python benchmarks/bench_throughput.py            # full: about 15 minutes on 2 cores
    python benchmarks/bench_throughput.py --quick    # a smoke test: about a minute, measures little

For each model the course trains on MNIST (MLP GAN, LSGAN, DCGAN) it runs
``run_a_gan`` for ``--steps`` steps on MNIST (no display, quick mode off) and
reads the steady-state images per second that ``run_a_gan`` reports (compilation
excluded). The two reference tutorials (benchmarks/references.py) are timed in
their own loops for comparison; a step of the TF tutorial (batch 256, ten times
the FLOPs per image) costs about twenty times the course DCGAN's, so it runs
``--tutorial-steps`` steps (default 40) per timed run instead of ``--steps``.
Achieved FLOP/s = images/s x analytic FLOPs per image (matmuls and convolutions
only, see ``_common.gan_step_flops_per_image``); it is compared with the FLOP/s
of a large float32 matrix multiply measured in the same run (best of several,
before and after the models).

Writes benchmarks/results/throughput.json and .md (``throughput_quick.*`` with --quick).
"""

import argparse
import statistics
import sys
import time

import _common

_common.force_full_mode()

import tensorflow as tf  # noqa: E402

import references  # noqa: E402
from gan_helpers import losses, models, ops, training  # noqa: E402
from gan_helpers.data import load_mnist  # noqa: E402


def matmul_flops(size=2048, repeats=10, chained=8):
    """Best FLOP/s of ``chained`` float32 (size x size) @ (size x size) matmuls in one graph."""
    a = tf.random.uniform((size, size), dtype=tf.float32)
    b = tf.random.uniform((size, size), dtype=tf.float32) / size

    @tf.function
    def chain(x):
        for _ in range(chained):
            x = tf.matmul(x, b)
        return x

    chain(a).numpy()
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        chain(a).numpy()
        best = max(best, chained * 2 * size**3 / (time.perf_counter() - start))
    return best


def course_models():
    """(name, D builder, G builder, discriminator loss, generator loss, batch size)."""
    return [
        ("MLP GAN", models.discriminator, models.generator, losses.discriminator_loss, losses.generator_loss, 128),
        ("LSGAN", models.discriminator, models.generator, losses.ls_discriminator_loss, losses.ls_generator_loss, 128),
        ("DCGAN", models.dc_discriminator, models.dc_generator, losses.discriminator_loss, losses.generator_loss, 128),
    ]


def time_course_model(make_D, make_G, d_loss, g_loss, batch_size, steps, repeats, images):
    """Median steady-state images/s of ``run_a_gan`` over ``repeats`` runs of ``steps`` steps."""
    speeds = []
    for repeat in range(repeats):
        D, G = make_D(), make_G()
        D_solver, G_solver = training.get_solvers()
        data = images[: steps * batch_size].reshape((-1, *D.input_shape[1:]))
        history = training.run_a_gan(D, G, D_solver, G_solver, d_loss, g_loss, batch_size=batch_size, num_epochs=1,
                                     print_every=max(steps // 4, 1), show_every=10**9, dataset=data, seed=repeat,
                                     verbose=False)
        speeds.append(history.images_per_sec)
    return statistics.median(speeds), D, G


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="train steps per timed run (default 300)")
    parser.add_argument("--tutorial-steps", type=int, default=40,
                        help="train steps per timed run of the TF DCGAN tutorial, whose steps are slow (default 40)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per model; the median counts (default 3)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that the script works, measures little")
    parser.add_argument("--output-dir", default=_common.RESULTS_DIR, help="where to write results (default benchmarks/results)")
    args = parser.parse_args(argv)
    steps, tutorial_steps, repeats, size = (args.steps, args.tutorial_steps, args.repeats, 2048)
    if args.quick:
        steps, tutorial_steps, repeats, size = 10, 3, 1, 512
    if min(steps, tutorial_steps) < 2 or repeats < 1:
        parser.error("--steps and --tutorial-steps must be at least 2 (the first step compiles), --repeats at least 1.")

    (x_train, _), _ = load_mnist()
    images = ops.scale_pixels(x_train)
    peak = [matmul_flops(size)]
    rows = []
    for name, make_D, make_G, d_loss, g_loss, batch_size in course_models():
        speed, D, G = time_course_model(make_D, make_G, d_loss, g_loss, batch_size, steps, repeats, images)
        rows.append({"model": name, "loop": "run_a_gan (compiled step)", "batch_size": batch_size, "steps": steps,
                     "images_per_sec": speed, "flops_per_image": _common.gan_step_flops_per_image(D, G)})
        print(f"{name}: {speed:,.0f} images/s")
    reference_runs = [
        ("CS231n MLP GAN", "eager loop", references.train_cs231n, references.CS231N_BATCH_SIZE, False,
         references.cs231n_discriminator, references.cs231n_generator, steps),
        ("TF DCGAN tutorial", "tf.function step", references.train_tf_tutorial, references.TF_BATCH_SIZE, True,
         references.tf_tutorial_discriminator, references.tf_tutorial_generator, tutorial_steps),
    ]
    for name, loop, train, batch_size, simultaneous, make_D, make_G, run_steps in reference_runs:
        speeds = [train(max_steps=run_steps, seed=repeat)[1]["images_per_sec"] for repeat in range(repeats)]
        flops = _common.gan_step_flops_per_image(make_D(), make_G(), simultaneous=simultaneous)
        rows.append({"model": name, "loop": loop, "batch_size": batch_size, "steps": run_steps,
                     "images_per_sec": statistics.median(speeds), "flops_per_image": flops})
        print(f"{name}: {statistics.median(speeds):,.0f} images/s")
    peak.append(matmul_flops(size))
    matmul = max(peak)
    for row in rows:
        row["achieved_flops"] = row["images_per_sec"] * row["flops_per_image"]
        row["share_of_matmul"] = row["achieved_flops"] / matmul

    mlp_share = rows[0]["share_of_matmul"]
    results = {
        "machine": _common.machine(),
        "settings": {"steps": steps, "tutorial_steps": tutorial_steps, "repeats": repeats, "matmul_size": size, "quick": args.quick},
        "matmul_flops": matmul,
        "models": rows,
        "targets": {"mlp_gan_share_of_matmul_at_least_0.5": {"value": mlp_share, "met": mlp_share >= 0.5}},
    }
    table = _common.markdown_table(
        ["model", "loop", "batch", "images/s", "GFLOP per image", "achieved GFLOP/s", "share of matmul"],
        [[r["model"], r["loop"], r["batch_size"], f"{r['images_per_sec']:,.0f}", f"{r['flops_per_image'] / 1e9:.4f}",
          f"{r['achieved_flops'] / 1e9:.1f}", f"{r['share_of_matmul']:.0%}"] for r in rows],
    )
    m = results["machine"]
    markdown = (
        f"# Train-step throughput\n\n{m['cpu']}, {m['cores']} cores, TensorFlow {m['tensorflow']}, {m['date']}.\n"
        f"Float32 {size}x{size} matmul: {matmul / 1e9:.1f} GFLOP/s. {steps} steps per run ({tutorial_steps} for the TF tutorial), median of {repeats}.\n\n"
        f"{table}\n\nTarget: the MLP GAN's step reaches at least half the matmul FLOP/s: "
        f"{mlp_share:.0%} ({'met' if mlp_share >= 0.5 else 'not met'}).\n\n"
        f"Command: `{' '.join(['python benchmarks/bench_throughput.py', *(sys.argv[1:] if argv is None else argv)])}`\n"
    )
    _common.write_results("throughput_quick" if args.quick else "throughput", results, markdown, args.output_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
