"""The spec reference (docs/spec-reference.md), generated from schema.json.

Every key with its type, default, allowed range and description, section by section, so the
documentation can never drift from what the loader accepts. Regenerate with::

    python -m penspec.spec.reference > docs/spec-reference.md
"""

from __future__ import annotations

import json
import sys
from typing import Any

from .vocabulary import load_schema, types_of

_TYPE_NAMES = {
    "integer": "integer",
    "number": "number",
    "string": "string",
    "boolean": "boolean",
    "array": "list",
    "object": "map",
    "null": "null",
}
_PARSED = {
    "length": "length",
    "angle": "angle",
    "color": "colour",
    "page_size": "paper size",
    "weights": "weights",
    "objective": "expression",
    "pipeline": "vpype pipeline",
}


def _type(schema: dict[str, Any]) -> str:
    kinds = list(types_of(schema))
    parsed = _PARSED.get(schema.get("x-parse", ""))
    names = []
    for kind in kinds:
        if kind == "string" and parsed:
            names.append(parsed)
        elif kind == "array" and isinstance(schema.get("items"), dict) and "properties" not in schema["items"]:
            item = schema["items"]
            size = f"{schema['minItems']}" if schema.get("minItems") == schema.get("maxItems") and "minItems" in schema else ""
            names.append(f"[{_TYPE_NAMES.get(item.get('type'), item.get('type'))} x {size}]" if size else f"list of {_TYPE_NAMES.get(item.get('type'), 'items')}")
        elif kind == "number" and parsed:
            names.append("number (degrees)")
        else:
            names.append(_TYPE_NAMES.get(kind, kind))
    return " | ".join(names) if names else "any"


def _range(schema: dict[str, Any]) -> str:
    parts = []
    if "const" in schema:
        parts.append(f"= {json.dumps(schema['const'])}")
    if "enum" in schema:
        parts.append("one of " + ", ".join(json.dumps(v) for v in schema["enum"]))
    low = schema.get("minimum", schema.get("x-minimum-mm", schema.get("x-minimum-deg")))
    xlow = schema.get("exclusiveMinimum", schema.get("x-exclusiveMinimum-mm"))
    high = schema.get("maximum", schema.get("x-maximum-deg"))
    xhigh = schema.get("exclusiveMaximum")
    unit = "mm" if ("x-minimum-mm" in schema or "x-exclusiveMinimum-mm" in schema) else ("deg" if "x-minimum-deg" in schema else "")
    lower = f"{low}{unit} <=" if low is not None else f"{xlow}{unit} <" if xlow is not None else ""
    upper = f"<= {high}{unit}" if high is not None else f"< {xhigh}{unit}" if xhigh is not None else ""
    if lower or upper:
        parts.append(" ".join(p for p in (lower, "x", upper) if p))
    if "pattern" in schema:
        parts.append(f"matches `{schema['pattern']}`")
    if "minItems" in schema and schema.get("type") == "array":
        parts.append(f"at least {schema['minItems']} item(s)")
    if "minLength" in schema:
        parts.append("not empty")
    then = schema.get("then", {})
    if "const" in then:
        parts.append(f"string: only {json.dumps(then['const'])}")
    return "; ".join(parts)


def _default(schema: dict[str, Any]) -> str:
    if "default" not in schema:
        return "required" if schema.get("x-required") else "—"
    value = schema["default"]
    if value == {}:
        return "(all defaults)"
    return f"`{json.dumps(value)}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _rows(schema: dict[str, Any], prefix: str) -> list[str]:
    rows = []
    required = set(schema.get("required", ()))
    for key, sub in schema.get("properties", {}).items():
        name = f"{prefix}{key}"
        default = "**required**" if key in required else _default(sub)
        rows.append(f"| `{name}` | {_cell(_type(sub))} | {_cell(default)} | {_cell(_range(sub))} | {_cell(sub.get('description', ''))} |")
    return rows


