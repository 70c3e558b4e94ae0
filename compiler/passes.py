"""The compiler's passes, in the order they run (each a pure ``Context -> Context``)."""

from __future__ import annotations

from collections.abc import Callable

from .context import Context
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
    for step in passes:
        ctx = step(ctx)
    return ctx
