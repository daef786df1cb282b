"""The stabilisation toolbox on a data-limited MNIST, one tool at a time and all together, at equal time.

    nice -n 10 python benchmarks/bench_stabilise.py              # 9 runs x 210 s, scored: about 38 minutes on 2 cores
    nice -n 10 python benchmarks/bench_stabilise.py --clock cpu  # equal CPU time instead, for a shared machine
    python benchmarks/bench_stabilise.py --quick                 # a smoke test: about 2 minutes, measures nothing

The data: the first ``--digits`` (2,000) digits of the MNIST training set, all a GAN is allowed to
see. Each configuration trains the course's MNIST DCGAN (``dc_discriminator``, ``dc_generator``) on
them with ``run_a_gan`` for the same wall-clock budget (``--budget`` seconds, from building the
models, compilation included), then ``evaluate_generator`` scores ``--samples`` (5,000) samples
against the MNIST test set: FID (in the course's classifier features), precision, recall, digits
covered. With ``ema`` the averaged generator is scored (``history.ema_generator``).

- ``baseline``: notebook 07's DCGAN and settings: the cross-entropy losses, Adam 1e-3 for both
  networks, beta1 0.5, batches of 128.
- one tool each: ``spectral_norm`` (every kernel of D normalised), ``ttur`` (D 2e-3, G 5e-4: SAGAN's
  4:1 ratio around the baseline's rate, the same geometric mean), ``hinge`` (the hinge losses),
  ``ema`` (samples from the moving average of G's weights, decay ``EMA_DECAY`` with run_a_gan's
  warm-up), ``diffaugment``
  (``diff_augment``, colour, translation and cutout, on real and generated images);
- ``all``: all five together;
- the baseline again and the best of the others again, with another seed: the run-to-run noise.

``--clock cpu`` gives every run the same CPU time of this process (``time.process_time``, all its
threads) instead of the same wall-clock time: on a machine other jobs share, wall-clock budgets
give each run whatever the others leave it, CPU budgets the same work. Both clocks are recorded.

Every run also records how much D has memorised its digits: its mean logit and the share it calls
real on the training digits against the same for as many unseen test digits (``overfit_*``).
Writes benchmarks/results/stabilise.json and stabilise.md and a grid of 64 samples per run,
stabilise_<run>.png (``*_quick.*`` with --quick).
"""

import argparse
import os
import time
from pathlib import Path

import _common

_common.force_full_mode()

import keras  # noqa: E402
import numpy as np  # noqa: E402

from gan_helpers import augment, losses, metrics, models, ops, training, viz  # noqa: E402
from gan_helpers.data import load_mnist  # noqa: E402

PRINT_EVERY = 5  # the budget is checked this often (steps)
BATCH_SIZE = 128
LEARNING_RATE = 1e-3
TTUR_RATES = {"d_learning_rate": 2e-3, "g_learning_rate": 5e-4}
EMA_DECAY = 0.999
GRID_IMAGES = 64
TOOLS = ("spectral_norm", "ttur", "hinge", "ema", "diffaugment")
TOOL_NAMES = {"spectral_norm": "spectral norm", "ttur": "TTUR (D 2e-3, G 5e-4)", "hinge": "hinge loss",
              "ema": f"EMA of G ({EMA_DECAY})", "diffaugment": "DiffAugment (color, translation, cutout)"}
RUN_NAMES = {"baseline": "baseline", "spectral_norm": "+ spectral norm", "ttur": "+ TTUR", "hinge": "+ hinge loss",
             "ema": "+ EMA", "diffaugment": "+ DiffAugment", "all": "all five"}
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def configurations():
    """name -> the set of tools it switches on; ordered as the table shows them."""
    table = {"baseline": set()}
    table.update({tool: {tool} for tool in TOOLS})
    table["all"] = set(TOOLS)
    return table


