"""`penspec plot BUILD_DIR`: plot a built piece in-process with pyaxidraw.

The same flow as the generated plot.py, driven by what the build dir holds: the plan
(``plan.json``) for the pens and settings, and the layered SVG, whose AxiDraw layer names say
which layers exist and which pen draws each. pyaxidraw is imported only when plotting starts,
with an install hint when it is missing (it is not on PyPI).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from penspec.compiler.plan import Plan
from penspec.spec.atomic import atomic_write
from penspec.spec.errors import Location, MissingResourceError, UsageError

from .labels import LayerLabel, parse
from .plotscript import INSTALL_HINT, PROGRESS_STATE, PROGRESS_SVG, layer_jobs

INKSCAPE = "http://www.inkscape.org/namespaces/inkscape"
SVG = "http://www.w3.org/2000/svg"


@dataclass(frozen=True)
class LayerResult:
    number: int
    pen: str
    resumed: bool = False
    time_s: float | None = None  # pyaxidraw's estimate (preview)
    pendown_m: float | None = None
    total_m: float | None = None
    pen_lifts: int | None = None
    stop_code: int = 0  # pyaxidraw's errors.code when the layer stopped early (pause button, ...)


@dataclass(frozen=True)
class PlotSession:
    layers: tuple[LayerResult, ...] = field(default_factory=tuple)
    stopped: bool = False  # stopped at a pen prompt, or a layer stopped early (resume it)

    @property
    def time_s(self) -> float:
        return sum(r.time_s or 0.0 for r in self.layers)


def load_build(build_dir: Path) -> tuple[Plan, str, str]:
    """The plan, the layered SVG's file name and its text."""
    if not build_dir.is_dir():
        raise UsageError(f"{build_dir}: no such folder; give the folder `penspec build` wrote")
    plan_path = build_dir / "plan.json"
    if not plan_path.is_file():
        raise UsageError(f"{plan_path}: no plan here, so {build_dir} is not a penspec build; run `penspec build` first")
    try:
        plan = Plan.from_json(plan_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UsageError(f"not a penspec plan: {exc.msg}", Location(str(plan_path), exc.lineno, exc.colno)) from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UsageError(f"not a penspec plan: {type(exc).__name__}: {exc}", Location(str(plan_path))) from exc
    svg_name = f"{Path(plan.source).stem}.svg"
    report_path = build_dir / "report.json"
    if report_path.is_file():
        try:
            svg_name = json.loads(report_path.read_text(encoding="utf-8"))["files"]["layered_svg"]
        except (ValueError, KeyError, TypeError):
            pass  # an unreadable report leaves the name the plan implies
    svg_path = build_dir / svg_name
    if not svg_path.is_file():
        raise MissingResourceError(f"{svg_path}: the layered SVG is missing; rebuild the piece")
    return plan, svg_name, svg_path.read_text(encoding="utf-8")


def layer_labels(svg_text: str, source: str = "<svg>") -> list[LayerLabel]:
    """The parsed names of the SVG's top-level Inkscape layers, in document order."""
    try:
        root = ET.fromstring(svg_text)
    except ET.ParseError as exc:
        line, column = exc.position
        raise UsageError(f"not valid XML: {exc}", Location(source, line, column + 1)) from exc
    labels = []
    for group in root.findall(f"{{{SVG}}}g"):
        if group.get(f"{{{INKSCAPE}}}groupmode") == "layer":
            labels.append(parse(group.get(f"{{{INKSCAPE}}}label", "")))
    return labels


def plottable_svg(text: str) -> str:
    """The SVG without AxiDraw's ``!`` pause marks: this flow asks for every pen itself."""
    return re.sub(r'(inkscape:label=")!', r"\1", text)


def import_axidraw() -> Any:
    try:
        from pyaxidraw import axidraw
    except ImportError as exc:
        raise MissingResourceError(INSTALL_HINT) from exc
    return axidraw


def plot_build(
    build_dir: str | Path,
    *,
    layer: int | None = None,
    pen: str | None = None,
    preview: bool = False,
    resume: bool = False,
    yes: bool = False,
    ask: Callable[[str], object] = input,
    echo: Callable[[str], None] = print,
    axidraw: Any = None,
) -> PlotSession:
    """Plot the layers of a build in order (or one layer / one pen), asking for each pen."""
    build_dir = Path(build_dir)
    plan, svg_name, svg_text = load_build(build_dir)
    jobs = _select(layer_jobs(plan, layer_labels(svg_text, str(build_dir / svg_name))), layer, pen)
    axidraw = axidraw or import_axidraw()
    plottable = plottable_svg(svg_text)
    results: list[LayerResult] = []
    if resume:
        number, job = _saved_progress(build_dir, plan, svg_text)
        echo(f"Resuming layer {number} (pen {job['pen']})")
        ad = axidraw.AxiDraw()
        ad.plot_setup((build_dir / PROGRESS_SVG).read_text(encoding="utf-8"))
        _configure(ad, plan, job, preview)
        ad.options.mode = "res_plot"
        results.append(_finish(ad, ad.plot_run(True), job, preview, build_dir, echo, resumed=True))
        if results[-1].stop_code:
            return PlotSession(layers=tuple(results), stopped=True)
        jobs = [j for j in jobs if j["number"] > number]
    for job in jobs:
        if not _ask_for_pen(job, yes or preview, ask, echo):
            return PlotSession(layers=tuple(results), stopped=True)
        ad = axidraw.AxiDraw()
        ad.plot_setup(plottable)
        _configure(ad, plan, job, preview)
        ad.options.mode = "layers"
        ad.options.layer = job["number"]
        results.append(_finish(ad, ad.plot_run(True), job, preview, build_dir, echo))
        if results[-1].stop_code:
            return PlotSession(layers=tuple(results), stopped=True)
    session = PlotSession(layers=tuple(results))
    if preview:
        echo(f"Estimated total: {_hms(session.time_s)} over {len(results)} layers")
    return session


def _select(jobs: list[dict], layer: int | None, pen: str | None) -> list[dict]:
    chosen = jobs
    if layer is not None:
        chosen = [j for j in chosen if j["number"] == layer]
        if not chosen:
            raise UsageError(f"no layer {layer}; this piece has layers {', '.join(str(j['number']) for j in jobs)}")
    if pen is not None:
        chosen = [j for j in chosen if j["pen"] == pen]
        if not chosen:
            raise UsageError(f"no layer plots pen {pen!r}; pens: {', '.join(sorted({j['pen'] for j in jobs}))}")
    return chosen


def _saved_progress(build_dir: Path, plan: Plan, svg_text: str) -> tuple[int, dict]:
    state_path, svg_path = build_dir / PROGRESS_STATE, build_dir / PROGRESS_SVG
    if not state_path.is_file() or not svg_path.is_file():
        raise UsageError(f"{build_dir}: nothing to resume, no plot progress was saved here")
    try:
        number = int(json.loads(state_path.read_text(encoding="utf-8"))["layer"])
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{state_path}: unreadable plot progress ({exc})") from exc
    for job in layer_jobs(plan, layer_labels(svg_text)):
        if job["number"] == number:
            return number, job
    raise UsageError(f"{state_path}: the saved progress names layer {number}, which this piece does not have")


def _configure(ad: Any, plan: Plan, job: dict, preview: bool) -> None:
    ad.options.model = plan.plot.model
    ad.options.accel = plan.plot.accel
    for name, value in job["options"].items():
        setattr(ad.options, name, value)
    ad.options.preview = preview
    ad.options.report_time = True


def _ask_for_pen(job: dict, skip: bool, ask: Callable[[str], object], echo: Callable[[str], None]) -> bool:
    part = f" (part {job['part'][0]} of {job['part'][1]})" if job["part"] else ""
    what = f"Layer {job['number']}: pen {job['pen']}{part}, {job['color']}, {job['width_mm']:g} mm"
    if skip:
        echo(what)
        return True
    action = "check or refresh" if job["part"] and job["part"][0] > 1 else "load"
    try:
        ask(f"{what}: {action} the pen, then press Enter (Ctrl-C stops) ")
    except (EOFError, KeyboardInterrupt):
        return False
    return True


def _finish(ad: Any, out_svg: str | None, job: dict, preview: bool, build_dir: Path, echo: Callable[[str], None], *, resumed: bool = False) -> LayerResult:
    if preview:
        echo(f"  estimate: {_hms(ad.time_estimate)}, {ad.distance_pendown:.2f} m pen-down, "
             f"{ad.distance_total:.2f} m in all, {ad.pen_lifts} pen lifts")
        return LayerResult(job["number"], job["pen"], resumed, float(ad.time_estimate), float(ad.distance_pendown),
                           float(ad.distance_total), int(ad.pen_lifts))
    if out_svg:
        atomic_write(build_dir / PROGRESS_SVG, out_svg)
        atomic_write(build_dir / PROGRESS_STATE, json.dumps({"layer": job["number"], "pen": job["pen"]}) + "\n")
    code = getattr(getattr(ad, "errors", None), "code", 0) or 0
    if code:
        echo(f"Layer {job['number']} stopped early (pyaxidraw code {code}); `penspec plot --resume` finishes it")
    return LayerResult(job["number"], job["pen"], resumed, stop_code=int(code))


def _hms(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
