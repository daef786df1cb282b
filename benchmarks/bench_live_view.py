"""What the live training view costs: run_a_gan with and without display.LiveTraining.

    python benchmarks/bench_live_view.py           # about 3 minutes
    python benchmarks/bench_live_view.py --quick   # a smoke test

The MLP GAN of notebook 05 (batch 128, show_every=250, print_every=50, as there)
trains on the first 38,400 MNIST digits for 2 epochs (600 steps), once with no
callbacks and once with the live view (``LiveTraining(display=False)``: it builds and
updates every widget, redraws the loss plot and sample grid, but shows nothing),
alternating, ``--repeats`` times. Each run builds fresh models, so compilation counts
in both. The overhead is the median of the paired ratios of wall-clock times.

Writes benchmarks/results/live_view.json and live_view.md (``live_view_quick.*`` with --quick).
"""

import argparse
import statistics
import time
from pathlib import Path

import _common

_common.force_full_mode()

from gan_helpers import display, ops  # noqa: E402
from gan_helpers.data import load_mnist  # noqa: E402
from gan_helpers.losses import discriminator_loss, generator_loss  # noqa: E402
from gan_helpers.models import discriminator, generator  # noqa: E402
from gan_helpers.training import get_solvers, run_a_gan  # noqa: E402


def train_seconds(images, num_epochs, callbacks):
    """Wall-clock seconds of one run_a_gan call on fresh MLP models (compilation included)."""
    D, G = discriminator(), generator()
    D_solver, G_solver = get_solvers()
    start = time.perf_counter()
    run_a_gan(D, G, D_solver, G_solver, discriminator_loss, generator_loss, show_every=250, print_every=50,
              batch_size=128, num_epochs=num_epochs, dataset=images, seed=0, callbacks=callbacks, verbose=False)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of each; medians count (default 3)")
    parser.add_argument("--quick", action="store_true", help="a smoke test: 1 repeat of 40 steps")
    parser.add_argument("--output-dir", type=Path, default=_common.RESULTS_DIR, help="where to write results")
    args = parser.parse_args(argv)

    examples, num_epochs, repeats = (38_400, 2, args.repeats) if not args.quick else (2_560, 2, 1)
    (x_train, _), _ = load_mnist()
    images = ops.scale_pixels(x_train[:examples].reshape(examples, 784))
    train_seconds(images[:1280], 1, [])  # warm up TensorFlow once, outside the timings

    plain, live = [], []
    for repeat in range(repeats):
        plain.append(train_seconds(images, num_epochs, []))
        live.append(train_seconds(images, num_epochs, [display.LiveTraining(display=False, print_summary=False)]))
        print(f"repeat {repeat + 1}: no callbacks {plain[-1]:.1f} s, live view {live[-1]:.1f} s")

    ratios = [b / a for a, b in zip(plain, live)]
    overhead = statistics.median(ratios) - 1.0
    steps = num_epochs * examples // 128
    results = {
        "machine": _common.machine(),
        "settings": {"examples": examples, "num_epochs": num_epochs, "steps": steps, "repeats": repeats,
                     "plot_interval_s": display.PLOT_INTERVAL_S, "quick": args.quick},
        "no_callbacks_s": plain, "live_view_s": live, "paired_ratios": ratios, "overhead": overhead,
    }
    m = results["machine"]
    command = "python benchmarks/bench_live_view.py" + (" --quick" if args.quick else "")
    markdown = (
        "# What the live training view costs\n\n"
        f"{m['cpu']}, {m['cores']} cores, TensorFlow {m['tensorflow']}, {m['date']}. "
        f"MLP GAN, batch 128, {steps} steps ({num_epochs} epochs of {examples:,} digits), "
        f"show_every=250, print_every=50; fresh models each run (compilation included); "
        f"{repeats} alternating repeat(s).\n\n"
        + _common.markdown_table(
            ["run_a_gan callbacks", "seconds (each repeat)", "median"],
            [["none", ", ".join(f"{s:.1f}" for s in plain), f"{statistics.median(plain):.1f}"],
             ["LiveTraining (display=False)", ", ".join(f"{s:.1f}" for s in live), f"{statistics.median(live):.1f}"]])
        + f"\n\nOverhead of the live view: **{overhead:+.0%}** (median of the paired ratios "
        + ", ".join(f"{r:.2f}" for r in ratios) + ").\n\n"
        f"Command: `{command}`\n"
    )
    _common.write_results("live_view_quick" if args.quick else "live_view", results, markdown, args.output_dir)


if __name__ == "__main__":
    main()
