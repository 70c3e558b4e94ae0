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
  penspec did not write; :class:`FolderBusyError`: another build or plot is writing there.
- :class:`StageError`: a build stage failed; :class:`EmitError`: an emitter could not write
  what it was given; :class:`WriteError`: a file could not be written (full disk, read-only
  folder), naming the file.

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


class FolderBusyError(OutputFolderError):
    """Another penspec command (a build, a plot) is writing into the folder right now."""


class NotEnoughMemoryError(PenspecError):
    """The plan's memory estimate for a stage exceeds what the device has available: refused
    before anything is loaded or written (``penspec build --ignore-memory`` builds anyway)."""


class WriteError(PenspecError, OSError):
    """A file could not be written: the disk is full, the folder is read-only or not ours to
    write. The file being replaced, if any, is left as it was (writes are atomic)."""

    def __init__(self, path, cause: OSError):
        import errno

        self.path = path
        self.cause = cause
        why = cause.strerror or str(cause) or type(cause).__name__
        code = errno.errorcode.get(cause.errno or 0)
        if cause.errno == errno.ENOSPC or cause.errno == getattr(errno, "EDQUOT", -1):
            hint = "free some space and build again: finished stages are kept"
        elif cause.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            hint = "make the folder writable, or build into another folder with -o"
        else:
            hint = "the file it would replace is unchanged"
        super().__init__(f"cannot write {path}: {why}{f' ({code})' if code else ''}; {hint}")
        self.errno, self.strerror, self.filename = cause.errno, cause.strerror, str(path)

    def __str__(self) -> str:  # OSError's own str() would show the errno tuple
        return self.args[0]


class StageError(PenspecError, RuntimeError):
    """A failure inside a build stage, re-raised with the stage and its spec origin."""

    def __init__(self, stage: str, origin: Location | None, cause: BaseException):
        self.stage = stage
        self.origin = origin
        self.cause = cause
        where = f" ({origin})" if origin else ""
        super().__init__(f"stage {stage}{where} failed: {type(cause).__name__}: {cause}")


class StageOutOfMemoryError(StageError):
    """A stage step ran out of memory (torch's allocator, CPU or CUDA): which stage and step,
    the checkpoint that is kept, what to lower and the command that continues."""

    def __init__(self, stage: str, origin: Location | None, cause: BaseException, *, step: int, steps: int,
                 checkpoint_step: int, resume: str):
        super().__init__(stage, origin, cause)
        self.step, self.checkpoint_step, self.resume = step, checkpoint_step, resume
        where = f" ({origin})" if origin else ""
        kept = f"its checkpoint at step {checkpoint_step} is kept" if checkpoint_step else "no checkpoint was made yet"
        self.args = (f"stage {stage}{where} ran out of memory at step {step + 1} of {steps} ({type(cause).__name__}); {kept}; "
                     f"free memory or lower the canvas, views, strokes or crop, then continue with: {resume}",)


class EmitError(PenspecError, RuntimeError):
    """An emitter could not write what it was given: a scene that does not fit the plan, or a
    travel pipeline that vpype read but failed to run."""
