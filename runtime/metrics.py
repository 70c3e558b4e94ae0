"""Did the build work? The objective on fixed held-out views, before and after.

"Before" is the initial strokes carried through the plan's tile stages without optimisation
(so both scenes cover the final canvas); "after" is the final scene. Both are seen through the
same held-out views, drawn from their own seeded stream, never used for training. The nets
measure in fp32 whatever precision the stages ran in: one ruler for builds in every precision.
"""

from __future__ import annotations

import dataclasses

import torch
from penspec.runtime.augment import HELD_OUT
from penspec.runtime.draw import pen_look
from penspec.runtime.precision import FP32
from penspec.runtime.stages import Engine, apply_tile
from penspec.runtime.strokes import Strokes

HELD_OUT_VIEWS = 8


def baseline(engine: Engine, initial: Strokes) -> Strokes:
    """The initial strokes after the plan's structural (tile) stages only."""
    strokes = initial
    for stage in engine.plan.stages:
        if stage.kind == "tile":
            strokes = apply_tile(stage, strokes)
    return strokes


def held_out_scores(engine: Engine, strokes: Strokes, views: int = HELD_OUT_VIEWS) -> list[float]:
    """Each term's score on the held-out views, in term order."""
    h = engine.homographies(HELD_OUT, 0, 0, views, strokes.region)
    with torch.no_grad():
        images = engine.view_images(strokes, strokes.points, pen_look(engine.plan, strokes), h)
        scores = engine.objective.term_scores(engine.features(images))
    return [float(s) for s in scores]


def objective_metrics(engine: Engine, initial: Strokes, final: Strokes, views: int = HELD_OUT_VIEWS) -> dict:
    """``{"objective": {"before", "after", "terms": [...]}}`` for the report and metrics.json."""
    engine = dataclasses.replace(engine, numerics=FP32)
    before = held_out_scores(engine, baseline(engine, initial), views)
    after = held_out_scores(engine, final, views)
    terms = []
    for (weight, term), b, a in zip(engine.objective.terms, before, after):
        terms.append({"term": term.describe(), "weight": weight, "before": b, "after": a})

    def total(scores: list[float]) -> float:
        return float(sum(w * s for (w, _), s in zip(engine.objective.terms, scores)))

    return {
        "objective": {
            "expression": engine.objective.describe(),
            "before": total(before),
            "after": total(after),
            "terms": terms,
            "held_out_views": views,
            "crop": engine.plan.augment.crop,
        }
    }
