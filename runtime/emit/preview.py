"""preview.png: what the pens will draw, on the whole sheet at print resolution.

The preview renders the plotted layers themselves (flattened, clipped, travel-optimised paths on
the page), not the optimiser's curves, with the built-in renderer: each path is one stroke of
its pen's real nib width, colour and ink opacity, on the paper's colour. Overlapping paths
darken each other as ink does. The PNG carries its dpi, so it prints at the paper's size.

torch is imported here and only here among the emitters.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from penspec.compiler.plan import Plan
from penspec.spec.atomic import atomic_write

from penspec.spec.units import MM_PER_IN, PX_PER_MM

from .document import PlotLayer


def preview_size(plan: Plan, dpi: int) -> tuple[int, int]:
    """(H, W) in preview px of the whole sheet."""
    return (max(1, round(plan.paper.height_mm / MM_PER_IN * dpi)), max(1, round(plan.paper.width_mm / MM_PER_IN * dpi)))


def preview_strokes(plan: Plan, layers: Sequence[PlotLayer], dpi: int) -> dict[str, np.ndarray]:
    """The renderer's inputs (numpy) for the plotted paths: every polyline piece as a straight cubic."""
    scale = dpi / MM_PER_IN / PX_PER_MM  # page CSS px -> preview px
    pens = sorted(plan.pens, key=lambda p: p.index)
    pen_slot = {pen.id: i for i, pen in enumerate(pens)}
    starts, ends, segment_stroke, stroke_width, stroke_pen = [], [], [], [], []
    stroke = 0
    for layer in layers:
        width = layer.pen.width_mm / MM_PER_IN * dpi
        for line in layer.lines:
            if len(line) < 2:
                continue
            pts = np.stack([line.real, line.imag], axis=1) * scale
            starts.append(pts[:-1])
            ends.append(pts[1:])
            segment_stroke.append(np.full(len(pts) - 1, stroke, dtype=np.int64))
            stroke_width.append(width)
            stroke_pen.append(pen_slot[layer.pen.id])
            stroke += 1
    if stroke:
        a, b = np.concatenate(starts), np.concatenate(ends)
        control_points = np.stack([a, a + (b - a) / 3, a + 2 * (b - a) / 3, b], axis=1)
    else:
        control_points = np.zeros((0, 4, 2))
    return {
        "control_points": control_points,
        "segment_stroke": np.concatenate(segment_stroke) if stroke else np.zeros(0, dtype=np.int64),
        "stroke_width": np.asarray(stroke_width, dtype=np.float64),
        "stroke_pen": np.asarray(stroke_pen, dtype=np.int64),
        "pen_rgb": np.asarray([pen.rgb for pen in pens], dtype=np.float64).reshape(-1, 3),
        "pen_opacity": np.asarray([pen.opacity for pen in pens], dtype=np.float64),
    }


def render_preview(plan: Plan, layers: Sequence[PlotLayer], dpi: int | None = None) -> np.ndarray:
    """The sheet as uint8 [H, W, 3]."""
    import torch

    from penspec.runtime.render import render

    dpi = dpi or plan.preview_dpi
    size = preview_size(plan, dpi)
    data = preview_strokes(plan, layers, dpi)
    paper = np.asarray(plan.paper.rgb, dtype=np.float32)
    if data["stroke_pen"].size == 0:
        image = np.broadcast_to(paper, (*size, 3))
    else:
        t = {k: torch.from_numpy(v) for k, v in data.items()}
        with torch.no_grad():
            out = render(
                t["control_points"].float(), t["segment_stroke"], t["stroke_width"].float(), t["stroke_pen"],
                t["pen_rgb"].float(), size, pen_opacity=t["pen_opacity"].float(), paper=tuple(float(v) for v in paper),
            )
        image = out.permute(1, 2, 0).cpu().numpy()
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def write_preview(plan: Plan, layers: Sequence[PlotLayer], path: str | Path, dpi: int | None = None) -> Path:
    dpi = dpi or plan.preview_dpi
    buffer = io.BytesIO()
    Image.fromarray(render_preview(plan, layers, dpi), mode="RGB").save(buffer, format="PNG", dpi=(dpi, dpi))
    return atomic_write(path, buffer.getvalue())
