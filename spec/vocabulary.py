"""The spec vocabulary as one JSON Schema (schema.json): loading it, finding the sub-schema
of a value, walking values with their schemas and applying the schema's defaults.

Keys, types, ranges and defaults live only in schema.json; Python reads them from here.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

from .yamlsrc import child_path

JSON_TYPES = {
    "integer": "a whole number",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "array": "a list",
    "object": "a map",
    "null": "null",
}


@functools.cache
def _schema_text() -> str:
    return resources.files(__package__).joinpath("schema.json").read_text(encoding="utf-8")


def load_schema() -> dict[str, Any]:
    """A fresh copy of the spec's JSON Schema (draft 2020-12)."""
    return json.loads(_schema_text())


@functools.cache
def cached_schema() -> dict[str, Any]:
    """The schema shared by the loader; never mutate it."""
    return load_schema()


def types_of(schema: dict[str, Any]) -> tuple[str, ...]:
    kind = schema.get("type", ())
    return (kind,) if isinstance(kind, str) else tuple(kind)


def matches_type(value: Any, kind: str) -> bool:
    """JSON Schema's notion of a value's type (bool is not a number; 2.0 is an integer)."""
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if kind == "number":
        return isinstance(value, int | float)
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return False


def child_schema(schema: dict[str, Any], key: str | int) -> dict[str, Any] | None:
    """The sub-schema for a map key or list index of a value described by ``schema``."""
    if isinstance(key, int):
        items = schema.get("items")
        return items if isinstance(items, dict) else None
    properties = schema.get("properties", {})
    if key in properties:
        return properties[key]
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else None


def walk(value: Any, schema: dict[str, Any], path: str = "$") -> Iterator[tuple[str, Any, dict[str, Any]]]:
    """Every value in ``value`` that the schema describes, as (JSON path, value, sub-schema)."""
    yield path, value, schema
    if isinstance(value, dict):
        for key, item in value.items():
            sub = child_schema(schema, key)
            if sub is not None:
                yield from walk(item, sub, child_path(path, key))
    elif isinstance(value, list):
        sub = child_schema(schema, 0)
        if sub is not None:
            for index, item in enumerate(value):
                yield from walk(item, sub, child_path(path, index))


def with_defaults(value: Any, schema: dict[str, Any] | None = None) -> Any:
    """A copy of ``value`` with every missing property that has a schema default filled in
    (recursively, so ``paper: {}`` gains size, landscape, margin and colour)."""
    schema = cached_schema() if schema is None else schema
    if value is None and schema.get("x-null") == "defaults":  # `- optimize:` means all defaults
        value = {}
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            sub = child_schema(schema, key)
            result[key] = with_defaults(item, sub) if sub is not None else copy.deepcopy(item)
        for key, sub in schema.get("properties", {}).items():
            if key not in result and "default" in sub:
                result[key] = with_defaults(copy.deepcopy(sub["default"]), sub)
        return result
    if isinstance(value, list):
        sub = child_schema(schema, 0)
        return [with_defaults(item, sub) if sub is not None else copy.deepcopy(item) for item in value]
    return value
