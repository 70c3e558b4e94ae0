"""penspec's spec language: YAML spec files -> validated, unit-resolved :class:`Spec` values.

Public API::

    load(path, overrides=())                  # a spec file (+ "--set key.path=value" strings)
    load_text(text, source, base_dir, overrides)
    expression_location(spec, column)         # file:line:col of a column in the objective
    parse_expression(text)                    # an objective expression on its own
    schema()                                  # the JSON Schema (draft 2020-12)
    reference_markdown()                      # the spec reference, generated from the schema

Every problem in a spec raises :class:`SpecError` holding all diagnostics at once.
This package never imports torch.
"""

from __future__ import annotations

from typing import Any

from .errors import CompileError, Diagnostic, Location, PenspecError, SpecError
from .expression import parse_expression
from .loader import expression_location, load, load_text
from .model import Objective, Spec, Term
from .vocabulary import load_schema


def schema() -> dict[str, Any]:
    """The spec's JSON Schema (draft 2020-12), freshly loaded (safe to modify)."""
    return load_schema()


def reference_markdown() -> str:
    """The spec reference (every key, type, default, range, description) as Markdown."""
    from .reference import reference_markdown as render

    return render()


__all__ = [
    "CompileError",
    "Diagnostic",
    "Location",
    "Objective",
    "PenspecError",
    "Spec",
    "SpecError",
    "Term",
    "expression_location",
    "load",
    "load_text",
    "parse_expression",
    "reference_markdown",
    "schema",
]
