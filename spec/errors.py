"""penspec's exception root and its categories.

Every error that a user's input can cause is a :class:`PenspecError`. Each category also
subclasses the matching stdlib type, so callers that only know Python still catch it.
Only the CLI turns these into messages and exit codes (2 for bad input, 1 for internal errors).
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
