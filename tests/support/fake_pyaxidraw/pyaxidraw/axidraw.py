"""Fake ``pyaxidraw.axidraw``: records calls, "plots" by measuring the chosen layers.

Calls go to the module list ``CALLS`` and, when the environment variable
``FAKE_PYAXIDRAW_LOG`` names a file, one JSON line per call is appended there (for scripts run
in a subprocess).

Behaviour modelled on the real software:
- options are a namespace with the documented names and defaults; an unknown name or a value
  out of the documented range raises (the real one clamps or ignores: a test wants to know);
- ``mode = "layers"`` plots the top-level Inkscape layers whose number equals ``options.layer``;
  ``"plot"`` plots every layer; ``%`` layers are never plotted;
- a layer whose name starts with ``!`` makes the plot pause before it: the run stops there and
  returns the output SVG, which holds the resume point and the pen-down distance at the pause;
  in ``layers`` mode that is before anything was drawn, at 0 mm;
- ``"res_plot"`` needs an SVG returned by an earlier run that paused, and plots what was left;
  like AxiDraw's resume it returns early when the pause came at 0 mm, pausing there again;
- ``auto_rotate`` (on by default) turns a portrait page (taller than wide) a quarter turn
  counter-clockwise: the pen's home is the page's top-right corner (page x = width - plotter y,
  page y = plotter x, as pyaxidraw's preview maps it); a landscape page has home at top-left;
- without a plotter (``FAKE_PYAXIDRAW_PLOTTER=absent``) a run that is not a preview prints
  "Failed to connect to AxiDraw.", sets ``errors.code`` to 101, plots nothing and returns the
  SVG it was given; ``errors.code`` is 0 after a run that finished.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import xml.etree.ElementTree as ET

CALLS: list[dict] = []

SVG_NS = "http://www.w3.org/2000/svg"
INKSCAPE_NS = "http://www.inkscape.org/namespaces/inkscape"
MODES = {"plot", "layers", "res_plot", "res_home", "cycle", "align", "toggle", "manual", "sysinfo", "version"}
RANGES = {
    "speed_pendown": (1, 110),
    "speed_penup": (1, 200),
    "accel": (1, 100),
    "pen_pos_down": (0, 100),
    "pen_pos_up": (0, 100),
    "layer": (0, 1000),
    "model": (1, 7),
}
DEFAULTS = {
    "mode": "plot",
    "layer": 1,
    "model": 1,
    "speed_pendown": 25,
    "speed_penup": 75,
    "accel": 75,
    "pen_pos_down": 30,
    "pen_pos_up": 60,
    "pen_rate_lower": 50,
    "pen_rate_raise": 75,
    "preview": False,
    "report_time": False,
    "auto_rotate": True,
}
RESUME_MARK = "fake-pyaxidraw-resume:"


def _record(entry: dict) -> None:
    CALLS.append(entry)
    log = os.environ.get("FAKE_PYAXIDRAW_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")


class Options:
    def __init__(self) -> None:
        object.__setattr__(self, "_values", dict(DEFAULTS))

    def __getattr__(self, name: str):
        values = object.__getattribute__(self, "_values")
        if name not in values:
            raise AttributeError(f"pyaxidraw has no option {name!r}")
        return values[name]

    def __setattr__(self, name: str, value) -> None:
        if name not in DEFAULTS:
            raise AttributeError(f"pyaxidraw has no option {name!r}")
        if name == "mode" and value not in MODES:
            raise ValueError(f"unknown mode {value!r}")
        if name in RANGES:
            low, high = RANGES[name]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ValueError(f"option {name}={value!r} outside {low}..{high}")
        self._values[name] = value

    def snapshot(self) -> dict:
        return dict(object.__getattribute__(self, "_values"))


class Errors:
    def __init__(self) -> None:
        self.code = 0


def plotter_attached() -> bool:
    return os.environ.get("FAKE_PYAXIDRAW_PLOTTER", "attached") != "absent"


class AxiDraw:
    def __init__(self) -> None:
        self.options = Options()
        self.errors = Errors()
        self._svg: str | None = None
        self.time_estimate = 0.0
        self.distance_pendown = 0.0
        self.distance_total = 0.0
        self.pen_lifts = 0
        _record({"call": "AxiDraw"})

    def plot_setup(self, svg_input: str) -> None:
        """Take a path or SVG text, as the real one does."""
        if svg_input.lstrip().startswith("<"):
            text = svg_input
        else:
            with open(svg_input, encoding="utf-8") as fh:
                text = fh.read()
        ET.fromstring(text)  # must be XML
        self._svg = text
        _record({"call": "plot_setup", "chars": len(text)})

    def plot_run(self, output: bool = False):
        if self._svg is None:
            raise RuntimeError("plot_run before plot_setup")
        options = self.options.snapshot()
        self.errors.code = 0
        if not options["preview"] and not plotter_attached():
            print("Failed to connect to AxiDraw.", file=sys.stderr)
            self.errors.code = 101
            self._measure([], options, (0.0, 0.0))
            _record({"call": "plot_run", "output": output, "options": options, "plotted": [], "paused_before": None,
                     "error": 101})
            return self._svg if output else None
        layers, home = _layers(self._svg, options["auto_rotate"])
        mode = options["mode"]
        start, start_mm = 0, 0.0
        if mode == "res_plot":
            mark = re.search(re.escape(RESUME_MARK) + r"(\d+):([0-9.]+)", self._svg)
            if mark is None:
                raise RuntimeError("res_plot needs the output SVG of a paused plot")
            start, start_mm = int(mark.group(1)), float(mark.group(2))
            if start_mm == 0.0:  # AxiDraw's resume returns early: the pause mark stays, nothing is drawn
                self._measure([], options, home)
                _record({"call": "plot_run", "output": output, "options": options, "plotted": [], "paused_before": start})
                return self._svg if output else None
        elif mode == "layers":
            layers = [layer for layer in layers if layer["number"] == options["layer"]]
        elif mode != "plot":
            raise RuntimeError(f"the fake does not do mode {mode!r}")
        plotted, paused_at = [], None
        for layer in layers:
            if mode == "res_plot" and layer["index"] < start:
                continue
            resuming_here = mode == "res_plot" and layer["index"] == start
            if layer["pause"] and not resuming_here:
                paused_at = layer["index"]
                break
            plotted.append(layer)
        self._measure(plotted, options, home)
        drawn_mm = start_mm + sum(layer["pendown_mm"] for layer in plotted)
        _record(
            {
                "call": "plot_run",
                "output": output,
                "options": options,
                "plotted": [layer["label"] for layer in plotted],
                "paused_before": paused_at,
            }
        )
        if not output:
            return None
        out = self._svg
        out = re.sub(r"<!-- " + re.escape(RESUME_MARK) + r"[0-9.:]+ -->", "", out)
        if paused_at is not None:
            out = out.rstrip() + f"\n<!-- {RESUME_MARK}{paused_at}:{drawn_mm:.3f} -->\n"
        return out

    def _measure(self, layers: list[dict], options: dict, home: tuple[float, float]) -> None:
        """Pen-down and pen-up lengths of the run (each layer from home to home), lifts, and a
        constant-speed time from the documented speed formula: good enough for a fake."""
        down = sum(layer["pendown_mm"] for layer in layers)
        lifts = sum(layer["paths"] for layer in layers)
        up = sum(_penup_mm(layer, home) for layer in layers)
        v_down = options["speed_pendown"] / 110 * 8.6979 * 25.4
        v_up = options["speed_penup"] / 110 * 8.6979 * 25.4
        self.distance_pendown = down / 1000.0
        self.distance_total = (down + up) / 1000.0
        self.pen_lifts = lifts
        self.time_estimate = down / v_down + up / v_up + 0.25 * lifts


def _penup_mm(layer: dict, home: tuple[float, float]) -> float:
    """Pen-up travel over one layer's paths from home and back, mm."""
    up, pos = 0.0, home
    for p in layer["points"]:
        up += math.dist(pos, p[0])
        pos = p[-1]
    return up + math.dist(pos, home)


