"""Plot a penspec piece on an AxiDraw with pyaxidraw, one pen layer at a time.

    python plot.py               plot every layer in order, asking for each pen
    python plot.py --layer 2     plot layer 2 only
    python plot.py --pen black   plot every layer of one pen
    python plot.py --preview     simulate without a plotter and print the time estimate
    python plot.py --resume      finish the last paused layer, then plot the ones after it
    python plot.py --yes         do not wait for Enter before each pen

Exit status: 0 done, 2 bad input (no such layer or pen, nothing to resume, pyaxidraw missing),
3 a layer stopped early (pause button, Ctrl-C: ``--resume`` finishes it), 4 no AxiDraw answered
on USB or its connection was lost, 130 stopped at a pen prompt.

This is the whole plot flow of penspec: ``penspec plot`` imports this module, and each build's
plot.py is this module's source followed by the piece (title, pens, settings) as JSON data.
It uses only the standard library; pyaxidraw is imported when plotting starts.

Per layer, in plotting order: ask for the pen (skipped with ``--yes`` or ``--preview``), set
pyaxidraw's options from the spec (model, acceleration, speeds, pen heights, auto-rotate), plot
that layer in ``layers`` mode and keep the SVG pyaxidraw returns, so that ``--resume`` can
finish a layer that stopped early with ``res_plot``. The flow asks for each pen itself, so it
hands pyaxidraw the SVG with the ``!`` pause marks taken off (AxiDraw honours them in every mode).

A portrait page is plotted turned, as AxiDraw's ``auto_rotate`` does by default: the page's
long side runs along the plotter's long (x) travel and the pen starts at the page's top-right
corner. Every way of plotting a penspec build (this flow, axicli, Inkscape) does the same.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

PROGRESS_SVG = "plot-progress.svg"
PROGRESS_STATE = "plot-progress.json"
INSTALL_HINT = (
    "pyaxidraw is not installed. It is not on PyPI: download the AxiDraw API zip from Evil Mad "
    "Scientist (https://axidraw.com/doc/py_api/) and install it with `pip install <the zip>`."
)
NO_PLOTTER = (
    "No AxiDraw answered on USB (pyaxidraw code 101). Check that the USB cable is plugged in at "
    "both ends, that the AxiDraw's power supply is plugged in and switched on, and that no other "
    "program (Inkscape, another plot) holds its port; then run the same command again."
)
LOST_PLOTTER = (
    "The AxiDraw's USB connection was lost during layer {number} (pyaxidraw code 104). Check the "
    "USB cable and the power supply, then run `{resume}` to finish the layer."
)

EXIT_OK = 0
EXIT_INPUT = 2  # no such layer or pen, nothing to resume, pyaxidraw missing
EXIT_STOPPED = 3  # a layer stopped early (pause button, Ctrl-C); --resume finishes it
EXIT_NO_PLOTTER = 4  # no AxiDraw answered on USB, or its connection was lost mid-layer
EXIT_ABORTED = 130  # stopped at a pen prompt

# pyaxidraw's ``errors.code`` after plot_run
CODE_NO_PLOTTER = 101  # failed to connect: nothing was plotted
CODE_PAUSE_BUTTON = 102
CODE_KEYBOARD = 103
CODE_LOST_USB = 104  # the connection dropped part-way: the output SVG holds the resume point
CONNECTION_CODES = (CODE_NO_PLOTTER, CODE_LOST_USB)

_PAUSE_MARK = re.compile(r'(inkscape:label=")!')


class PlotError(Exception):
    """A mistake in what was asked (no such layer, nothing to resume) or a missing resource."""

    def __init__(self, message: str, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


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
    layers: tuple = field(default_factory=tuple)
    stopped: bool = False  # stopped at a pen prompt, or a layer stopped early (resume it)
    prompt: bool = False  # stopped at a pen prompt

    @property
    def time_s(self) -> float:
        return sum(r.time_s or 0.0 for r in self.layers)

    @property
    def no_plotter(self) -> bool:
        return bool(self.layers) and self.layers[-1].stop_code in CONNECTION_CODES

    @property
    def exit_code(self) -> int:
        if self.no_plotter:
            return EXIT_NO_PLOTTER
        if self.prompt:
            return EXIT_ABORTED
        return EXIT_STOPPED if self.stopped else EXIT_OK


def select_layers(jobs: list, layer: int | None = None, pen: str | None = None) -> list:
    """The layer jobs to plot: all of them, one layer number, or the layers of one pen."""
    chosen = jobs
    if layer is not None:
        chosen = [j for j in chosen if j["number"] == layer]
        if not chosen:
            raise PlotError("no layer %d; this piece has layers %s" % (layer, ", ".join(str(j["number"]) for j in jobs)))
    if pen is not None:
        chosen = [j for j in chosen if j["pen"] == pen]
        if not chosen:
            raise PlotError("no layer plots pen %s; pens: %s" % (json.dumps(pen), ", ".join(sorted({j["pen"] for j in jobs}))))
    return chosen


def plottable_svg(text: str) -> str:
    """The SVG without AxiDraw's ``!`` pause marks: this flow asks for every pen itself."""
    return _PAUSE_MARK.sub(r"\1", text)


