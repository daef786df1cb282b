"""How long grading one student's full submission takes: the course's own solutions, graded.

    python benchmarks/bench_grading.py                        # 3 runs of the grade command, --jobs 2
    python benchmarks/bench_grading.py --baseline /tmp/base   # interleaved with an earlier checkout's
    python benchmarks/bench_grading.py --quick                # notebooks 01-02 only: a smoke test

Each run is the instructor's command itself, ``python -m gan_course grade SUBMISSIONS
--jobs 2``, in a fresh process, on a folder with one student whose notebooks are a copy
of ``notebooks/`` (so every check must pass: the run also says how many did). Its wall
time and CPU time (the grader and its kernels, all threads) are measured from here. The
CPU time is what other jobs on the machine do not change much; on 2 cores it bounds the
wall time from below (CPU / 2).

The machine's other work shows too: the CPU seconds all its processes used during the
run (``/proc/stat``) less this run's. These machines are shared, and a wall time is only
as good as the cores it got.

``--baseline DIR`` times an earlier version too, run for run in alternation with this one,
so that both see the same machine: DIR is an export of an earlier commit (``git archive
COMMIT | tar -x -C DIR``), graded with the spelling of its day (``python -m gan_helpers
grade`` when DIR has no ``gan_course``). Every kernel imports the ``gan_helpers`` of the
version under test (PYTHONPATH).

Writes benchmarks/results/grading.json and grading.md (``grading_quick.*`` with --quick).
"""

import argparse
import csv
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common

REPO = Path(__file__).resolve().parent.parent
QUICK_NOTEBOOKS = ("01_", "02_")


def submission_folder(root, quick):
    """A submissions folder with one student, ``solutions``, holding a copy of the course's notebooks."""
    student = Path(root) / "submissions" / "solutions"
    student.mkdir(parents=True)
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        if not quick or path.name.startswith(QUICK_NOTEBOOKS):
            shutil.copy(path, student / path.name)
    return student.parent


def grade_command(version, submissions, report, jobs, notebooks):
    """The grade command of a checkout (``gan_course``, or ``gan_helpers`` before the tools had their own package)."""
    package = "gan_course" if (version / "gan_course").is_dir() else "gan_helpers"
    return [sys.executable, "-m", package, "grade", str(submissions), "--out", str(report), "--jobs", str(jobs),
            "--notebooks", str(notebooks)]


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def machine_cpu_seconds():
    """CPU seconds every process of the machine has used since it started (Linux), or None."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    busy = sum(int(value) for index, value in enumerate(fields[:8]) if index not in (3, 4))  # less idle, iowait
    return busy / os.sysconf("SC_CLK_TCK")


def timed_grading(version, submissions, notebooks, jobs, work):
    """One run of the grade command of ``version``: wall and CPU seconds, checks passed and graded."""
    report = Path(work) / f"report_{version.name}_{time.monotonic_ns()}.csv"
    env = {**os.environ, "PYTHONPATH": str(version)}
    cpu_before, machine_before, start = children_cpu_seconds(), machine_cpu_seconds(), time.perf_counter()
    done = subprocess.run(grade_command(version, submissions, report, jobs, notebooks), cwd=version, env=env,
                          capture_output=True, text=True)
    wall, cpu = time.perf_counter() - start, children_cpu_seconds() - cpu_before
    machine = machine_cpu_seconds()
    others = None if machine is None or machine_before is None else round(machine - machine_before - cpu, 1)
    if done.returncode != 0:
        raise SystemExit(f"grading with {version} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    with report.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["notebook"] != "TOTAL"]
    failed = [f"{row['notebook']} {row['check']}: {row['message']}" for row in rows if row["status"] != "passed"]
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "others_cpu_s": others,
            "passed": len(rows) - len(failed), "checks": len(rows), "failed": failed}


def summary(runs):
    walls, cpus = [run["wall_s"] for run in runs], [run["cpu_s"] for run in runs]
    others = [run["others_cpu_s"] for run in runs if run["others_cpu_s"] is not None]
    return {"median_wall_s": round(statistics.median(walls), 1), "min_wall_s": min(walls), "max_wall_s": max(walls),
            "median_cpu_s": round(statistics.median(cpus), 1), "min_cpu_s": min(cpus), "max_cpu_s": max(cpus),
            "median_others_cpu_s": round(statistics.median(others), 1) if others else None,
            "passed": [f"{run['passed']}/{run['checks']}" for run in runs]}


def markdown(results):
    lines = [f"# Grading one full submission, `--jobs {results['jobs']}`", "",
             f"{results['machine']['cpu']}, {results['machine']['cores']} cores, TensorFlow "
             f"{results['machine']['tensorflow']}, {results['machine']['date']}. {results['notebooks']} notebooks "
             f"(the course's solutions as one student's submission), {results['repeats']} runs of each version, "
             "in alternation. Wall time as the instructor waits for it; CPU time of the grader and its kernels; "
             "the CPU time the machine's other processes took meanwhile (the cores this run did not get).", ""]
    header = ["version", "wall, median", "wall, min to max", "CPU, median", "CPU, min to max",
              "others' CPU, median", "checks passed"]
    rows = [[name, f"{s['median_wall_s']:.0f} s", f"{s['min_wall_s']:.0f} to {s['max_wall_s']:.0f} s",
             f"{s['median_cpu_s']:.0f} s", f"{s['min_cpu_s']:.0f} to {s['max_cpu_s']:.0f} s",
             "n/a" if s["median_others_cpu_s"] is None else f"{s['median_others_cpu_s']:.0f} s", ", ".join(s["passed"])]
            for name, s in results["summary"].items()]
    lines += [_common.markdown_table(header, rows), "", f"Command: `{results['command']}`"]
    if results["quick"]:
        lines = _common.SMOKE_TEST_LINES + lines
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each version (default 3)")
    parser.add_argument("--jobs", type=int, default=2, help="grade's --jobs (default 2)")
    parser.add_argument("--baseline", type=Path, default=None, help="an export of an earlier commit to time too")
    parser.add_argument("--quick", action="store_true", help="notebooks 01-02 only: a smoke test")
    args = parser.parse_args()
    versions = {"this version": REPO}
    if args.baseline is not None:
        versions = {f"baseline ({args.baseline.name})": args.baseline.resolve(), **versions}
    with tempfile.TemporaryDirectory(prefix="bench_grading_") as work:
        submissions = submission_folder(work, args.quick)
        notebooks = submissions / "solutions"
        count = len(list(notebooks.glob("*.ipynb")))
        runs = {name: [] for name in versions}
        for repeat in range(args.repeats):
            for name, version in versions.items():
                run = timed_grading(version, submissions, notebooks, args.jobs, work)
                runs[name].append(run)
                print(f"run {repeat + 1}, {name}: {run['wall_s']} s wall, {run['cpu_s']} s CPU "
                      f"(others {run['others_cpu_s']} s), {run['passed']}/{run['checks']} checks passed", flush=True)
    command = "python benchmarks/bench_grading.py" + " ".join(
        [""] + [f"--repeats {args.repeats}"] * (args.repeats != 3) + [f"--jobs {args.jobs}"] * (args.jobs != 2)
        + [f"--baseline {args.baseline}"] * (args.baseline is not None) + ["--quick"] * args.quick)
    results = {"machine": _common.machine(), "jobs": args.jobs, "repeats": args.repeats, "quick": args.quick,
               "notebooks": count, "command": command, "runs": runs,
               "summary": {name: summary(version_runs) for name, version_runs in runs.items()}}
    _common.write_results("grading_quick" if args.quick else "grading", results, markdown(results))


if __name__ == "__main__":
    main()
