"""Spec -> Plan: small pure passes that resolve, check and estimate everything a build needs.

``compile_spec(spec)`` runs :data:`penspec.compiler.passes.PASSES` in order and returns a frozen
:class:`Plan` (JSON round trip, no absolute paths). Nothing here imports torch: validating and
planning a spec stays instant. Problems are :class:`~penspec.spec.errors.CompileError`\\ s that
point at the spec line or the column inside the objective expression.
"""

from __future__ import annotations

import os

from penspec.spec.model import Spec

from .context import Context
from .fingerprint import spec_sha256
from .passes import PASSES, run_passes
from .plan import PLAN_VERSION, Plan

__all__ = ["PASSES", "Plan", "compile_spec"]


def compile_spec(spec: Spec) -> Plan:
    """Compile a loaded spec into its execution plan (raises CompileError on a bad spec)."""
    ctx = run_passes(Context(spec=spec))
    return Plan(
        version=PLAN_VERSION,
        title=spec.title,
        seed=spec.seed,
        source=os.path.basename(spec.source),
        spec_sha256=spec_sha256(spec),
        look_sha256=ctx.look,
        paper=ctx.need("paper"),
        canvas=ctx.need("canvas"),
        pens=ctx.need("pens"),
        strokes=ctx.need("strokes"),
        objective=ctx.need("objective"),
        augment=ctx.need("augment"),
        stages=ctx.need("stages"),
        plot=ctx.need("plot"),
        output_dir=ctx.output_dir,
        snapshot_every=spec.output.snapshot_every,
        checkpoint_every=spec.output.checkpoint_every,
        preview_dpi=spec.output.preview_dpi,
        test=ctx.need("test"),
        estimates=ctx.need("estimates"),
    )
