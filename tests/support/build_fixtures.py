"""Tiny specs for build tests: random-init nets, a few steps, small crops (seconds per build)."""

from __future__ import annotations

from pathlib import Path

TINY = """\
penspec: 1
title: tiny piece
seed: 3
canvas: 96
pens:
  - {{id: black, color: "#111", width: 0.5mm}}
  - {{id: red, color: "#c22", width: 0.8mm}}
strokes: {{count: 12, segments: [1, 3], extent: 0.2}}
network: {{weights: {weights}}}
objective: "{objective}"
augment: {{views: 2, crop: 48, jitter: 2}}
stages:
  - optimize: {{size: 48, steps: {steps}}}
  - tile: {{repeat: 2}}
  - finetune: {{steps: {finetune}}}
output: {{snapshot_every: 2, checkpoint_every: {checkpoint_every}}}
test: {{crop: 48, steps: 2, views: 2}}
"""


def write_tiny(folder: Path, name: str = "tiny.yaml", *, steps: int = 4, finetune: int = 4, weights: str = "random",
               objective: str = "channel(resnet18:layer1, 3) - 1e-4 * tv", checkpoint_every: int = 2) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(TINY.format(steps=steps, finetune=finetune, weights=weights, objective=objective, checkpoint_every=checkpoint_every))
    return path


def output_files(out_dir: Path) -> dict[str, bytes]:
    """Every deterministic output of a build: all files except build.lock and the stage store."""
    out = {}
    for path in sorted(out_dir.rglob("*")):
        rel = path.relative_to(out_dir).as_posix()
        if path.is_file() and rel != "build.lock" and not rel.startswith("stages/"):
            out[rel] = path.read_bytes()
    return out
