"""``--set key.path=value`` overrides, applied to the raw spec data before validation.

``strokes.count=50``, ``pens.0.width=0.5mm``, ``stages.0.optimize.steps=10``: the value is
read as YAML (so ``10`` is a number and ``[4, 4]`` a list), missing maps are created (from
the schema's default when it has one, so ``stages.0...`` reaches the default stage list), and
every value set is located at the override itself: ``--set strokes.count=abc``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import Diagnostic, Location, SpecError
from .vocabulary import child_schema, cached_schema
from .yamlsrc import child_path, parse_yaml

_SEGMENT_RE = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_-]*|\d+)$")


@dataclass(frozen=True)
class Override:
    """One parsed ``key.path=value``: the key path (names and list indices) and the value."""

    text: str
    parts: tuple[str | int, ...]
    value: Any
    origin: Location | None = None  # where the value was written when not on a --set (a sweep's line)

    @property
    def location(self) -> Location:
        return self.origin or Location(f"--set {self.text}")

    @property
    def path(self) -> str:
        path = "$"
        for part in self.parts:
            path = child_path(path, part)
        return path


def parse_override(text: str) -> Override:
    """Split and read one override; a SpecError located at the override when malformed."""
    where = Location(f"--set {text}")
    if not isinstance(text, str) or "=" not in text:
        raise SpecError(Diagnostic(where, "", f"an override is key.path=value (e.g. strokes.count=50), got {text!r}"))
    key, raw = text.split("=", 1)
    key = key.strip()
    segments = key.split(".") if key else []
    if not segments or any(not _SEGMENT_RE.match(s) for s in segments):
        raise SpecError(Diagnostic(where, "", f"bad key path {key!r}: use names and list indices joined by dots, e.g. pens.0.width"))
    if segments[0].isdigit():
        raise SpecError(Diagnostic(where, "", f"bad key path {key!r}: it must start with a top-level key such as strokes or pens"))
    parts = tuple(int(s) if s.isdigit() else s for s in segments)
    if raw.lstrip().startswith("#"):
        # YAML would read "#1f4e9c" as a comment (null); on a command line it means the colour.
        return Override(text, parts, raw.strip())
    try:
        value = parse_yaml(raw, where.file, top="any")
    except SpecError as exc:
        raise SpecError([Diagnostic(where, "", f"cannot read the value {raw!r}: {d.message}") for d in exc.diagnostics]) from None
    if value.diagnostics:
        raise SpecError([Diagnostic(where, "", f"cannot read the value {raw!r}: {d.message}") for d in value.diagnostics])
    return Override(text, parts, value.data)


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"the string {value!r}"
    return f"the value {value!r}"


def _apply_one(data: dict[str, Any], override: Override) -> None:
    node: Any = data
    schema: dict[str, Any] | None = cached_schema()
    path = "$"
    for depth, part in enumerate(override.parts):
        last = depth == len(override.parts) - 1
        sub_schema = child_schema(schema, part) if schema is not None else None
        if isinstance(node, dict):
            key = str(part)
            if last:
                node[key] = copy.deepcopy(override.value)
                return
            if key not in node or node[key] is None:
                default = sub_schema.get("default") if sub_schema is not None else None
                nxt = override.parts[depth + 1]
                if isinstance(default, list | dict) and isinstance(nxt, int) == isinstance(default, list):
                    node[key] = copy.deepcopy(default)
                elif isinstance(nxt, int):
                    raise SpecError(Diagnostic(override.location, child_path(path, key), f"cannot set item {nxt}: {child_path(path, key)} is not in the spec"))
                else:
                    node[key] = {}
            node = node[key]
        elif isinstance(node, list):
            if not isinstance(part, int):
                raise SpecError(Diagnostic(override.location, path, f"{path} is a list: use an index such as {path.removeprefix('$.')}.0, not {part!r}"))
            if part >= len(node):
                raise SpecError(Diagnostic(override.location, path, f"index {part} is out of range: {path} has {len(node)} item{'s' * (len(node) != 1)}"))
            if last:
                node[part] = copy.deepcopy(override.value)
                return
            node = node[part]
        else:
            raise SpecError(Diagnostic(override.location, path, f"cannot set {part!r} inside {path}: it holds {_describe(node)}, not a map"))
        path = child_path(path, part)
        schema = sub_schema


def apply_overrides(data: Any, overrides: Sequence[str | Override]) -> tuple[Any, dict[str, Location]]:
    """The data with every override applied in order (``key.path=value`` strings or parsed
    :class:`Override` values), and the JSON path each override set (mapped to its location).
    Raises SpecError naming every malformed override."""
    if isinstance(overrides, str):
        overrides = (overrides,)
    if not overrides:
        return data, {}
    data = copy.deepcopy(data)
    placed: dict[str, Location] = {}
    diagnostics: list[Diagnostic] = []
    for text in overrides:
        try:
            override = text if isinstance(text, Override) else parse_override(text)
            if not isinstance(data, dict):
                raise SpecError(Diagnostic(override.location, "$", "the spec is not a mapping"))
            _apply_one(data, override)
        except SpecError as exc:
            diagnostics.extend(exc.diagnostics)
            continue
        placed = {p: loc for p, loc in placed.items() if not _within(p, override.path)}
        placed[override.path] = override.location
    if diagnostics:
        raise SpecError(diagnostics)
    return data, placed


def _within(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")


def override_location(path: str, placed: dict[str, Location]) -> Location | None:
    """The override that set ``path`` or one of its parents, if any."""
    best = None
    for prefix, location in placed.items():
        if _within(path, prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, location)
    return best[1] if best else None
