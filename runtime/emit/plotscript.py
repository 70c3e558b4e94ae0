"""plot.py: a standalone pyaxidraw script that plots the piece one pen layer at a time.

The script is a fixed Python text (``SCRIPT``); the piece enters it only as JSON data, written
as a Python string literal (``repr`` of ``json.dumps``) and decoded at run time. Titles, pen ids
and file names are never spliced into code, so quotes, backslashes or newlines in them cannot
change what the script does.

What the script does, per layer in plotting order: ask for the pen (id, colour, width; skipped
with ``--yes`` or ``--preview``), set pyaxidraw's options from the spec (model, speeds, pen
heights, acceleration), plot that layer in ``layers`` mode and keep the SVG pyaxidraw returns,
so that ``--resume`` can finish a paused layer with ``res_plot``. The script asks for each pen
itself, so it hands pyaxidraw the SVG with the ``!`` pause marks taken off (AxiDraw honours them
in every mode; they are there for plotting the whole SVG at once from Inkscape or axicli).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from penspec.compiler.plan import Plan
from penspec.spec.errors import UsageError

from .labels import LayerLabel

PROGRESS_SVG = "plot-progress.svg"
PROGRESS_STATE = "plot-progress.json"
INSTALL_HINT = (
    "pyaxidraw is not installed. It is not on PyPI: download the AxiDraw API zip from Evil Mad "
    "Scientist (https://axidraw.com/doc/py_api/) and install it with `pip install <the zip>`."
)
_DATA_TOKEN = "__PENSPEC_PIECE_JSON__"


def layer_jobs(plan: Plan, labels: Sequence[LayerLabel]) -> list[dict]:
    """What to plot, layer by layer: the pen to load and the pyaxidraw options for it."""
    jobs = []
    for label in labels:
        if label.documentation or label.number is None:
            continue
        try:
            pen = plan.pen(label.pen)
        except KeyError:
            known = ", ".join(p.id for p in plan.pens)
            raise UsageError(f"layer {label.number} names pen {label.pen!r}, which the plan does not have (pens: {known})") from None
        jobs.append(
            {
                "number": label.number,
                "pen": pen.id,
                "color": pen.color,
                "width_mm": pen.width_mm,
                "part": list(label.part) if label.part else None,
                "pause": label.pause,
                "options": {
                    "speed_pendown": pen.speed_pendown,
                    "speed_penup": pen.speed_penup,
                    "pen_pos_down": pen.pen_pos_down,
                    "pen_pos_up": pen.pen_pos_up,
                },
            }
        )
    return jobs


def piece_data(plan: Plan, labels: Sequence[LayerLabel], svg_name: str) -> dict:
    """Everything plot.py needs to know about the piece, as JSON-ready data."""
    return {
        "title": plan.title,
        "svg": svg_name,
        "model": plan.plot.model,
        "model_name": plan.plot.model_name,
        "accel": plan.plot.accel,
        "progress_svg": PROGRESS_SVG,
        "progress_state": PROGRESS_STATE,
        "install_hint": INSTALL_HINT,
        "layers": layer_jobs(plan, labels),
    }


def plot_script(plan: Plan, labels: Sequence[LayerLabel], svg_name: str) -> str:
    """The text of plot.py for this piece."""
    literal = repr(json.dumps(piece_data(plan, labels, svg_name), ensure_ascii=True, sort_keys=True))
    return SCRIPT.replace(_DATA_TOKEN, literal, 1)


SCRIPT = '''\
#!/usr/bin/env python3
"""Plot this penspec piece on an AxiDraw with pyaxidraw, one pen layer at a time.

    python plot.py               plot every layer in order, asking for each pen
    python plot.py --layer 2     plot layer 2 only
    python plot.py --pen black   plot every layer of one pen
    python plot.py --preview     simulate without a plotter and print the time estimate
    python plot.py --resume      finish the last paused layer, then plot the ones after it
    python plot.py --yes         do not wait for Enter before each pen

