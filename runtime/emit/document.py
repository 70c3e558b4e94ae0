"""Scene -> vpype Document in paper units: flatten, clip, optimise travel, split, label.

Everything after optimisation follows vpype's data model: polylines as complex numbers in CSS px
(1/96 in) on the page, one layer per pen with ``vp_name``, ``vp_color`` and ``vp_pen_width``.
The canvas maps onto the paper exactly as the plan says (``origin_mm + px * mm_per_px``), so a
stroke lands where the optimiser saw it and the pen width in the SVG is the nib width.

The steps are small pure functions so that each emitter (SVG, preview, plot script, report)
reads the same plotted layers:

    pen_drawings(plan, scene)      flattened, clipped paths per pen, in spec order
    optimize_travel(drawings, ...) vpype's own linemerge / linesimplify / reloop / linesort
    plot_layers(plan, drawings)    split by max draw length, numbered and labelled for AxiDraw
    layers_document(plan, layers)  the vpype Document the SVG writer consumes
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import vpype as vp

from penspec.compiler.plan import PenPlan, Plan
from penspec.runtime.scene import Scene
from penspec.spec.errors import EmitError
from penspec.spec.model import Size
from penspec.spec.units import PX_PER_MM

from .labels import LayerLabel, compose

FLATTEN_TOLERANCE_MM = 0.01  # chord error of flattened curves; a fine nib is 0.1 mm or more
NIB_FRACTION = 0.05  # and never more than this share of the pen's width
MAX_PIECES = 1024


@dataclass(frozen=True)
class PenDrawing:
    """One pen's paths on the page, in plotting order."""

    pen: PenPlan
    lines: vp.LineCollection  # CSS px on the page
    strokes: int  # scene strokes drawn by this pen
    clipped: int  # strokes that reached outside the canvas and were cut at its edge


@dataclass(frozen=True)
class PlotLayer:
    """One AxiDraw layer: a pen's drawing, or a part of it when it exceeds the max draw length."""

    label: LayerLabel
    pen: PenPlan
    lines: vp.LineCollection

    @property
    def name(self) -> str:
        return compose(self.label)

    @property
    def number(self) -> int:
        assert self.label.number is not None
        return self.label.number


def flatten_tolerance_px(plan: Plan, pen: PenPlan) -> float:
    """Flattening tolerance in canvas px: well under the nib, whatever the scale."""
    tol_mm = min(FLATTEN_TOLERANCE_MM, NIB_FRACTION * pen.width_mm)
    return tol_mm / plan.canvas.mm_per_px


def flatten_stroke(segments: np.ndarray, tolerance: float) -> np.ndarray:
    """Flatten a chain of cubic Beziers [K, 4, 2] into one polyline [M, 2].

    The piece count per cubic comes from the flatness bound: with D = max(|P0-2P1+P2|,
    |P1-2P2+P3|), n uniform pieces stay within 0.75 * D / n^2 of the curve.
    """
    points = [segments[0, 0][None, :]]
    for cp in segments:
        d = max(np.linalg.norm(cp[0] - 2 * cp[1] + cp[2]), np.linalg.norm(cp[1] - 2 * cp[2] + cp[3]))
        n = min(MAX_PIECES, max(1, math.ceil(math.sqrt(0.75 * d / tolerance)))) if d > 0 else 1
        t = np.arange(1, n + 1, dtype=np.float64)[:, None] / n
        u = 1.0 - t
        basis = np.hstack([u**3, 3 * u * u * t, 3 * u * t * t, t**3])  # [n, 4]
        points.append(basis @ cp)
    return np.vstack(points)


def canvas_to_page(plan: Plan, points: np.ndarray) -> np.ndarray:
    """Canvas px [M, 2] -> page positions as complex CSS px (vpype's representation)."""
    canvas = plan.canvas
    x = (canvas.origin_mm[0] + points[:, 0] * canvas.mm_per_px) * PX_PER_MM
    y = (canvas.origin_mm[1] + points[:, 1] * canvas.mm_per_px) * PX_PER_MM
    return x + 1j * y


def canvas_box(plan: Plan) -> tuple[float, float, float, float]:
    """The canvas rectangle on the page (x0, y0, x1, y1) in CSS px: inside the margins."""
    c = plan.canvas
    x0, y0 = c.origin_mm[0] * PX_PER_MM, c.origin_mm[1] * PX_PER_MM
    return x0, y0, x0 + c.width_px * c.mm_per_px * PX_PER_MM, y0 + c.height_px * c.mm_per_px * PX_PER_MM


def page_size_px(plan: Plan) -> tuple[float, float]:
    return plan.paper.width_mm * PX_PER_MM, plan.paper.height_mm * PX_PER_MM


def check_scene(plan: Plan, scene: Scene) -> None:
    """The scene must be drawn on this plan's canvas with this plan's pens."""
    want = Size(plan.canvas.width_px, plan.canvas.height_px)
    if scene.size != want:
        raise EmitError(f"the scene is {scene.size.width}x{scene.size.height} px but the plan's canvas is {want.width}x{want.height} px")
    if scene.stroke_count and (scene.stroke_pen.min() < 0 or scene.stroke_pen.max() >= len(plan.pens)):
        raise EmitError(f"the scene uses pen index {int(scene.stroke_pen.max())} but the plan has {len(plan.pens)} pens")


