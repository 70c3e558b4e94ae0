"""``vars:`` and ``$name``: named values the objective refers to, substituted before it is read.

``vars: {channel: 37}`` with ``objective: "channel(vgg16:conv3_3, $channel)"`` reads as
``channel(vgg16:conv3_3, 37)``: the plan, the fingerprints and the build are exactly those of the
spec written out. Each character of the rewritten objective keeps a source: characters of the
original text keep theirs, characters that came from a variable point at where the variable's
value was set (the ``vars:`` entry, a ``--set vars.channel=600`` or a sweep's line), so an
error such as a channel out of range is shown there. A ``$name`` that no variable declares and
a variable that the objective never uses are errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import Diagnostic
from .suggest import did_you_mean
from .yamlsrc import child_path

VAR_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
VARS_PATH = "$.vars"
OBJECTIVE_PATH = "$.objective"


@dataclass(frozen=True)
class Rewrite:
    """The objective as written and, per character of the rewritten text, where it came from:
    an index into the original, or the JSON path of the variable whose value it is part of."""

    original: str
    sources: tuple[int | str, ...]


def render_value(value: Any) -> str:
    """A variable's value as it is written into the expression (floats as Python's shortest
    round-trip form, e.g. 1e-05)."""
    return repr(value) if isinstance(value, float) else str(value)


def _usable(value: Any) -> bool:
    return isinstance(value, int | float | str) and not isinstance(value, bool)


def substitute(text: str, values: dict[str, Any]) -> tuple[str, Rewrite]:
    """``text`` with every ``$name`` of ``values`` replaced; unknown names are left as written."""
    out: list[str] = []
    sources: list[int | str] = []
    at = 0
    for match in VAR_RE.finditer(text):
        name = match.group(1)
        if name not in values:
            continue
        out.append(text[at:match.start()])
        sources.extend(range(at, match.start()))
        shown = render_value(values[name])
        out.append(shown)
        sources.extend([child_path(VARS_PATH, name)] * len(shown))
        at = match.end()
    out.append(text[at:])
    sources.extend(range(at, len(text)))
    return "".join(out), Rewrite(text, tuple(sources))


def used_names(text: str) -> list[tuple[str, int]]:
    """Every ``$name`` in ``text`` with its 0-based offset."""
    return [(m.group(1), m.start()) for m in VAR_RE.finditer(text)]


def resolve_vars(data: Any, locator) -> tuple[Any, Rewrite | None, list[Diagnostic]]:
    """The data with the objective's variables substituted, the rewrite (None when the objective
    was left alone) and the problems: unknown ``$name``\\ s at their column, unused variables at
    their key. Values of the wrong type are the schema's to report; they are not substituted."""
    if not isinstance(data, dict):
        return data, None, []
    declared = data.get("vars")
    declared = declared if isinstance(declared, dict) else {}
    objective = data.get("objective")
    diagnostics: list[Diagnostic] = []
    if not isinstance(objective, str):
        return data, None, diagnostics
    from .validate import expression_locations

    used = used_names(objective)
    where = None
    for name, offset in used:
        if name not in declared:
            where = where or expression_locations(objective, OBJECTIVE_PATH, locator)
            if declared:
                hint = f"{did_you_mean(name, declared)}; declared: {', '.join('$' + n for n in declared)}"
            else:
                hint = f"; declare it under vars: (vars: {{{name}: ...}})"
            diagnostics.append(Diagnostic(where[offset], OBJECTIVE_PATH, f"unknown variable ${name}{hint}"))
    names = {name for name, _ in used}
    for name in declared:
        if name not in names:
            path = child_path(VARS_PATH, name)
            diagnostics.append(Diagnostic(locator.key(path), path, f"variable {name!r} is never used: the objective has no ${name}"))
    values = {k: v for k, v in declared.items() if _usable(v) and k in names}
    if not values:
        return data, None, diagnostics
    text, rewrite = substitute(objective, values)
    return {**data, "objective": text}, rewrite, diagnostics
