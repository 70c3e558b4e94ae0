"""Emitter figures on the gallery: pen-up travel before/after vpype's optimisation, ink, lifts,
estimated plot time, and how long emitting takes.

Each piece's scene is its seeded initial stroke layout (tiled as its stages say), the geometry a
build starts from: no optimisation steps run, so this takes seconds. Usage:

    python bench/emit_travel.py [gallery/<piece>/spec.yaml ...] [--preview]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from penspec.compiler import compile_spec
from penspec.compiler.plan import TilePlan
from penspec.runtime.emit import emit_all
from penspec.runtime.strokes import init_strokes, tile_strokes
from penspec.spec import load

ROOT = Path(__file__).resolve().parents[1]


def initial_scene(plan):
    strokes = init_strokes(plan, plan.stages[0].size)
    for stage in plan.stages:
        if isinstance(stage, TilePlan):
            strokes = tile_strokes(strokes, stage.repeat)
    return strokes.to_scene()


def main(argv: list[str]) -> None:
    preview = "--preview" in argv
    specs = [Path(a) for a in argv if not a.startswith("--")] or sorted(ROOT.glob("gallery/*/spec.yaml"))
    print(f"{'piece':24} {'strokes':>7} {'ink m':>7} {'pen-up m before':>16} {'after':>7} {'change':>7} {'lifts':>6} {'time':>8} {'emit s':>7}")
    for path in specs:
        plan = compile_spec(load(path))
        scene = initial_scene(plan)
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            emit_all(plan, scene, Path(tmp), stem="piece", provenance={"command": f"penspec build {path}"}, preview=preview)
            elapsed = time.perf_counter() - start
            t = json.loads((Path(tmp) / "report.json").read_text())["totals"]
        change = (t["penup_mm_after"] - t["penup_mm_before"]) / t["penup_mm_before"] * 100 if t["penup_mm_before"] else 0.0
        minutes = t["time_s"] / 60
        print(f"{path.parent.name:24} {t['strokes']:7d} {t['ink_mm'] / 1000:7.2f} {t['penup_mm_before'] / 1000:16.2f} "
              f"{t['penup_mm_after'] / 1000:7.2f} {change:6.1f}% {t['lifts']:6d} {minutes:6.1f} min {elapsed:7.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
