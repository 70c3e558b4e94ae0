"""Benchmark: a first build against a rebuild of the unchanged spec and of an emitter-only change.

    python bench/rebuild.py [SPEC] [--device cpu]

Prints the wall time of each build, the stages each reused and the ratio to the first build.
Builds into a fresh temporary folder, so the first build is always cold.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

from penspec.runtime.build import BuildOptions, build
from penspec.runtime.device import describe_device, resolve_device

HERE = Path(__file__).resolve().parent
DEFAULT_SPEC = HERE.parent / "gallery" / "hello" / "spec.yaml"


def timed(spec: Path, options: BuildOptions):
    started = time.perf_counter()
    result = build(spec, options)
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", nargs="?", default=str(DEFAULT_SPEC))
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    spec = Path(args.spec)
    print(f"device: {describe_device(resolve_device(args.device))} ({platform.processor() or platform.machine()})")
    print(f"spec: {spec}")
    with tempfile.TemporaryDirectory(prefix="penspec-bench-") as tmp:
        out = str(Path(tmp) / "out")
        runs = [
            ("first build", ()),
            ("unchanged rebuild", ()),
            ("pen speed + plot options changed", ("pens.0.speed_pendown=35", "plot.pause_between_pens=false")),
        ]
        first = None
        for label, overrides in runs:
            seconds, result = timed(spec, BuildOptions(out_dir=out, device=args.device, overrides=overrides))
            first = first or seconds
            reused = ", ".join(result.reused) or "none"
            print(f"{label:34s} {seconds:8.2f} s  {100 * seconds / first:6.1f} % of first  reused: {reused}")


if __name__ == "__main__":
    main()
