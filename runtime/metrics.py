"""Did the build work? The objective on fixed held-out views, before and after.

"Before" is the initial strokes carried through the plan's tile stages without optimisation
(so both scenes cover the final canvas); "after" is the final scene. Both are seen through the
same held-out views, drawn from their own seeded stream, never used for training. The nets
measure in fp32 whatever precision the stages ran in: one ruler for builds in every precision.
"""

from __future__ import annotations

import json

import torch
from penspec.compiler.plan import TilePlan
from penspec.runtime.augment import HELD_OUT
from penspec.runtime.checkpoint import StageStore
from penspec.runtime.draw import pen_look
from penspec.runtime.precision import FP32
from penspec.runtime.stages import Engine, apply_tile
from penspec.runtime.strokes import Strokes
from penspec.spec.atomic import atomic_write

HELD_OUT_VIEWS = 8


def baseline(engine: Engine, initial: Strokes) -> Strokes:
    """The initial strokes after the plan's structural (tile) stages only."""
    strokes = initial
    for stage in engine.plan.stages:
        if isinstance(stage, TilePlan):
            strokes = apply_tile(stage, strokes)
    return strokes


def held_out_scores(engine: Engine, strokes: Strokes, views: int = HELD_OUT_VIEWS) -> list[float]:
    """Each term's score on the held-out views, in term order."""
    h = engine.homographies(HELD_OUT, 0, 0, views, strokes.region)
    with torch.no_grad():
        images = engine.view_images(strokes, strokes.points, pen_look(engine.plan, strokes), h)
        scores = engine.objective.term_scores(engine.features(images, strokes, strokes.points))
    return [float(s) for s in scores]


def objective_metrics(engine: Engine, initial: Strokes, final: Strokes, views: int = HELD_OUT_VIEWS) -> dict:
    """``{"objective": {"before", "after", "terms": [...]}}`` for the report and metrics.json."""
    engine = Engine.loaded(engine.plan, engine.nets, engine.objective, engine.device, engine.backend, FP32)
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


def held_out_metrics(engine: Engine, initial: Strokes, final: Strokes, last: StageStore, all_reused: bool) -> dict:
    """The objective before and after on held-out views, under the plan's look.

    Kept in the last stage's store with the look it was measured under: a build that reuses
    every stage under the same look reads it back instead of loading and running the nets (most
    of an unchanged rebuild's time otherwise).
    """
    look_sha256 = engine.plan.look_sha256
    if all_reused and last.metrics_path.is_file():
        try:
            stored = json.loads(last.metrics_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            stored = {}  # unreadable: measured again and rewritten
        if isinstance(stored, dict) and stored.get("look_sha256") == look_sha256:
            return stored
    metrics = {**objective_metrics(engine, initial, final), "look_sha256": look_sha256}
    atomic_write(last.metrics_path, json.dumps(metrics, indent=2) + "\n")
    return metrics
