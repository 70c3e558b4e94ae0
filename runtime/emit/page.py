"""report.html: the build's own page, one self-contained file to look at before reading.

It shows, from the same plotted layers and report data as the other emitters:

- the drawing as inline SVG in paper mm on the paper's colour, one ``<g class="pen">`` per pen
  (``id="pen-<n>"``, n the pen's 1-based spec position) at its nib width, colour and opacity,
  each with a show/hide toggle, and the pen-up travel in plotting order as a faint dashed path
  (``id="travel"``, hidden until toggled);
- per pen: swatch, nib, strokes, ink, pen-up travel before and after optimisation, lifts, time,
  the AxiDraw layer names and how to plot them;
- the objective over the steps of every optimising stage (one series per stage) and each term's
  score, from the stages' recorded histories, with the held-out values before and after;
- the snapshots as a timeline with a slider (scaled down, WebP, embedded), ending on the preview;
- the spec as written, the plan summary, warnings and provenance.

The page kit (:mod:`penspec.runtime.pagekit`) supplies the templates, escaping and the script.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

from penspec.compiler.plan import NetStagePlan, Plan
from penspec.runtime import pagekit as kit
from penspec.runtime.pagekit import Raw, esc, num

from .document import PX_PER_MM, PlotLayer, points_mm
from .plotflow import hms
from .report import _placement, home_mm

SNAPSHOT_SIDE = 360  # px, long side of an embedded snapshot
PREVIEW_SIDE = 720  # px, long side of the embedded preview (the timeline's last frame)


def pen_dom_id(index: int) -> str:
    """The DOM id of a pen's layer group: its 1-based spec position (pen ids may hold anything)."""
    return f"pen-{index + 1}"


# ------------------------------------------------------------------------------------ drawing


def _path_data(points_mm: Sequence[tuple[float, float]]) -> str:
    """``M x y l dx dy ...`` in hundredths of a mm, differences taken on rounded values (no drift)."""
    q = [(round(x * 100), round(y * 100)) for x, y in points_mm]
    if not q:
        return ""
    out = [f"M{q[0][0] / 100:g} {q[0][1] / 100:g}"]
    steps = []
    for (ax, ay), (bx, by) in zip(q, q[1:]):
        if (ax, ay) != (bx, by):
            steps.append(f"{(bx - ax) / 100:g} {(by - ay) / 100:g}")
    out.append("l" + " ".join(steps) if steps else "l0 0")
    return "".join(out)


Point = tuple[float, float]


def travel_moves(layers: Sequence[PlotLayer], home: Point = (0.0, 0.0)) -> list[tuple[Point, Point]]:
    """The pen-up moves in plotting order, in page mm: each layer from home to its first path,
    between consecutive paths, and back home, as AxiDraw plots a layer (the report's motion
    model walks the same moves)."""
    moves = []
    for layer in layers:
        here = home
        for pts in points_mm(layer.lines):
            if not pts:
                continue
            if pts[0] != here:
                moves.append((here, pts[0]))
            here = pts[-1]
        if here != home:
            moves.append((here, home))
    return moves