def train(tools, digits, budget_s, seed, clock):
    """Train the DCGAN with ``tools`` on ``digits`` for ``budget_s`` seconds of ``clock``; returns (D, G to score, stats)."""
    start, wall_start, cpu_start = clock(), time.perf_counter(), time.process_time()
    keras.utils.set_random_seed(seed)
    rates = TTUR_RATES if "ttur" in tools else {}
    D, G, D_solver, G_solver = training.build_gan(
        lambda: models.dc_discriminator(spectral_norm="spectral_norm" in tools), models.dc_generator,
        learning_rate=LEARNING_RATE, **rates)
    d_loss, g_loss = ((losses.hinge_discriminator_loss, losses.hinge_generator_loss) if "hinge" in tools
                      else (losses.discriminator_loss, losses.generator_loss))
    history = training.run_a_gan(
        D, G, D_solver, G_solver, d_loss, g_loss, dataset=digits, batch_size=BATCH_SIZE, num_epochs=10**6,
        print_every=PRINT_EVERY, show_every=10**9, seed=seed, verbose=False,
        ema=EMA_DECAY if "ema" in tools else None, augment=augment.diff_augment if "diffaugment" in tools else None,
        callbacks=[_common.Budget(start, budget_s, clock)])
    if history.stopped == "nan":
        raise RuntimeError(f"Training diverged: {history.message}")
    scored = history.ema_generator if "ema" in tools else G
    stats = {"steps": history.steps_done, "seconds": round(time.perf_counter() - wall_start, 1),
             "cpu_seconds": round(time.process_time() - cpu_start, 1),
             "images_per_sec": round(history.images_per_sec, 1),
             "epochs": round(history.steps_done * BATCH_SIZE / len(digits), 1),
             "load_average": round(os.getloadavg()[0], 2)}
    return D, scored, stats


def overfitting(D, seen, unseen):
    """How differently D judges the digits it trained on and unseen ones (inference mode)."""
    seen_logits = np.asarray(D(ops.scale_pixels(seen[..., None]), training=False)).ravel()
    unseen_logits = np.asarray(D(ops.scale_pixels(unseen[..., None]), training=False)).ravel()
    return {"overfit_logit_seen": float(seen_logits.mean()), "overfit_logit_unseen": float(unseen_logits.mean()),
            "overfit_real_seen": float(np.mean(seen_logits > 0)), "overfit_real_unseen": float(np.mean(unseen_logits > 0))}


def run(name, tools, digits, unseen, args, output_dir, suffix, seed):
    label = RUN_NAMES[name] if seed == args.seed else f"{RUN_NAMES[name]} (seed {seed})"
    print(f"\n== {label}: {', '.join(TOOL_NAMES[t] for t in TOOLS if t in tools) or 'no tool'}, "
          f"{args.budget:g} s of {args.clock} time", flush=True)
    keras.backend.clear_session()
    D, G, stats = train(tools, digits, args.budget, seed, CLOCKS[args.clock])
    scores = metrics.evaluate_generator(G, args.samples, seed=seed)
    slug = name if seed == args.seed else f"{name}_seed{seed}"
    grid = output_dir / f"stabilise_{slug}{suffix}.png"
    viz.save_image_grid(metrics.generate(G, GRID_IMAGES, seed=seed), grid, ncols=8, scale=2)
    row = {"run": label, "config": name, "seed": seed, "tools": [t for t in TOOLS if t in tools], **stats,
           "fid": scores.fid, "precision": scores.precision, "recall": scores.recall,
           "digits_covered": scores.digits_covered, "class_shares": scores.class_shares,
           "num_samples": scores.num_samples, "grid": grid.name, **overfitting(D, digits, unseen)}
    print(f"{label}: {scores}; {stats['steps']} steps, {stats['epochs']} epochs, {stats['seconds']} s "
          f"({stats['cpu_seconds']} CPU s); D calls real {row['overfit_real_seen']:.0%} of its digits, "
          f"{row['overfit_real_unseen']:.0%} of unseen ones", flush=True)
    return row


