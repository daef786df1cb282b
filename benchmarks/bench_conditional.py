"""Notebook 12's conditional GAN: does it draw the digit it is asked for, and how good are the digits?

    python benchmarks/bench_conditional.py            # 2 designs x 2 seeds, 4 epochs each: about 20 minutes on 2 cores
    python benchmarks/bench_conditional.py --quick    # a smoke test: a minute or two, measures nothing

Trains notebook 12's conditional DCGAN with ``run_a_gan`` at the notebook's settings
(``--epochs`` 4 of MNIST with its labels, batch 128, Adam 1e-3 with beta1 0.5, the
hinge losses; ``--loss bce`` for notebook 04's cross-entropy losses instead) for each design and seed, then scores the generator on
``--samples`` images drawn for the labels 0, 1, ..., 9, 0, ... (500 per digit at 5,000):

- **class agreement** (``metrics.class_agreement``): the share the course's MNIST
  classifier puts in the class asked for, overall and for the worst digit (target: at
  least 95%); also after every epoch, on 1,000 samples (scoring time not counted as
  training time), to see when it levels off;
- **FID, precision, recall** of the same images against the MNIST test set
  (``metrics.evaluate_generator``), as notebook 09 scores unconditional generators.

Designs (``--designs``): ``projection``, the notebook's (``models.conditional_generator``
and ``models.conditional_discriminator``: the label's embedding joined to the noise; a
projection discriminator); ``concatenation``, the same generator against notebook 07's
discriminator with the one-hot label joined to the image as ten constant 28x28 maps
(Mirza and Osindero's input concatenation, made convolutional).

Writes benchmarks/results/conditional.json and conditional.md, and conditional_samples.png
(the first projection run: row = digit asked for, column = noise); ``*_quick.*`` with --quick.
"""

import argparse
import statistics
import time
from pathlib import Path

import _common

_common.force_full_mode()

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

from gan_helpers import losses, metrics, models, ops, training, viz, widgets  # noqa: E402
from gan_helpers.data import load_mnist  # noqa: E402

BATCH_SIZE = 128
LEARNING_RATE = 1e-3
# --loss: the notebook's hinge losses, or notebook 04's cross-entropy losses for comparison
LOSSES = {"hinge": (losses.hinge_discriminator_loss, losses.hinge_generator_loss),
          "bce": (losses.discriminator_loss, losses.generator_loss)}
LOSS_WORDS = {"hinge": "the hinge losses", "bce": "the cross-entropy losses"}
TARGET = 0.95
EPOCH_SAMPLES = 1000
QUICK_SECONDS = 5.0


def concatenation_discriminator(num_classes=models.NUM_CLASSES):
    """D([x, y]) with the one-hot label joined to the image as constant maps: (N, 28, 28, 1 + num_classes),
    then notebook 07's convolutions, Flatten and Dense(1). Built-in layers only."""
    images, labels = keras.Input(shape=(28, 28, 1), name="image"), models.label_input()
    one_hot = layers.CategoryEncoding(num_classes, output_mode="one_hot")(labels)
    maps = layers.Reshape((28, 28, num_classes))(layers.RepeatVector(28 * 28)(one_hot))
    h = layers.Concatenate()([images, maps])
    for filters in (32, 64):
        h = layers.Conv2D(filters, 4, strides=2, padding="same")(h)
        h = layers.LeakyReLU(negative_slope=models.DC_LEAKY_SLOPE)(h)
    logits = layers.Dense(1)(layers.Flatten()(h))
    return keras.Model([images, labels], logits, name="concatenation_discriminator")


DESIGNS = {
    "projection": ("projection discriminator (the notebook's)", models.conditional_discriminator),
    "concatenation": ("one-hot maps joined to the image", concatenation_discriminator),
}


class EpochAgreement(keras.callbacks.Callback):
    """Class agreement on ``num_samples`` samples at every epoch's end; the seconds it takes are kept apart."""

    def __init__(self, num_samples, seed):
        super().__init__()
        self.num_samples, self.seed = num_samples, seed
        self.records, self.scoring_s = [], 0.0

    def on_epoch_end(self, epoch, logs=None):
        history = self.model.history
        if history.epochs_done != epoch + 1:  # stopped inside the epoch
            return
        start = time.perf_counter()
        agreement = metrics.class_agreement(self.model.G, self.num_samples, seed=self.seed)
        self.scoring_s += time.perf_counter() - start
        self.records.append({"epoch": epoch + 1, "step": history.steps_done, "class_agreement": agreement.overall})


