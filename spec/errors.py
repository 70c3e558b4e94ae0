"""penspec's exception root and its categories.

Every error that a user's input can cause is a :class:`PenspecError`. Each category also
subclasses the matching stdlib type, so callers that only know Python still catch it:

- :class:`SpecError` (and :class:`CompileError`): the spec, an override or the objective is
  invalid; every problem with its file:line:col.
- :class:`UsageError`: a command was given something it cannot use (a folder that is not a
  build, a layer or pen the build does not have, a file in a build that penspec did not write).
- :class:`MissingResourceError`: something the work needs is absent (weights, an image,
  pyaxidraw, a renderer backend).
- :class:`OutputFolderError`: the output folder cannot take the build without touching files
  penspec did not write.
- :class:`StageError`: a build stage failed; :class:`EmitError`: an emitter could not write
  what it was given.

Invariants of penspec's own (a plan that names a network the runtime lacks) are plain Python
errors: they are bugs, not something the user can fix. Only the CLI turns errors into messages
and exit codes (penspec.runtime.cli.exits holds the table).
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_SHOWN = 20


@dataclass(frozen=True, order=True)
class Location:
    """Where something came from: a file (or an override like ``--set strokes.count=3``),
    a 1-based line and column, and the source line for the caret display."""

    file: str
    line: int = 0
    column: int = 0
    source_line: str = ""

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem found in a spec: where, the JSON path (``$.pens[0].width``) and a message."""

    location: Location
    path: str
    message: str

    def render(self) -> str:
        head = f"{self.location}: {self.path}: {self.message}" if self.path else f"{self.location}: {self.message}"
        src = self.location.source_line
        if not src or not self.location.column:
            return head
        caret = " " * (self.location.column - 1) + "^"
        return f"{head}\n    {src}\n    {caret}"


class PenspecError(Exception):
    """Root of every error penspec raises on purpose."""


class SpecError(PenspecError, ValueError):
    """The spec (file, override or expression) is invalid. Holds every diagnostic, sorted."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = sorted(diagnostics)
        super().__init__(self.render())

    def render(self, limit: int = MAX_SHOWN) -> str:
        shown = [d.render() for d in self.diagnostics[:limit]]
        extra = len(self.diagnostics) - limit
        if extra > 0:
            shown.append(f"... and {extra} more")
        return "\n".join(shown)


class CompileError(SpecError):
    """The spec is well-formed but cannot be compiled (unknown layer, impossible tiling, ...)."""


class UsageError(PenspecError, ValueError):
    """A command was given something it cannot use: a folder that is not a build, a layer or
    pen the build does not have, nothing to resume, or a file in a build folder (plan.json, the
    layered SVG) that is not what penspec wrote. ``location`` points into that file when known."""

    def __init__(self, message: str, location: Location | None = None):
        self.location = location
        self.message = message
        super().__init__(f"{location}: {message}" if location else message)


class MissingResourceError(PenspecError, FileNotFoundError):
    """Something the build needs is absent (network weights offline, an image, pyaxidraw)."""


class OutputFolderError(PenspecError, FileExistsError):
    """The output folder cannot take this build without touching files penspec did not write."""


class StageError(PenspecError, RuntimeError):
    """A failure inside a build stage, re-raised with the stage and its spec origin."""

    def __init__(self, stage: str, origin: Location | None, cause: BaseException):
        self.stage = stage
        self.origin = origin
        self.cause = cause
        where = f" ({origin})" if origin else ""
        super().__init__(f"stage {stage}{where} failed: {type(cause).__name__}: {cause}")


class EmitError(PenspecError, RuntimeError):
    """An emitter could not write what it was given: a scene that does not fit the plan, or a
    travel pipeline that vpype read but failed to run."""
