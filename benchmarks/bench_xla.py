"""XLA in run_a_gan: whole calls on the MLP GAN with and without it, for short and long calls.

    python benchmarks/bench_xla.py            # about 8 minutes on 2 cores
    python benchmarks/bench_xla.py --quick    # a smoke test: measures nothing

``run_a_gan`` compiles its step with XLA by itself for models of dense layers (the MLP
GANs of notebooks 05 and 06) when a call trains at least ``training.XLA_MIN_STEPS``
steps (``training.uses_xla``). This measures the two sides of that rule: the course's
MLP GAN trained on MNIST (batch 128, 469 steps an epoch) for ``--epochs`` epochs each,
with XLA and without (``XLA_MIN_STEPS`` set to 1 or out of reach), ``--repeats`` pairs
interleaved in one process (the order alternating), fresh models every call. A call's
time includes everything a learner waits for: tracing, XLA's compilation (once per batch
size: a full batch and the epoch's last, smaller one), the steps and the callbacks.
Ratios are time without XLA over time with it (above 1: XLA is faster), paired, in wall
time and in this process's CPU time (which other processes on a shared machine disturb
less).

Writes benchmarks/results/xla.json and xla.md (``xla_quick.*`` with --quick).
"""

import argparse
import statistics
import time
from pathlib import Path

import _common

_common.force_full_mode()

import numpy as np  # noqa: E402

from gan_helpers import discriminator, generator, losses, training  # noqa: E402
from gan_helpers.data import load_mnist  # noqa: E402


def timed_call(images, epochs, xla, seed):
    """Seconds (wall, CPU) of one ``run_a_gan`` call on fresh models, and whether its step used XLA."""
    training.XLA_MIN_STEPS = 1 if xla else 10**12
    D, G, D_solver, G_solver = training.build_gan(discriminator, generator)
    wall, cpu = time.perf_counter(), time.process_time()
    history = training.run_a_gan(D, G, D_solver, G_solver, losses.discriminator_loss, losses.generator_loss,
                                 dataset=images, num_epochs=epochs, seed=seed, verbose=False)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if history.stopped != "completed" or history.model.jit_compile != xla:
        raise RuntimeError(f"the call did not train as asked: {history.stopped}, xla {history.model.jit_compile}")
    return {"wall_s": wall, "cpu_s": cpu, "steps": history.steps_done}


def compare(images, epochs, repeats):
    calls = {True: [], False: []}
    for repeat in range(repeats):
        for xla in (True, False) if repeat % 2 == 0 else (False, True):
            calls[xla].append(timed_call(images, epochs, xla, seed=repeat))
            print(f"  {epochs} epoch(s), repeat {repeat + 1}/{repeats}, XLA {xla}: "
                  f"{calls[xla][-1]['wall_s']:.1f} s wall, {calls[xla][-1]['cpu_s']:.1f} s CPU", flush=True)
    ratios = {clock: [off[clock] / on[clock] for on, off in zip(calls[True], calls[False])]
              for clock in ("wall_s", "cpu_s")}
    return {"epochs": epochs, "steps": calls[True][0]["steps"], "with_xla": calls[True], "without_xla": calls[False],
            "speedup": {clock: {"paired": values, "median": statistics.median(values)}
                        for clock, values in ratios.items()}}


def markdown(results, command):
    m = results["machine"]
    lines = ["# XLA in run_a_gan: whole calls on the MLP GAN", "",
             f"{m['cpu']}, {m['cores']} cores, TensorFlow {m['tensorflow']}, Keras {m['keras']}, {m['date']}.", "",
             "Time without XLA over time with it (above 1: XLA is faster), median of the paired ratios, "
             "each pair's in brackets. A call's time includes tracing and XLA's compilation.", ""]
    if results["settings"]["quick"]:
        lines += _common.SMOKE_TEST_LINES
    rows = [[f"{r['epochs']} ({r['steps']:,} steps)", f"{len(r['with_xla'])}",
             *(f"{r['speedup'][clock]['median']:.2f} ({', '.join(f'{v:.2f}' for v in r['speedup'][clock]['paired'])})"
               for clock in ("wall_s", "cpu_s"))] for r in results["calls"]]
    lines += [_common.markdown_table(["epochs", "pairs", "speed-up, wall time", "speed-up, CPU time"], rows), "",
              f"`training.XLA_MIN_STEPS` is {results['xla_min_steps']:,}: shorter calls train without XLA.", "",
              f"Command: `{command}`"]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, nargs="+", default=[1, 4], help="call lengths (default 1 and 4)")
    parser.add_argument("--repeats", type=int, default=2, help="interleaved pairs per length (default 2)")
    parser.add_argument("--quick", action="store_true", help="a smoke test: 1,280 images, one pair")
    parser.add_argument("--output-dir", type=Path, default=_common.RESULTS_DIR, help="where to write results")
    args = parser.parse_args(argv)
    (images, _), _ = load_mnist()
    images = np.asarray(images[:1_280] if args.quick else images).reshape(-1, 784)
    repeats, epochs = (1, [1]) if args.quick else (args.repeats, args.epochs)
    xla_min_steps = training.XLA_MIN_STEPS
    results = {"machine": _common.machine(), "xla_min_steps": xla_min_steps,
               "settings": {"epochs": epochs, "repeats": repeats, "quick": args.quick, "images": len(images)},
               "calls": [compare(images, count, repeats) for count in epochs]}
    training.XLA_MIN_STEPS = xla_min_steps
    suffix = "_quick" if args.quick else ""
    command = "python benchmarks/bench_xla.py" + (" --quick" if args.quick else "")
    _common.write_results(f"xla{suffix}", results, markdown(results, command), args.output_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