def _layers(svg_text: str, auto_rotate: bool = True) -> tuple[list[dict], tuple[float, float]]:
    """The plottable layers (points in page mm) and the pen's home on the page, mm."""
    root = ET.fromstring(svg_text)
    width_mm = _length_mm(root.get("width", "0"))
    height_mm = _length_mm(root.get("height", "0"))
    view = [float(v) for v in (root.get("viewBox") or "0 0 1 1").split()]
    scale = width_mm / view[2] if width_mm else 25.4 / 96
    home = (width_mm, 0.0) if auto_rotate and height_mm > width_mm else (0.0, 0.0)
    out = []
    for index, group in enumerate(root.findall(f"{{{SVG_NS}}}g")):
        if group.get(f"{{{INKSCAPE_NS}}}groupmode") != "layer":
            continue
        label = group.get(f"{{{INKSCAPE_NS}}}label", "")
        if label.startswith("%"):
            continue
        pause = label.startswith("!")
        digits = re.match(r"\d+", label[1:] if pause else label)
        paths = [_points(el) for el in group]
        paths = [[((x - view[0]) * scale, (y - view[1]) * scale) for x, y in p] for p in paths if len(p) >= 2]
        down = sum(math.dist(p[i], p[i + 1]) for p in paths for i in range(len(p) - 1))
        out.append(
            {
                "index": index,
                "label": label,
                "number": int(digits.group()) if digits else -1,
                "pause": pause,
                "paths": len(paths),
                "pendown_mm": down,
                "points": paths,
            }
        )
    return out, home


def _points(element) -> list[tuple[float, float]]:
    tag = element.tag.split("}")[-1]
    if tag == "line":
        return [(float(element.get("x1")), float(element.get("y1"))), (float(element.get("x2")), float(element.get("y2")))]
    if tag in ("polyline", "polygon"):
        nums = [float(v) for v in re.split(r"[\s,]+", element.get("points", "").strip()) if v]
        pts = list(zip(nums[0::2], nums[1::2]))
        return pts + pts[:1] if tag == "polygon" else pts
    return []


def _length_mm(text: str) -> float:
    match = re.fullmatch(r"([0-9.]+)(mm|cm|in|px)?", text.strip())
    if not match:
        return 0.0
    value, unit = float(match.group(1)), match.group(2) or "px"
    return value * {"mm": 1.0, "cm": 10.0, "in": 25.4, "px": 25.4 / 96}[unit]
