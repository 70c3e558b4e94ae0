"""saxi: what to choose and type in saxi's web page so that its plot is the spec's.

saxi (the web plotting UI for AxiDraw, npm package ``saxi``; checked with 0.15.0 by
tests/runtime/emit/test_emit_saxi.py, which drives saxi's own page in headless Chromium) takes none of
penspec's settings from a file. What it does with an SVG, measured in its page:

- It reads no page size: ``width``/``height`` in cm, mm, in or px and the ``viewBox`` leave its
  paper as its paper list says (ArchA landscape on a first visit, afterwards the last choice).
- "fit page" (on by default) scales the extent of every shape in the file, plotted layer or not,
  to fill the paper inside its margin. Each pen's file gets its own scale: the pens stop lining
  up. With fit page off it plots the file's own coordinates through its width/height/viewBox, so
  penspec's files land at true size and position on the paper chosen.
- It plots every shape it finds, ``stroke="none"`` and ``display:none`` included (only
  ``<defs>`` are skipped): no mark in a file can pin fit page without being drawn.
- A file with more than one group switches on "layer by group": the groups are listed by their
  ``id``, sorted as text, all selected; AxiDraw's layer names (``!``, +H, +S, +D) mean nothing
  to it. penspec's group ids therefore name the layer's number and pen.
- The page lies as chosen: its top-left corner at the plotter's home, its width along the long
  travel. saxi never turns a portrait page as AxiDraw's auto-rotate does.
- Its own planner and units: velocities in mm/s, accelerations in mm/s^2, a cornering factor in
  mm, fixed pen lift and drop times, pen heights on a servo scale that runs the other way from
  AxiDraw's (a larger number is a lower pen).

The numbers below put the spec's AxiDraw settings into saxi's units; with them saxi's duration
for each pen file comes within a few per cent of the report's time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from penspec.compiler.motion import MotionSettings, accel_mm_s2, servo_time, speed_mm_s
from penspec.compiler.plan import PenPlan, Plan

from .document import PlotLayer
from .labels import group_id

SAXI_VERSION = "0.15.0"

# saxi's paper list (its paper-size.ts), portrait width x height in mm, rounded as saxi rounds.
SAXI_PAPERS: dict[str, tuple[float, float]] = {
    "USLetter": (215.9, 279.4),
    "USLegal": (215.9, 355.6),
    "ArchA": (228.6, 304.8),
    "A3": (297.0, 420.0),
    "A4": (210.0, 297.0),
    "A5": (148.0, 210.0),
    "A6": (105.0, 148.0),
    "6x8": (152.4, 203.2),
    "5x7": (127.0, 177.8),
    "11x14": (279.4, 355.6),
}
# Pen servo positions (units of 1/12 MHz): AxiDraw's 0..100 % span 9855..27831 (axidraw_conf.py,
# higher is higher); saxi's 0..100 % span 28000..7500 (its planning.ts penPctToPos, higher is lower).
AXIDRAW_SERVO = (9855, 27831)
SAXI_SERVO = (28000, 7500)
# saxi slows at a corner to sqrt(accel * factor * c / (1 - c)), c = cos(turn / 2). With 0.01 mm its
# durations match penspec's motion model (which stops at turns over 30 degrees) on the gallery's
# pen files within 0.5 %; saxi's default 0.127 mm takes corners faster (gallery/hello: 5.7 % under
# the report's time).
CORNERING_FACTOR_MM = 0.01
SIZE_TOLERANCE_MM = 0.05


def saxi_height(axidraw_pct: float) -> int:
    """An AxiDraw pen height (0..100 %, higher is higher) on saxi's scale (higher is lower)."""
    low, high = AXIDRAW_SERVO
    position = low + (high - low) * axidraw_pct / 100.0
    zero, full = SAXI_SERVO
    return int(round((zero - position) / (zero - full) * 100.0))


