"""load() and load_text(): YAML text -> validated, defaulted, unit-resolved Spec.

The steps, in order: decode and parse the YAML keeping marks, apply ``--set`` overrides,
check against the schema, read lengths/angles/colours/the objective, run the cross-field
checks, and only when nothing was found build the frozen dataclasses. Every problem found
along the way is reported at once in one SpecError.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

from .build import build_spec
from .checks import check_all
from .errors import Diagnostic, Location, SpecError
from .locate import Locator
from .model import Spec
from .overrides import Override, apply_overrides
from .sweep import section_axes
from .validate import expression_locations, parse_diagnostics, schema_diagnostics
from .variables import resolve_vars
from .vocabulary import with_defaults
from .yamlsrc import decode, parse_yaml


def _unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple] = set()
    result = []
    for diagnostic in diagnostics:
        key = (diagnostic.location.file, diagnostic.location.line, diagnostic.location.column, diagnostic.path, diagnostic.message)
        if key not in seen:
            seen.add(key)
            result.append(diagnostic)
    return result


def load_text(
    text: str | bytes,
    source: str = "<string>",
    base_dir: str = ".",
    overrides: Sequence[str | Override] = (),
) -> Spec:
    """Load a spec from its text. ``source`` names it in messages (and gives the default
    title); ``base_dir`` is the folder relative paths in the spec resolve against."""
    parsed = parse_yaml(decode(text, source), source)
    data, placed = apply_overrides(parsed.data, overrides)
    data, rewrite, var_problems = resolve_vars(data, Locator(parsed, placed))
    locator = Locator(parsed, placed, {"$.objective": rewrite} if rewrite else {})
    reported = {d.path for d in parsed.diagnostics}
    if any(d.path == "$.objective" for d in var_problems):  # an unknown $name would read as a stray '$' too: say it once
        reported.add("$.objective")
    diagnostics = list(parsed.diagnostics) + var_problems
    for found in (schema_diagnostics(data, locator), parse_diagnostics(data, locator), check_all(data, locator)):
        diagnostics.extend(d for d in found if d.path not in reported)
    axes: list = []
    if isinstance(data.get("sweep"), dict):
        axes, problems = section_axes(data["sweep"], locator.value, locator.key)
        diagnostics.extend(d for d in problems if d.path not in reported)
    if diagnostics:
        raise SpecError(_unique(diagnostics))
    spec = build_spec(with_defaults(data), source=source, base_dir=base_dir, locations=locator.locations())
    positions = expression_locations(data["objective"], "$.objective", locator)
    return dataclasses.replace(spec, expression_locations=positions, sweep=tuple(axes))


def load(path: str | os.PathLike, overrides: Sequence[str | Override] = ()) -> Spec:
    """Load the spec file at ``path`` (relative paths inside it resolve against its folder)."""
    name = os.fspath(path)
    try:
        data = Path(name).read_bytes()
    except FileNotFoundError:
        raise SpecError(Diagnostic(Location(name), "", "no such spec file")) from None
    except IsADirectoryError:
        raise SpecError(Diagnostic(Location(name), "", "is a folder, not a spec file")) from None
    except OSError as exc:
        raise SpecError(Diagnostic(Location(name), "", f"cannot read the spec: {exc.strerror or exc}")) from None
    return load_text(data, source=name, base_dir=str(Path(name).parent), overrides=overrides)


def expression_location(spec: Spec, column: int) -> Location:
    """The file:line:col of a 1-based column inside ``spec.objective.expression``."""
    positions = spec.expression_locations
    if not positions:
        return spec.where("$.objective") or Location(spec.source)
    return positions[min(max(column - 1, 0), len(positions) - 1)]
