"""WGAN-GP against the course's DCGAN on MNIST at an equal wall-clock budget (notebook 11).

    python benchmarks/bench_wgan.py                  # 4 models x 300 s, scored: about 23 minutes on 2 cores
    python benchmarks/bench_wgan.py --repeats 2      # two seeds, the models alternating: about 24 minutes
    python benchmarks/bench_wgan.py --quick          # a smoke test: about a minute, measures nothing

The two models, each trained on all of MNIST with ``run_a_gan`` for ``--budget`` seconds
of wall-clock time (building and compilation included, scoring during training excluded),
then scored on ``--samples`` images with ``gan_helpers.metrics`` (FID in the course's
classifier features, precision, recall, digits covered) against the MNIST test set:

- **WGAN-GP**: ``models.critic(layer_norm=True)`` and ``models.dc_generator``, the
  Wasserstein losses with ``losses.gradient_penalty`` (lambda = 10), 5 critic updates per
  generator update (``d_steps=5``), Adam at 1e-3 with beta1 = 0 and beta2 = 0.9, batch 128;
  and two variants of it, each with one change: the critic without layer normalisation
  (notebook 11's settings), and the paper's learning rate, 1e-4 (Gulrajani et al., 2017,
  Algorithm 1).
- **DCGAN** (notebook 07): ``models.dc_discriminator`` and ``models.dc_generator``, the
  cross-entropy losses, one discriminator update per generator update, the library's Adam
  (1e-3, beta1 = 0.5), batch 128.

The critic is the DCGAN's discriminator with a score out (and layer normalisation where
the DCGAN guidelines put batch norm); the generators are the same network, so the
comparison is of the objective and its training (including the four extra critic updates
per step that WGAN-GP pays for). With ``--repeats N`` each model trains N
times (seeds ``--seed`` .. ``--seed`` + N - 1), alternating, the first model of each pair
alternating too, so that a drift in the machine's speed hits both.

During each run the generator is also scored at ``--checkpoints`` seconds of training on
``--checkpoint-samples`` images (the clock stops while it is scored), next to the mean of
each training curve over the steps since the previous checkpoint: the critic's estimate of
the Wasserstein distance, E[D(real)] - E[D(fake)] (that is, the penalty minus the critic's
loss), for WGAN-GP; both losses for the DCGAN. The Spearman rank correlation of each curve
with FID over the checkpoints says whether the curve follows sample quality.

Writes benchmarks/results/wgan.json and wgan.md and one 8 x 8 grid of the first scored
samples per model, wgan_<model>.png (``wgan_quick.*`` and ``wgan_<model>_quick.png`` with
--quick). The table also scores real MNIST training digits at the same sample size.
"""

import argparse
import os
import time
from pathlib import Path

import _common

_common.force_full_mode()

import keras  # noqa: E402
import numpy as np  # noqa: E402

from gan_helpers import losses, metrics, models, ops, training, viz  # noqa: E402
from gan_helpers.data import load_mnist  # noqa: E402

# Losses are read back, and the clock checked, every this many generator steps.
PRINT_EVERY = 5
BATCH_SIZE = 128
MNIST_TRAIN_IMAGES = 60_000
GRID_IMAGES = 64
DEFAULT_CHECKPOINTS = (20, 40, 60, 90, 120, 150, 180, 210, 240, 270)


def wgan_gp(layer_norm=True, learning_rate=1e-3):
    """A builder of (D, G, D_solver, G_solver, run_a_gan keywords) for notebook 11's WGAN-GP."""

    def build():
        D, G, D_solver, G_solver = training.build_gan(lambda: models.critic(layer_norm=layer_norm),
                                                      models.dc_generator, learning_rate=learning_rate,
                                                      beta1=0.0, beta2=0.9)
        options = dict(discriminator_loss=losses.wasserstein_critic_loss,
                       generator_loss=losses.wasserstein_generator_loss, d_steps=5,
                       discriminator_penalty=losses.gradient_penalty)
        return D, G, D_solver, G_solver, options

    return build


def dcgan():
    """(D, G, D_solver, G_solver, run_a_gan keywords) of notebook 07's DCGAN (the library's defaults)."""
    D, G, D_solver, G_solver = training.build_gan(models.dc_discriminator, models.dc_generator)
    options = dict(discriminator_loss=losses.discriminator_loss, generator_loss=losses.generator_loss)
    return D, G, D_solver, G_solver, options