def pen_drawings(plan: Plan, scene: Scene) -> tuple[PenDrawing, ...]:
    """Each pen's strokes flattened onto the page and cut at the canvas edge, in scene order.

    Strokes are clipped to the canvas because the canvas is all the renderer (and the net) ever
    saw: ink beyond it was never part of the piece, and it would cross the margins.
    """
    check_scene(plan, scene)
    box = canvas_box(plan)
    eps = 1e-9
    drawings = []
    for pen in sorted(plan.pens, key=lambda p: p.index):
        tolerance = flatten_tolerance_px(plan, pen)
        lines = vp.LineCollection()
        strokes = scene.strokes_of_pen(pen.index)
        clipped = 0
        for segments in strokes:
            if len(segments) == 0:
                continue
            line = canvas_to_page(plan, flatten_stroke(np.asarray(segments, dtype=np.float64), tolerance))
            if (
                line.real.min() < box[0] - eps or line.imag.min() < box[1] - eps
                or line.real.max() > box[2] + eps or line.imag.max() > box[3] + eps
            ):
                clipped += 1
                piece = vp.LineCollection([line])
                piece.crop(*box)
                lines.extend(piece)
            else:
                lines.append(line)
        drawings.append(PenDrawing(pen=pen, lines=lines, strokes=len(strokes), clipped=clipped))
    return tuple(drawings)


def optimize_travel(drawings: Sequence[PenDrawing], pipeline: str) -> tuple[PenDrawing, ...]:
    """Run vpype's plot optimisation commands (``plan.plot.pipeline``) over every pen's layer."""
    document = vp.Document()
    for number, drawing in enumerate(drawings, start=1):
        document.add(drawing.lines.clone(drawing.lines), number)
    import vpype_cli  # the command runner; kept out of import time

    try:
        optimized = vpype_cli.execute(pipeline, document)
    except Exception as exc:  # the spec's pipeline was read at validate time; this is vpype failing to run it
        raise EmitError(f"plot.pipeline {pipeline!r}: {type(exc).__name__}: {exc}") from exc
    out = []
    for number, drawing in enumerate(drawings, start=1):
        lines = optimized.layers.get(number, vp.LineCollection())
        out.append(replace(drawing, lines=lines))
    return tuple(out)


def split_by_draw_length(lines: vp.LineCollection, max_px: float | None) -> list[vp.LineCollection]:
    """Cut a layer into consecutive parts of at most ``max_px`` pen-down length.

    Paths stay whole: a new part starts before the path that would overflow the budget. A
    single path longer than the budget gets a part of its own (the report flags it). vpype's
    ``splitdist`` keeps the path that crosses the budget in the part, so its parts can run one
    path over; a pen that wears out after a known length needs the bound kept.
    """
    if max_px is None or len(lines) == 0:
        return [lines]
    parts: list[vp.LineCollection] = []
    current = vp.LineCollection()
    length = 0.0
    for line in lines:
        line_length = float(np.abs(np.diff(line)).sum())
        if len(current) and length + line_length > max_px:
            parts.append(current)
            current, length = vp.LineCollection(), 0.0
        current.append(line)
        length += line_length
    parts.append(current)
    return parts


def plot_layers(plan: Plan, drawings: Sequence[PenDrawing]) -> tuple[PlotLayer, ...]:
    """Number and label the layers AxiDraw plots, in pen order.

    Layers are numbered 1, 2, ... in plotting order (with no split, pen k is layer k). A pen
    change pauses (``!``) when ``plot.pause_between_pens`` is set; every extra part of a split
    pen pauses, so the pen can be checked or swapped for a fresh one.
    """
    layers: list[PlotLayer] = []
    previous: PenPlan | None = None
    for drawing in drawings:
        if len(drawing.lines) == 0:
            continue
        pen = drawing.pen
        budget = pen.max_draw_length_mm * PX_PER_MM if pen.max_draw_length_mm else None
        parts = split_by_draw_length(drawing.lines, budget)
        for k, lines in enumerate(parts, start=1):
            if k > 1:
                pause = True
            else:
                pause = previous is not None and plan.plot.pause_between_pens
            label = LayerLabel(
                number=len(layers) + 1,
                pen=pen.id,
                pause=pause,
                delay_ms=pen.delay_ms if pen.delay_ms > 0 else None,
                height=pen.pen_pos_down,
                speed=pen.speed_pendown,
                part=(k, len(parts)) if len(parts) > 1 else None,
            )
            layers.append(PlotLayer(label=label, pen=pen, lines=lines))
        previous = pen
    return tuple(layers)


def layers_document(plan: Plan, layers: Sequence[PlotLayer], *, pauses: bool = True) -> vp.Document:
    """A vpype Document of plot layers with AxiDraw labels, pen colours and nib widths.

    With ``pauses=False`` no layer keeps its ``!``: a single pen's file starts with that pen
    loaded, and AxiDraw cannot plot a ``!`` layer on its own (in ``layers`` mode it pauses
    before drawing anything, and ``res_plot`` does not resume a pause at 0 mm), so the report's
    per-layer axicli commands plot from the pen files.
    """
    document = vp.Document(page_size=page_size_px(plan))
    for layer in layers:
        label = layer.label if pauses else replace(layer.label, pause=False)
        document.add(layer.lines.clone(layer.lines), layer.number)
        props = document.layers[layer.number]
        props.set_property(vp.METADATA_FIELD_NAME, compose(label))
        props.set_property(vp.METADATA_FIELD_COLOR, vp.Color(layer.pen.color))
        props.set_property(vp.METADATA_FIELD_PEN_WIDTH, layer.pen.width_mm * PX_PER_MM)
    return document


def points_mm(lines: vp.LineCollection) -> list[list[tuple[float, float]]]:
    """Paths as lists of (x, y) mm: the motion model's input."""
    return [[(float(c.real) / PX_PER_MM, float(c.imag) / PX_PER_MM) for c in line] for line in lines]
