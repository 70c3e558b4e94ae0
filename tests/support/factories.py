"""Small hand-built plans for runtime and emitter tests that must not depend on the compiler."""

from __future__ import annotations

import dataclasses

from penspec.compiler.plan import (
    PLAN_VERSION,
    AugmentPlan,
    CanvasPlan,
    Estimates,
    NetPlan,
    ObjectivePlan,
    PaperPlan,
    PenEstimate,
    OptimizePlan,
    PenPlan,
    Plan,
    PlotPlan,
    StrokesPlan,
    TermPlan,
    TestPlan,
)
from penspec.spec.model import Size


def make_pen(index: int, pen_id: str, color: str, rgb, width_mm: float, mm_per_px: float, **kw) -> PenPlan:
    values = dict(
        id=pen_id,
        index=index,
        layer=index + 1,
        color=color,
        rgb=tuple(rgb),
        opacity=1.0,
        width_mm=width_mm,
        width_px=width_mm / mm_per_px,
        speed_pendown=25,
        speed_penup=75,
        pen_pos_down=30,
        pen_pos_up=60,
        delay_ms=0,
        max_draw_length_mm=None,
        strokes=0,
    )
    values.update(kw)
    return PenPlan(**values)


def make_plan(canvas: int = 64, strokes: int = 12, steps: int = 4, pens: int = 2, **changes) -> Plan:
    """A tiny two-pen plan on A6 with a random-init tiny objective: optimize only."""
    paper_w, paper_h, margin = 105.0, 148.0, 10.0
    area = min(paper_w - 2 * margin, paper_h - 2 * margin)
    mm_per_px = area / canvas
    origin = ((paper_w - canvas * mm_per_px) / 2, (paper_h - canvas * mm_per_px) / 2)
    pen_defs = [("black", "#111111", (17 / 255,) * 3, 0.3), ("blue", "#1f4e9c", (31 / 255, 78 / 255, 156 / 255), 0.5)][:pens]
    per_pen = [strokes // len(pen_defs) + (1 if i < strokes % len(pen_defs) else 0) for i in range(len(pen_defs))]
    pen_plans = tuple(
        make_pen(i, pid, col, rgb, w, mm_per_px, strokes=per_pen[i]) for i, (pid, col, rgb, w) in enumerate(pen_defs)
    )
    term = TermPlan(
        kind="channel", weight=1.0, text="channel(resnet18:layer1, 3)", net="resnet18", layer="layer1",
        module="layer1", channels=64, channel=3,
    )
    plan = Plan(
        version=PLAN_VERSION,
        title="test piece",
        seed=7,
        source="spec.yaml",
        spec_sha256="0" * 64,
        look_sha256="1" * 64,
        paper=PaperPlan(name="a6", width_mm=paper_w, height_mm=paper_h, landscape=False, margin_mm=margin, color="#ffffff", rgb=(1.0, 1.0, 1.0)),
        canvas=CanvasPlan(width_px=canvas, height_px=canvas, mm_per_px=mm_per_px, origin_mm=origin),
        pens=pen_plans,
        strokes=StrokesPlan(count=strokes, segments=(1, 3), extent=0.2, learn_pens=False, shares=tuple(1 / len(pen_defs) for _ in pen_defs)),
        objective=ObjectivePlan(
            expression=term.text,
            terms=(term,),
            nets=(NetPlan(name="resnet18", weights="random", leaky_relu=None, modules=("layer1",), deepest="layer1"),),
        ),
        augment=AugmentPlan(crop=48, rotate_deg=5.0, translate=0.05, scale=(0.9, 1.1), perspective=0.2, jitter_px=2),
        stages=(
            OptimizePlan(index=0, name="0-optimize", size=Size(canvas, canvas), strokes=strokes, steps=steps, lr=1.0, views=2, line=10, fingerprint="f0"),
        ),
        plot=PlotPlan(model=2, model_name="AxiDraw V3/A3, SE/A3", travel_mm=(430.0, 297.0), optimize=True,
                      pipeline="linemerge linesimplify reloop linesort --two-opt", pause_between_pens=True, penup_layer=False, accel=75),
        output_dir=None,
        snapshot_every=0,
        checkpoint_every=2,
        preview_dpi=100,
        test=TestPlan(steps=2, views=2, crop=48, weights="random"),
        estimates=Estimates(pens=tuple(PenEstimate(p.id, p.strokes, 100.0, 50.0, p.strokes, 10.0) for p in pen_plans), ink_mm=200.0, time_s=20.0, steps=steps),
    )
    return dataclasses.replace(plan, **changes) if changes else plan
