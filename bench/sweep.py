"""Benchmark: `penspec sweep` timed through the command line as an artist runs it.

    python bench/sweep.py [--steps 30] [--skip-jobs]

Uses gallery/hello shortened with --set (fewer steps and views) and its objective written with
a variable, so that ``--vary vars.channel=...`` sweeps it. Into fresh temporary folders:

1. a 6-point sweep (3 channels x 2 seeds): the first run, an unchanged rerun (every point up to
   date), and a rerun after deleting one point's folder (only that point builds);
2. 8 points (8 channels, one seed) with ``--jobs 1`` and with ``--jobs 2``;

and prints each wall time (process start to exit), the points built per run (from sweep.json),
and the orchestration overhead of the ``--jobs 1`` run: its wall time against the sum of its
points' build times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEC = HERE.parent / "gallery" / "hello" / "spec.yaml"
OBJECTIVE = "objective=channel(efficientnet_lite0:block9, $channel) - 1e-4 * tv"


def sweep(out: Path, vary: list[str], extra: list[str]) -> tuple[float, dict]:
    command = [sys.executable, "-m", "penspec.runtime.cli", "sweep", str(SPEC), "-o", str(out), "--set", OBJECTIVE,
               "--set", "vars.channel=17", *extra]
    for item in vary:
        command += ["--vary", item]
    env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"sweep failed ({done.returncode}):\n{done.stderr}")
    document = json.loads((out / "sweep.json").read_text())
    inside = re.search(r"\) in ([0-9.]+)s; see", done.stderr)
    document["_inside"] = float(inside.group(1)) if inside else float("nan")  # run_sweep's own time, process start left out
    return seconds, document


def built(document: dict) -> list[str]:
    return [p["name"] for p in document["points"] if p["status"] == "built"]


def cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--skip-jobs", action="store_true", help="only the 6-point runs")
    parser.add_argument("--only-jobs", action="store_true", help="only the --jobs 1 / --jobs 2 runs")
    args = parser.parse_args()
    short = ["--set", f"stages.0.optimize.steps={args.steps}", "--set", "augment.views=2", "--device", "cpu"]
    print(f"cpu: {cpu()}, {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory(prefix="penspec-sweep-bench-") as tmp:
        out = Path(tmp) / "six"
        vary = ["vars.channel=[17, 20, 33]", "seed=1..2"]
        if not args.only_jobs:
            six(out, vary, short)
        if args.skip_jobs:
            return
        jobs(Path(tmp), short)


def six(out: Path, vary: list[str], short: list[str]) -> None:
    first, doc = sweep(out, vary, short)
    print(f"6 points, first run: {first:.1f} s wall, built {len(built(doc))}, "
          f"sum of point builds {sum(p['seconds'] for p in doc['points']):.1f} s")
    again, doc = sweep(out, vary, short)
    print(f"unchanged rerun: {again:.2f} s wall ({100 * again / first:.1f} % of the first), built {len(built(doc))}, "
          f"up to date {sum(p['status'] == 'up to date' for p in doc['points'])}")
    shutil.rmtree(out / doc["points"][2]["folder"])
    after, doc = sweep(out, vary, short)
    print(f"one point folder deleted ({doc['points'][2]['folder']}): {after:.1f} s wall, built {built(doc)}")


def jobs(tmp: Path, short: list[str]) -> None:
    eight = ["vars.channel=[1, 2, 3, 4, 5, 6, 7, 8]"]
    results = {}
    for n in (1, 2):
        load = os.getloadavg()[0]
        wall, doc = sweep(tmp / f"jobs{n}", eight, [*short, "--jobs", str(n)])
        results[n] = (wall, doc)
        total = sum(p["seconds"] for p in doc["points"])
        per_point = ", ".join(f"{p['seconds']:.1f}" for p in doc["points"])
        print(f"8 points --jobs {n}: {wall:.1f} s wall, sum of point builds {total:.1f} s, load average before {load:.1f}; "
              f"per point {per_point} s")
    wall, doc = results[1]
    total = sum(p["seconds"] for p in doc["points"])
    inside = doc["_inside"]
    print(f"--jobs 2 speed-up: {results[1][0] / results[2][0]:.2f}x; "
          f"--jobs 1 orchestration overhead: {wall - total:.1f} s = {100 * (wall - total) / total:.1f} % of the point builds "
          f"(process start to exit); {inside - total:.1f} s = {100 * (inside - total) / total:.1f} % inside the sweep call "
          f"(Python and library start-up left out)")


if __name__ == "__main__":
    main()
