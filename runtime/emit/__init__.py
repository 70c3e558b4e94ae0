"""Emitters: the plotter-ready files of a build, all from one plan and one scene.

``emit_all`` turns the optimised scene into vpype layers on the page once (flattened, clipped
to the canvas, travel-optimised, split by max draw length, labelled for AxiDraw) and hands the
same layers to every target: the layered SVG, one SVG per pen, the preview, plot.py, the
report and the build's page (report.html). Each target says what it cannot express; those notes end up in the report's warnings.
Only the preview needs torch (the renderer), and it imports it when it runs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from penspec.spec.atomic import atomic_write

if TYPE_CHECKING:  # the emitters import vpype; the CLI shell imports this package at start-up
    from collections.abc import Sequence

    from penspec.compiler.plan import Plan
    from penspec.runtime.scene import Scene

    from .document import PenDrawing

PENS_DIR = "pens"
PREVIEW = "preview.png"
PLOT_SCRIPT = "plot.py"
PAGE = "report.html"  # the build's page (penspec.runtime.emit.page)

REPORT_FILES = ("report.json", "report.md", PAGE)

__all__ = ["PAGE", "emit_all", "output_names", "pen_file_name"]


def pen_file_name(index: int, pen_id: str) -> str:
    """``<n>-<pen id>.svg`` with n the pen's 1-based spec position; odd characters become ``_``."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", pen_id).lstrip(".") or "pen"
    return f"{index + 1}-{safe}.svg"


def output_names(plan: Plan, stem: str, *, preview: bool = True) -> list[str]:
    """Every file :func:`emit_all` may write, relative to the build folder (a pen that draws
    nothing gets no file)."""
    names = [f"{stem}.svg", *(f"{PENS_DIR}/{pen_file_name(pen.index, pen.id)}" for pen in plan.pens), PLOT_SCRIPT]
    if preview:
        names.append(PREVIEW)
    return names + list(REPORT_FILES)


def emit_all(
    plan: Plan,
    scene: Scene,
    out_dir: Path,
    *,
    stem: str,
    provenance: dict,
    metrics: dict | None = None,
    preview: bool = True,
    history: list[dict | None] | None = None,
    spec_text: str | None = None,
    snapshots: Sequence[tuple[str, int, Path]] = (),
) -> list[Path]:
    """Write every plotter output of a build into ``out_dir``; return the paths written.

    ``provenance`` (spec_sha256, seed, penspec version, the rebuilding command, plan hash) goes
    into the SVG metadata and the report; ``metrics`` may carry the optimiser's objective
    before/after. ``preview=False`` skips preview.png (and with it torch). ``history`` (the
    stages' per-step scores), ``spec_text`` (the spec as written) and ``snapshots`` (``(stage
    name, step, PNG path)`` of the snapshots that exist) go into report.html.
    """
    from .document import optimize_travel, pen_drawings, plot_layers
    from .page import build_page, snapshot_frames
    from .plotscript import plot_script
    from .report import build_report, report_json, report_markdown
    from .svg import layered_svg, pen_svgs

    out_dir = Path(out_dir)
    raw = pen_drawings(plan, scene)
    optimized = optimize_travel(raw, plan.plot.pipeline) if plan.plot.optimize and plan.plot.pipeline.strip() else raw
    layers = plot_layers(plan, optimized)
    warnings = _drawing_warnings(raw)
    written: list[Path] = []

    svg_name = f"{stem}.svg"
    layered = layered_svg(plan, layers, provenance)
    warnings += layered.warnings
    written.append(atomic_write(out_dir / svg_name, layered.text))

    pen_files: dict[str, str] = {}
    by_id = {pen.id: pen for pen in plan.pens}
    for pen_id, text in pen_svgs(plan, layers, provenance).items():
        name = f"{PENS_DIR}/{pen_file_name(by_id[pen_id].index, pen_id)}"
        pen_files[pen_id] = name
        written.append(atomic_write(out_dir / name, text))

    written.append(atomic_write(out_dir / PLOT_SCRIPT, plot_script(plan, [layer.label for layer in layers], svg_name)))
    (out_dir / PLOT_SCRIPT).chmod(0o755)

    files: dict[str, object] = {"layered_svg": svg_name, "pens": pen_files, "plot_script": PLOT_SCRIPT}
    if preview:
        from .preview import write_preview  # imports torch and the renderer

        written.append(write_preview(plan, layers, out_dir / PREVIEW))
        files["preview"] = PREVIEW
    files["report"] = list(REPORT_FILES)

    report = build_report(
        plan, raw, optimized, layers, svg_name=svg_name, files=files, provenance=provenance, metrics=metrics, warnings=warnings
    )
    written.append(atomic_write(out_dir / REPORT_FILES[0], report_json(report)))
    written.append(atomic_write(out_dir / REPORT_FILES[1], report_markdown(report)))

    frames = snapshot_frames(plan, snapshots, out_dir / PREVIEW if preview else None)
    page = build_page(plan, layers, report, metrics=metrics, history=history, spec_text=spec_text, frames=frames)
    written.append(atomic_write(out_dir / PAGE, page))
    return written


def _drawing_warnings(drawings: tuple[PenDrawing, ...]) -> list[str]:
    out = []
    for drawing in drawings:
        if drawing.clipped:
            out.append(f"{drawing.clipped} of {drawing.strokes} strokes of pen {drawing.pen.id!r} reach outside the canvas; "
                       "they are cut at its edge (the canvas is all the optimiser saw)")
        if len(drawing.lines) == 0:
            out.append(f"pen {drawing.pen.id!r} draws nothing: it gets no layer, no pen file and no pen change")
    return out