def _table(schema: dict[str, Any], prefix: str = "") -> list[str]:
    return ["| Key | Type | Default | Allowed | Description |", "| --- | --- | --- | --- | --- |", *_rows(schema, prefix)]


def _section(title: str, intro: str, schema: dict[str, Any], prefix: str) -> list[str]:
    return [f"## {title}", "", intro, "", *_table(schema, prefix), ""]


def reference_markdown() -> str:
    """The whole reference as Markdown (deterministic: same schema, same text)."""
    schema = load_schema()
    props = schema["properties"]
    lines = [
        "# penspec spec reference",
        "",
        "<!-- generated from spec/schema.json by `python -m penspec.spec.reference`; do not edit -->",
        "",
        schema["description"],
        "",
        "Lengths are strings with a CSS unit and no space (`0.3mm`, `2cm`, `11in`, `12pt`, `96px`, `20m`);",
        "a bare number is an error. Angles are numbers of degrees or strings with a unit (`5deg`,",
        "`0.1rad`, `6grad`, `0.02turn`). Colours are SVG/CSS colours (`black`, `#1f4e9c`, `rgb(31, 78, 156)`),",
        "stored as `#rrggbb`. `[a, b]` pairs may also be written as one number meaning `[n, n]`.",
        "Unknown keys are errors. Any value can be overridden on the command line with",
        "`--set key.path=value` (e.g. `--set strokes.count=50`, `--set pens.0.width=0.5mm`).",
        "",
        "## Top level",
        "",
        "| Key | Type | Default | Allowed | Description |",
        "| --- | --- | --- | --- | --- |",
        *_rows({**schema, "properties": {k: v for k, v in props.items() if "properties" not in v and k not in ("pens", "stages")}}, ""),
        "",
    ]
    for key, sub in props.items():
        if "properties" in sub:
            lines += _section(f"`{key}`", sub["description"], sub, f"{key}.")
    pens = props["pens"]
    lines += _section("`pens[]`", f"{pens['description']} Each item:", pens["items"], "pens[].")
    stages = props["stages"]
    lines += [
        "## `stages[]`",
        "",
        f"{stages['description']} {stages['items']['description']} Default: `{json.dumps(stages['default'])}`.",
        "",
    ]
    for kind, sub in stages["items"]["properties"].items():
        lines += [f"### `{kind}`", "", sub["description"], "", *_table(sub, f"{kind}."), ""]
    lines += [
        "## Objective expressions",
        "",
        "A weighted sum or difference of terms; each term may be multiplied by a number on either side.",
        "Every term is a score the optimiser maximises (loss = -(weighted sum)).",
        "",
        "| Term | Meaning |",
        "| --- | --- |",
        "| `channel(NET:LAYER, C)` or `NET:LAYER:C` | mean activation of channel C |",
        "| `neuron(NET:LAYER, C)`, `neuron(NET:LAYER, C, x=0.25, y=0.5)` | one unit of channel C (default the centre; x, y fractions of the map) |",
        "| `layer(NET:LAYER)` | DeepDream: mean squared activation of the whole layer |",
        "| `diversity(NET:LAYER)` | negative mean pairwise cosine similarity of the views' Gram matrices |",
        "| `style(NET:LAYER, \"image.png\")` | negative Gram-matrix distance to the image (path relative to the spec) |",
        "| `tv` | total variation of the rendered image (a cost: give it a negative weight) |",
        "| `crowding` | strokes crossing the same 3 px cell, costed from 3 strokes up: knots of ink on paper (a cost: give it a negative weight, e.g. `- 1 * crowding`) |",
        "",
        "Example: `channel(vgg16:conv3_3, 37) - 1e-5 * tv + 0.5 * diversity(vgg16:conv3_3)`.",
        "NET is a registered network; LAYER a friendly alias (`conv3_3`, `layer3`) or a module path",
        "(`features.14`); both are checked by the compiler.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(reference_markdown())
