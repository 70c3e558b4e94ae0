"""Smoke builds for `penspec test --render`: the piece, briefly, summarised as stable numbers.

A smoke build is the real build (same loader, compiler, stages, emitters) with the spec's
``test:`` section applied as overrides: every stage's steps and views cut to ``test.steps`` /
``test.views``, the crop to ``test.crop``, the weights to ``test.weights`` when set (so pieces
that need downloaded ImageNet weights still run offline), the nets in fp32 (``auto`` would pick
bf16 on some CPUs and not others, and a golden must not depend on which), snapshots off, a small
preview.
The summary keeps what identifies the result and drops what is noisy: strokes, paths and
segments per pen, ink to the millimetre, and a hash of the scene rounded to 1/100 px.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np

from penspec.spec import load
from penspec.spec.model import Spec

SMOKE_PREVIEW_DPI = 20


def smoke_overrides(spec: Spec) -> list[str]:
    """The ``--set`` overrides that turn a spec into its smoke build."""
    test = spec.test
    out = [f"augment.crop={test.crop}", f"augment.views={test.views}", "network.precision=fp32", "output.snapshot_every=0",
           f"output.preview_dpi={SMOKE_PREVIEW_DPI}"]
    for i, stage in enumerate(spec.stages):
        settings = {f.name for f in dataclasses.fields(stage)}
        for key, value in (("steps", test.steps), ("views", test.views)):
            if key in settings:  # the stage kinds that have the setting
                out.append(f"stages.{i}.{stage.kind}.{key}={value}")
    if test.weights:
        out.append(f"network.weights={test.weights}")
    return out


def geometry_hash(control_points: np.ndarray, stroke_pen: np.ndarray) -> str:
    rounded = np.round(np.asarray(control_points, dtype=np.float64) * 100).astype(np.int64)
    digest = hashlib.sha256(rounded.tobytes())
    digest.update(np.asarray(stroke_pen, dtype=np.int64).tobytes())
    return digest.hexdigest()


def smoke_summary(spec_path: str | Path, out_dir: Path, *, device: str = "cpu") -> dict:
    """Run the smoke build of a spec into out_dir and summarise it."""
    from penspec.runtime.build import BuildOptions, build

    overrides = tuple(smoke_overrides(load(spec_path)))
    result = build(spec_path, BuildOptions(out_dir=str(out_dir), overrides=overrides, device=device))
    report = json.loads((result.out_dir / "report.json").read_text(encoding="utf-8"))
    scene = result.scene
    pens = []
    for pen, pen_report in zip(result.plan.pens, report["pens"], strict=True):
        strokes = np.flatnonzero(scene.stroke_pen == pen.index)
        pens.append(
            {
                "id": pen.id,
                "strokes": int(strokes.size),
                "segments": int(np.isin(scene.segment_stroke, strokes).sum()),
                "paths": int(pen_report["paths"]),
                "ink_mm": round(float(pen_report["ink_mm"])),
            }
        )
    return {
        "overrides": list(overrides),
        "stages": [o.name for o in result.outcomes],
        "pens": pens,
        "geometry_sha256": geometry_hash(scene.control_points, scene.stroke_pen),
    }
