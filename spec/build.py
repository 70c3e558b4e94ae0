"""Validated, defaulted spec data -> the frozen Spec dataclasses, every unit resolved.

Runs only after validation found nothing wrong, so every value here has the right type and
range; the parsers are called again to convert (they are cheap and the single source of
each unit's meaning).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import Location
from .expression import objective_from_text
from .model import (
    AssignPensStage,
    Augment,
    FinetuneStage,
    Network,
    OptimizeStage,
    Output,
    Paper,
    Pen,
    Plot,
    Size,
    Spec,
    Stage,
    Strokes,
    TestSettings,
    TileStage,
)
from .units import angle_deg, color_hex, length_mm, page_size_mm
from .vocabulary import cached_schema, with_defaults


# Schema keys whose dataclass field carries its unit or a clearer name (section, key) -> field.
RENAMED_FIELDS: dict[tuple[str, str], str] = {
    ("spec", "penspec"): "version",
    ("paper", "size"): "name",
    ("paper", "margin"): "margin_mm",
    ("pens", "width"): "width_mm",
    ("pens", "delay"): "delay_ms",
    ("pens", "max_draw_length"): "max_draw_length_mm",
    ("augment", "rotate"): "rotate_deg",
    ("augment", "jitter"): "jitter_px",
    ("plot", "max_draw_length"): "max_draw_length_mm",
}
# Dataclass fields computed while building, with no schema key of their own.
DERIVED_FIELDS: dict[str, tuple[str, ...]] = {
    "spec": ("source", "base_dir", "locations", "expression_locations"),
    "paper": ("width_mm", "height_mm", "rgb"),
    "pens": ("rgb",),
    "optimize": ("kind",),
    "tile": ("kind",),
    "finetune": ("kind",),
    "assign_pens": ("kind",),
}


def _pair(value: Any, kind: type = int) -> tuple:
    """An int/float or a [a, b] list as a 2-tuple."""
    if isinstance(value, list):
        return kind(value[0]), kind(value[1])
    return kind(value), kind(value)


def _optional_length(value: str | None) -> float | None:
    return None if value is None else length_mm(value)


def build_paper(raw: dict[str, Any]) -> Paper:
    width, height = page_size_mm(raw["size"])
    if raw["landscape"]:
        width, height = max(width, height), min(width, height)
    color, rgb = color_hex(raw["color"])
    return Paper(
        name=raw["size"], width_mm=width, height_mm=height, landscape=bool(raw["landscape"]),
        margin_mm=length_mm(raw["margin"]), color=color, rgb=rgb,
    )


def build_pen(raw: dict[str, Any]) -> Pen:
    color, rgb = color_hex(raw["color"])
    return Pen(
        id=raw["id"],
        color=color,
        rgb=rgb,
        width_mm=length_mm(raw["width"]),
        opacity=float(raw["opacity"]),
        speed_pendown=int(raw["speed_pendown"]),
        speed_penup=int(raw["speed_penup"]),
        pen_pos_down=int(raw["pen_pos_down"]),
        pen_pos_up=int(raw["pen_pos_up"]),
        delay_ms=int(raw["delay"]),
        max_draw_length_mm=_optional_length(raw["max_draw_length"]),
    )


def build_strokes(raw: dict[str, Any], pens: tuple[Pen, ...]) -> Strokes:
    """Shares become one (pen id, fraction) per pen, in pen order, summing to 1."""
    shares = raw["pens"]
    if shares == "learn":
        resolved: Any = "learn"
    else:
        given = {pen.id: 1.0 for pen in pens} if shares is None else {k: float(v) for k, v in shares.items()}
        total = sum(given.values())
        resolved = tuple((pen.id, given.get(pen.id, 0.0) / total) for pen in pens)
    return Strokes(count=int(raw["count"]), segments=_pair(raw["segments"]), extent=float(raw["extent"]), pens=resolved,
                   crowding=float(raw["crowding"]))


def _views(value: Any) -> int | None:
    return None if value is None else int(value)


def build_stage(raw: dict[str, Any]) -> Stage:
    ((kind, body),) = raw.items()
    if kind == "optimize":
        size = None if body["size"] is None else Size(*_pair(body["size"]))
        return OptimizeStage(size=size, steps=int(body["steps"]), lr=float(body["lr"]), views=_views(body["views"]))
    if kind == "tile":
        return TileStage(repeat=_pair(body["repeat"]))
    if kind == "finetune":
        return FinetuneStage(steps=int(body["steps"]), lr=float(body["lr"]), views=_views(body["views"]))
    return AssignPensStage(steps=int(body["steps"]), lr=float(body["lr"]), temperature=_pair(body["temperature"], float))


def default_stage(kind: str) -> Stage:
    """A stage of ``kind`` with every setting at its schema default (what ``- kind:`` means)."""
    return build_stage(with_defaults({kind: None}, cached_schema()["properties"]["stages"]["items"]))


def build_spec(
    data: dict[str, Any],
    *,
    source: str,
    base_dir: str,
    locations: dict[str, Location],
) -> Spec:
    """The Spec for validated data that already carries every schema default."""
    pens = tuple(build_pen(p) for p in data["pens"])
    augment, plot, output, test = data["augment"], data["plot"], data["output"], data["test"]
    return Spec(
        version=int(data["penspec"]),
        title=data["title"] if data["title"] is not None else Path(source).stem,
        seed=int(data["seed"]),
        paper=build_paper(data["paper"]),
        canvas=Size(*_pair(data["canvas"])),
        pens=pens,
        strokes=build_strokes(data["strokes"], pens),
        network=Network(
            weights=data["network"]["weights"],
            leaky_relu=None if data["network"]["leaky_relu"] is None else float(data["network"]["leaky_relu"]),
            precision=data["network"]["precision"],
        ),
        objective=objective_from_text(data["objective"]),
        augment=Augment(
            views=int(augment["views"]),
            crop=int(augment["crop"]),
            rotate_deg=angle_deg(augment["rotate"]),
            translate=float(augment["translate"]),
            scale=_pair(augment["scale"], float),
            perspective=float(augment["perspective"]),
            jitter_px=int(augment["jitter"]),
        ),
        stages=tuple(build_stage(s) for s in data["stages"]),
        plot=Plot(
            model=int(plot["model"]),
            optimize=bool(plot["optimize"]),
            pipeline=plot["pipeline"],
            pause_between_pens=bool(plot["pause_between_pens"]),
            max_draw_length_mm=_optional_length(plot["max_draw_length"]),
            penup_layer=bool(plot["penup_layer"]),
            accel=int(plot["accel"]),
        ),
        output=Output(
            dir=output["dir"],
            snapshot_every=int(output["snapshot_every"]),
            checkpoint_every=int(output["checkpoint_every"]),
            preview_dpi=int(output["preview_dpi"]),
        ),
        test=TestSettings(steps=int(test["steps"]), views=int(test["views"]), crop=int(test["crop"]), weights=test["weights"]),
        source=source,
        base_dir=base_dir,
        vars=tuple(data["vars"].items()),
        locations=locations,
    )
