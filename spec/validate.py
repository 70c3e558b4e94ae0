"""Checking raw spec data against the schema, with friendly messages at the right place.

jsonschema's Draft202012Validator finds every structural problem at once; each one is
rewritten into a message a user understands (``unknown key 'cavnas' (did you mean
'canvas'?)``) and placed at the key (unknown keys) or the value (everything else). Values
with an ``x-parse`` kind in the schema (lengths, angles, paper sizes, colours, weights, the
objective, the vpype pipeline) are then read with their parsers, and :mod:`.checks` adds the cross-field rules.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import jsonschema

from .errors import Diagnostic
from .expression import ExpressionError, objective_from_text
from .locate import Locator
from .pipeline import pipeline_problem
from .positions import scalar_locations
from .suggest import did_you_mean, one_of
from .units import UnitError, angle_deg, color_hex, length_mm, page_size_mm
from .vocabulary import JSON_TYPES, cached_schema, matches_type, types_of, walk
from .yamlsrc import child_path

WEIGHT_NAMES = ("imagenet", "random")
WEIGHT_SUFFIXES = (".pth", ".pt")


@functools.cache
def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(cached_schema())


def _json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path = child_path(path, part)
    return path


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a map"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {shown!r}"
    return f"{value!r}"


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else repr(value)


def _type_message(error: jsonschema.ValidationError) -> str:
    schema = error.schema
    kinds = types_of(schema)
    value = error.instance
    parse = schema.get("x-parse")
    if parse == "length" and isinstance(value, int | float) and not isinstance(value, bool):
        return f"the length {_number(value)} needs a unit, e.g. '{_number(value)}mm'"
    if parse == "length":
        wanted = "a length with a unit such as '0.3mm'" + (" or null" if "null" in kinds else "")
    elif parse == "color":
        wanted = "a colour such as 'black' or '#1f4e9c'"
    elif kinds == ("integer", "array") or kinds == ("integer", "array", "null"):
        wanted = "a whole number or a list [a, b]" + (" or null" if "null" in kinds else "")
    elif kinds == ("number", "array"):
        wanted = "a number or a list [a, b]"
    else:
        names = [JSON_TYPES.get(k, k) for k in kinds]
        wanted = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    if value is None and kinds == ("object",):
        needed = ", ".join(repr(k) for k in schema.get("required", ()))
        return f"is empty: expected a map with {needed}" if needed else "is empty: expected a map"
    if "integer" in kinds and isinstance(value, float) and not isinstance(value, bool):
        return f"expected {wanted}, got {_number(value)}"
    return f"expected {wanted}, got {_shown(value)}"


def _friendly(error: jsonschema.ValidationError) -> str:
    kind = error.validator
    value = error.instance
    limit = error.validator_value
    custom = error.schema.get("x-messages", {}).get(kind) if isinstance(error.schema, dict) else None
    if custom:  # the schema's own wording; {value} and {hint} are filled in
        candidates = [str(limit)] if kind == "const" else []
        return custom.format(value=_shown(value), hint=did_you_mean(value, candidates))
    if kind == "type":
        return _type_message(error)
    if kind == "minimum":
        return f"{_number(value)} is less than the minimum of {_number(limit)}"
    if kind == "maximum":
        return f"{_number(value)} is more than the maximum of {_number(limit)}"
    if kind == "exclusiveMinimum":
        return f"{_number(value)} must be greater than {_number(limit)}"
    if kind == "exclusiveMaximum":
        return f"{_number(value)} must be less than {_number(limit)}"
    if kind == "const":
        if error.absolute_path and list(error.absolute_path) == ["penspec"]:
            return f"unsupported language version {_shown(value)}; this penspec reads penspec: {limit}"
        return f"{_shown(value)} is not {limit!r}{did_you_mean(value, [str(limit)])}"
    if kind == "enum":
        return f"{_shown(value)} is not one of {one_of(map(str, limit))}{did_you_mean(value, map(str, limit))}"
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"missing required key {missing!r} ({cached_description(error.schema, missing)})"
    if kind == "minItems":
        return f"expected at least {limit} item{'s' * (limit != 1)}, got {len(value)}"
    if kind == "maxItems":
        pair = error.schema.get("minItems") == limit
        return f"expected exactly {limit} items, got {len(value)}" if pair else f"expected at most {limit} items, got {len(value)}"
    if kind == "minLength":
        return "must not be empty"
    if kind == "maxLength":
        return f"is longer than {limit} characters"
    if kind == "pattern":
        return f"{value!r} is not a valid name: use letters, digits, '_' and '-', starting with a letter"
    return error.message


def _quote_hint(error: jsonschema.ValidationError, path: str, locator: Locator) -> str:
    """YAML turns some bare words into non-strings (no -> false, 1e5 -> a number): say so."""
    if error.validator != "type" or "string" not in types_of(error.schema) or isinstance(error.instance, str):
        return ""
    if error.schema.get("x-parse") in ("length", "angle", "color"):  # their own message says what to write
        return ""
    node = locator.parsed.nodes.get(path)
    if node is None or node.style or path in locator.placed or isinstance(error.instance, list | dict):
        return ""
    return f" (YAML reads {node.value!r} as {_shown(error.instance)}; quote it to keep it text: \"{node.value}\")"


def cached_description(schema: dict[str, Any], key: str) -> str:
    """The first clause of a property's description, for 'missing key' messages."""
    description = schema.get("properties", {}).get(key, {}).get("description", "")
    for stop in (":", ";", ". ", " ("):
        description = description.split(stop)[0]
    description = description.rstrip(".")
    return description[:1].lower() + description[1:] if description else "see the spec reference"