def drawing_svg(plan: Plan, layers: Sequence[PlotLayer]) -> str:
    """The sheet: paper, margin outline, one group per pen (its layers inside), the travel."""
    w, h = plan.paper.width_mm, plan.paper.height_mm
    m = plan.paper.margin_mm
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="drawing" width="{num(w * PX_PER_MM, 0)}" height="{num(h * PX_PER_MM, 0)}" '
        f'viewBox="0 0 {w:g} {h:g}" data-width-mm="{w:g}" data-height-mm="{h:g}">',
        f'<rect id="paper" x="0" y="0" width="{w:g}" height="{h:g}" fill="{kit.hex_color(plan.paper.rgb)}"/>',
    ]
    if m > 0:
        parts.append(f'<rect x="{m:g}" y="{m:g}" width="{w - 2 * m:g}" height="{h - 2 * m:g}" fill="none" stroke="#0002" '
                     f'stroke-width="0.2" stroke-dasharray="1 1"/>')
    by_pen: dict[str, list[PlotLayer]] = {}
    for layer in layers:
        by_pen.setdefault(layer.pen.id, []).append(layer)
    for pen in sorted(plan.pens, key=lambda p: p.index):
        opacity = f' stroke-opacity="{num(pen.opacity, 3)}"' if pen.opacity < 1 else ""
        parts.append(
            f'<g class="pen" id="{pen_dom_id(pen.index)}" data-pen="{esc(pen.id)}" stroke="{kit.hex_color(pen.rgb)}" '
            f'stroke-width="{pen.width_mm:g}"{opacity} fill="none" stroke-linecap="round" stroke-linejoin="round">'
        )
        for layer in by_pen.get(pen.id, []):
            parts.append(f'<g class="layer" data-layer="{layer.number}" data-label="{esc(layer.name)}">')
            parts += [f'<path d="{_path_data(line)}"/>' for line in points_mm(layer.lines) if line]
            parts.append("</g>")
        parts.append("</g>")
    moves = travel_moves(layers, home_mm(plan))
    d = "".join(f"M{a[0]:.2f} {a[1]:.2f}L{b[0]:.2f} {b[1]:.2f}" for a, b in moves)
    parts.append(f'<g id="travel" class="off" data-moves="{len(moves)}" stroke="#d0342c" stroke-opacity="0.55" stroke-width="0.25" '
                 f'stroke-dasharray="1.2 0.8" fill="none">' + (f'<path d="{d}"/>' if d else "") + "</g>")
    parts.append("</svg>")
    return "\n".join(parts)


# ------------------------------------------------------------------------------------ sections


def _m(mm: float) -> str:
    return f"{mm / 1000:.2f}"


def pens_section(plan: Plan, report: Mapping, build_dir_hint: str = ".") -> str:
    rows = []
    by_id = {p.id: p for p in plan.pens}
    for p in report["pens"]:
        pen = by_id[p["id"]]
        layer_names = Raw("<br>".join(f"<code>{esc(layer['label'])}</code>" for layer in p["layers"]) or "none")
        how = [f"<code>{esc(shlex.join(['penspec', 'plot', build_dir_hint, '--pen', pen.id]))}</code> (in the build folder), or per layer:"]
        how += [f"<code>{esc(layer['axicli'])}</code>" for layer in p["layers"]]
        rows.append([
            Raw(kit.swatch(pen.rgb, pen.opacity) + esc(p["id"])),
            Raw(f"<code>{esc(p['color'])}</code>"),
            f"{p['width_mm']:g} mm" + (f", opacity {p['opacity']:g}" if p["opacity"] < 1 else ""),
            p["strokes"], p["paths"], _m(p["ink_mm"]), _m(p["penup_mm_before"]), _m(p["penup_mm_after"]), p["lifts"],
            hms(p["time_s"]), layer_names, Raw("<br>".join(how) if p["layers"] else "nothing to plot"),
        ])
    t = report["totals"]
    rows.append([Raw("<b>total</b>"), "", "", t["strokes"], t["paths"], _m(t["ink_mm"]), _m(t["penup_mm_before"]),
                 _m(t["penup_mm_after"]), t["lifts"], hms(t["time_s"]), f"{t['layers']} layers", ""])
    headers = ["pen", "colour", "nib", "strokes", "paths", "ink m", "pen-up m before", "pen-up m after", "lifts", "time",
               "AxiDraw layer", "how to plot"]
    plot = report["plot"]
    travel = f"travel optimised with <code>{esc(plot['pipeline'])}</code>" if plot["optimize"] else "travel not optimised"
    return (
        "<h2>Pens</h2>\n"
        + kit.table(headers, rows, numeric=(3, 4, 5, 6, 7, 8, 9), attrs='id="pens"')
        + f'\n<p class="sub">AxiDraw model {esc(plot["model"])} ({esc(plot["model_name"])}), acceleration {esc(plot["accel"])} %, '
        f"{travel}. Pen-up lengths run home to home over one pen's paths; times follow AxiDraw's motion model and leave out "
        f"pen changes. {esc(_placement(report).replace('`', ''))}</p>"
    )