def train(design, seed, epochs, quick, loss="hinge"):
    """Train one design with one seed; returns (G, stats)."""
    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    D, G, D_solver, G_solver = training.build_gan(DESIGNS[design][1], models.conditional_generator,
                                                  learning_rate=LEARNING_RATE)
    per_epoch = EpochAgreement(200 if quick else EPOCH_SAMPLES, seed)
    callbacks = [per_epoch] + ([_common.Budget(start, QUICK_SECONDS)] if quick else [])
    history = training.run_a_gan(D, G, D_solver, G_solver, *LOSSES[loss],
                                 batch_size=BATCH_SIZE, num_epochs=epochs, noise_size=models.NOISE_DIM, seed=seed,
                                 print_every=5 if quick else 100, show_every=10**9, callbacks=callbacks,
                                 verbose=False)
    if history.stopped == "nan":
        raise RuntimeError(f"Training diverged: {history.message}")
    seconds = time.perf_counter() - start - per_epoch.scoring_s
    return G, {"steps": history.steps_done, "epochs": history.epochs_done, "train_seconds": round(seconds, 1),
               "images_per_sec": history.images_per_sec, "per_epoch": per_epoch.records}


def score(G, samples, seed):
    agreement = metrics.class_agreement(G, samples, seed=seed)
    quality = metrics.evaluate_generator(G, samples, seed=seed)  # the same images: labels 0..9, 0, ... and noise
    return {"class_agreement": agreement.overall, "per_class": agreement.per_class,
            "worst_class": agreement.worst_class, "worst_class_agreement": min(agreement.per_class),
            "confusion": agreement.confusion.tolist(), "fid": quality.fid, "precision": quality.precision,
            "recall": quality.recall, "digits_covered": quality.digits_covered, "num_samples": agreement.num_samples}


def summary(rows):
    """Per design: median and range over seeds, and whether every seed met the target."""
    result = {}
    for design in dict.fromkeys(row["design"] for row in rows):
        mine = [row for row in rows if row["design"] == design]
        agreement = [row["class_agreement"] for row in mine]
        fid = [row["fid"] for row in mine]
        result[design] = {"seeds": [row["seed"] for row in mine], "median_class_agreement": statistics.median(agreement),
                          "min_class_agreement": min(agreement), "max_class_agreement": max(agreement),
                          "median_fid": statistics.median(fid), "every_seed_at_least_95_percent": min(agreement) >= TARGET}
    return result


