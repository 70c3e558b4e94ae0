"""Compile errors that point at the spec: a JSON path or a column inside the objective.

Every compile-time problem becomes a :class:`CompileError` holding a
:class:`~penspec.spec.errors.Diagnostic` whose location is the spec line (or the expression
column) the user has to change, and a message that says what is wrong and how to fix it.
"""

from __future__ import annotations

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

