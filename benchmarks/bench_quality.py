"""Sample quality at an equal wall-clock budget: the course's GANs against the two tutorials.

    python benchmarks/bench_quality.py               # full: 5 models x 300 s, about 27 minutes on 2 cores
    python benchmarks/bench_quality.py --quick       # a smoke test: under a minute, measures nothing

Each model trains on MNIST for the same wall-clock budget (``--budget`` seconds,
counted from building the models, compilation included) on this machine, one after
the other in one process, then draws ``--samples`` images that are scored with
``gan_helpers.metrics.evaluate_images`` against the MNIST test set: FID (in the
course's classifier features), precision, recall and digits covered.

- The course's models: the MLP GAN, the LSGAN and the DCGAN at the library's
  defaults (``build_gan`` + ``run_a_gan``: Adam 1e-3, beta1 0.5, batch 128, uniform
  noise of size 96). A callback stops ``run_a_gan`` once the budget is spent (it is
  checked every ``PRINT_EVERY`` steps; the seconds actually used are recorded).
- The re-creations in ``references.py``: the CS231n MLP GAN with its eager loop and
  the TensorFlow DCGAN tutorial with its ``tf.function`` step, each with its own
  hyper-parameters, stopped after the first step that ends past the budget.

Writes benchmarks/results/quality.json and quality.md and one 8 x 8 grid of samples
per model, quality_<model>.png (``quality_quick.*`` and ``quality_<model>_quick.png``
with --quick). The table also scores real MNIST training digits at the same sample
size: the floor that finite-sample bias leaves under FID.
"""

import argparse
import time
from pathlib import Path

import _common

_common.force_full_mode()

import keras  # noqa: E402

import references  # noqa: E402
from gan_helpers import losses, metrics, models, ops, training, viz  # noqa: E402
from gan_helpers.data import load_mnist  # noqa: E402

# Our models read their losses back, and the budget callback checks the clock, every this many steps.
PRINT_EVERY = 5
GRID_IMAGES = 64
BATCH_SIZE = 128  # run_a_gan's default
MNIST_TRAIN_IMAGES = 60_000