_WGAN = "critic{} + dc_generator, Wasserstein losses + gradient penalty (10), 5 critic updates per G update, Adam {}, " \
        "beta1 0, beta2 0.9"
# slug: (name, description, builder, critic updates per generator update)
MODELS = {
    "wgan_gp": ("WGAN-GP", _WGAN.format(" (layer norm)", "1e-3"), wgan_gp(), 5),
    "wgan_gp_no_layer_norm": ("WGAN-GP, critic without layer norm", _WGAN.format(" (no normalisation)", "1e-3"),
                              wgan_gp(layer_norm=False), 5),
    "wgan_gp_paper_rate": ("WGAN-GP, the paper's learning rate", _WGAN.format(" (layer norm)", "1e-4"),
                           wgan_gp(learning_rate=1e-4), 5),
    "dcgan": ("DCGAN", "dc_discriminator + dc_generator, cross-entropy, 1 D update per G update, Adam 1e-3, "
                       "beta1 0.5", dcgan, 1),
}


class ScoredBudget(keras.callbacks.Callback):
    """Stops training after ``budget_s`` seconds and scores G at ``checkpoints`` (seconds) on the way.

    The clock starts at ``start`` (a ``time.perf_counter()`` reading taken before the models
    were built) and stops while G is scored, so scoring costs no training time. It is
    checked every ``PRINT_EVERY`` steps.
    """

    def __init__(self, start, budget_s, checkpoints, num_samples, seed):
        super().__init__()
        self.start, self.budget_s = start, budget_s
        self.pending = sorted(t for t in checkpoints if t < budget_s)
        self.num_samples, self.seed = num_samples, seed
        self.paused = 0.0
        self.last_step = 0
        self.records = []

    def elapsed(self):
        return time.perf_counter() - self.start - self.paused

    def on_train_batch_end(self, batch, logs=None):
        step = self.model.history.steps_done
        if step % PRINT_EVERY:
            return
        elapsed = self.elapsed()
        if self.pending and elapsed >= self.pending[0]:
            while self.pending and elapsed >= self.pending[0]:
                self.pending.pop(0)
            scoring = time.perf_counter()
            self.records.append(self._record(step, elapsed))
            self.paused += time.perf_counter() - scoring
        if self.elapsed() >= self.budget_s:
            self.model.stop_training = True

    def _record(self, step, elapsed):
        history = self.model.history
        since = slice(self.last_step, step)
        self.last_step = step
        scores = metrics.evaluate_generator(self.model.G, self.num_samples, noise_size=self.model.noise_size,
                                            seed=self.seed)
        record = {"seconds": round(elapsed, 1), "step": step, "fid": scores.fid, "precision": scores.precision,
                  "recall": scores.recall, "digits_covered": scores.digits_covered,
                  "d_loss": float(np.mean(history.d_loss[since])), "g_loss": float(np.mean(history.g_loss[since]))}
        if history.penalty:
            record["wasserstein_estimate"] = float(np.mean(np.subtract(history.penalty[since], history.d_loss[since])))
        print(f"  {elapsed:6.1f} s, step {step}: FID {scores.fid:.1f}, d_loss {record['d_loss']:.3f}, "
              f"g_loss {record['g_loss']:.3f}"
              + (f", W estimate {record['wasserstein_estimate']:.3f}" if "wasserstein_estimate" in record else ""),
              flush=True)
        return record


def spearman(a, b):
    """Spearman's rank correlation of two sequences (no ties expected), or None for fewer than 3 points."""
    if len(a) < 3:
        return None
    ranks = [np.argsort(np.argsort(np.asarray(x, dtype=float))) for x in (a, b)]
    return float(np.corrcoef(*ranks)[0, 1])


