"""AxiDraw layer names: compose them from pen settings and parse them back.

The AxiDraw software plots the top-level Inkscape layers of an SVG in ascending layer number and
reads settings from each layer's name:

    [%|!]<n>[+D<ms>][+H<h>][+S<s>] <free text>

``%`` first marks a documentation layer that is never plotted, ``!`` a forced pause before the
layer (the moment to change the pen). ``n`` is the layer number (0..1000); ``+H`` the pen-down
height (0..100 %), ``+S`` the pen-down speed (1..110 %), ``+D`` a delay in ms at the layer's start,
in any order and case. Everything after them is free text: penspec writes the pen id there, and
``(k/m)`` when a pen's drawing is split into parts by its maximum draw length.

vpype reads the same label as layer id ``n`` (its first run of digits), so one label serves both.

The group's ``id`` names the layer too, for software that lists groups by id and ignores the
labels (saxi's "layer by group"): ``layer-<n>-<pen>``, ``-part-<k>-of-<m>`` for a part; see
:func:`group_id`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_LAYER = 1000
HEIGHT_RANGE = (0, 100)
SPEED_RANGE = (1, 110)

_ID_UNSAFE_RE = re.compile(r"[^A-Za-z0-9_.-]")
_OPTION_RE = re.compile(r"\+([DHSdhs])(\d+)")
_PART_RE = re.compile(r"^(?P<pen>.*) \((?P<part>\d+)/(?P<parts>\d+)\)$", re.DOTALL)


@dataclass(frozen=True)
class LayerLabel:
    """One AxiDraw layer name, split into its parts."""

    number: int | None  # None: the name starts with no digits (AxiDraw cannot select it by number)
    pen: str = ""  # the free text, less a trailing "(k/m)" part marker
    pause: bool = False  # "!": AxiDraw pauses before plotting this layer
    documentation: bool = False  # "%": never plotted
    delay_ms: int | None = None
    height: int | None = None  # pen-down height %
    speed: int | None = None  # pen-down speed %
    part: tuple[int, int] | None = None  # (k, m): part k of m of one pen's drawing

    @property
    def text(self) -> str:
        """The free text after the settings, as written."""
        if self.part is None:
            return self.pen
        return f"{self.pen} ({self.part[0]}/{self.part[1]})"


def compose(label: LayerLabel) -> str:
    """The layer name AxiDraw obeys, e.g. ``!2+H30+S25 blue``.

    Raises ValueError for values AxiDraw would clamp or misread: penspec never clamps silently.
    """
    if label.documentation:
        return f"%{label.text}"
    if label.number is None or not 0 <= label.number <= MAX_LAYER:
        raise ValueError(f"AxiDraw layer numbers run from 0 to {MAX_LAYER}, got {label.number}")
    out = ["!" if label.pause else "", str(label.number)]
    if label.delay_ms is not None:
        _check("delay", label.delay_ms, (0, None))
        out.append(f"+D{label.delay_ms}")
    if label.height is not None:
        _check("pen-down height", label.height, HEIGHT_RANGE)
        out.append(f"+H{label.height}")
    if label.speed is not None:
        _check("pen-down speed", label.speed, SPEED_RANGE)
        out.append(f"+S{label.speed}")
    text = label.text
    if text:
        if text[0].isdigit() or text[0] == "+":
            raise ValueError(f"layer text {text!r} would be read as part of the layer settings")
        out.append(" " + text)
    return "".join(out)


def group_id(label: LayerLabel, digits: int = 1) -> str:
    """The SVG group id of a plot layer, e.g. ``layer-1-marker`` or ``layer-03-black-part-2-of-3``.

    The layer number is zero-padded to ``digits`` (those of the highest layer number in the
    build) so that a list sorted as text, as saxi sorts its layers, runs in plotting order.
    Characters an XML id cannot hold become ``_``.
    """
    if label.number is None:
        raise ValueError("only a numbered layer gets a group id")
    out = f"layer-{label.number:0{digits}d}-{_ID_UNSAFE_RE.sub('_', label.pen) or 'pen'}"
    if label.part is not None:
        out += f"-part-{label.part[0]}-of-{label.part[1]}"
    return out


def parse(name: str) -> LayerLabel:
    """Read a layer name the way AxiDraw does (settings are case-insensitive, in any order)."""
    rest = name
    documentation = rest.startswith("%")
    if documentation:
        return LayerLabel(number=None, pen=rest[1:], documentation=True)
    pause = rest.startswith("!")
    if pause:
        rest = rest[1:]
    digits = re.match(r"\d+", rest)
    if digits is None:
        return LayerLabel(number=None, pen=rest.strip(), pause=pause)
    number = int(digits.group())
    rest = rest[digits.end():]
    settings: dict[str, int] = {}
    while True:
        option = _OPTION_RE.match(rest)
        if option is None:
            break
        settings[option.group(1).upper()] = int(option.group(2))
        rest = rest[option.end():]
    text = rest.strip()
    pen, part = text, None
    marker = _PART_RE.match(text)
    if marker is not None:
        pen, part = marker.group("pen"), (int(marker.group("part")), int(marker.group("parts")))
    return LayerLabel(
        number=number,
        pen=pen,
        pause=pause,
        delay_ms=settings.get("D"),
        height=settings.get("H"),
        speed=settings.get("S"),
        part=part,
    )


def _check(what: str, value: int, bounds: tuple[int, int | None]) -> None:
    low, high = bounds
    if value < low or (high is not None and value > high):
        span = f"{low}..{high}" if high is not None else f">= {low}"
        raise ValueError(f"AxiDraw {what} must be {span}, got {value}")
