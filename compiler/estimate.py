"""Pass 7, estimate: ink, pen lifts and plot time per pen, before any optimisation.

A deliberately simple model, good for "is this a 10 minute or a 3 hour plot":

- Strokes start in the first stage's region as chains of control points, each a uniform step
  of at most ``r = extent x min(region w, h)`` from the previous one on each axis (as the runtime
  initialises them). A cubic segment of three such steps is on average ``1.62 r`` long
  (Gravesen's ``(2 chord + control polygon) / 3``: chord 1.25 r, polygon 2.30 r; a Monte Carlo
  of the exact length gives 1.62 r too), so a stroke is ``mean segments x 1.62 r`` long in mm,
  and tiling copies strokes without changing them. Optimisation moves strokes but this is the
  scale it starts from.
- Each stroke is one pen-down path: one lift and one drop per stroke.
- Pen-up travel between strokes: with travel optimisation (``plot.optimize``) a greedy tour
  through ``n`` points spread over the canvas area ``A`` is about ``0.9 * sqrt(n * A)`` (the
  Beardwood-Halton-Hammersley constant 0.7124 plus ~25 % for a greedy order); without it each hop
  averages 0.5214 of the canvas side (mean distance of two random points in a square). Plus the
  trip from home (the page's top-left corner, top-right on a turned portrait page) to the canvas
  centre and back.
- Time: AxiDraw's motion model (compiler/motion.py) with each pen's speeds and heights: each
  stroke a smooth rest-to-rest run, each hop likewise pen-up, each lift and drop a servo move;
  the pen's delay once, at the start of its layer (AxiDraw's ``+D``, as the plot report counts it).

Memory and work per step of each net stage (:class:`~.plan.StageCost`), the growth of a process
that has imported torch and loaded the nets, at a step's peak (its backward):

- Images: ``views x crop^2`` pixels, each held as ``IMAGE_COPIES`` fp32 RGB planes (the
  renderer's log-transmittance and image, the inked page, the nets' normalised input, their
  gradients).
- Nets: bytes kept for backward per input pixel up to the deepest module the objective reads,
  measured once per registry net (``activations.json``, written by bench/activations.py), times
  the view pixels, at fp32 whatever the precision: autocast keeps half-precision copies beside
  fp32 tensors, and bf16 measured no smaller than fp32 on CPU. (``auto`` resolves on the device
  at run time; counted as fp32 it never promises less than a build needs.)
- Renderer: each view shows about the whole region at ``crop / shorter side`` view px per canvas
  px, so a stroke covers ``length x (width + 2 reach)`` view px; each such (stroke, pixel) pair is
  kept for backward (``INKED_BYTES``), plus the flattened pieces of every stroke in every view
  and the binning's per-(piece, tile) keys (``PIECE_BYTES``).
- Optimiser: the parameters (control points, or strokes x pens when assigning pens), their
  gradient and Adam's two moments, fp32.

Calibrated against peak RSS growth on CPU (bench/memory.py); work per step is the view pixels
through the nets and the inked (stroke, pixel) pairs the renderer shades.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from functools import lru_cache
from importlib import resources

from .axidraw import home_on_page
from .context import Context
from .motion import MotionSettings, accel_mm_s2, move_time, servo_time, speed_mm_s
from .pens import largest_remainder
from .plan import AssignPensPlan, Estimates, NetStagePlan, PenEstimate, PenPlan, StageCost

SEGMENT_PER_STEP_RADIUS = 1.62  # mean cubic length / r for three uniform steps in [-r, r]^2
TOUR_FACTOR = 0.9  # greedy nearest-neighbour tour over n uniform points: ~0.9 sqrt(n A)
RANDOM_HOP = 0.5214  # mean distance between two uniform points in a unit square


IMAGE_COPIES = 8  # fp32 RGB planes per view pixel held at the peak (see the module docstring)
INKED_BYTES = 24  # per inked (stroke, pixel) pair kept for backward: 3 int32 indices, 2 floats, 1 int32 piece
PIECE_BYTES = 64  # per flattened piece per view: vertices, binning keys and pairs (int64)
REACH_PX = math.sqrt(0.5)  # how far past its nib a stroke's coverage reaches (runtime/render/coverage.py)
FLATNESS_PX = 0.1  # the flattener's tolerance (runtime/render/flatten.py): sqrt(0.75 D / tol) pieces
PIECES = (2, 64)  # the flattener's clamp on pieces per segment
# bytes per activation value the nets keep, by precision: under autocast a layer keeps its
# half-precision input next to the fp32 tensors around it, and on CPU bf16 measured no saving
# over fp32 (bench/memory.py), so half precision counts as fp32 until measured otherwise
PRECISION_BYTES = {"auto": 4, "fp32": 4, "bf16": 4, "fp16": 4}


@lru_cache(maxsize=1)
def activation_tables() -> dict[str, dict[str, float]]:
    """Per registry net: module path -> fp32 bytes kept for backward per input pixel up to it."""
    data = json.loads(resources.files(__package__).joinpath("activations.json").read_text(encoding="utf-8"))
    return data["nets"]


def stage_cost(stage: NetStagePlan, crop: int, nets, pens: tuple[PenPlan, ...], segments: tuple[int, int],
               extent: float, canvas_side_px: int) -> StageCost:
    """The memory and work per step of one net stage; ``canvas_side_px`` is the shorter side of
    the region the strokes start in (their length scales with it, see stroke_length_mm)."""
    pixels = stage.views * crop * crop
    images = pixels * 3 * 4 * IMAGE_COPIES
    tables = activation_tables()
    net_bytes = sum(tables[n.name][n.deepest] * PRECISION_BYTES.get(n.precision, 4) / 4 for n in nets)
    nets_total = int(pixels * net_bytes)
    scale = crop / min(stage.size)  # view px per canvas px
    mean_segments = (segments[0] + segments[1]) / 2
    length = stroke_length_mm(segments, extent, canvas_side_px) * scale  # view px (mm -> px: side in px)
    width = sum(p.width_px for p in pens) / max(1, len(pens)) * scale
    inked = int(stage.views * stage.strokes * length * (width + 2 * REACH_PX))
    per_segment = min(max(math.ceil(math.sqrt(0.75 * length / mean_segments / FLATNESS_PX)), PIECES[0]), PIECES[1])
    pieces = stage.views * stage.strokes * mean_segments * per_segment
    renderer = int(inked * INKED_BYTES + pieces * PIECE_BYTES)
    if isinstance(stage, AssignPensPlan):
        params = stage.strokes * len(pens)
    else:
        params = int(stage.strokes * (mean_segments * 3 + 1) * 2)
    optimizer = params * 4 * 4
    return StageCost(
        stage=stage.name,
        peak_bytes=images + nets_total + renderer + optimizer,
        renderer_bytes=renderer,
        images_bytes=images,
        nets_bytes=nets_total,
        optimizer_bytes=optimizer,
        pixels=pixels,
        inked=inked,
    )


def stroke_length_mm(segments: tuple[int, int], extent: float, side_mm: float) -> float:
    """Mean initial stroke length; ``side_mm`` is the shorter side of the region strokes start in."""
    return (segments[0] + segments[1]) / 2.0 * SEGMENT_PER_STEP_RADIUS * extent * side_mm


def travel_mm(strokes: int, area_mm2: float, optimized: bool) -> float:
    if strokes == 0:
        return 0.0
    if optimized:
        return TOUR_FACTOR * math.sqrt(strokes * area_mm2)
    return strokes * RANDOM_HOP * math.sqrt(area_mm2)


def pen_time_s(pen: PenPlan, accel: int, strokes: int, stroke_mm: float, hops_mm: float, home_mm: float) -> float:
    """Seconds to plot ``strokes`` strokes of ``stroke_mm`` with ``hops_mm`` of pen-up travel."""
    if strokes == 0:
        return 0.0
    settings = MotionSettings(
        speed_pendown=pen.speed_pendown,
        speed_penup=pen.speed_penup,
        accel=accel,
        pen_pos_down=pen.pen_pos_down,
        pen_pos_up=pen.pen_pos_up,
    )
    v_down, v_up = speed_mm_s(settings.speed_pendown), speed_mm_s(settings.speed_penup)
    a_down, a_up = accel_mm_s2(settings.accel, True), accel_mm_s2(settings.accel, False)
    draw = strokes * move_time(stroke_mm, v_down, a_down)
    hop = hops_mm / strokes
    travel = strokes * move_time(hop, v_up, a_up) + 2 * move_time(home_mm, v_up, a_up)
    servo = strokes * (servo_time(settings, True) + servo_time(settings, False))
    return draw + travel + servo + pen.delay_ms / 1000.0


def estimate(ctx: Context) -> Context:
    stages = ctx.need("stages")
    canvas = ctx.need("canvas")
    strokes = ctx.need("strokes")
    plot = ctx.need("plot")
    paper = ctx.need("paper")
    first = stages[0]
    side_mm = min(first.size) * canvas.mm_per_px
    stroke_mm = stroke_length_mm(strokes.segments, strokes.extent, side_mm)
    final = stages[-1].strokes
    copies = final // strokes.count  # tile copies of each initial stroke
    per_pen = largest_remainder(final, strokes.shares) if strokes.learn_pens else tuple(p.strokes * copies for p in ctx.pens)
    area = canvas.width_px * canvas.height_px * canvas.mm_per_px**2
    centre = (
        canvas.origin_mm[0] + canvas.width_px * canvas.mm_per_px / 2,
        canvas.origin_mm[1] + canvas.height_px * canvas.mm_per_px / 2,
    )
    home_mm = math.dist(home_on_page(paper.width_mm, paper.height_mm), centre)
    pens = []
    for pen, n in zip(ctx.need("pens"), per_pen):
        hops = travel_mm(n, area, plot.optimize)
        pens.append(
            PenEstimate(
                pen=pen.id,
                strokes=n,
                ink_mm=round(n * stroke_mm, 3),
                travel_mm=round(hops + (2 * home_mm if n else 0.0), 3),
                lifts=n,
                time_s=round(pen_time_s(pen, plot.accel, n, stroke_mm, hops, home_mm), 3),
            )
        )
    crop = ctx.need("augment").crop
    nets = ctx.need("objective").nets
    costs = tuple(
        stage_cost(s, crop, nets, tuple(ctx.need("pens")), strokes.segments, strokes.extent, min(first.size))
        for s in stages
        if isinstance(s, NetStagePlan)
    )
    estimates = Estimates(
        pens=tuple(pens),
        ink_mm=round(sum(p.ink_mm for p in pens), 3),
        time_s=round(sum(p.time_s for p in pens), 3),
        steps=sum(s.steps for s in stages if isinstance(s, NetStagePlan)),
        stages=costs,
        peak_bytes=max((c.peak_bytes for c in costs), default=0),
    )
    return replace(ctx, estimates=estimates)
