"""The compiler's passes, in the order they run (each a pure ``Context -> Context``).

A pass raises :class:`~penspec.spec.errors.CompileError` with every problem it found; the
runner records it and goes on, so one run reports the problems of independent parts (a bad
tiling and a pen too thin) together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from penspec.spec.errors import CompileError, Diagnostic

from .context import Context, NeedsFailedPass
from .defaults import resolve_defaults
from .estimate import estimate
from .fingerprint import fingerprint
from .layers import resolve_layers
from .mapping import physical_mapping
from .pens import assign_pens
from .stages import expand_stages

Pass = Callable[[Context], Context]

PASSES: tuple[Pass, ...] = (
    resolve_defaults,
    resolve_layers,
    expand_stages,
    assign_pens,
    physical_mapping,
    fingerprint,
    estimate,
)


def run_passes(ctx: Context, passes: tuple[Pass, ...] = PASSES) -> Context:
    """Run the passes in order. A pass that finds errors does not stop the others: every later
    pass still checks what does not depend on the failed one, and all errors are raised together."""
    diagnostics: list[Diagnostic] = []
    for step in passes:
        try:
            ctx = step(ctx)
        except CompileError as exc:
            diagnostics.extend(exc.diagnostics)
            ctx = replace(ctx, failed=ctx.failed + (step.__name__,))
        except NeedsFailedPass:
            continue
    if diagnostics:
        raise CompileError(diagnostics)
    return ctx
