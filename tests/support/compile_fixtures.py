"""Specs built directly from the model dataclasses, for compiler tests that do not go through YAML.

``make_spec()`` is a small valid piece (A6, one black pen, vgg16 conv3_3 channel 37, one
optimize stage); keyword arguments replace whole sections, and helpers build the common parts.
Locations are synthetic (``spec.yaml``, one line per JSON path) so tests can check where an
error points.
"""

from __future__ import annotations

import dataclasses

from penspec.spec.errors import Location
from penspec.spec.model import (
    Augment,
    FinetuneStage,
    Network,
    Objective,
    OptimizeStage,
    Output,
    Paper,
    Pen,
    Plot,
    Size,
    Spec,
    Strokes,
    Term,
    TestSettings,
    TileStage,
)

PAPERS = {"a6": (105.0, 148.0), "a4": (210.0, 297.0), "a3": (297.0, 420.0), "a2": (420.0, 594.0)}


def paper(name: str = "a6", landscape: bool = False, margin_mm: float = 10.0) -> Paper:
    w, h = PAPERS[name]
    if landscape:
        w, h = max(w, h), min(w, h)
    return Paper(name=name, width_mm=w, height_mm=h, landscape=landscape, margin_mm=margin_mm, color="#ffffff", rgb=(1.0, 1.0, 1.0))


def pen(pen_id: str = "black", color: str = "#111111", width_mm: float = 0.3, **kw) -> Pen:
    rgb = tuple(int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    values = dict(
        id=pen_id, color=color, rgb=rgb, width_mm=width_mm, opacity=1.0, speed_pendown=25, speed_penup=75,
        pen_pos_down=30, pen_pos_up=60, delay_ms=0, max_draw_length_mm=None,
    )
    values.update(kw)
    return Pen(**values)


def channel(net: str = "vgg16", layer: str = "conv3_3", ch: int = 37, weight: float = 1.0, column: int = 1) -> Term:
    return Term(kind="channel", weight=weight, text=f"channel({net}:{layer}, {ch})", column=column, net=net, layer=layer, channel=ch)


def tv(weight: float = -1e-5, column: int = 1) -> Term:
    return Term(kind="tv", weight=weight, text="tv", column=column)


def objective(*terms: Term) -> Objective:
    terms = terms or (channel(),)
    return Objective(expression=" + ".join(t.text for t in terms), terms=tuple(terms))


def optimize(size=None, steps: int = 500, lr: float = 1.0, views=None) -> OptimizeStage:
    if isinstance(size, int):
        size = (size, size)
    size = Size(*size) if size is not None else None
    return OptimizeStage(size=size, steps=steps, lr=lr, views=views)


def tile(c: int, r: int | None = None) -> TileStage:
    return TileStage(repeat=(c, r if r is not None else c))


def finetune(steps: int = 500, lr: float = 0.5, views=None) -> FinetuneStage:
    return FinetuneStage(steps=steps, lr=lr, views=views)


PATHS = (
    "$", "$.paper", "$.paper.margin", "$.canvas", "$.pens", "$.pens[0]", "$.pens[0].width", "$.pens[1]",
    "$.pens[1].width", "$.pens[2]", "$.pens[2].width", "$.strokes", "$.strokes.pens", "$.network",
    "$.network.weights", "$.objective", "$.augment", "$.augment.crop", "$.stages", "$.stages[0]",
    "$.stages[1]", "$.stages[2]", "$.stages[3]", "$.plot", "$.plot.model", "$.test", "$.test.crop",
)


def synthetic_locations(source: str = "spec.yaml") -> dict[str, Location]:
    """One distinct line per JSON path, so tests can tell which path an error points at."""
    return {path: Location(source, line, 1, path) for line, path in enumerate(PATHS, start=1)}


def line_of(path: str) -> int:
    return PATHS.index(path) + 1


def make_spec(base_dir: str = ".", **changes) -> Spec:
    if isinstance(changes.get("canvas"), int):
        changes["canvas"] = (changes["canvas"], changes["canvas"])
    if "canvas" in changes:
        changes["canvas"] = Size(*changes["canvas"])
    spec = Spec(
        version=1,
        title="test piece",
        seed=42,
        paper=paper(),
        canvas=Size(256, 256),
        pens=(pen(),),
        strokes=Strokes(count=200, segments=(1, 3), extent=0.1, pens=(("black", 1.0),), crowding=0.0),
        network=Network(weights="imagenet", leaky_relu=None),
        objective=objective(),
        augment=Augment(views=8, crop=224, rotate_deg=5.0, translate=0.05, scale=(1.0, 1.0), perspective=0.0, jitter_px=8),
        stages=(optimize(),),
        plot=Plot(model=2, optimize=True, pipeline="linemerge linesimplify reloop linesort --two-opt", pause_between_pens=True,
                  max_draw_length_mm=None, penup_layer=False, accel=75),
        output=Output(dir=None, snapshot_every=50, checkpoint_every=25, preview_dpi=150),
        test=TestSettings(steps=4, views=2, crop=64, weights="random"),
        source="spec.yaml",
        base_dir=base_dir,
        locations=synthetic_locations(),
    )
    return dataclasses.replace(spec, **changes)
