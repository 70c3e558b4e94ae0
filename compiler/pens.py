"""Pass 4, assign pens: how the stroke budget is split between the pens.

With fixed shares each pen gets a whole number of the initial strokes by the largest-remainder
method (quotas rounded down, the leftovers to the largest fractional parts, ties in pen order),
so the counts always add up to ``strokes.count``. With ``strokes.pens: learn`` every stroke
starts undecided (equal soft shares) and an ``assign_pens`` stage picks each stroke's pen (the
stages pass appends one when the spec has none). ``assign_pens`` without ``learn`` is an error.
"""

from __future__ import annotations

import math
from dataclasses import replace

from penspec.spec.errors import CompileError, Diagnostic
from penspec.spec.model import AssignPensStage
from penspec.spec.suggest import known

from .context import Context
from .diagnose import diagnostic_at, location_of
from .plan import StrokesPlan


def largest_remainder(total: int, shares: tuple[float, ...]) -> tuple[int, ...]:
    """Split ``total`` into integers proportional to ``shares`` (which sum to 1)."""
    quotas = [total * s for s in shares]
    counts = [math.floor(q) for q in quotas]
    order = sorted(range(len(shares)), key=lambda i: (-(quotas[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return tuple(counts)


def _fixed_shares(ctx: Context, errors: list[Diagnostic]) -> tuple[float, ...]:
    spec = ctx.spec
    ids = [pen.id for pen in spec.pens]
    given = dict(spec.strokes.pens)
    for pen_id in given:
        if pen_id not in ids:
            errors.append(
                diagnostic_at(spec, f"$.strokes.pens.{pen_id}", f"strokes.pens names no pen {pen_id!r}{known(pen_id, ids)}")
            )
    raw = [float(given.get(pen_id, 0.0)) for pen_id in ids]
    total = sum(raw)
    if total <= 0 and not errors:
        errors.append(diagnostic_at(spec, "$.strokes.pens", "every pen's share is 0: give at least one pen a share above 0"))
    return tuple(r / total for r in raw) if total > 0 else tuple(0.0 for _ in ids)


def assign_pens(ctx: Context) -> Context:
    spec = ctx.spec
    n = len(spec.pens)
    errors: list[Diagnostic] = []
    learn = spec.strokes.pens == "learn"
    if learn:
        shares = tuple(1.0 / n for _ in range(n))
        pen_strokes = tuple(0 for _ in range(n))
    else:
        shares = _fixed_shares(ctx, errors)
        for index, stage in enumerate(spec.stages):
            if isinstance(stage, AssignPensStage):
                errors.append(
                    diagnostic_at(
                        spec,
                        f"$.stages[{index}].assign_pens",
                        "assign_pens needs `strokes: {pens: learn}`: with fixed shares every stroke's pen is already decided",
                    )
                )
        pen_strokes = largest_remainder(spec.strokes.count, shares) if not errors else ()
    if errors:
        raise CompileError(errors)
    strokes = StrokesPlan(
        count=spec.strokes.count,
        segments=tuple(spec.strokes.segments),
        extent=spec.strokes.extent,
        learn_pens=learn,
        shares=shares,
    )
    return replace(ctx, strokes=strokes, pen_strokes=pen_strokes)