def images_seen(steps, d_steps):
    """Real images a run of ``steps`` generator steps took (an epoch of MNIST is 469 batches of 128)."""
    batches_per_epoch = -(-MNIST_TRAIN_IMAGES // BATCH_SIZE)
    steps_per_epoch = -(-batches_per_epoch // d_steps)
    epochs, rest = divmod(steps, steps_per_epoch)
    return epochs * MNIST_TRAIN_IMAGES + min(rest * d_steps * BATCH_SIZE, MNIST_TRAIN_IMAGES)


def train_and_score(slug, seed, budget_s, samples, checkpoints, checkpoint_samples, grid_path):
    name, description, build, d_steps = MODELS[slug]
    print(f"\n== {name}, seed {seed}: training for {budget_s:g} s", flush=True)
    keras.backend.clear_session()
    start = time.perf_counter()
    keras.utils.set_random_seed(seed)
    D, G, D_solver, G_solver, options = build()
    budget = ScoredBudget(start, budget_s, checkpoints, checkpoint_samples, seed)
    d_loss, g_loss = options.pop("discriminator_loss"), options.pop("generator_loss")
    history = training.run_a_gan(D, G, D_solver, G_solver, d_loss, g_loss, batch_size=BATCH_SIZE, num_epochs=10**6,
                                 print_every=PRINT_EVERY, show_every=10**9, seed=seed, callbacks=[budget],
                                 verbose=False, **options)
    if history.stopped == "nan":
        raise RuntimeError(f"{name} diverged: {history.message}")
    seconds = budget.elapsed()
    images = metrics.generate(G, samples, seed=seed)
    scores = metrics.evaluate_images(images)
    if grid_path is not None:
        viz.save_image_grid(images[:GRID_IMAGES], grid_path, ncols=8, scale=2)
    seen = images_seen(history.steps_done, d_steps)
    row = {"slug": slug, "model": name, "settings": description, "seed": seed, "steps": history.steps_done,
           "d_updates": history.steps_done * d_steps, "images_seen": seen, "seconds": round(seconds, 1),
           "images_per_sec": seen / seconds, "fid": scores.fid, "precision": scores.precision,
           "recall": scores.recall, "digits_covered": scores.digits_covered, "class_shares": scores.class_shares,
           "num_samples": scores.num_samples, "checkpoints": budget.records,
           "grid": grid_path.name if grid_path is not None else None}
    fids = [record["fid"] for record in budget.records]
    curves = ["wasserstein_estimate"] if history.penalty else ["d_loss", "g_loss"]
    row["spearman_with_fid"] = {curve: spearman(fids, [record[curve] for record in budget.records])
                                for curve in curves}
    print(f"{name}: {scores}; {history.steps_done} generator steps, {seen:,} real images in {seconds:.0f} s",
          flush=True)
    return row


def _median(values):
    values = [v for v in values if v is not None]
    return float(np.median(values)) if values else None


def markdown(results):
    m, s = results["machine"], results["settings"]
    rows = results["runs"] + [results["real_digits"]]
    table = _common.markdown_table(
        ["model", "seed", "generator steps", "D / critic updates", "real images seen", "images/s", "FID",
         "precision", "recall", "digits covered"],
        [[r["model"], r.get("seed", ""), f"{r['steps']:,}" if "steps" in r else "",
          f"{r['d_updates']:,}" if "d_updates" in r else "", f"{r['images_seen']:,}" if "images_seen" in r else "",
          f"{r['images_per_sec']:,.0f}" if "images_per_sec" in r else "", f"{r['fid']:.2f}", f"{r['precision']:.3f}",
          f"{r['recall']:.3f}", f"{r['digits_covered']}/10"] for r in rows],
    )
    lines = ["# WGAN-GP against the DCGAN at an equal wall-clock budget", "",
             f"{m['cpu']}, {m['cores']} cores, TensorFlow {m['tensorflow']}, Keras {m['keras']}, {m['date']}, "
             f"load average {results['load_average']['before']} before, {results['load_average']['after']} after.",
             f"Each model trained on MNIST for {s['budget_s']:g} s of wall-clock time (building and compilation "
             f"included), then {s['samples']:,} samples scored against the MNIST test set in the course's classifier "
             "features (FID: lower is better; precision, recall: higher is better).", ""]
    if s["quick"]:
        lines += _common.SMOKE_TEST_LINES
    lines += [table, ""]
    for slug in s["models"]:
        name, description, _, _ = MODELS[slug]
        lines.append(f"- {name}: {description}.")
    lines += ["", f"Spearman rank correlation with FID over the checkpoints of each run (scored on "
                  f"{s['checkpoint_samples']:,} samples at {', '.join(f'{t:g}' for t in s['checkpoints'])} s of "
                  "training; 1 = the curve falls exactly when FID falls):", ""]
    for run in results["runs"]:
        correlations = ", ".join(f"{curve.replace('_', ' ')} {value:+.2f}" if value is not None else
                                 f"{curve.replace('_', ' ')} n/a" for curve, value in run["spearman_with_fid"].items())
        lines.append(f"- {run['model']}, seed {run['seed']}: {correlations} "
                     f"({len(run['checkpoints'])} checkpoints).")
    grids = [f"![{r['model']}, seed {r['seed']}]({r['grid']})" for r in results["runs"] if r.get("grid")]
    if grids:
        lines += ["", "Samples (the first 64 scored images of each run):", "", *grids]
    lines += ["", f"Command: `{results['command']}`"]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=300.0, help="training seconds per run (default 300)")
    parser.add_argument("--samples", type=int, default=5000, help="images scored per run (default 5000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first repeat (default 0)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per model, seeds seed.. (default 1)")
    parser.add_argument("--checkpoints", type=float, nargs="*", default=list(DEFAULT_CHECKPOINTS),
                        help="seconds of training at which G is scored during a run (default 20 40 60 90 ... 270)")
    parser.add_argument("--checkpoint-samples", type=int, default=1000, help="images scored per checkpoint (1000)")
    parser.add_argument("--only", nargs="+", choices=sorted(MODELS), help="run only these models")
    parser.add_argument("--quick", action="store_true", help="6 s per run, 500 samples: checks that the script works")
    parser.add_argument("--output-dir", default=_common.RESULTS_DIR, help="where to write results")
    args = parser.parse_args(argv)
    if args.quick:
        args.budget, args.samples, args.checkpoints, args.checkpoint_samples = 6.0, 500, [2.0, 4.0], 200
    if args.budget <= 0 or args.samples < 100 or args.repeats < 1 or args.checkpoint_samples < 100:
        parser.error("--budget must be positive, --samples and --checkpoint-samples at least 100, --repeats >= 1.")
    suffix = "_quick" if args.quick else ""
    output_dir = Path(args.output_dir)
    slugs = [slug for slug in MODELS if not args.only or slug in args.only]

    load_before = [round(x, 2) for x in os.getloadavg()]
    metrics.mnist_features("test")  # classify the reference set once, outside every budget
    runs = []
    for repeat in range(args.repeats):
        seed = args.seed + repeat
        order = slugs if repeat % 2 == 0 else slugs[::-1]
        for slug in order:
            grid = output_dir / f"wgan_{slug}{suffix}.png" if repeat == 0 else None
            runs.append(train_and_score(slug, seed, args.budget, args.samples, args.checkpoints,
                                        args.checkpoint_samples, grid))
    (x_train, _), _ = load_mnist()
    real = metrics.evaluate_images(ops.scale_pixels(x_train[: args.samples]))
    real_row = {"model": "real MNIST training digits", "fid": real.fid, "precision": real.precision,
                "recall": real.recall, "digits_covered": real.digits_covered}

    command = "python benchmarks/bench_wgan.py" + (" --quick" if args.quick else
                                                   f" --budget {args.budget:g} --samples {args.samples} "
                                                   f"--seed {args.seed} --repeats {args.repeats}")
    if args.only:
        command += " --only " + " ".join(args.only)
    summary = {slug: {"median_fid": _median([r["fid"] for r in runs if r["slug"] == slug]),
                      "median_spearman_with_fid": {
                          curve: _median([r["spearman_with_fid"][curve] for r in runs if r["slug"] == slug])
                          for curve in next(r for r in runs if r["slug"] == slug)["spearman_with_fid"]}}
               for slug in slugs}
    results = {
        "machine": _common.machine(),
        "load_average": {"before": load_before, "after": [round(x, 2) for x in os.getloadavg()]},
        "settings": {"models": slugs, "budget_s": args.budget, "samples": args.samples, "seed": args.seed, "repeats": args.repeats,
                     "checkpoints": args.checkpoints, "checkpoint_samples": args.checkpoint_samples,
                     "batch_size": BATCH_SIZE, "print_every": PRINT_EVERY, "quick": args.quick},
        "runs": runs,
        "summary": summary,
        "real_digits": real_row,
        "command": command,
    }
    _common.write_results(f"wgan{suffix}", results, markdown(results), output_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