def drawing_section(plan: Plan, layers: Sequence[PlotLayer]) -> str:
    toggles = [kit.toggle(pen_dom_id(p.index), kit.swatch(p.rgb, p.opacity) + esc(p.id)) for p in sorted(plan.pens, key=lambda p: p.index)]
    toggles.append(kit.toggle("travel", "pen-up travel, in plotting order", checked=False))
    paper = plan.paper
    return (
        "<h2>Drawing</h2>\n"
        f'<div class="controls" id="layer-toggles">{"".join(toggles)}</div>\n'
        f'<div class="sheet">{drawing_svg(plan, layers)}</div>\n'
        f'<p class="sub">{esc(paper.name)}, {paper.width_mm:g} x {paper.height_mm:g} mm, margin {paper.margin_mm:g} mm, '
        f"paper <code>{esc(paper.color)}</code>; pens at their nib widths and opacities, as plotted.</p>"
    )


def _history_series(plan: Plan, history: Sequence[Mapping] | None, column: int) -> tuple[list[kit.Series], list[tuple[float, str]]]:
    """One series per optimising stage; x runs on over the stages in plan order."""
    series, marks = [], []
    records = {h["stage"]: h for h in history or () if h}
    offset = 0
    for stage in plan.stages:
        if not isinstance(stage, NetStagePlan):
            continue
        record = records.get(stage.name)
        if offset:
            marks.append((offset, stage.name))
        points: tuple = ()
        if record:
            first = int(record.get("first_step", 0))
            points = tuple((offset + first + i, float(step[column])) for i, step in enumerate(record["steps"]) if len(step) > column)
        series.append(kit.Series(stage.name, points))
        offset += stage.steps
    return series, marks


def objective_section(plan: Plan, metrics: Mapping | None, history: Sequence[Mapping] | None) -> str:
    out = ["<h2>Objective</h2>", f"<p><code>{esc(plan.objective.expression)}</code>, maximised; per step on that step's "
           f"{esc(plan.augment.crop)} px training views.</p>"]
    series, marks = _history_series(plan, history, 0)
    if not series:
        out.append('<p class="sub">No stage optimises.</p>')
    else:
        out.append('<div class="chart">' + kit.line_chart(series, chart_id="objective-chart", title="objective", x_marks=marks) + "</div>")
        out.append(kit.legend(series))
        missing = [s.name for s in series if not s.points]
        if missing:
            out.append(f'<p class="sub">No per-step history stored for {esc(", ".join(missing))} (made by an older penspec).</p>')
        if len(plan.objective.terms) > 1:
            charts = []
            for i, term in enumerate(plan.objective.terms, start=1):
                term_series, term_marks = _history_series(plan, history, i)
                title = f"{term.text} (weight {term.weight:g})"
                charts.append('<div class="chart">' + kit.line_chart(term_series, chart_id=f"term-chart-{i}", title=title,
                                                                      width=420, height=170, x_marks=term_marks) + "</div>")
            out.append("<h3>Each term's score</h3>\n" + '<div class="grid">' + "\n".join(charts) + "</div>")
    objective = (metrics or {}).get("objective")
    if objective:
        rows = [["objective", "", f"{objective['before']:.6g}", f"{objective['after']:.6g}"]]
        rows += [[t["term"], f"{t['weight']:g}", f"{t['before']:.6g}", f"{t['after']:.6g}"] for t in objective.get("terms", [])]
        out.append(f"<h3>On {esc(objective.get('held_out_views', ''))} held-out views of the whole canvas</h3>")
        out.append(kit.table(["", "weight", "before", "after"], rows, numeric=(1, 2, 3), attrs='id="held-out"'))
    return "\n".join(out)