def markdown(results, command):
    m, s = results["machine"], results["settings"]

    def cells(r):
        return [r["run"], f"{r['steps']:,}", f"{r['epochs']:g}", f"{r['seconds']:.0f} / {r['cpu_seconds']:.0f}",
                f"{r['fid']:.1f}", f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['digits_covered']}/10",
                f"{r['overfit_real_seen']:.0%} / {r['overfit_real_unseen']:.0%}", f"{r['load_average']:.1f}"]

    table = _common.markdown_table(
        ["run", "steps", "epochs", "seconds: wall / CPU", "FID", "precision", "recall", "digits covered",
         "D calls real: its digits / unseen", "load"],
        [cells(r) for r in results["runs"]])
    clock = ("wall-clock time" if s["clock"] == "wall" else
             "CPU time of the benchmark's process (all its threads; other jobs on the machine do not count)")
    lines = [
        f"# The stabilisation toolbox on {s['digits']:,} MNIST digits, at equal time",
        "",
        f"{m['cpu']}, {m['cores']} cores, TensorFlow {m['tensorflow']}, Keras {m['keras']}, {m['date']}.",
        f"The first {s['digits']:,} MNIST training digits; the course's DCGAN trained for {s['budget_s']:g} s of "
        f"{clock} per run (model building and compilation included), batches of {s['batch_size']}, Adam "
        f"{s['learning_rate']:g} (beta1 0.5) unless TTUR, EMA decay {s['ema_decay']:g}; then {s['samples']:,} "
        f"samples scored against the MNIST test set (FID: lower is better). Seed {s['seed']}; the last two rows "
        f"repeat the baseline and the best other run with seed {s['seed'] + 1}. 'D calls real': the share of the "
        f"{s['digits']:,} training digits, and of {s['digits']:,} unseen test digits, that D scores above 0 at the "
        "end; 'load': the machine's load average when the run ended (2 cores: above 2, other jobs shared them).",
        "",
        table,
        "",
        f"Command: `{command}`",
    ]
    if s["quick"]:
        lines[2:2] = _common.SMOKE_TEST_LINES
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=210.0, help="training seconds per run (default 210)")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall: equal wall-clock time per run (default); cpu: equal CPU time of this process")
    parser.add_argument("--digits", type=int, default=2000, help="training digits: the first N of MNIST (default 2000)")
    parser.add_argument("--samples", type=int, default=5000, help="images scored per run (default 5000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the runs; the repeats use seed + 1 (default 0)")
    parser.add_argument("--only", nargs="+", metavar="RUN", help=f"run only these: {', '.join(configurations())}")
    parser.add_argument("--no-repeats", action="store_true", help="leave out the two repeats with another seed")
    parser.add_argument("--quick", action="store_true", help="3 s per run, 500 samples: checks that the script works")
    parser.add_argument("--output-dir", default=_common.RESULTS_DIR, help="where to write results (default benchmarks/results)")
    args = parser.parse_args(argv)
    if args.quick:
        args.budget, args.samples = 3.0, 500
    if args.budget <= 0 or args.samples < 100 or not 100 <= args.digits <= 60000:
        parser.error("--budget must be positive, --samples at least 100, --digits between 100 and 60000.")
    table = configurations()
    unknown = sorted(set(args.only or []) - set(table))
    if unknown:
        parser.error(f"unknown run(s) {', '.join(unknown)}; choose from {', '.join(table)}.")
    suffix = "_quick" if args.quick else ""
    output_dir = Path(args.output_dir)

    (x_train, y_train), (x_test, _) = load_mnist()
    digits, unseen = x_train[: args.digits], x_test[: args.digits]
    metrics.mnist_features("test")  # classify the reference set once, outside every budget
    rows = []
    for name, tools in table.items():
        if not args.only or name in args.only:
            rows.append(run(name, tools, digits, unseen, args, output_dir, suffix, args.seed))
    if not args.no_repeats and len(rows) > 1:
        others = [row for row in rows if row["config"] != "baseline"]
        best = min(others, key=lambda row: row["fid"])
        for name in dict.fromkeys(["baseline", best["config"]]):
            rows.append(run(name, table[name], digits, unseen, args, output_dir, suffix, args.seed + 1))

    command = "python benchmarks/bench_stabilise.py" + (" --quick" if args.quick else (
        f" --budget {args.budget:g} --clock {args.clock} --digits {args.digits} --samples {args.samples} "
        f"--seed {args.seed}"))
    if args.only:
        command += " --only " + " ".join(args.only)
    if args.no_repeats:
        command += " --no-repeats"
    results = {
        "machine": _common.machine(),
        "settings": {"budget_s": args.budget, "clock": args.clock, "digits": args.digits, "samples": args.samples, "seed": args.seed,
                     "quick": args.quick, "batch_size": BATCH_SIZE, "learning_rate": LEARNING_RATE,
                     "ttur": TTUR_RATES, "ema_decay": EMA_DECAY, "augment_policy": augment.DEFAULT_POLICY,
                     "print_every": PRINT_EVERY,
                     "digit_counts": np.bincount(y_train[: args.digits], minlength=10).tolist()},
        "runs": rows,
        "command": command,
    }
    _common.write_results(f"stabilise{suffix}", results, markdown(results, command), output_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
