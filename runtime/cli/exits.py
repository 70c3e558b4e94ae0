"""penspec's exit codes: the one table every command exits by.

Commands return an :class:`Exit` (or nothing, for success) and raise penspec errors; only
:func:`penspec.runtime.cli.main` turns either into the process's exit status, through
:func:`exit_for`. The README's table is :func:`markdown_table`'s output (a test checks).
"""

from __future__ import annotations

from enum import IntEnum

from penspec.spec.errors import MissingResourceError, NotEnoughMemoryError, OutputFolderError, SpecError, UsageError


class Exit(IntEnum):
    OK = 0
    FAILED = 1
    INPUT = 2
    PLOT_STOPPED = 3
    NO_PLOTTER = 4
    INTERRUPTED = 130


MEANINGS: dict[Exit, str] = {
    Exit.OK: "done",
    Exit.FAILED: "something failed that the input does not explain: a golden-file mismatch or a missing "
    "golden (`penspec test`), a required part missing (`penspec doctor`), a build stage or an emitter "
    "that failed (running out of memory included: the message says how to `--resume`), a file that could not be written (a full disk, a read-only folder: the file it would replace is "
    "kept), an internal error (PENSPEC_DEBUG=1 shows its traceback)",
    Exit.INPUT: "a user mistake: an invalid spec or `--set` override (each problem with file:line:col), an "
    "unknown option or a bad argument, a folder that is not a build, a layer or pen the build does not "
    "have, nothing to resume, a missing file, style image, weights file or pyaxidraw, an output folder that "
    "holds files penspec did not write (without `--into-existing`), an output folder another build or plot is "
    "writing into (`--wait` waits for it), a build whose memory estimate exceeds the device's available memory "
    "(`penspec build` names the stage and what to lower; `--ignore-memory` builds anyway)",
    Exit.PLOT_STOPPED: "a plotted layer stopped early (the pause button, or pyaxidraw reported an error); "
    "`penspec plot --resume` (or `plot.py --resume`) finishes it",
    Exit.NO_PLOTTER: "no AxiDraw answered on USB, or its connection was lost mid-layer (`penspec plot`, plot.py): "
    "check the cable, the power supply and the port; nothing was plotted, or `--resume` finishes the layer",
    Exit.INTERRUPTED: "stopped by the user: Ctrl-C, or no pen loaded at a pen prompt",
}

# The error categories a user causes and fixes: exit 2, the message alone, never a traceback.
INPUT_ERRORS: tuple[type[BaseException], ...] = (SpecError, UsageError, MissingResourceError, OutputFolderError, NotEnoughMemoryError)


def exit_for(exc: BaseException) -> Exit:
    """The exit code for an error that reached the CLI (click's own errors are handled there)."""
    if isinstance(exc, KeyboardInterrupt):
        return Exit.INTERRUPTED
    if isinstance(exc, INPUT_ERRORS):
        return Exit.INPUT
    return Exit.FAILED


def markdown_table() -> str:
    """The table as the README shows it."""
    rows = ["| code | meaning |", "|---|---|"]
    rows += [f"| {code.value} | {MEANINGS[code]} |" for code in Exit]
    return "\n".join(rows) + "\n"
