"""Benchmark: a first build against rebuilds, timed through the command line as an artist runs it.

    python bench/rebuild.py [SPEC] [--device cpu] [--colour PEN=#RRGGBB]

Runs, into one fresh temporary folder:

1. the first build;
2. an unchanged rebuild (the folder is up to date);
3. an emitter-only change (a pen's speed, plot options);
4. a look-only change (one pen's colour): the stored strokes are re-inked;
5. the same colour with ``--exact``: the strokes are optimised again under the new colour.

and prints each wall time (process start to exit, so Python, torch and vpype start-up count), the
stages each reused or re-inked (from build.lock) and the ratio to the first build.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from penspec.runtime.device import describe_device, resolve_device

HERE = Path(__file__).resolve().parent
DEFAULT_SPEC = HERE.parent / "gallery" / "hello" / "spec.yaml"


def timed_build(spec: Path, out: Path, device: str, extra: list[str]) -> tuple[float, dict, bool]:
    command = [sys.executable, "-m", "penspec.runtime.cli", "build", str(spec), "-o", str(out), "--device", device, *extra]
    env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return seconds, json.loads((out / "build.lock").read_text()), "is up to date" in " ".join((done.stdout + done.stderr).split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", nargs="?", default=str(DEFAULT_SPEC))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--colour", default=None, help="PEN=#RRGGBB for the look-only change (default: the first pen, #2255aa)")
    args = parser.parse_args()
    spec = Path(args.spec).resolve()
    colour = args.colour or "0=#2255aa"
    pen, value = colour.split("=", 1)
    print(f"device: {describe_device(resolve_device(args.device))}")
    print(f"spec: {spec}")
    runs = [
        ("first build", []),
        ("unchanged rebuild", []),
        ("pen speed + plot options", ["--set", "pens.0.speed_pendown=35", "--set", "plot.pause_between_pens=false"]),
        (f"pen {pen} colour {value}", ["--set", f"pens.{pen}.color={value}"]),
        (f"pen {pen} colour {value} --exact", ["--set", f"pens.{pen}.color={value}", "--exact"]),
    ]
    with tempfile.TemporaryDirectory(prefix="penspec-bench-") as tmp:
        out = Path(tmp) / "out"
        first = None
        for label, extra in runs:
            seconds, lock, up_to_date = timed_build(spec, out, args.device, extra)
            first = first or seconds
            if up_to_date:
                print(f"{label:38s} {seconds:8.2f} s {100 * seconds / first:6.1f} % of first   up to date: every stage reused, nothing written")
                continue
            stages = lock["stages"]
            reused = ", ".join(s["name"] for s in stages if s["reused"]) or "none"
            reinked = ", ".join(s["name"] for s in stages if s.get("optimised_under")) or "none"
            steps = sum(s["steps_run"] for s in stages)
            print(f"{label:38s} {seconds:8.2f} s {100 * seconds / first:6.1f} % of first   steps run {steps:5d}   "
                  f"reused: {reused}   re-inked: {reinked}")


if __name__ == "__main__":
    main()
