"""Pass 5, physical mapping: canvas px -> paper mm, pen nibs in canvas px, the plotter's reach.

The drawing area is the paper minus the margin on each side. The canvas is scaled uniformly to
fit it and centred: ``mm_per_px = min(area_w / canvas_w, area_h / canvas_h)`` and
``paper_mm = origin_mm + canvas_px * mm_per_px``. A pen's width in canvas px is what the
renderer draws, so what the net sees is what the pen will draw; a nib thinner than
:data:`MIN_PEN_PX` canvas px cannot be rendered faithfully and is an error. The page must fit
the AxiDraw model's travel as AxiDraw places it (a portrait page turned, see axidraw.py). Pens
get AxiDraw layer numbers 1..n in spec order.
"""

from __future__ import annotations

import math
from dataclasses import replace

from penspec.spec.errors import CompileError, Diagnostic
from penspec.spec.model import Spec

from .axidraw import MODELS, fits
from .context import Context
from .diagnose import diagnostic_at
from .plan import CanvasPlan, PenPlan, PlotPlan

MIN_PEN_PX = 0.2
MAX_CANVAS_PX = 8192  # the spec language's limit


def mm(value: float) -> str:
    return f"{value:.4g}mm"


def canvas_on_paper(spec: Spec) -> CanvasPlan:
    """Scale the canvas uniformly into the drawing area and centre it (area must be positive)."""
    paper = spec.paper
    cw, ch = spec.canvas
    area_w = paper.width_mm - 2 * paper.margin_mm
    area_h = paper.height_mm - 2 * paper.margin_mm
    mm_per_px = min(area_w / cw, area_h / ch)
    origin = (paper.margin_mm + (area_w - cw * mm_per_px) / 2, paper.margin_mm + (area_h - ch * mm_per_px) / 2)
    return CanvasPlan(width_px=cw, height_px=ch, mm_per_px=mm_per_px, origin_mm=origin)


def _margin_error(spec: Spec) -> Diagnostic | None:
    paper = spec.paper
    area_w = paper.width_mm - 2 * paper.margin_mm
    area_h = paper.height_mm - 2 * paper.margin_mm
    if area_w > 0 and area_h > 0:
        return None
    short = min(paper.width_mm, paper.height_mm)
    message = (
        f"a margin of {mm(paper.margin_mm)} on each side leaves no drawing area on {paper.name} "
        f"({mm(paper.width_mm)} x {mm(paper.height_mm)}): {mm(paper.width_mm)} - 2 x {mm(paper.margin_mm)} = {mm(area_w)} wide, "
        f"{mm(area_h)} high; use a margin below {mm(short / 2)} or larger paper"
    )
    return diagnostic_at(spec, "$.paper.margin", message)


def _pen_error(spec: Spec, index: int, width_px: float, canvas: CanvasPlan) -> Diagnostic | None:
    """A nib under MIN_PEN_PX canvas px: the grid is too coarse for it. A finer (larger) canvas
    or a wider pen fixes it; a smaller canvas would make it worse."""
    if width_px >= MIN_PEN_PX:
        return None
    pen = spec.pens[index]
    factor = MIN_PEN_PX / width_px  # how much finer the grid must get
    min_canvas = (math.ceil(canvas.width_px * factor), math.ceil(canvas.height_px * factor))
    min_width = MIN_PEN_PX * canvas.mm_per_px
    fixes = [f"a pen at least {math.ceil(min_width * 1000) / 1000:g}mm wide", "smaller paper"]
    if max(min_canvas) <= MAX_CANVAS_PX:
        fixes.insert(0, f"a larger canvas (at least {min_canvas[0]}x{min_canvas[1]} px, so each px is finer)")
    message = (
        f"pen {pen.id} is {mm(pen.width_mm)} wide = {width_px:.3g} canvas px at {canvas.mm_per_px:.4g} mm per px, "
        f"thinner than the {MIN_PEN_PX} px the renderer can draw: use " + ", or ".join(fixes)
    )
    return diagnostic_at(spec, f"$.pens[{index}].width", message)


def _plot_error(spec: Spec) -> Diagnostic | None:
    model = MODELS[spec.plot.model]
    paper = spec.paper
    if fits(model, paper.width_mm, paper.height_mm):
        return None
    fixes = []
    bigger = [m for m in MODELS.values() if fits(m, paper.width_mm, paper.height_mm)]
    if bigger:
        best = min(bigger, key=lambda m: m.travel_mm[0] * m.travel_mm[1])
        fixes.append(f"plot.model: {best.number} ({best.name})")
    fixes.append("smaller paper")
    message = (
        f"the {paper.name} page ({mm(paper.width_mm)} x {mm(paper.height_mm)}) does not fit the travel of model "
        f"{model.number}, {model.name} ({mm(model.travel_mm[0])} x {mm(model.travel_mm[1])}): " + ", or ".join(fixes)
    )
    return diagnostic_at(spec, "$.plot.model", message)


def physical_mapping(ctx: Context) -> Context:
    spec = ctx.spec
    margin = _margin_error(spec)
    if margin:
        raise CompileError([d for d in (margin, _plot_error(spec)) if d])
    canvas = canvas_on_paper(spec)
    widths = [pen.width_mm / canvas.mm_per_px for pen in spec.pens]
    errors = [d for i, w in enumerate(widths) if (d := _pen_error(spec, i, w, canvas))]
    plot_problem = _plot_error(spec)
    if plot_problem:
        errors.append(plot_problem)
    if errors:
        raise CompileError(errors)
    pen_strokes = ctx.need("pen_strokes")
    pens = []
    for i, pen in enumerate(spec.pens):
        max_draw = pen.max_draw_length_mm if pen.max_draw_length_mm is not None else spec.plot.max_draw_length_mm
        pens.append(
            PenPlan(
                id=pen.id,
                index=i,
                layer=i + 1,
                color=pen.color,
                rgb=tuple(pen.rgb),
                opacity=pen.opacity,
                width_mm=pen.width_mm,
                width_px=widths[i],
                speed_pendown=pen.speed_pendown,
                speed_penup=pen.speed_penup,
                pen_pos_down=pen.pen_pos_down,
                pen_pos_up=pen.pen_pos_up,
                delay_ms=pen.delay_ms,
                max_draw_length_mm=max_draw,
                strokes=pen_strokes[i],
            )
        )
    model = MODELS[spec.plot.model]
    plot = PlotPlan(
        model=model.number,
        model_name=model.name,
        travel_mm=model.travel_mm,
        optimize=spec.plot.optimize,
        pipeline=spec.plot.pipeline,
        pause_between_pens=spec.plot.pause_between_pens,
        penup_layer=spec.plot.penup_layer,
        accel=spec.plot.accel,
    )
    return replace(ctx, canvas=canvas, pens=tuple(pens), plot=plot)
