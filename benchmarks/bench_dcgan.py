"""The course's MNIST DCGAN against the TensorFlow DCGAN tutorial's: speed, and quality at equal time.

    python benchmarks/bench_dcgan.py                 # full: throughput, then 300 s of training each (~15 min on 2 cores)
    python benchmarks/bench_dcgan.py --budget 600    # the same with 600 s each
    python benchmarks/bench_dcgan.py --budget 0      # throughput only (~3 minutes)
    python benchmarks/bench_dcgan.py --quick         # a smoke test (~1 minute): checks the script, measures little

**Throughput.** The course's default DCGAN (``models.dc_discriminator`` and
``models.dc_generator``, trained by ``run_a_gan``: batch 128) and the re-creation of
the TensorFlow DCGAN tutorial (``references.py``: 5x5 kernels, 256-128-64 channels
in the generator, batch 256, its own ``tf.function`` step) each train ``--steps``
steps on MNIST, alternately, ``--repeats`` times, in this one process; the median
steady-state images per second counts (compilation excluded). Target: the course's
DCGAN trains at least 3x the tutorial's images per second.

**Quality at equal wall-clock time** (``--budget`` seconds each, counted from
building the models, compilation included): the course's DCGAN is scored with
``gan_helpers.metrics.evaluate_generator`` (it samples the uniform noise it was
trained on); the tutorial's generator, trained on normal noise, is sampled with its
own noise (``references.sample_tf_tutorial``) and scored with
``metrics.evaluate_images``, the function evaluate_generator calls. Scores: FID in
the course's classifier features (lower is better) and digits covered (of 10).
Target: the course's DCGAN has the lower FID and covers at least as many digits.

Writes benchmarks/results/dcgan.json, dcgan.md and a grid of samples per model
(``dcgan_quick.*`` with --quick, which git ignores). The machine's load average is
recorded before and after: on a shared machine, both models slow down alike, but
quote the figures of a quiet run.
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

import references  # noqa: E402
from gan_helpers import losses, metrics, models, training, viz  # noqa: E402
from gan_helpers.data import load_mnist  # noqa: E402

COURSE_BATCH = 128  # run_a_gan's default
SPEED_TARGET = 3.0
MNIST_TRAIN_IMAGES = 60_000
# Our DCGAN reads its losses back, and the budget is checked, every this many steps.
PRINT_EVERY = 20


def course_gan(seed, learning_rate):
    keras.utils.set_random_seed(seed)
    return training.build_gan(models.dc_discriminator, models.dc_generator, learning_rate=learning_rate)


def course_images_per_sec(images, steps, seed, learning_rate):
    """Steady-state images/s of ``steps`` steps of the course's DCGAN (run_a_gan, batch 128)."""
    D, G, D_solver, G_solver = course_gan(seed, learning_rate)
    history = training.run_a_gan(D, G, D_solver, G_solver, losses.discriminator_loss, losses.generator_loss,
                                 batch_size=COURSE_BATCH, num_epochs=1, print_every=max(steps // 4, 1),
                                 show_every=10**9, dataset=images[: steps * COURSE_BATCH], seed=seed, verbose=False)
    if history.stopped != "completed":
        raise RuntimeError(f"The course's DCGAN stopped: {history.message}")
    return history.images_per_sec


def throughput(images, steps, repeats, learning_rate):
    """Median images/s of both models, timed alternately so that load changes hit both alike."""
    course, tutorial = [], []
    for repeat in range(repeats):
        course.append(course_images_per_sec(images, steps, repeat, learning_rate))
        tutorial.append(references.train_tf_tutorial(max_steps=steps, seed=repeat)[1]["images_per_sec"])
        print(f"repeat {repeat + 1}/{repeats}: course DCGAN {course[-1]:,.0f} images/s, "
              f"TF tutorial {tutorial[-1]:,.0f} images/s")
    return {"course": {"runs": course, "median": statistics.median(course)},
            "tutorial": {"runs": tutorial, "median": statistics.median(tutorial)}}


def train_course_for(budget_s, seed, learning_rate):
    """The course's DCGAN trained for ``budget_s`` seconds (building and compiling included); (G, stats)."""
    start = time.perf_counter()
    D, G, D_solver, G_solver = course_gan(seed, learning_rate)
    history = training.run_a_gan(D, G, D_solver, G_solver, losses.discriminator_loss, losses.generator_loss,
                                 batch_size=COURSE_BATCH, num_epochs=10**6, print_every=PRINT_EVERY,
                                 show_every=10**9, seed=seed, callbacks=[_common.Budget(start, budget_s)],
                                 verbose=False)
    if history.stopped == "nan":
        raise RuntimeError(f"The course's DCGAN diverged: {history.message}")
    steps_per_epoch = -(-MNIST_TRAIN_IMAGES // COURSE_BATCH)
    epochs, in_epoch = divmod(history.steps_done, steps_per_epoch)
    return G, {"steps": history.steps_done, "images_seen": epochs * MNIST_TRAIN_IMAGES + in_epoch * COURSE_BATCH,
               "seconds": round(time.perf_counter() - start, 2), "images_per_sec": history.images_per_sec}


def quality(budget_s, samples, seed, learning_rate, grid_dir, suffix):
    """Train each model for ``budget_s`` seconds, then score ``samples`` of its images."""
    rows = {}
    G, stats = train_course_for(budget_s, seed, learning_rate)
    scores = metrics.evaluate_generator(G, samples, seed=seed)
    images = metrics.generate(G, 64, seed=seed + 1)
    rows["course"] = {**stats, **_scores(scores), "grid": _grid(images, grid_dir / f"dcgan_course{suffix}.png")}
    print(f"course DCGAN after {stats['seconds']} s: {scores}")

    G, stats = references.train_tf_tutorial(budget_s=budget_s, seed=seed)
    scores = metrics.evaluate_images(references.sample_tf_tutorial(G, samples, seed=seed))
    images = references.sample_tf_tutorial(G, 64, seed=seed + 1)
    rows["tutorial"] = {**stats, **_scores(scores), "grid": _grid(images, grid_dir / f"dcgan_tf_tutorial{suffix}.png")}
    print(f"TF tutorial after {stats['seconds']} s: {scores}")
    return rows


def _scores(scores):
    return {"fid": scores.fid, "precision": scores.precision, "recall": scores.recall,
            "digits_covered": scores.digits_covered, "class_shares": scores.class_shares,
            "num_samples": scores.num_samples}


def _grid(images, path):
    return viz.save_image_grid(images, path, ncols=8, scale=2).name


def _load():
    return [round(value, 2) for value in os.getloadavg()]


def markdown(results, command):
    m, s = results["machine"], results["settings"]
    speed = results["throughput"]
    flops = results["flops_per_image"]
    ratio = results["targets"]["speed"]["value"]
    lines = [
        "# The course's MNIST DCGAN against the TensorFlow DCGAN tutorial",
        "",
        f"{m['cpu']}, {m['cores']} cores, TensorFlow {m['tensorflow']}, Keras {m['keras']}, {m['date']}. "
        f"Load average (1, 5, 15 min) {results['load_before']} before, {results['load_after']} after.",
        "",
        "## Train-step throughput",
        "",
        f"{s['steps']} steps per run on MNIST, both models alternately, median of {s['repeats']} runs "
        "(compilation excluded).",
        "",
        _common.markdown_table(
            ["model", "loop", "batch", "parameters (D + G)", "GFLOP per image", "images/s", "runs"],
            [
                ["course DCGAN (`models.dc_*`)", "run_a_gan (compiled step)", COURSE_BATCH,
                 f"{results['parameters']['course']:,}", f"{flops['course'] / 1e9:.4f}",
                 f"{speed['course']['median']:,.0f}", ", ".join(f"{v:,.0f}" for v in speed["course"]["runs"])],
                ["TF DCGAN tutorial (re-creation)", "its tf.function step", references.TF_BATCH_SIZE,
                 f"{results['parameters']['tutorial']:,}", f"{flops['tutorial'] / 1e9:.4f}",
                 f"{speed['tutorial']['median']:,.0f}", ", ".join(f"{v:,.0f}" for v in speed["tutorial"]["runs"])],
            ],
        ),
        "",
        f"Speed-up: **{ratio:.1f}x** the tutorial's images per second (target at least {SPEED_TARGET:g}x: "
        f"**{'met' if results['targets']['speed']['met'] else 'not met'}**).",
    ]
    if results.get("quality"):
        q = results["quality"]
        lines += [
            "",
            "## Sample quality at equal wall-clock time",
            "",
            f"Each model trained for {s['budget_s']:g} s (building and compilation included), then "
            f"{q['course']['num_samples']:,} samples scored against the MNIST test set in the course's classifier "
            "features (FID: lower is better).",
            "",
            _common.markdown_table(
                ["model", "steps", "images seen", "seconds", "FID", "precision", "recall", "digits covered"],
                [[name, r["steps"], f"{r['images_seen']:,}", r["seconds"], f"{r['fid']:.2f}", f"{r['precision']:.3f}",
                  f"{r['recall']:.3f}", f"{r['digits_covered']}/10"]
                 for name, r in (("course DCGAN", q["course"]), ("TF DCGAN tutorial (re-creation)", q["tutorial"]))],
            ),
            "",
            f"Better samples in the same time (lower FID, at least as many digits): "
            f"**{'met' if results['targets']['quality']['met'] else 'not met'}**.",
            "",
            f"![course DCGAN]({q['course']['grid']})",
            f"![TF DCGAN tutorial]({q['tutorial']['grid']})",
        ]
    lines += ["", f"Command: `{command}`"]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="train steps per timed run (default 200)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per model; the median counts (default 3)")
    parser.add_argument("--budget", type=float, default=300.0,
                        help="seconds of training per model for the quality comparison; 0 skips it (default 300)")
    parser.add_argument("--samples", type=int, default=5000, help="generated images scored per model (default 5000)")
    parser.add_argument("--learning-rate", type=float, default=1e-3,
                        help="Adam learning rate of the course's DCGAN (default 1e-3, the library's get_solvers default)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the quality runs (default 0)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that the script works, measures little")
    parser.add_argument("--output-dir", default=_common.RESULTS_DIR, help="where to write results (default benchmarks/results)")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.repeats, args.budget, args.samples = 5, 1, min(args.budget, 8.0), 500
    output_dir = Path(args.output_dir)
    suffix = "_quick" if args.quick else ""
    command = "python benchmarks/bench_dcgan.py" + (" --quick" if args.quick else f" --budget {args.budget:g}")

    load_before = _load()
    started = time.perf_counter()
    (x_train, _), _ = load_mnist()
    images = x_train[:, :, :, None]  # uint8; run_a_gan scales it to [-1, 1]
    speed = throughput(images, args.steps, args.repeats, args.learning_rate)
    ratio = speed["course"]["median"] / max(speed["tutorial"]["median"], 1e-9)
    course_D, course_G = models.dc_discriminator(), models.dc_generator()
    tutorial_D, tutorial_G = references.tf_tutorial_discriminator(), references.tf_tutorial_generator()
    results = {
        "machine": _common.machine(),
        "settings": {"steps": args.steps, "repeats": args.repeats, "budget_s": args.budget, "samples": args.samples,
                     "learning_rate": args.learning_rate, "seed": args.seed, "quick": args.quick},
        "load_before": load_before,
        "parameters": {"course": course_D.count_params() + course_G.count_params(),
                       "tutorial": tutorial_D.count_params() + tutorial_G.count_params()},
        "flops_per_image": {"course": _common.gan_step_flops_per_image(course_D, course_G),
                            "tutorial": _common.gan_step_flops_per_image(tutorial_D, tutorial_G, simultaneous=True)},
        "throughput": speed,
        "targets": {"speed": {"value": ratio, "target": SPEED_TARGET, "met": ratio >= SPEED_TARGET}},
    }
    if args.budget > 0:
        q = quality(args.budget, args.samples, args.seed, args.learning_rate, output_dir, suffix)
        results["quality"] = q
        met = q["course"]["fid"] < q["tutorial"]["fid"] and q["course"]["digits_covered"] >= q["tutorial"]["digits_covered"]
        results["targets"]["quality"] = {"course_fid": q["course"]["fid"], "tutorial_fid": q["tutorial"]["fid"],
                                         "met": met}
    results["load_after"] = _load()
    results["seconds"] = round(time.perf_counter() - started, 1)
    _common.write_results(f"dcgan{suffix}", results, markdown(results, command), output_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
