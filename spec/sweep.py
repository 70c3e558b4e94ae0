"""Sweep axes: the ``sweep:`` section and ``--vary KEY=VALUES``, read into located values.

An axis is a key path as ``--set`` takes it (``vars.channel``, ``seed``,
``stages.0.optimize.lr``, ``pens.0.color``) and its values: a list (``[17, 20, 33]``), an
integer range ``a..b`` (inclusive) or ``a..b step k``. Each value keeps where it was written
(the list item in the spec, the range, or the ``--vary`` option), so a point that fails to
compile is reported at the sweep line that made it. :func:`points` is the grid: the product of
the axes in order (the last axis varies fastest), or with ``zip`` the axes side by side.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import Diagnostic, Location, SpecError
from .overrides import Override, parse_override
from .yamlsrc import child_path, parse_yaml

RANGE_RE = re.compile(r"^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*(?:step\s+(-?\d+)\s*)?$")
MAX_POINTS = 100_000
_RANGE_HELP = "a list such as [17, 20, 33], or an integer range a..b (inclusive) or a..b step k"


@dataclass(frozen=True)
class Axis:
    """One varied key: its path (as written and split), its values and where each was written."""

    key: str
    parts: tuple[str | int, ...]
    values: tuple[Any, ...]
    locations: tuple[Location, ...]  # one per value
    where: Location  # the key (a spec line) or the --vary option

    def override(self, index: int) -> Override:
        """The value at ``index`` as a located override."""
        return Override(f"{self.key}={set_text(self.values[index])}", self.parts, self.values[index], self.locations[index])


def set_text(value: Any) -> str:
    """``value`` written so that ``--set key=<text>`` reads it back as the same value."""
    if isinstance(value, str):
        if value.startswith("#"):
            return value  # --set reads #1f4e9c as the colour
        try:
            back = parse_yaml(value, "<value>", top="any")
            if back.data == value and not back.diagnostics:
                return value
        except SpecError:
            pass
    return json.dumps(value, ensure_ascii=False)


def expand_range(text: str) -> list[int] | None:
    """The integers of ``a..b`` or ``a..b step k``; None when ``text`` is no range. Raises
    ValueError for a range that is empty or has a step below 1."""
    match = RANGE_RE.match(text)
    if not match:
        return None
    low, high, step = int(match.group(1)), int(match.group(2)), int(match.group(3) or 1)
    if step < 1:
        raise ValueError(f"the step of {text.strip()!r} must be 1 or more")
    if high < low:
        raise ValueError(f"the range {text.strip()!r} is empty: write the smaller number first")
    if (high - low) // step + 1 > MAX_POINTS:
        raise ValueError(f"the range {text.strip()!r} has more than {MAX_POINTS} values")
    return list(range(low, high + 1, step))


def axis_values(raw: Any) -> list[Any]:
    """The values of an axis written as ``raw`` (a list, a range string, or one value: a text
    without ``..`` or a number). Raises
    ValueError with the reason."""
    if isinstance(raw, list):
        if not raw:
            raise ValueError(f"an axis needs at least one value: {_RANGE_HELP}")
        return raw
    if isinstance(raw, str) and ".." in raw:
        values = expand_range(raw)
        if values is None:
            raise ValueError(f"{raw!r} is not {_RANGE_HELP}")
        return values
    return [raw]


def section_axes(sweep: dict[str, Any], values_at, key_at) -> tuple[list[Axis], list[Diagnostic]]:
    """The axes of a spec's ``sweep:`` section. ``values_at(path)`` and ``key_at(path)`` locate
    JSON paths in the spec. Bad key paths and values come back as diagnostics."""
    axes, problems = [], []
    for key, raw in sweep.items():
        path = child_path("$.sweep", key)
        try:
            parts = parse_override(f"{key}=null").parts
            values = axis_values(raw)
        except SpecError as exc:
            problems += [Diagnostic(key_at(path), path, d.message) for d in exc.diagnostics]
            continue
        except ValueError as exc:
            problems.append(Diagnostic(values_at(path), path, str(exc)))
            continue
        if isinstance(raw, list):
            locations = tuple(values_at(child_path(path, i)) for i in range(len(values)))
        else:
            locations = (values_at(path),) * len(values)
        axes.append(Axis(key, parts, tuple(values), locations, key_at(path)))
    return axes, problems


def vary_axis(text: str) -> Axis:
    """One ``--vary KEY=VALUES`` (the values as YAML: a list, a range, or one value)."""
    where = Location(f"--vary {text}")
    if "=" not in text:
        raise SpecError(Diagnostic(where, "", f"--vary takes KEY=VALUES, e.g. vars.channel=[17, 20, 33] or seed=1..4, got {text!r}"))
    try:
        parsed = parse_override(text)
    except SpecError as exc:
        raise SpecError([Diagnostic(where, d.path, d.message) for d in exc.diagnostics]) from None
    try:
        values = axis_values(parsed.value)
    except ValueError as exc:
        raise SpecError(Diagnostic(where, "", str(exc))) from None
    return Axis(text.split("=", 1)[0].strip(), parsed.parts, tuple(values), (where,) * len(values), where)


def merge_axes(declared: Sequence[Axis], varied: Sequence[Axis]) -> list[Axis]:
    """The spec's axes with each ``--vary`` replacing the axis of the same key or added last."""
    axes = list(declared)
    for axis in varied:
        same = [i for i, a in enumerate(axes) if a.parts == axis.parts]
        if same:
            axes[same[0]] = axis
        else:
            axes.append(axis)
    return axes


def points(axes: Sequence[Axis], *, zipped: bool = False) -> list[tuple[int, ...]]:
    """The grid as value indices per axis: the product of the axes (the last varies fastest),
    or with ``zipped`` the i-th value of every axis together (the axes must be equally long)."""
    if not axes:
        return []
    if zipped:
        lengths = {len(a.values) for a in axes}
        if len(lengths) > 1:
            shown = ", ".join(f"{a.key} has {len(a.values)}" for a in axes)
            raise SpecError(Diagnostic(axes[0].where, "", f"--zip needs axes of equal length: {shown}"))
        return [(i,) * len(axes) for i in range(len(axes[0].values))]
    total = 1
    for axis in axes:
        total *= len(axis.values)
    if total > MAX_POINTS:
        raise SpecError(Diagnostic(axes[0].where, "", f"the sweep has {total} points, more than {MAX_POINTS}"))
    return list(itertools.product(*(range(len(a.values)) for a in axes)))
