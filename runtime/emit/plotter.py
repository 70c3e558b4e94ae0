"""`penspec plot BUILD_DIR`: plot a built piece in-process with pyaxidraw.

The plot flow itself is :mod:`.plotflow`, the same code the build's plot.py runs; this module
reads what the build dir holds for it: the plan (``plan.json``) for the pens and settings, and
the layered SVG, whose AxiDraw layer names say which layers exist and which pen draws each.
pyaxidraw is imported only when plotting starts, with an install hint when it is missing (it is
not on PyPI).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from penspec.compiler.plan import Plan
from penspec.spec.errors import Location, MissingResourceError, UsageError

from .labels import LayerLabel, parse
from .plotflow import LayerResult, PlotError, PlotSession, plot_piece
from .plotscript import piece_data

__all__ = ["LayerResult", "PlotSession", "layer_labels", "load_build", "plot_build"]

INKSCAPE = "http://www.inkscape.org/namespaces/inkscape"
SVG = "http://www.w3.org/2000/svg"


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
    warn: Callable[[str], None] | None = None,
    axidraw: Any = None,
) -> PlotSession:
    """Plot the layers of a build in order (or one layer / one pen), asking for each pen."""
    build_dir = Path(build_dir)
    plan, svg_name, svg_text = load_build(build_dir)
    piece = piece_data(plan, layer_labels(svg_text, str(build_dir / svg_name)), svg_name)
    try:
        return plot_piece(piece, build_dir, layer=layer, pen=pen, preview=preview, resume=resume, yes=yes, ask=ask,
                          echo=echo, warn=warn, axidraw=axidraw, resume_hint=f"penspec plot {build_dir} --resume")
    except PlotError as exc:
        raise (MissingResourceError if exc.missing else UsageError)(str(exc)) from exc