def saxi_duration(seconds: float) -> str:
    """A time as saxi prints it: ``1m33s``, ``2h0m5s``, ``45s`` (whole seconds, rounded down)."""
    total = int(seconds)
    parts = [(total // 3600, "h"), (total % 3600 // 60, "m"), (total % 60, "s")]
    while len(parts) > 1 and parts[0][0] == 0:
        parts = parts[1:]
    return "".join(f"{value}{unit}" for value, unit in parts)


def paper_choice(plan: Plan) -> dict[str, object]:
    """saxi's paper for this page: a name from its list and the orientation, or custom mm."""
    width, height = plan.paper.width_mm, plan.paper.height_mm
    landscape = width > height
    for name, (w, h) in SAXI_PAPERS.items():
        if abs(min(width, height) - w) <= SIZE_TOLERANCE_MM and abs(max(width, height) - h) <= SIZE_TOLERANCE_MM:
            return {"paper": name, "landscape": landscape}
    return {"width (mm)": round(width, 2), "height (mm)": round(height, 2)}


def fits_unturned(plan: Plan) -> bool:
    """True when the page lies inside the plotter's travel as saxi places it (never turned)."""
    travel_x, travel_y = plan.plot.travel_mm
    return plan.paper.width_mm <= travel_x + SIZE_TOLERANCE_MM and plan.paper.height_mm <= travel_y + SIZE_TOLERANCE_MM


def build_settings(plan: Plan) -> dict[str, object]:
    """What every pen's run shares, keyed by the words on saxi's page."""
    return {
        **paper_choice(plan),
        "margin (mm)": plan.paper.margin_mm,
        "rotate drawing (degrees)": 0,
        "fit page": False,
        "crop to margins": False,
        "sort paths": False,
        "point-joining radius (mm)": 0,
        "path-joining radius (mm)": 0,
        "minimum path length": 0,
    }


def pen_settings(plan: Plan, pen: PenPlan) -> dict[str, object]:
    """One pen's spec settings in saxi's units, keyed by the words on saxi's page."""
    motion = MotionSettings(speed_pendown=pen.speed_pendown, speed_penup=pen.speed_penup, accel=plan.plot.accel,
                            pen_pos_down=pen.pen_pos_down, pen_pos_up=pen.pen_pos_up)
    return {
        "up height (%)": saxi_height(pen.pen_pos_up),
        "down height (%)": saxi_height(pen.pen_pos_down),
        "down acc. (mm/s2)": round(accel_mm_s2(plan.plot.accel, True), 1),
        "down max vel. (mm/s)": round(speed_mm_s(pen.speed_pendown), 1),
        "cornering factor": CORNERING_FACTOR_MM,
        "up acc. (mm/s2)": round(accel_mm_s2(plan.plot.accel, False), 1),
        "up max vel. (mm/s)": round(speed_mm_s(pen.speed_penup), 1),
        "pen lift duration (s)": round(servo_time(motion, lowering=False), 2),
        "pen drop duration (s)": round(servo_time(motion, lowering=True), 2),
    }


def layer_digits(layers: Sequence[PlotLayer]) -> int:
    """Digits of the highest layer number: group ids are padded to it so saxi lists them in order."""
    return len(str(max((layer.number for layer in layers), default=1)))


def pen_entry(plan: Plan, pen: PenPlan, pen_file: str, layers: Sequence[PlotLayer], all_layers: Sequence[PlotLayer]) -> dict:
    """report.json's ``saxi`` entry of one pen: its file, its groups, everything to type."""
    digits = layer_digits(all_layers)
    return {
        "file": pen_file,
        "groups": [group_id(layer.label, digits) for layer in layers],
        "settings": {**build_settings(plan), **pen_settings(plan, pen)},
    }


def build_entry(plan: Plan, pens: Sequence[Mapping]) -> dict:
    """report.json's top-level ``saxi`` entry: version checked, paper, whether saxi can plot it."""
    travel_x, travel_y = plan.plot.travel_mm
    entry: dict[str, object] = {
        "version": SAXI_VERSION,
        **paper_choice(plan),
        "width_mm": plan.paper.width_mm,
        "height_mm": plan.paper.height_mm,
        "fits": fits_unturned(plan),
        "order": [p["id"] for p in pens if p.get("saxi")],
    }
    if not entry["fits"]:
        entry["problem"] = (
            f"saxi does not turn the page as AxiDraw does: a {plan.paper.width_mm:g} x {plan.paper.height_mm:g} mm page "
            f"does not fit the {travel_x:g} x {travel_y:g} mm travel of AxiDraw model {plan.plot.model} as it lies"
        )
    return entry
