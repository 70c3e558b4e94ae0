"""render() on a busy machine: library import vs the CLI's thread policy.

    python bench/busy.py [--repeat 9] [--spinners 2] [--scene 512px/800]

Starts ``--spinners`` processes that each keep a core busy (``while 1: pass``), then times
``render()`` forward + backward (median of ``--repeat`` after one warm-up) in fresh
``python -c`` processes:

- library: ``import penspec.runtime.render`` with OMP_WAIT_POLICY unset (penspec sets it);
- cli: OMP_WAIT_POLICY=PASSIVE set in the environment, as ``penspec`` runs;
- torch first: torch imported before penspec with the policy unset (OpenMP's default: idle
  threads spin), the slow path penspec warns about.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the child imports the test scenes from tests.support

CHILD = """
import statistics, sys, time
{first}
from penspec.runtime.render import render
from tests.support.scenes import random_scene
import torch
size, strokes, repeat = {size}, {strokes}, {repeat}
scene = random_scene(size, strokes, pens=3, extent=25.0, width=(0.5, 4.0), seed=0)
cp = scene.control_points.clone().requires_grad_()
def once():
    t = time.perf_counter()
    img = render(cp, *scene.args()[1:])
    img.mean().backward()
    return time.perf_counter() - t
once()
print(statistics.median(once() for _ in range(repeat)))
"""

CASES = {
    "library (python -c, policy unset)": ("", False),
    "cli (OMP_WAIT_POLICY=PASSIVE)": ("", True),
    "torch imported first (policy unset)": ("import torch", False),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--spinners", type=int, default=2)
    parser.add_argument("--scene", default="512px/800")
    args = parser.parse_args()
    size, strokes = (int(v.rstrip("px")) for v in args.scene.split("/"))
    spinners = [subprocess.Popen([sys.executable, "-c", "while 1: pass"]) for _ in range(args.spinners)]
    try:
        base = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
        for name, (first, passive) in CASES.items():
            env = {**base, "OMP_WAIT_POLICY": "PASSIVE"} if passive else base
            code = CHILD.format(first=first, size=size, strokes=strokes, repeat=args.repeat)
            out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], env=env, cwd=ROOT, capture_output=True,
                                 text=True, check=True)
            print(f"{name:40s} {float(out.stdout.split()[-1]) * 1000:9.1f} ms  ({args.scene}, forward + backward, median of {args.repeat})")
    finally:
        for proc in spinners:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