def snapshot_frames(plan: Plan, snapshots: Sequence[tuple[str, int, Path]], preview: Path | None) -> list[kit.Frame]:
    """The snapshots ``(stage name, step, PNG)``, in plan and step order, then the preview,
    scaled down and re-encoded."""
    frames = []
    stages = {s.name: s for s in plan.stages if isinstance(s, NetStagePlan)}
    order = {name: i for i, name in enumerate(stages)}
    for name, step, path in sorted((s for s in snapshots if s[0] in stages), key=lambda s: (order[s[0]], s[1])):
        data, mime, size = kit.compact_image(Path(path).read_bytes(), max_side=SNAPSHOT_SIDE)
        frames.append(kit.Frame(f"{name}, step {step} of {stages[name].steps}", data, mime, size))
    if preview is not None and preview.is_file():
        data, mime, size = kit.compact_image(preview.read_bytes(), max_side=PREVIEW_SIDE)
        frames.append(kit.Frame("the plotted layers (preview.png)", data, mime, size))
    return frames


def plan_section(plan: Plan, report: Mapping) -> str:
    c = plan.canvas
    a = plan.augment
    items = [
        ("canvas", f"{c.width_px} x {c.height_px} px, {c.mm_per_px:.4g} mm per px"),
        ("strokes", f"{plan.strokes.count} at the first stage, {plan.strokes.segments[0]}-{plan.strokes.segments[1]} segments"),
        ("objective", Raw(f"<code>{esc(plan.objective.expression)}</code>")),
        ("networks", ", ".join(f"{n.name} ({n.weights})" for n in plan.objective.nets) or "none"),
        ("augment", f"crop {a.crop} px, rotate {a.rotate_deg:g} deg, translate {a.translate:g}"),
        ("plot time", f"{hms(report['totals']['time_s'])} for the plotted layers; the compiler's estimate before "
                      f"optimising was {hms(plan.estimates.time_s)}"),
    ]
    rows = []
    for s in plan.stages:
        detail = s.describe()
        rows.append([s.name, s.kind, f"{s.size[0]} x {s.size[1]}", s.strokes, detail, Raw(f"<code>{esc(s.fingerprint[:12])}</code>")])
    return ("<h2>Plan</h2>\n" + kit.definition_table(items) + "\n"
            + kit.table(["stage", "kind", "px", "strokes", "", "fingerprint"], rows, numeric=(3,), attrs='id="stages"'))


def build_page(
    plan: Plan,
    layers: Sequence[PlotLayer],
    report: Mapping,
    *,
    metrics: Mapping | None = None,
    history: Sequence[Mapping] | None = None,
    spec_text: str | None = None,
    frames: Sequence[kit.Frame] = (),
) -> str:
    """The page's HTML (deterministic: same inputs, same bytes)."""
    body = [f"<h1>{esc(plan.title)}</h1>",
            f'<p class="sub">{esc(report["provenance"].get("command", ""))}</p>',
            drawing_section(plan, layers),
            pens_section(plan, report),
            objective_section(plan, metrics, history),
            "<h2>Snapshots</h2>\n" + kit.timeline(frames)]
    if report.get("warnings"):
        body.append("<h2>Warnings</h2>\n<ul>" + "".join(f'<li class="warn">{esc(w)}</li>' for w in report["warnings"]) + "</ul>")
    body.append(plan_section(plan, report))
    body.append("<h2>Spec</h2>\n" + (f'<pre id="spec">{esc(spec_text)}</pre>' if spec_text is not None else
                                      '<p class="sub">The spec text was not given to the emitter.</p>'))
    body.append("<h2>Provenance</h2>\n" + kit.definition_table((str(k), Raw(f"<code>{esc(v)}</code>"))
                                                                for k, v in report["provenance"].items()))
    return kit.page(plan.title, "\n".join(body))
