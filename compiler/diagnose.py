"""Compile errors that point at the spec: a JSON path or a column inside the objective.

Every compile-time problem becomes a :class:`CompileError` holding a
:class:`~penspec.spec.errors.Diagnostic` whose location is the spec line (or the expression
column) the user has to change, and a message that says what is wrong and how to fix it.
"""

from __future__ import annotations

import difflib

from penspec.spec import expression_location
from penspec.spec.errors import CompileError, Diagnostic, Location
from penspec.spec.model import Spec


def location_of(spec: Spec, path: str) -> Location:
    """Where ``path`` (e.g. ``$.stages[1].tile``) came from, or at least the spec file."""
    return spec.where(path) or Location(spec.source)


def diagnostic_at(spec: Spec, path: str, message: str) -> Diagnostic:
    """A problem with the value at ``path``, located where the spec wrote it."""
    return Diagnostic(location_of(spec, path), path, message)


def diagnostic_at_column(spec: Spec, column: int, message: str) -> Diagnostic:
    """A problem at a 1-based column of the objective expression."""
    return Diagnostic(expression_location(spec, column), "$.objective", message)


def at_path(spec: Spec, path: str, message: str) -> CompileError:
    return CompileError(diagnostic_at(spec, path, message))


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.lower(), b.lower()).ratio()


def closest_first(name: str, options: list[str] | tuple[str, ...], limit: int | None = None) -> list[str]:
    """``options`` sorted by similarity to ``name`` (closest first), ties in their given order."""
    ranked = sorted(enumerate(options), key=lambda item: (-similarity(name, item[1]), item[0]))
    names = [opt for _, opt in ranked]
    return names[:limit] if limit else names


def known_list(name: str, options: list[str] | tuple[str, ...], limit: int = 12) -> str:
    """``"did you mean 'conv3_3'? known: conv3_3, conv3_2, ... (40 more)"``."""
    ranked = closest_first(name, options)
    hint = f"did you mean {ranked[0]!r}? " if ranked and similarity(name, ranked[0]) >= 0.6 else ""
    shown = ", ".join(ranked[:limit])
    more = f" ... ({len(ranked) - limit} more)" if len(ranked) > limit else ""
    return f"{hint}known: {shown}{more}"
