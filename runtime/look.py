"""The look of a build: what the renderer saw of the pens and paper, as recorded beside stages.

The drawing (strokes, objective, stages) and the look (each pen's colour, nib width in px and
opacity, the paper colour) are separate inputs of a stage: a change to the look alone reuses
the stored strokes and re-inks them. These helpers record a look, say in words what changed
between two, and sum up the re-inked stages for the lock, the report and the SVG metadata.
"""

from __future__ import annotations

from penspec.compiler.plan import Plan


def plan_look(plan: Plan) -> dict:
    """The look of ``plan`` as recorded beside a stage: its hash, and per pen the values a person
    recognises (colour, width, opacity) beside the px values the renderer used."""
    return {
        "sha256": plan.look_sha256,
        "pens": [
            {"id": p.id, "color": p.color, "width_mm": p.width_mm, "width_px": p.width_px, "opacity": p.opacity}
            for p in plan.pens
        ],
        "paper": plan.paper.color,
    }


def look_changes(old: dict, new: dict) -> list[str]:
    """What differs between two recorded looks, in words: ``pen blue colour #1f4e9c -> #2255aa``."""
    out = []
    old_pens = {p["id"]: p for p in old.get("pens", [])}
    for pen in new.get("pens", []):
        was = old_pens.get(pen["id"])
        if was is None:
            continue
        for key, name in (("color", "colour"), ("width_mm", "width mm"), ("width_px", "width px"), ("opacity", "opacity")):
            if was.get(key) != pen.get(key):
                out.append(f"pen {pen['id']} {name} {_short(was.get(key))} -> {_short(pen.get(key))}")
    if old.get("paper") != new.get("paper"):
        out.append(f"paper colour {old.get('paper')} -> {new.get('paper')}")
    if not out and old.get("sha256") != new.get("sha256"):
        out.append("look changed")
    return out


def reink_summary(reinked: list[dict]) -> str:
    """One line for the re-inked stages (from the build), stages with the same changes grouped:
    ``0-optimize, 1-tile: pen red colour #cc2222 -> #2255cc``."""
    groups: dict[str, list[str]] = {}
    for entry in reinked:
        groups.setdefault("; ".join(entry["changes"]), []).append(entry["stage"])
    return " | ".join(f"{', '.join(stages)}: {changes}" for changes, stages in groups.items())


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def reinked_stages(plan: Plan, outcomes) -> list[dict]:
    """Reused stages optimised under another look: which, the look they saw, what changed."""
    now = plan_look(plan)
    return [
        {"stage": o.name, "optimised_under": o.optimised_look, "changes": look_changes(o.optimised_look, now)}
        for o in outcomes
        if o.reused and o.optimised_look is not None
    ]