def train_course_model(make_D, make_G, d_loss, g_loss, budget_s, seed):
    """Train one of the course's GANs with run_a_gan for ``budget_s`` seconds; returns (G, stats)."""
    start = time.perf_counter()
    keras.utils.set_random_seed(seed)
    D, G, D_solver, G_solver = training.build_gan(make_D, make_G)
    history = training.run_a_gan(D, G, D_solver, G_solver, d_loss, g_loss, num_epochs=10**6, print_every=PRINT_EVERY,
                                 show_every=10**9, seed=seed, callbacks=[_common.Budget(start, budget_s)],
                                 verbose=False)
    if history.stopped == "nan":
        raise RuntimeError(f"Training diverged: {history.message}")
    steps_per_epoch = -(-MNIST_TRAIN_IMAGES // BATCH_SIZE)  # the last batch of an epoch is smaller
    epochs, steps_in_epoch = divmod(history.steps_done, steps_per_epoch)
    stats = {"steps": history.steps_done, "images_seen": epochs * MNIST_TRAIN_IMAGES + steps_in_epoch * BATCH_SIZE,
             "seconds": round(time.perf_counter() - start, 2), "images_per_sec": history.images_per_sec}
    return G, stats


def model_table():
    """(name, slug, kind, train(budget_s, seed) -> (G, stats), sample(G, count, seed) -> images)."""

    def course(make_D, make_G, d_loss, g_loss):
        return lambda budget_s, seed: train_course_model(make_D, make_G, d_loss, g_loss, budget_s, seed)

    def course_samples(G, count, seed):
        return metrics.generate(G, count, seed=seed)

    return [
        ("MLP GAN", "mlp_gan", "course, run_a_gan defaults",
         course(models.discriminator, models.generator, losses.discriminator_loss, losses.generator_loss), course_samples),
        ("LSGAN", "lsgan", "course, run_a_gan defaults",
         course(models.discriminator, models.generator, losses.ls_discriminator_loss, losses.ls_generator_loss),
         course_samples),
        ("DCGAN", "dcgan", "course, run_a_gan defaults",
         course(models.dc_discriminator, models.dc_generator, losses.discriminator_loss, losses.generator_loss),
         course_samples),
        ("CS231n MLP GAN (re-creation)", "cs231n", "reference, eager loop",
         lambda budget_s, seed: references.train_cs231n(budget_s=budget_s, seed=seed), references.sample_cs231n),
        ("TF DCGAN tutorial (re-creation)", "tf_dcgan_tutorial", "reference, tf.function step",
         lambda budget_s, seed: references.train_tf_tutorial(budget_s=budget_s, seed=seed), references.sample_tf_tutorial),
    ]


def score_row(name, images, stats, grid_path):
    scores = metrics.evaluate_images(images)
    row = {"model": name, **stats, "fid": scores.fid, "precision": scores.precision, "recall": scores.recall,
           "digits_covered": scores.digits_covered, "class_shares": scores.class_shares,
           "num_samples": scores.num_samples}
    if grid_path is not None:
        viz.save_image_grid(images[:GRID_IMAGES], grid_path, ncols=8, scale=2)
        row["grid"] = grid_path.name
    print(f"{name}: {scores}")
    return row


def targets(rows):
    """The course's quality targets, from the rows that were run (a target is None when a model is missing)."""
    by_slug = {row["slug"]: row for row in rows}
    result = {}
    if "dcgan" in by_slug and "tf_dcgan_tutorial" in by_slug:
        ours, theirs = by_slug["dcgan"], by_slug["tf_dcgan_tutorial"]
        ratio = ours["fid"] / max(theirs["fid"], 1e-12)
        result["dcgan_fid_at_most_a_fifth_of_tf_tutorial_with_10_digits"] = {
            "dcgan_fid": ours["fid"], "tf_tutorial_fid": theirs["fid"], "ratio": ratio,
            "dcgan_digits_covered": ours["digits_covered"],
            "met": ratio <= 0.2 and ours["digits_covered"] == 10,
        }
    if "mlp_gan" in by_slug and "cs231n" in by_slug:
        ours, theirs = by_slug["mlp_gan"], by_slug["cs231n"]
        result["mlp_gan_fid_below_cs231n"] = {"mlp_gan_fid": ours["fid"], "cs231n_fid": theirs["fid"],
                                             "met": ours["fid"] < theirs["fid"]}
    return result


def markdown(results, command):
    m, s = results["machine"], results["settings"]
    table = _common.markdown_table(
        ["model", "loop", "steps", "images seen", "seconds", "images/s", "FID", "precision", "recall", "digits covered"],
        [[r["model"], r["kind"], r.get("steps", ""), f"{r['images_seen']:,}" if "images_seen" in r else "",
          r.get("seconds", ""), f"{r['images_per_sec']:,.0f}" if "images_per_sec" in r else "",
          f"{r['fid']:.2f}", f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['digits_covered']}/10"]
         for r in results["models"] + [results["real_digits"]]],
    )
    lines = [
        "# Sample quality at an equal wall-clock budget",
        "",
        f"{m['cpu']}, {m['cores']} cores, TensorFlow {m['tensorflow']}, Keras {m['keras']}, {m['date']}.",
        f"Each model trained for {s['budget_s']:g} s (model building and compilation included), then "
        f"{s['samples']:,} samples scored against the MNIST test set in the course's classifier features "
        f"(FID: lower is better; precision, recall: higher is better). Seed {s['seed']}.",
        "",
        table,
        "",
    ]
    if s["quick"]:
        lines[2:2] = _common.SMOKE_TEST_LINES
    for key, target in results["targets"].items():
        verdict = "met" if target["met"] else "not met"
        if key.startswith("dcgan"):
            lines.append(f"- DCGAN FID at most 1/5 of the TF tutorial's, all 10 digits: {target['dcgan_fid']:.2f} vs "
                         f"{target['tf_tutorial_fid']:.2f} (ratio {target['ratio']:.2f}), "
                         f"{target['dcgan_digits_covered']} digits covered: **{verdict}**.")
        else:
            lines.append(f"- MLP GAN FID below the CS231n re-creation's: {target['mlp_gan_fid']:.2f} vs "
                         f"{target['cs231n_fid']:.2f}: **{verdict}**.")
    grids = [f"![{r['model']}]({r['grid']})" for r in results["models"] if "grid" in r]
    if grids:
        lines += ["", "Samples (the first 64 scored images of each model):", "", *grids]
    lines += ["", f"Command: `{command}`"]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=300.0, help="training seconds per model (default 300)")
    parser.add_argument("--samples", type=int, default=5000, help="images scored per model (default 5000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every model's training and sampling (default 0)")
    parser.add_argument("--only", nargs="+", metavar="MODEL",
                        help="run only these models: mlp_gan lsgan dcgan cs231n tf_dcgan_tutorial")
    parser.add_argument("--quick", action="store_true", help="2 s per model, 500 samples: checks that the script works")
    parser.add_argument("--output-dir", default=_common.RESULTS_DIR, help="where to write results (default benchmarks/results)")
    args = parser.parse_args(argv)
    budget, samples = (2.0, 500) if args.quick else (args.budget, args.samples)
    if budget <= 0 or samples < 100:
        parser.error("--budget must be positive and --samples at least 100 (a few thousand for a stable FID).")
    table = model_table()
    slugs = [slug for _, slug, *_ in table]
    unknown = sorted(set(args.only or []) - set(slugs))
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(slugs)}.")
    suffix = "_quick" if args.quick else ""
    output_dir = Path(args.output_dir)

    metrics.mnist_features("test")  # classify the reference set once, outside every budget
    rows = []
    for name, slug, kind, train, sample in table:
        if args.only and slug not in args.only:
            continue
        print(f"\n== {name}: training for {budget:g} s")
        keras.backend.clear_session()
        G, stats = train(budget, args.seed)
        images = sample(G, samples, seed=args.seed)
        row = score_row(name, images, stats, output_dir / f"quality_{slug}{suffix}.png")
        rows.append({"slug": slug, "kind": kind, **row})
    (x_train, _), _ = load_mnist()
    real = score_row("real MNIST training digits", ops.scale_pixels(x_train[:samples]), {}, None)
    real.update({"slug": "real", "kind": "the data itself: the floor at this sample size"})

    command = "python benchmarks/bench_quality.py" + (" --quick" if args.quick else
                                                      f" --budget {budget:g} --samples {samples} --seed {args.seed}")
    if args.only:
        command += " --only " + " ".join(args.only)
    results = {
        "machine": _common.machine(),
        "settings": {"budget_s": budget, "samples": samples, "seed": args.seed, "quick": args.quick,
                     "print_every": PRINT_EVERY},
        "models": rows,
        "real_digits": real,
        "targets": targets(rows),
        "command": command,
    }
    _common.write_results(f"quality{suffix}", results, markdown(results, command), output_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