def import_axidraw():
    try:
        from pyaxidraw import axidraw
    except ImportError as exc:
        raise PlotError(INSTALL_HINT, missing=True) from exc
    return axidraw


def configure(ad, piece: dict, job: dict, preview: bool) -> None:
    """pyaxidraw's options for one layer: the piece's model and acceleration, the pen's settings."""
    ad.options.model = piece["model"]
    ad.options.accel = piece["accel"]
    ad.options.auto_rotate = True  # a portrait page turns: its long side along x (AxiDraw's default)
    for name, value in job["options"].items():
        setattr(ad.options, name, value)
    ad.options.preview = bool(preview)
    ad.options.report_time = True


def ask_for_pen(job: dict, skip: bool, ask, echo) -> bool:
    """Name the pen to load; False when the person stops (Ctrl-C or end of input)."""
    part = " (part %d of %d)" % tuple(job["part"]) if job["part"] else ""
    what = "Layer %d: pen %s%s, %s, %g mm" % (job["number"], job["pen"], part, job["color"], job["width_mm"])
    if skip:
        echo(what)
        return True
    action = "check or refresh" if job["part"] and job["part"][0] > 1 else "load"
    try:
        ask("%s: %s the pen, then press Enter (Ctrl-C stops) " % (what, action))
    except (EOFError, KeyboardInterrupt):
        return False
    return True


def saved_progress(folder: Path, piece: dict) -> tuple:
    """The layer number and job that the saved plot progress names."""
    state_path, svg_path = folder / PROGRESS_STATE, folder / PROGRESS_SVG
    if not state_path.is_file() or not svg_path.is_file():
        raise PlotError("%s: nothing to resume, no plot progress was saved here" % folder)
    try:
        number = int(json.loads(state_path.read_text(encoding="utf-8"))["layer"])
    except (ValueError, KeyError, TypeError) as exc:
        raise PlotError("%s: unreadable plot progress (%s)" % (state_path, exc)) from exc
    for job in piece["layers"]:
        if job["number"] == number:
            return number, job
    raise PlotError("%s: the saved progress names layer %d, which this piece does not have" % (state_path, number))


def stop_code(ad) -> int:
    """pyaxidraw's ``errors.code`` after a run (e.g. the pause button), 0 when absent."""
    return int(getattr(getattr(ad, "errors", None), "code", 0) or 0)


def finish(ad, out_svg, job: dict, preview: bool, folder: Path, echo, warn, resume_hint: str, resumed: bool = False) -> LayerResult:
    """Keep the returned SVG for ``--resume`` and say how the layer went.

    A layer that never started (no plotter answered) leaves the saved progress as it was.
    """
    if preview:
        echo("  estimate: %s, %.2f m pen-down, %.2f m in all, %d pen lifts"
             % (hms(ad.time_estimate), ad.distance_pendown, ad.distance_total, ad.pen_lifts))
        return LayerResult(job["number"], job["pen"], resumed, float(ad.time_estimate), float(ad.distance_pendown),
                           float(ad.distance_total), int(ad.pen_lifts))
    code = stop_code(ad)
    if code == CODE_NO_PLOTTER:
        warn(NO_PLOTTER)
        return LayerResult(job["number"], job["pen"], resumed, stop_code=code)
    if out_svg:
        write_atomic(folder / PROGRESS_SVG, out_svg)
        write_atomic(folder / PROGRESS_STATE, json.dumps({"layer": job["number"], "pen": job["pen"]}) + "\n")
    if code == CODE_LOST_USB:
        warn(LOST_PLOTTER.format(number=job["number"], resume=resume_hint))
    elif code:
        warn("Layer %d stopped early (pyaxidraw code %d); run `%s` to finish it" % (job["number"], code, resume_hint))
    return LayerResult(job["number"], job["pen"], resumed, stop_code=code)