def markdown(results, command):
    m, s = results["machine"], results["settings"]
    rows = results["runs"]
    table = _common.markdown_table(
        ["design", "seed", "steps", "training", "images/s", "class agreement", "worst digit", "FID", "precision",
         "recall", "agreement after each epoch"],
        [[DESIGNS[r["design"]][0], r["seed"], f"{r['steps']:,}", f"{r['train_seconds']:.0f} s",
          f"{r['images_per_sec']:,.0f}", f"**{r['class_agreement']:.1%}**",
          f"{r['worst_class']}: {r['worst_class_agreement']:.1%}", f"{r['fid']:.2f}", f"{r['precision']:.3f}",
          f"{r['recall']:.3f}", ", ".join(f"{e['class_agreement']:.0%}" for e in r["per_epoch"])]
         for r in rows] + [["real MNIST training digits", "", "", "", "", f"{results['real_digits']['class_agreement']:.1%}",
                            "", f"{results['real_digits']['fid']:.2f}", f"{results['real_digits']['precision']:.3f}",
                            f"{results['real_digits']['recall']:.3f}", ""]],
    )
    lines = [
        "# Notebook 12's conditional GAN: class agreement and sample quality",
        "",
        f"{m['cpu']}, {m['cores']} cores, TensorFlow {m['tensorflow']}, Keras {m['keras']}, {m['date']}.",
        f"Each run: `run_a_gan` for {s['epochs']} epochs of MNIST with its labels (batch {BATCH_SIZE}, Adam "
        f"{LEARNING_RATE:g}, beta1 0.5, {LOSS_WORDS[s['loss']]}), then {s['samples']:,} samples, {s['samples'] // 10:,} per digit, scored: the "
        "share the course's classifier puts in the class asked for (the worst digit's share beside it), and FID, "
        "precision and recall against the MNIST test set. Per epoch: agreement on "
        f"{EPOCH_SAMPLES:,} samples. Seeds {', '.join(str(seed) for seed in s['seeds'])}.",
        "",
        table,
        "",
    ]
    if s["quick"]:
        lines[2:2] = _common.SMOKE_TEST_LINES
    for design, result in results["summary"].items():
        verdict = "met" if result["every_seed_at_least_95_percent"] else "not met"
        lines.append(f"- {DESIGNS[design][0]}: class agreement median {result['median_class_agreement']:.1%} "
                     f"({result['min_class_agreement']:.1%} to {result['max_class_agreement']:.1%} over seeds "
                     f"{', '.join(str(seed) for seed in result['seeds'])}); at least 95% on every seed: **{verdict}**.")
    if results.get("grid"):
        lines += ["", f"![samples]({results['grid']})",
                  "", "Samples of the first projection run: row = digit asked for, column = noise vector."]
    lines += ["", f"Command: `{command}`"]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--designs", nargs="+", default=list(DESIGNS), choices=list(DESIGNS),
                        help="discriminator designs (default: both)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1], help="seeds, one run each (default 0 1)")
    parser.add_argument("--loss", choices=list(LOSSES), default="hinge",
                        help="hinge (the notebook's) or bce (notebook 04's cross-entropy); bce writes conditional_bce.*")
    parser.add_argument("--epochs", type=int, default=4, help="epochs per run (default 4, the notebook's)")
    parser.add_argument("--samples", type=int, default=5000, help="images scored per run (default 5000)")
    parser.add_argument("--quick", action="store_true", help="5 s per run, 500 samples: checks that the script works")
    parser.add_argument("--output-dir", default=_common.RESULTS_DIR, help="where to write results (default benchmarks/results)")
    args = parser.parse_args(argv)
    samples = 500 if args.quick else args.samples
    if args.epochs < 1 or samples < 100 or samples % 10:
        parser.error("--epochs must be at least 1 and --samples a multiple of 10, at least 100.")
    suffix = ("" if args.loss == "hinge" else f"_{args.loss}") + ("_quick" if args.quick else "")
    output_dir = Path(args.output_dir)

    metrics.mnist_features("test")  # classify the reference set once, outside every run
    rows, grid = [], None
    for design in args.designs:
        for seed in args.seeds:
            print(f"\n== {design}, seed {seed}: {args.epochs} epochs", flush=True)
            keras.backend.clear_session()
            G, stats = train(design, seed, args.epochs, args.quick, args.loss)
            row = {"design": design, "seed": seed, **stats, **score(G, samples, seed)}
            print(f"{design} seed {seed}: {row['steps']} steps in {row['train_seconds']:.0f} s, class agreement "
                  f"{row['class_agreement']:.1%} (worst {row['worst_class']}: {row['worst_class_agreement']:.1%}), "
                  f"FID {row['fid']:.2f}, precision {row['precision']:.3f}, recall {row['recall']:.3f}", flush=True)
            rows.append(row)
            if grid is None and design == "projection":
                images = widgets.same_noise_images(G, ops.sample_noise(10, models.NOISE_DIM, seed=seed))
                grid = f"conditional_samples{suffix}.png"
                viz.save_image_grid(np.swapaxes(images, 0, 1).reshape(-1, 28, 28, 1), output_dir / grid, ncols=10,
                                    scale=2)
    (x_train, y_train), _ = load_mnist()
    real_images = ops.scale_pixels(x_train[:samples])
    real_scores = metrics.evaluate_images(real_images)
    real_predicted = metrics.classify(real_images)[1].argmax(axis=1)
    real = {"class_agreement": float(np.mean(real_predicted == y_train[:samples])), "fid": real_scores.fid,
            "precision": real_scores.precision, "recall": real_scores.recall}

    command = "python benchmarks/bench_conditional.py" + (" --quick" if args.quick else "") + \
        ("" if args.loss == "hinge" else f" --loss {args.loss}")
    if not args.quick and (args.designs != list(DESIGNS) or args.seeds != [0, 1] or args.epochs != 4
                           or args.samples != 5000):
        command += (f" --designs {' '.join(args.designs)} --seeds {' '.join(map(str, args.seeds))}"
                    f" --epochs {args.epochs} --samples {args.samples}")
    results = {
        "machine": _common.machine(),
        "settings": {"loss": args.loss, "epochs": args.epochs, "samples": samples, "seeds": args.seeds, "designs": args.designs,
                     "batch_size": BATCH_SIZE, "learning_rate": LEARNING_RATE, "quick": args.quick},
        "runs": rows,
        "real_digits": real,
        "summary": summary(rows),
        "grid": grid,
        "command": command,
    }
    _common.write_results(f"conditional{suffix}", results, markdown(results, command), output_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
