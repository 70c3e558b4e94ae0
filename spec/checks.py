"""Rules that span several values and need only the spec (no network tables, no files).

Each check reads the raw (schema-checked, not yet defaulted) data defensively: a value of
the wrong type was already reported by the schema, so it is skipped here, never crashed on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .errors import Diagnostic
from .locate import Locator
from .suggest import did_you_mean, one_of
from .units import UnitError, length_mm, page_size_mm
from .vocabulary import cached_schema, matches_type
from .yamlsrc import child_path


def _get(data: Any, *keys: str | int) -> Any:
    for key in keys:
        if isinstance(key, int):
            if not isinstance(data, list) or key >= len(data):
                return None
            data = data[key]
        else:
            if not isinstance(data, dict):
                return None
            data = data.get(key)
    return data


def _default(*keys: str) -> Any:
    node: Any = cached_schema()
    for key in keys:
        node = node["properties"][key]
    return node.get("default")


def _pens(data: Any) -> list[dict[str, Any]]:
    pens = _get(data, "pens")
    return [p if isinstance(p, dict) else {} for p in pens] if isinstance(pens, list) else []


def check_pen_ids(data: Any, locator: Locator) -> Iterator[Diagnostic]:
    """Pen ids are unique (they name layers and files)."""
    seen: dict[str, int] = {}
    for index, pen in enumerate(_pens(data)):
        pen_id = pen.get("id")
        if not isinstance(pen_id, str):
            continue
        path = f"$.pens[{index}].id"
        if pen_id in seen:
            first = locator.value(f"$.pens[{seen[pen_id]}].id")
            where = f" (first used at line {first.line})" if first.line else ""
            yield Diagnostic(locator.value(path), path, f"duplicate pen id {pen_id!r}{where}")
        else:
            seen[pen_id] = index


def check_pen_heights(data: Any, locator: Locator) -> Iterator[Diagnostic]:
    """A pen that goes down to where it is up never touches (or never leaves) the paper."""
    pen_schema = cached_schema()["properties"]["pens"]["items"]["properties"]
    for index, pen in enumerate(_pens(data)):
        down = pen.get("pen_pos_down", pen_schema["pen_pos_down"]["default"])
        up = pen.get("pen_pos_up", pen_schema["pen_pos_up"]["default"])
        if not (matches_type(down, "integer") and matches_type(up, "integer")) or down != up:
            continue
        key = "pen_pos_up" if "pen_pos_up" in pen else "pen_pos_down"
        path = f"$.pens[{index}].{key}"
        yield Diagnostic(locator.value(path), path, f"pen_pos_down and pen_pos_up are both {down}: the pen would never lift")


def check_pen_shares(data: Any, locator: Locator) -> Iterator[Diagnostic]:
    """strokes.pens names known pens, and the shares add up to something."""
    shares = _get(data, "strokes", "pens")
    if not isinstance(shares, dict):
        return
    ids = [p["id"] for p in _pens(data) if isinstance(p.get("id"), str)]
    path = "$.strokes.pens"
    for pen_id in shares:
        if ids and pen_id not in ids:
            sub = child_path(path, pen_id)
            yield Diagnostic(locator.key(sub), sub, f"{pen_id!r} is not one of the pens {one_of(ids)}{did_you_mean(pen_id, ids)}")
    numbers = [v for v in shares.values() if matches_type(v, "number")]
    if not shares:
        yield Diagnostic(locator.value(path), path, "strokes.pens is empty: give each pen a share, write 'learn', or leave it out for equal shares")
    elif len(numbers) == len(shares) and all(v >= 0 for v in numbers) and sum(numbers) <= 0:
        yield Diagnostic(locator.value(path), path, "the pen shares add up to 0: give at least one pen a share > 0")


def _ordered_pair(data: Any, locator: Locator, keys: tuple[str | int, ...], path: str, what: str) -> Iterator[Diagnostic]:
    value = _get(data, *keys)
    if isinstance(value, list) and len(value) == 2 and all(matches_type(v, "number") for v in value) and value[0] > value[1]:
        yield Diagnostic(locator.value(path), path, f"{what} [{value[0]}, {value[1]}] has min > max; write [min, max]")


def check_ranges(data: Any, locator: Locator) -> Iterator[Diagnostic]:
    """[min, max] pairs are in order."""
    yield from _ordered_pair(data, locator, ("strokes", "segments"), "$.strokes.segments", "segments")
    yield from _ordered_pair(data, locator, ("augment", "scale"), "$.augment.scale", "scale")


def check_paper(data: Any, locator: Locator) -> Iterator[Diagnostic]:
    """The margins leave a drawing area."""
    paper = _get(data, "paper")
    paper = paper if isinstance(paper, dict) else {}
    size = paper.get("size", _default("paper", "size"))
    margin = paper.get("margin", _default("paper", "margin"))
    try:
        width, height = page_size_mm(size)
        margin_mm = length_mm(margin)
    except UnitError:
        return  # reported where the value is parsed
    if margin_mm < 0 or 2 * margin_mm < min(width, height):
        return
    path = "$.paper.margin" if "margin" in paper else "$.paper.size"
    yield Diagnostic(
        locator.value(path), path,
        f"a margin of {margin_mm:g}mm on each side leaves no drawing area on {width:g} x {height:g}mm paper",
    )


CHECKS = (check_pen_ids, check_pen_heights, check_pen_shares, check_ranges, check_paper)


def check_all(data: Any, locator: Locator) -> Iterator[Diagnostic]:
    for check in CHECKS:
        yield from check(data, locator)
