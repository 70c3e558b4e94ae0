"""Lengths, angles, paper sizes and colours, parsed with vpype's own parsers.

Each parser takes the value as written in the spec and returns the internal unit
(millimetres, degrees, ``#rrggbb``) or raises :class:`UnitError` with a message meant for the
user; the validator turns that into a diagnostic at the value.
"""

from __future__ import annotations

import functools
import inspect
import re

import svgelements
import vpype

from .suggest import did_you_mean

MM_PER_IN = 25.4
CSS_PX_PER_IN = 96.0  # vpype's unit, and SVG's user unit
MM_PER_PX = MM_PER_IN / CSS_PX_PER_IN  # one CSS px in mm
PX_PER_MM = CSS_PX_PER_IN / MM_PER_IN  # CSS px in one mm (vpype.convert_length("1mm"))
DIGITS = 6  # mm are rounded to a nanometre so that "0.3mm" is 0.3 and "a3" is 297 x 420


def _mm(px: float) -> float:
    return round(float(px) * MM_PER_PX, DIGITS)
LENGTH_UNITS = tuple(vpype.utils.UNITS)
ANGLE_UNITS = tuple(vpype.utils.ANGLE_UNITS)
PAPER_NAMES = tuple(name for name in vpype.PAGE_SIZES if name != "tight")

_NUMBER_RE = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")
_PAGE_RE = re.compile(r"^(\d+\.?\d*)([a-z]+)?x(\d+\.?\d*)([a-z]+)?$")
_HEX_RE = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
_FUNCTION_RE = re.compile(r"^\s*(rgba?|hsla?)\s*\(.*\)\s*$", re.IGNORECASE)


class UnitError(ValueError):
    """A value that cannot be read as the quantity it should be."""


def _is_number(text: str) -> bool:
    return bool(_NUMBER_RE.match(text))


def length_mm(value: object) -> float:
    """A length string with a unit ("0.3mm", "11in") in millimetres."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise UnitError(f"expected a length with a unit such as '0.3mm', got {value!r}")
    text = value.strip()
    if _is_number(text):
        raise UnitError(f"the length {value!r} needs a unit, e.g. '{text}mm' (units: {', '.join(LENGTH_UNITS)})")
    try:
        px = vpype.convert_length(text)
    except (ValueError, TypeError):
        unit = re.sub(r"^[-+\d.eE\s]*", "", text)
        hint = did_you_mean(unit, LENGTH_UNITS) if unit else ""
        raise UnitError(f"cannot read {value!r} as a length{hint}; write a number and a unit with no space, e.g. '0.3mm' (units: {', '.join(LENGTH_UNITS)})") from None
    return _mm(px)


def angle_deg(value: object) -> float:
    """An angle (a number of degrees, or "5deg", "0.1rad", "0.02turn") in degrees."""
    if isinstance(value, bool):
        raise UnitError(f"expected an angle such as 5 or '5deg', got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        raise UnitError(f"expected an angle such as 5 or '5deg', got {value!r}")
    try:
        return float(vpype.convert_angle(value.strip()))
    except (ValueError, TypeError):
        unit = re.sub(r"^[-+\d.eE\s]*", "", value.strip())
        hint = did_you_mean(unit, ANGLE_UNITS) if unit else ""
        raise UnitError(f"cannot read {value!r} as an angle{hint} (a number of degrees or a unit: {', '.join(ANGLE_UNITS)})") from None


def page_size_mm(value: object) -> tuple[float, float]:
    """A paper size ("a3", "297x210mm", "11x14in") as (width, height) in mm, as written
    (named sizes are portrait)."""
    if not isinstance(value, str):
        raise UnitError(f"expected a paper name or WxH with units, got {value!r}")
    text = value.strip().lower()
    if text in PAPER_NAMES:
        width, height = vpype.PAGE_SIZES[text]
        return _mm(width), _mm(height)
    match = _PAGE_RE.match(text)
    if not match:
        hint = did_you_mean(text, PAPER_NAMES)
        raise UnitError(f"unknown paper size {value!r}{hint}; use one of {', '.join(PAPER_NAMES)} or WxH with units such as '297x210mm'")
    if not match.group(2) and not match.group(4):
        raise UnitError(f"the paper size {value!r} needs a unit, e.g. '{text}mm'")
    for unit in (match.group(2), match.group(4)):
        if unit and unit not in LENGTH_UNITS:
            raise UnitError(f"unknown unit {unit!r} in paper size {value!r}{did_you_mean(unit, LENGTH_UNITS)}")
    try:
        width, height = vpype.convert_page_size(text)
    except ValueError:
        raise UnitError(f"cannot read {value!r} as a paper size; write WxH with units such as '297x210mm'") from None
    if width <= 0 or height <= 0:
        raise UnitError(f"the paper size {value!r} must be larger than zero")
    return _mm(width), _mm(height)


@functools.cache
def color_names() -> tuple[str, ...]:
    """The colour keywords that vpype (through svgelements) knows, read from its lookup table."""
    try:
        source = inspect.getsource(svgelements.Color.parse_color_lookup)
    except (OSError, TypeError):  # no source shipped: fall back to checking each name by value
        return ()
    return tuple(sorted(set(re.findall(r'v == "([a-z]+)"', source))))


def _known_color_name(name: str) -> bool:
    key = name.replace(" ", "").lower()
    names = color_names()
    if names:
        return key in names
    black = svgelements.Color.rgb_to_int(0, 0, 0)
    return key == "black" or svgelements.Color.parse_color_lookup(key) != black


def color_hex(value: object) -> tuple[str, tuple[float, float, float]]:
    """An SVG/CSS colour as ("#rrggbb", (r, g, b) floats in [0, 1]).

    vpype.Color quietly turns unknown names and malformed hex codes into black, so the form is
    checked first; transparent colours are refused (a pen's transparency is its ``opacity``)."""
    if not isinstance(value, str) or not value.strip():
        raise UnitError(f"expected a colour such as 'black' or '#1f4e9c', got {value!r}")
    text = value.strip()
    if text.startswith("#"):
        if not _HEX_RE.match(text):
            raise UnitError(f"{value!r} is not a hex colour; write #rgb or #rrggbb, e.g. '#1f4e9c'")
    elif not _FUNCTION_RE.match(text):
        if not _known_color_name(text):
            hint = did_you_mean(text.lower(), color_names())
            raise UnitError(f"unknown colour {value!r}{hint}; use an SVG colour name or #rrggbb")
    try:
        color = vpype.Color(text)
    except (ValueError, TypeError, IndexError):
        raise UnitError(f"cannot read {value!r} as a colour") from None
    if _FUNCTION_RE.match(text) and not any(
        regex.match(text) for regex in (svgelements.REGEX_COLOR_RGB, svgelements.REGEX_COLOR_RGB_PERCENT, svgelements.REGEX_COLOR_HSL)
    ):
        raise UnitError(f"cannot read {value!r} as a colour; write e.g. 'rgb(31, 78, 156)' or 'hsl(217, 67%, 37%)'")
    if color.alpha != 255:
        raise UnitError(f"the colour {value!r} is (partly) transparent; give an opaque colour (a pen's transparency is its opacity)")
    rgb = (color.red / 255.0, color.green / 255.0, color.blue / 255.0)
    return f"#{color.red:02x}{color.green:02x}{color.blue:02x}", rgb