Written by penspec. The piece (title, pens, settings) is the JSON data in PIECE; report.md
next to this file explains the layers and the estimated times.
"""

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path

PIECE = json.loads(__PENSPEC_PIECE_JSON__)

HERE = Path(__file__).resolve().parent


def main(argv=None):
    args = parse_args(argv)
    layers = select_layers(args)
    if layers is None:
        return 2
    try:
        from pyaxidraw import axidraw
    except ImportError:
        print(PIECE["install_hint"], file=sys.stderr)
        return 2
    svg_text = plottable_svg((HERE / PIECE["svg"]).read_text(encoding="utf-8"))
    totals = {"time": 0.0, "down": 0.0, "total": 0.0, "lifts": 0}
    if args.resume:
        state_path = HERE / PIECE["progress_state"]
        if not state_path.exists():
            print("nothing to resume: no plot progress was saved here", file=sys.stderr)
            return 2
        number = json.loads(state_path.read_text(encoding="utf-8"))["layer"]
        job = next((j for j in PIECE["layers"] if j["number"] == number), None)
        if job is None:
            print("the saved progress names layer %r, which this piece does not have" % (number,), file=sys.stderr)
            return 2
        say("Resuming layer %d (pen %s)" % (number, job["pen"]))
        ad = axidraw.AxiDraw()
        ad.plot_setup((HERE / PIECE["progress_svg"]).read_text(encoding="utf-8"))
        configure(ad, job, args.preview)
        ad.options.mode = "res_plot"
        if not finish(ad, ad.plot_run(True), job, args.preview, totals):
            return 3
        layers = [j for j in layers if j["number"] > number]
    for job in layers:
        if not ask_for_pen(job, args):
            return 130
        ad = axidraw.AxiDraw()
        ad.plot_setup(svg_text)
        configure(ad, job, args.preview)
        ad.options.mode = "layers"
        ad.options.layer = job["number"]
        if not finish(ad, ad.plot_run(True), job, args.preview, totals):
            return 3
    if args.preview:
        say("Estimated total: %s, %.2f m pen-down, %.2f m in all, %d pen lifts"
            % (hms(totals["time"]), totals["down"], totals["total"], totals["lifts"]))
    return 0


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Plot %s on an AxiDraw." % json.dumps(PIECE["title"]))
    parser.add_argument("--layer", type=int, help="plot only this layer number")
    parser.add_argument("--pen", help="plot only the layers of this pen id")
    parser.add_argument("--preview", action="store_true", help="simulate without a plotter; print the time estimate")
    parser.add_argument("--resume", action="store_true", help="finish the last paused layer, then go on")
    parser.add_argument("--yes", action="store_true", help="do not wait for Enter before each pen")
    return parser.parse_args(argv)


def select_layers(args):
    layers = PIECE["layers"]
    if args.layer is not None:
        layers = [j for j in layers if j["number"] == args.layer]
        if not layers:
            known = ", ".join(str(j["number"]) for j in PIECE["layers"])
            print("no layer %d; this piece has layers %s" % (args.layer, known), file=sys.stderr)
            return None
    if args.pen is not None:
        layers = [j for j in layers if j["pen"] == args.pen]
        if not layers:
            known = ", ".join(sorted({j["pen"] for j in PIECE["layers"]}))
            print("no layer plots pen %s; pens: %s" % (json.dumps(args.pen), known), file=sys.stderr)
            return None
    return layers


def plottable_svg(text):
    """The SVG without AxiDraw's "!" pause marks: this script asks for every pen itself."""
    return re.sub(r'(inkscape:label=")!', r"\\1", text)


def configure(ad, job, preview):
    ad.options.model = PIECE["model"]
    ad.options.accel = PIECE["accel"]
    for name, value in job["options"].items():
        setattr(ad.options, name, value)
    ad.options.preview = bool(preview)
    ad.options.report_time = True


def ask_for_pen(job, args):
    part = " (part %d of %d)" % tuple(job["part"]) if job["part"] else ""
    what = "Layer %d: pen %s%s, %s, %g mm" % (job["number"], job["pen"], part, job["color"], job["width_mm"])
    if args.yes or args.preview:
        say(what)
        return True
    action = "check or refresh" if job["part"] and job["part"][0] > 1 else "load"
    try:
        input("%s: %s the pen, then press Enter (Ctrl-C stops) " % (what, action))
    except (EOFError, KeyboardInterrupt):
        print("", file=sys.stderr)
        return False
    return True


def finish(ad, out_svg, job, preview, totals):
    """Keep the returned SVG for --resume; False when pyaxidraw reports the layer stopped early."""
    if preview:
        say("  estimate: %s, %.2f m pen-down, %.2f m in all, %d pen lifts"
            % (hms(ad.time_estimate), ad.distance_pendown, ad.distance_total, ad.pen_lifts))
        totals["time"] += ad.time_estimate
        totals["down"] += ad.distance_pendown
        totals["total"] += ad.distance_total
        totals["lifts"] += ad.pen_lifts
        return True
    if out_svg:
        write_atomic(HERE / PIECE["progress_svg"], out_svg)
        write_atomic(HERE / PIECE["progress_state"], json.dumps({"layer": job["number"], "pen": job["pen"]}) + "\\n")
    code = stop_code(ad)
    if code:
        print("Layer %d stopped early (pyaxidraw code %s); run `python plot.py --resume` to finish it"
              % (job["number"], code), file=sys.stderr)
        return False
    return True


def stop_code(ad):
    """pyaxidraw's ``errors.code`` after a run (e.g. the pause button), 0 when absent."""
    return getattr(getattr(ad, "errors", None), "code", 0) or 0


def write_atomic(path, text):
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


def hms(seconds):
    s = int(round(seconds))
    return "%d:%02d:%02d" % (s // 3600, s % 3600 // 60, s % 60)


def say(text):
    print(text, flush=True)


if __name__ == "__main__":
    sys.exit(main())
'''
