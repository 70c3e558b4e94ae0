"""The value that flows through the compiler passes.

Each pass is a pure function ``Context -> Context`` that fills in one part of the plan with
``dataclasses.replace``; :func:`penspec.compiler.compile_spec` assembles the final
:class:`~penspec.compiler.plan.Plan` from the last context. Fields are ``None`` (or empty)
until the pass that owns them has run.
"""

from __future__ import annotations

from dataclasses import dataclass

from penspec.spec.model import Spec

from .plan import (
    AugmentPlan,
    CanvasPlan,
    Estimates,
    ObjectivePlan,
    PaperPlan,
    PenPlan,
    PlotPlan,
    StagePlan,
    StrokesPlan,
    TestPlan,
)


@dataclass(frozen=True)
class Context:
    spec: Spec
    paper: PaperPlan | None = None  # defaults
    augment: AugmentPlan | None = None  # defaults
    test: TestPlan | None = None  # defaults
    output_dir: str | None = None  # defaults
    objective: ObjectivePlan | None = None  # layers
    stages: tuple[StagePlan, ...] = ()  # stages (fingerprints: fingerprint)
    look: str = ""  # fingerprint: sha256 of how the renderer inks the strokes
    strokes: StrokesPlan | None = None  # pens
    pen_strokes: tuple[int, ...] = ()  # pens: initial strokes per pen, in pen order
    canvas: CanvasPlan | None = None  # mapping
    pens: tuple[PenPlan, ...] = ()  # mapping
    plot: PlotPlan | None = None  # mapping
    estimates: Estimates | None = None  # estimate
    failed: tuple[str, ...] = ()  # passes that reported errors; later passes check what they can

    def need(self, name: str):
        """A field an earlier pass must have filled. Missing because that pass reported errors:
        :class:`NeedsFailedPass` (the runner skips this pass). Missing otherwise: the pass
        order is wrong, a bug."""
        value = getattr(self, name)
        if value is None or value == ():
            if self.failed:
                raise NeedsFailedPass(name)
            raise RuntimeError(f"compiler pass order: {name!r} is needed before the pass that fills it ran")
        return value


class NeedsFailedPass(Exception):
    """A pass cannot run because a pass it depends on reported errors."""
