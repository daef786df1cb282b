"""The dogs' CPU setting of ``train``: how long ``--image-size 32 --epochs 5`` takes on a 2-core CPU.

    python benchmarks/bench_dogs_cpu.py              # the setting as is and with the toolbox: about 15 minutes
    python benchmarks/bench_dogs_cpu.py --quick      # a smoke test: a minute, measures nothing

The Stanford Dogs cannot be downloaded on the project's machines, so the pictures are
``--pictures`` (22,000, about as many crops as the dogs give) colour stand-ins of 64x64
(``gan_helpers.data.make_standin_dogs``) in a folder: a training step costs the same
whatever the pictures show, and the folder is read by the same reader as the dogs'
crops. Each configuration runs ``python -m gan_helpers train --data FOLDER --model dcgan
--image-size 32 --epochs 5`` in this process, timed from start to end (reading the
pictures, building, compiling, checkpoints and grids included):

- ``plain``: the command line's CPU setting as ``train --help`` gives it;
- ``toolbox``: the same with notebook 13's tools, ``--loss hinge --spectral-norm --ema 0.999
  --augment --d-learning-rate 4e-4 --g-learning-rate 1e-4``.

Writes benchmarks/results/dogs_cpu.json and dogs_cpu.md (``*_quick.*`` with --quick).
"""

import argparse
import contextlib
import io
import os
import tempfile
import time
from pathlib import Path

import _common

_common.force_full_mode()

from PIL import Image  # noqa: E402

from gan_helpers.cli import main as command_line  # noqa: E402
from gan_helpers.data.standin import make_standin_dogs  # noqa: E402

TOOLBOX = ["--loss", "hinge", "--spectral-norm", "--ema", "0.999", "--augment", "--d-learning-rate", "4e-4",
           "--g-learning-rate", "1e-4"]
CONFIGURATIONS = {"plain": [], "toolbox": TOOLBOX}


def write_pictures(folder, count, chunk=2000):
    """``count`` stand-in dog pictures, 64x64 RGB PNG, written a chunk at a time (bounded memory)."""
    for start in range(0, count, chunk):
        pictures = make_standin_dogs(min(chunk, count - start), image_size=64, seed=start)
        for index, picture in enumerate(pictures, start):
            Image.fromarray(picture).save(folder / f"{index:05d}.png")


def train(folder, out, epochs, options):
    """Runs ``train`` in this process; (seconds, the last lines it printed)."""
    arguments = ["train", "--data", str(folder), "--model", "dcgan", "--image-size", "32", "--epochs", str(epochs),
                 "--seed", "0", "--print-every", "100", "--out", str(out), *options]
    printed = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(printed):
        status = command_line(arguments)
    seconds = time.perf_counter() - start
    if status != 0:
        raise RuntimeError(f"train exited with {status}:\n{printed.getvalue()[-3000:]}")
    return seconds, printed.getvalue().strip().splitlines()[-3:]


def markdown(results):
    s = results["settings"]
    m = results["machine"]
    lines = ["# The dogs' CPU setting of `train`", "",
             f"{m['cpu']}, {m['cores']} cores, {m['gpus']} GPUs, TensorFlow {m['tensorflow']}, {m['date']}. "
             f"Load average before: {results['load_average']['before']}.", ""]
    if s["quick"]:
        lines += _common.SMOKE_TEST_LINES
    lines += [f"`train --data FOLDER --model dcgan --image-size 32 --epochs {s['epochs']}` on {s['pictures']:,} "
              "stand-in pictures of 64x64 (as many as the dogs' crops), timed from start to end:", "",
              "| configuration | options | time | images/s over the run |", "|---|---|---|---|"]
    for name, run in results["runs"].items():
        options = " ".join(CONFIGURATIONS[name]) or "(none)"
        lines.append(f"| {name} | `{options}` | {run['seconds'] / 60:.1f} min | {run['images_per_sec']:,.0f} |")
    lines += ["", f"Command: `{results['command']}`"]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pictures", type=int, default=22000, help="stand-in pictures (default 22000)")
    parser.add_argument("--epochs", type=int, default=5, help="epochs (default 5, the CPU setting's)")
    parser.add_argument("--quick", action="store_true", help="200 pictures, 1 epoch: checks that the script works")
    parser.add_argument("--output-dir", type=Path, default=_common.RESULTS_DIR, help="where to write results")
    args = parser.parse_args(argv)
    if args.quick:
        args.pictures, args.epochs = 200, 1
    load_before = [round(x, 2) for x in os.getloadavg()]
    runs = {}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "pictures"
        folder.mkdir()
        write_pictures(folder, args.pictures)
        for name, options in CONFIGURATIONS.items():
            print(f"== {name}: train {' '.join(options)}", flush=True)
            seconds, tail = train(folder, Path(scratch) / name, args.epochs, options)
            runs[name] = {"seconds": seconds, "images_per_sec": args.pictures * args.epochs / seconds, "output": tail}
            print(f"   {seconds / 60:.1f} min", flush=True)
    results = {"machine": _common.machine(), "load_average": {"before": load_before,
                                                             "after": [round(x, 2) for x in os.getloadavg()]},
               "settings": {"pictures": args.pictures, "epochs": args.epochs, "quick": args.quick},
               "runs": runs, "command": "python benchmarks/bench_dogs_cpu.py" + (" --quick" if args.quick else "")}
    _common.write_results("dogs_cpu" + ("_quick" if args.quick else ""), results, markdown(results),
                          directory=args.output_dir)


if __name__ == "__main__":
    main()
