"""The plot report: per pen strokes, ink, pen-up travel before and after optimisation, lifts,
estimated time and the matching ``axicli`` command; totals; warnings from every emitter.

Times come from AxiDraw's motion model (:mod:`penspec.compiler.motion`) on the real plotted
paths in mm: each layer starts and ends at home, as AxiDraw plots a layer: the page's top-left
corner, or its top-right corner for a portrait page, which AxiDraw turns to plot
(:func:`penspec.compiler.axidraw.home_on_page`); a pen's ``+D`` delay is spent once at the start
of each of its layers. Pen changes are waits for a person and are not in the time.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from penspec.compiler.axidraw import home_on_page, rotated
from penspec.compiler.motion import MotionSettings, PlotTime, plot_time, polyline_length
from penspec.compiler.plan import PenPlan, Plan
from penspec.runtime.look import reink_summary

from . import saxi
from .document import PenDrawing, PlotLayer, points_mm
from .plotflow import PROGRESS_SVG, hms

# AxiDraw layer names carry +H, +S and +D only: these pen settings are lost when the layered SVG
# is plotted whole (Inkscape's AxiDraw extension, axicli -m plot), which uses its own values.
NOT_IN_LAYER_NAMES = ("speed_penup", "pen_pos_up")
AXIDRAW_DEFAULTS = {"speed_penup": 75, "pen_pos_up": 60}
SETTING_WORDS = {"speed_penup": "pen-up speed", "pen_pos_up": "pen-up height"}


def motion_settings(plan: Plan, pen: PenPlan) -> MotionSettings:
    """The AxiDraw settings one pen plots with (pen-rate defaults are pyaxidraw's)."""
    return MotionSettings(
        speed_pendown=pen.speed_pendown,
        speed_penup=pen.speed_penup,
        accel=plan.plot.accel,
        pen_pos_down=pen.pen_pos_down,
        pen_pos_up=pen.pen_pos_up,
    )


@dataclass(frozen=True)
class LayerEstimate:
    layer: PlotLayer
    time: PlotTime
    delay_s: float

    @property
    def total_s(self) -> float:
        return self.time.total_s + self.delay_s


def home_mm(plan: Plan) -> tuple[float, float]:
    """Where the pen starts and ends each layer, in page mm (the top-right corner when turned)."""
    return home_on_page(plan.paper.width_mm, plan.paper.height_mm)


def estimate_layer(plan: Plan, layer: PlotLayer) -> LayerEstimate:
    time = plot_time(points_mm(layer.lines), motion_settings(plan, layer.pen), home_mm(plan))
    return LayerEstimate(layer=layer, time=time, delay_s=(layer.label.delay_ms or 0) / 1000.0)


def axicli_command(plan: Plan, layer: PlotLayer, pen_file: str) -> str:
    """The ``axicli`` twin of plotting one layer with the spec's settings.

    It plots from the pen's own SVG, which has no ``!`` marks: on a ``!`` layer AxiDraw pauses
    at 0 mm before drawing anything, and ``res_plot`` cannot resume a pause at 0 mm. Auto-rotate
    is left on (axicli's default), as plot.py plots.
    """
    pen = layer.pen
    args = [
        "axicli", pen_file, "-m", "layers", "-l", str(layer.number), "-L", str(plan.plot.model),
        "-s", str(pen.speed_pendown), "-S", str(pen.speed_penup), "-a", str(plan.plot.accel),
        "-d", str(pen.pen_pos_down), "-u", str(pen.pen_pos_up), "-o", PROGRESS_SVG,
    ]
    return shlex.join(args)


def build_report(
    plan: Plan,
    raw: Sequence[PenDrawing],
    optimized: Sequence[PenDrawing],
    layers: Sequence[PlotLayer],
    *,
    svg_name: str,
    files: Mapping[str, object],
    provenance: Mapping[str, object],
    metrics: Mapping[str, object] | None,
    warnings: Sequence[str],
) -> dict:
    """The report as plain JSON data (report.json); :func:`report_markdown` renders it."""
    estimates = [estimate_layer(plan, layer) for layer in layers]
    pens = []
    for before, after in zip(raw, optimized, strict=True):
        pen = before.pen
        settings = motion_settings(plan, pen)
        travel_before = plot_time(points_mm(before.lines), settings, home_mm(plan)).travel_mm
        travel_after = plot_time(points_mm(after.lines), settings, home_mm(plan)).travel_mm
        own = [e for e in estimates if e.layer.pen.id == pen.id]
        pens.append(
            {
                "id": pen.id,
                "color": pen.color,
                "width_mm": pen.width_mm,
                "opacity": pen.opacity,
                "strokes": before.strokes,
                "clipped_strokes": before.clipped,
                "paths": sum(len(e.layer.lines) for e in own),
                "ink_mm": _r(sum(e.time.ink_mm for e in own)),
                "penup_mm_before": _r(travel_before),
                "penup_mm_after": _r(travel_after),
                "lifts": sum(e.time.lifts for e in own),
                "time_s": _r(sum(e.total_s for e in own)),
                "max_draw_length_mm": pen.max_draw_length_mm,
                "not_in_layer_names": {name: getattr(pen, name) for name in NOT_IN_LAYER_NAMES},
                "layers": [_layer_entry(plan, e, str(dict(files.get("pens") or {}).get(pen.id, svg_name))) for e in own],
            }
        )
        pen_file = dict(files.get("pens") or {}).get(pen.id)
        if pen_file is not None and own:
            pens[-1]["saxi"] = saxi.pen_entry(plan, pen, str(pen_file), [e.layer for e in own], layers)
    totals = {
        "strokes": sum(p["strokes"] for p in pens),
        "paths": sum(p["paths"] for p in pens),
        "ink_mm": _r(sum(e.time.ink_mm for e in estimates)),
        "penup_mm_before": _r(sum(p["penup_mm_before"] for p in pens)),
        "penup_mm_after": _r(sum(p["penup_mm_after"] for p in pens)),
        "lifts": sum(e.time.lifts for e in estimates),
        "time_s": _r(sum(e.total_s for e in estimates)),
        "layers": len(layers),
        "pauses": sum(1 for layer in layers if layer.label.pause),
    }
    report = {
        "title": plan.title,
        "source": plan.source,
        "provenance": dict(provenance),
        "paper": {"name": plan.paper.name, "width_mm": plan.paper.width_mm, "height_mm": plan.paper.height_mm,
                  "margin_mm": plan.paper.margin_mm, "color": plan.paper.color,
                  "rotated": rotated(plan.paper.width_mm, plan.paper.height_mm), "home_mm": list(home_mm(plan))},
        "plot": {"model": plan.plot.model, "model_name": plan.plot.model_name, "optimize": plan.plot.optimize,
                 "pipeline": plan.plot.pipeline if plan.plot.optimize else "", "accel": plan.plot.accel,
                 "pause_between_pens": plan.plot.pause_between_pens},
        "files": dict(files),
        "pens": pens,
        "totals": totals,
        "warnings": list(warnings) + _split_warnings(plan, layers),
        "saxi": saxi.build_entry(plan, pens),
    }
    if metrics and "objective" in metrics:
        report["objective"] = metrics["objective"]
    if metrics and metrics.get("reinked"):
        report["reinked"] = metrics["reinked"]
    return report


def report_json(report: Mapping[str, object]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def report_markdown(report: Mapping) -> str:
    """A person's view of the report: what to load, how long it takes, what to watch for."""
    t = report["totals"]
    lines = [
        f"# Plot report: {_md(report['title'])}",
        "",
        f"Paper {_md(report['paper']['name'])} ({report['paper']['width_mm']:g} x {report['paper']['height_mm']:g} mm, "
        f"margin {report['paper']['margin_mm']:g} mm) on AxiDraw model {report['plot']['model']} "
        f"({_md(report['plot']['model_name'])}), acceleration {report['plot']['accel']} %.",
        "",
        _placement(report),
        "",
        f"Travel optimisation: `{report['plot']['pipeline']}`" if report["plot"]["optimize"] else "Travel optimisation: off",
        "",
        "| pen | colour | width mm | strokes | paths | ink m | pen-up m before | pen-up m after | lifts | time |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in report["pens"]:
        lines.append(
            f"| {_md(p['id'])} | {p['color']} | {p['width_mm']:g} | {p['strokes']} | {p['paths']} | {p['ink_mm'] / 1000:.2f} "
            f"| {p['penup_mm_before'] / 1000:.2f} | {p['penup_mm_after'] / 1000:.2f} | {p['lifts']} | {hms(p['time_s'])} |"
        )
    lines.append(
        f"| **total** | | | {t['strokes']} | {t['paths']} | {t['ink_mm'] / 1000:.2f} | {t['penup_mm_before'] / 1000:.2f} "
        f"| {t['penup_mm_after'] / 1000:.2f} | {t['lifts']} | {hms(t['time_s'])} |"
    )
    lines += ["", "Pen-up lengths run from home to home over one pen's paths; times follow AxiDraw's motion model "
              "and leave out pen changes.", "", "## Layers, in plotting order", "",
              "Each command plots one layer from its pen's SVG (pens/ has no `!` pauses), as plot.py does.", ""]
    for p in report["pens"]:
        for layer in p["layers"]:
            pause = " (pauses first)" if layer["pause"] else ""
            lines.append(f"- layer {layer['number']} `{_md(layer['label'])}`{pause}: {layer['ink_mm'] / 1000:.2f} m ink, "
                         f"{layer['lifts']} lifts, {hms(layer['time_s'])}")
            lines.append(f"  `{layer['axicli']}`")
    lines += ["", "## Settings the layer names cannot carry", "", _lost_settings_note(report), ""]
    for p in report["pens"]:
        lost = p.get("not_in_layer_names") or {}
        lines.append(f"- {_md(p['id'])}: " + ", ".join(f"{SETTING_WORDS[k]} {v} %" for k, v in lost.items()))
    lines += _saxi_section(report)
    if "objective" in report:
        obj = report["objective"]
        lines += ["", "## Objective", ""]
        if "before" in obj and "after" in obj:
            lines.append(f"before {obj['before']:.6g}, after {obj['after']:.6g}")
    if report.get("reinked"):
        reinked = (
            "These stages' strokes were optimised under another look and are drawn unchanged in the new one: "
            f"{_md(reink_summary(report['reinked']))}. The objective above is measured under the new look. "
            "`penspec build --exact` optimises them again under it, as a clean build does."
        )
        lines += ["", "## Re-inked strokes", "", reinked]
    if report["warnings"]:
        lines += ["", "## Warnings", ""] + [f"- {_md(w)}" for w in report["warnings"]]
    prov = report["provenance"]
    if prov:
        lines += ["", "## Provenance", ""] + [f"- {_md(str(k))}: `{_md(str(v))}`" for k, v in prov.items()]
    return "\n".join(lines) + "\n"


def _layer_entry(plan: Plan, estimate: LayerEstimate, pen_file: str) -> dict:
    layer = estimate.layer
    return {
        "number": layer.number,
        "label": layer.name,
        "pause": layer.label.pause,
        "part": list(layer.label.part) if layer.label.part else None,
        "paths": len(layer.lines),
        "ink_mm": _r(estimate.time.ink_mm),
        "penup_mm": _r(estimate.time.travel_mm),
        "lifts": estimate.time.lifts,
        "draw_s": _r(estimate.time.draw_s),
        "travel_s": _r(estimate.time.travel_s),
        "servo_s": _r(estimate.time.servo_s),
        "delay_s": _r(estimate.delay_s),
        "time_s": _r(estimate.total_s),
        "axicli": axicli_command(plan, layer, pen_file),
    }


def _saxi_section(report: Mapping) -> list[str]:
    """The "Plot with saxi" section of report.md."""
    entry = report.get("saxi")
    pens = [p for p in report["pens"] if p.get("saxi")]
    if not entry or not pens:
        return []
    lines = ["", "## Plot with saxi", ""]
    if not entry["fits"]:
        return lines + [f"{entry['problem']}; plot this piece with plot.py, `penspec plot` or the axicli commands above."]
    first = pens[0]["saxi"]["settings"]
    if "paper" in entry:
        turn = "landscape" if entry["landscape"] else "portrait"
        paper = f"**{entry['paper']}**, {turn} ({entry['width_mm']:g} x {entry['height_mm']:g} mm)"
    else:
        paper = f"width **{entry['width (mm)']:g}** mm, height **{entry['height (mm)']:g}** mm (custom)"
    lines += [
        f"saxi (checked with {entry['version']}) reads none of these settings from the files. Set them once in its page "
        "(it keeps them between files):",
        "",
        f"- paper {paper}. saxi never turns the page: lay it as it reads, its top-left corner at the plotter's home "
        "corner, its width along the long travel.",
        f"- margin {first['margin (mm)']:g} mm. Under \"more\": **fit page off** (on, saxi scales each file's drawing to "
        "the margins by itself, so the pens would not line up), crop to margins off, sort paths off, path-joining radius 0, "
        "point-joining radius 0, minimum path length 0 (penspec has ordered and joined the paths), rotate drawing 0.",
        "",
        "Then pen by pen, in this order: load the pen, drag its file onto saxi's page, type its settings, check the "
        "duration saxi shows and press Plot. saxi does not stop between files: change the pen when a file is done.",
        "",
        "| # | pen | file | up height | down height | down acc. | down max vel. | cornering factor | up acc. | up max vel. "
        "| pen lift duration | pen drop duration | saxi shows about |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for k, p in enumerate(pens, start=1):
        s = p["saxi"]["settings"]
        lines.append(
            f"| {k} | {_md(p['id'])} | `{_md(p['saxi']['file'])}` | {s['up height (%)']} | {s['down height (%)']} "
            f"| {s['down acc. (mm/s2)']:g} | {s['down max vel. (mm/s)']:g} | {s['cornering factor']:g} | {s['up acc. (mm/s2)']:g} "
            f"| {s['up max vel. (mm/s)']:g} | {s['pen lift duration (s)']:g} | {s['pen drop duration (s)']:g} "
            f"| {saxi.saxi_duration(p['time_s'])} |"
        )
    lines += [
        "",
        "Units are saxi's: heights in its % (larger is lower: the spec's pen_pos_up and pen_pos_down moved onto saxi's "
        "scale), accelerations in mm/s^2, velocities in mm/s, cornering factor in mm (0.01 slows saxi at corners as the "
        "report's times assume; saxi's default 0.127 takes them faster), pen lift and drop in s (the spec's servo times).",
    ]
    notes = []
    for p in pens:
        groups = p["saxi"]["groups"]
        if len(groups) > 1:
            listed = ", ".join(f"`{g}`" for g in groups)
            notes.append(
                f"- {_md(p['id'])}: saxi lists the parts of `{_md(p['saxi']['file'])}` under \"layers\" ({listed}), all "
                "selected; select one at a time to check or change the pen between parts, as the layered SVG's pauses do."
            )
        delay = sum(layer.get("delay_s") or 0 for layer in p["layers"])
        if delay:
            notes.append(f"- {_md(p['id'])}: saxi has no +D delay; the time above includes {delay:g} s of it.")
    return lines + ([""] + notes if notes else [])


def _placement(report: Mapping) -> str:
    paper = report["paper"]
    if paper.get("rotated"):
        return ("The page is portrait: AxiDraw turns it a quarter turn to plot it (auto-rotate, on in plot.py, "
                "`penspec plot`, axicli and Inkscape). Lay the page's long side along the plotter's long travel "
                "and the page's top edge along the plotter's home side, its top-right corner at the home corner (where the "
                "pen sits when a plot starts).")
    return "The pen starts and ends at the page's top-left corner, the plotter's home."


def _lost_settings_note(report: Mapping) -> str:
    svg = report["files"].get("layered_svg", "the layered SVG")
    return (
        "AxiDraw layer names carry a pen's pen-down height (+H), pen-down speed (+S) and delay (+D) only. These "
        "settings are honoured only by plot.py, `penspec plot` and the per-layer axicli commands above; "
        f"plotting `{_md(svg)}` whole (Inkscape's AxiDraw extension, `axicli -m plot`) uses that software's own "
        f"pen-up speed and height for every pen (AxiDraw's defaults: {AXIDRAW_DEFAULTS['speed_penup']} % and "
        f"{AXIDRAW_DEFAULTS['pen_pos_up']} %):"
    )


def _split_warnings(plan: Plan, layers: Sequence[PlotLayer]) -> list[str]:
    out = []
    for layer in layers:
        budget = layer.pen.max_draw_length_mm
        if budget is None:
            continue
        for line in points_mm(layer.lines):
            length = polyline_length(line)
            if length > budget:
                out.append(f"layer {layer.number}: a single path of pen {layer.pen.id!r} is {length:.0f} mm long, "
                           f"over its max draw length of {budget:g} mm")
    return out


def _r(value: float) -> float:
    return round(float(value), 3)


def _md(text: str) -> str:
    """Keep user text on one table cell / line."""
    return " ".join(str(text).split()).replace("|", "\\|").replace("`", "'")
