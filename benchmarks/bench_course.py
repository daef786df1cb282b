"""How long every notebook of the course takes on this machine, at full settings.

    python benchmarks/bench_course.py                # every notebooks/NN_*.ipynb, quick mode off
    python benchmarks/bench_course.py --only 05 07   # a subset (merged into the existing results)
    python benchmarks/bench_course.py --quick        # quick mode on (as CI runs them): a smoke test

Each notebook runs top to bottom in a fresh Python kernel (nbclient), from the
notebooks folder, as a student's "Restart kernel and run all" would: kernel start,
imports and data loading count. Quick mode (``GAN_COURSE_QUICK``) is switched off
for the kernels, so every notebook trains for the epochs it asks for; ``--quick``
switches it on instead. The executed notebooks are not saved; what they write
themselves (``notebooks/runs/``, git-ignored) stays.

Writes benchmarks/results/course.json and course.md (``course_quick.*`` with --quick).
With ``--only``, the notebooks run replace their own rows in an existing results file
of the same mode and the other rows are kept, so slow notebooks can be timed apart.
"""

import argparse
import json
import os
import re
import time
from pathlib import Path

import _common

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOK_PATTERN = re.compile(r"^(\d\d)_.*\.ipynb$")


def course_notebooks(directory=NOTEBOOKS_DIR, only=None):
    """The course's notebooks, NN_name.ipynb, in order; ``only``: a list of numbers ('05' or '5')."""
    found = sorted(path for path in Path(directory).glob("*.ipynb") if NOTEBOOK_PATTERN.match(path.name))
    if not only:
        return found
    wanted = {f"{int(number):02d}" for number in only}
    chosen = [path for path in found if path.name[:2] in wanted]
    missing = wanted - {path.name[:2] for path in chosen}
    if missing:
        raise SystemExit(f"No notebook numbered {', '.join(sorted(missing))} in {directory} "
                         f"(there are {', '.join(path.name[:2] for path in found)}).")
    return chosen


def run_notebook(path, cell_timeout):
    """Execute one notebook in a fresh kernel; returns its row (seconds, status, slowest cell)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=cell_timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    row = {"notebook": path.name, "status": "ok", "error": "", "failed_cell": None, "code_cells": 0}
    slowest = (0.0, None)
    start = time.perf_counter()
    try:
        with client.setup_kernel():
            for index, cell in enumerate(notebook.cells):
                if cell.cell_type != "code":
                    continue
                cell_start = time.perf_counter()
                row["failed_cell"] = index
                client.execute_cell(cell, index)
                row["failed_cell"] = None
                seconds = time.perf_counter() - cell_start
                row["code_cells"] += 1
                if seconds > slowest[0]:
                    slowest = (seconds, index)
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        row["status"] = type(error).__name__
        text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", str(error))  # terminal colours
        lines = [line for line in text.strip().splitlines() if line.strip()]
        row["error"] = lines[-1][:300] if lines else type(error).__name__
    row["seconds"] = round(time.perf_counter() - start, 1)
    row["slowest_cell"] = {"index": slowest[1], "seconds": round(slowest[0], 1)}
    return row


def markdown(results, command):
    m, rows = results["machine"], results["notebooks"]
    table = _common.markdown_table(
        ["notebook", "time", "status", "slowest cell"],
        [[r["notebook"], _minutes(r["seconds"]),
          r["status"] if r["status"] == "ok" else f"{r['status']} in cell {r['failed_cell']}: {r['error']}",
          f"cell {r['slowest_cell']['index']}: {_minutes(r['slowest_cell']['seconds'])}"
          if r["slowest_cell"]["index"] is not None else ""] for r in rows],
    )
    mode = "quick mode ON (as CI runs them)" if results["quick"] else "full settings (quick mode off)"
    total = sum(row["seconds"] for row in rows)
    runs = sorted({row["date"] for row in rows})
    dates = f" Rows merged from separate `--only` runs started between {runs[0]} and {runs[-1]}." if len(runs) > 1 else ""
    return (
        f"# The whole course, notebook by notebook\n\n{m['cpu']}, {m['cores']} cores, {m['gpus']} GPUs, "
        f"TensorFlow {m['tensorflow']}, {m['date']}. Each notebook in a fresh kernel, {mode}.\n\n"
        f"{table}\n\nTotal: {_minutes(total)}.{dates}\n\nCommand: `{command}`\n"
    )


def _minutes(seconds):
    seconds = float(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)  # rounded first: 179.6 s is 3 min 00 s, not 2 min 60 s
    return f"{minutes} min {rest:02d} s"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="NN", help="run only these notebooks, by number (e.g. 05 09)")
    parser.add_argument("--quick", action="store_true", help="run with quick mode on (as CI does): a smoke test")
    parser.add_argument("--cell-timeout", type=int, default=4 * 3600, help="seconds one cell may run (default 4 hours)")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS_DIR, help="folder of the notebooks")
    parser.add_argument("--output-dir", type=Path, default=_common.RESULTS_DIR, help="where to write results")
    args = parser.parse_args(argv)
    notebooks = course_notebooks(args.notebooks, args.only)
    if not notebooks:
        parser.error(f"no NN_*.ipynb notebooks in {args.notebooks}")
    # The kernels inherit this process's environment.
    os.environ["GAN_COURSE_QUICK"] = "1" if args.quick else "0"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    name = "course_quick" if args.quick else "course"
    rows = {}
    previous = args.output_dir / f"{name}.json"
    if args.only and previous.is_file():
        rows = {row["notebook"]: row for row in json.loads(previous.read_text()).get("notebooks", [])}
    started = time.strftime("%Y-%m-%d %H:%M")
    for path in notebooks:
        print(f"{path.name} ...", flush=True)
        row = run_notebook(path, args.cell_timeout)
        row["date"] = started  # when this invocation started: rows of one run share it
        rows[path.name] = row
        print(f"  {_minutes(row['seconds'])}, {row['status']}{': ' + row['error'] if row['error'] else ''}", flush=True)
    results = {
        "machine": _common.machine(),
        "quick": args.quick,
        "notebooks": [rows[key] for key in sorted(rows)],
        "total_seconds": round(sum(row["seconds"] for row in rows.values()), 1),
    }
    command = "python benchmarks/bench_course.py" + (" --quick" if args.quick else "")
    results["command"] = command + (" --only " + " ".join(args.only) if args.only else "")
    _common.write_results(name, results, markdown(results, command), args.output_dir)
    failed = [row["notebook"] for row in rows.values() if row["status"] != "ok"]
    if failed:
        print(f"Failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