def plot_piece(
    piece: dict,
    folder: Path,
    *,
    layer: int | None = None,
    pen: str | None = None,
    preview: bool = False,
    resume: bool = False,
    yes: bool = False,
    ask=input,
    echo=print,
    warn=None,
    axidraw=None,
    resume_hint: str = "python plot.py --resume",
) -> PlotSession:
    """Plot the piece's layers in order (or one layer, or one pen's), asking for each pen.

    ``folder`` holds the layered SVG and the plot progress. Raises PlotError for a mistake in
    what was asked; a stopped layer or a missing plotter ends the session (see PlotSession).
    """
    folder = Path(folder)
    warn = warn or echo
    jobs = select_layers(piece["layers"], layer, pen)
    axidraw = axidraw or import_axidraw()
    results = []
    if resume:
        number, job = saved_progress(folder, piece)
        echo("Resuming layer %d (pen %s)" % (number, job["pen"]))
        ad = axidraw.AxiDraw()
        ad.plot_setup((folder / PROGRESS_SVG).read_text(encoding="utf-8"))
        configure(ad, piece, job, preview)
        ad.options.mode = "res_plot"
        results.append(finish(ad, ad.plot_run(True), job, preview, folder, echo, warn, resume_hint, resumed=True))
        if results[-1].stop_code:
            return PlotSession(layers=tuple(results), stopped=True)
        jobs = [j for j in jobs if j["number"] > number]
    svg_text = plottable_svg((folder / piece["svg"]).read_text(encoding="utf-8"))
    for job in jobs:
        if not ask_for_pen(job, yes or preview, ask, echo):
            return PlotSession(layers=tuple(results), stopped=True, prompt=True)
        ad = axidraw.AxiDraw()
        ad.plot_setup(svg_text)
        configure(ad, piece, job, preview)
        ad.options.mode = "layers"
        ad.options.layer = job["number"]
        results.append(finish(ad, ad.plot_run(True), job, preview, folder, echo, warn, resume_hint))
        if results[-1].stop_code:
            return PlotSession(layers=tuple(results), stopped=True)
    session = PlotSession(layers=tuple(results))
    if preview:
        echo("Estimated total: %s, %.2f m pen-down, %.2f m in all, %d pen lifts"
             % (hms(session.time_s), sum(r.pendown_m or 0.0 for r in results), sum(r.total_m or 0.0 for r in results),
                sum(r.pen_lifts or 0 for r in results)))
    return session


def write_atomic(path: Path, text: str) -> None:
    """Write a file through a temp file in its folder, so an interrupted write leaves no half file."""
    fd, tmp = tempfile.mkstemp(dir=str(path.parent), prefix="." + path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, str(path))
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def hms(seconds: float) -> str:
    s = int(round(seconds))
    return "%d:%02d:%02d" % (s // 3600, s % 3600 // 60, s % 60)


def _say(text: str) -> None:
    print(text, flush=True)


def _complain(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _ask(prompt: str) -> None:
    try:
        input(prompt)
    except (EOFError, KeyboardInterrupt):
        print("", file=sys.stderr)
        raise


def main(piece: dict, folder: Path, argv=None) -> int:
    """plot.py's command line."""
    parser = argparse.ArgumentParser(description="Plot %s on an AxiDraw." % json.dumps(piece["title"]))
    parser.add_argument("--layer", type=int, help="plot only this layer number")
    parser.add_argument("--pen", help="plot only the layers of this pen id")
    parser.add_argument("--preview", action="store_true", help="simulate without a plotter; print the time estimate")
    parser.add_argument("--resume", action="store_true", help="finish the last paused layer, then go on")
    parser.add_argument("--yes", action="store_true", help="do not wait for Enter before each pen")
    args = parser.parse_args(argv)
    try:
        session = plot_piece(piece, folder, layer=args.layer, pen=args.pen, preview=args.preview, resume=args.resume,
                             yes=args.yes, ask=_ask, echo=_say, warn=_complain)
    except PlotError as exc:
        _complain(str(exc))
        return EXIT_INPUT
    return session.exit_code