def schema_diagnostics(data: Any, locator: Locator) -> Iterator[Diagnostic]:
    """Every schema violation as a located, friendly diagnostic."""
    for error in validator().iter_errors(data):
        path = _json_path(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = list(error.schema.get("properties", {}))
            for key in error.instance:
                if key in known:
                    continue
                sub = child_path(path, key)
                hint = did_you_mean(key, known)
                tail = hint if hint else f"; known keys here: {one_of(known)}"
                yield Diagnostic(locator.key(sub), sub, f"unknown key {key!r}{tail}")
        elif error.validator == "propertyNames":
            sub = child_path(path, error.instance)
            yield Diagnostic(locator.key(sub), sub, f"{error.instance!r} is not a valid pen id: use letters, digits, '_' and '-', starting with a letter")
        else:
            yield Diagnostic(locator.value(path), path, _friendly(error) + _quote_hint(error, path, locator))


def _check_length(value: Any, schema: dict[str, Any]) -> None:
    mm = length_mm(value)
    low = schema.get("x-minimum-mm")
    if low is not None and mm < low:
        raise UnitError(f"{value!r} is less than the minimum of {low}mm")
    low = schema.get("x-exclusiveMinimum-mm")
    if low is not None and mm <= low:
        raise UnitError(f"{value!r} must be greater than {low}mm")


def _check_angle(value: Any, schema: dict[str, Any]) -> None:
    degrees = angle_deg(value)
    low, high = schema.get("x-minimum-deg"), schema.get("x-maximum-deg")
    if low is not None and degrees < low:
        raise UnitError(f"{value!r} is less than the minimum of {low} degrees")
    if high is not None and degrees > high:
        raise UnitError(f"{value!r} is more than the maximum of {high} degrees")


def _check_weights(value: Any, schema: dict[str, Any]) -> None:
    if value in WEIGHT_NAMES or str(value).lower().endswith(WEIGHT_SUFFIXES):
        return
    hint = did_you_mean(value, WEIGHT_NAMES)
    raise UnitError(f"weights must be 'imagenet', 'random' or a .pth file path, got {value!r}{hint}")


_PARSERS: dict[str, Callable[[Any, dict[str, Any]], None]] = {
    "length": _check_length,
    "angle": _check_angle,
    "page_size": lambda value, schema: page_size_mm(value),
    "color": lambda value, schema: color_hex(value),
    "weights": _check_weights,
}


def _typed(value: Any, schema: dict[str, Any]) -> bool:
    kinds = types_of(schema)
    return not kinds or any(matches_type(value, k) for k in kinds)


def parse_diagnostics(data: Any, locator: Locator) -> Iterator[Diagnostic]:
    """Values with an ``x-parse`` kind, read with their parsers (the schema only checked that
    they are strings); the objective and the vpype pipeline are located character by character."""
    for path, value, schema in walk(data, cached_schema()):
        parse = schema.get("x-parse")
        if parse is None or value is None or not _typed(value, schema):
            continue
        if parse == "objective":
            if isinstance(value, str):
                yield from objective_diagnostics(value, path, locator)
            continue
        if parse == "pipeline":
            problem = pipeline_problem(value) if isinstance(value, str) else None
            if problem:
                offset, message = problem
                yield Diagnostic(expression_locations(value, path, locator)[min(offset, len(value))], path, message)
            continue
        try:
            _PARSERS[parse](value, schema)
        except UnitError as exc:
            yield Diagnostic(locator.value(path), path, str(exc))


def objective_diagnostics(text: str, path: str, locator: Locator) -> Iterator[Diagnostic]:
    try:
        objective_from_text(text)
    except ExpressionError as exc:
        yield Diagnostic(expression_locations(text, path, locator)[min(max(exc.column - 1, 0), len(text))], path, exc.message)


def expression_locations(text: str, path: str, locator: Locator) -> tuple:
    """The location of each character of the objective (plus one past the end)."""
    node = locator.parsed.nodes.get(path)
    if path in locator.placed or node is None or node.value != text:
        where = locator.value(path)
        return (where,) * (len(text) + 1)
    return scalar_locations(node, locator.parsed.source)
