"""Pass 1, resolve defaults: copy the settings that need no other context into plan form.

The loader has already filled every spec-level default; what is left here are the defaults
that read another section: the smoke-build weights fall back to the network's weights.
Paper, augmentation and output settings become their plan dataclasses unchanged.
"""

from __future__ import annotations

from dataclasses import replace

from .context import Context
from .plan import AugmentPlan, PaperPlan, TestPlan


def resolve_defaults(ctx: Context) -> Context:
    spec = ctx.spec
    paper = spec.paper
    aug = spec.augment
    test = spec.test
    return replace(
        ctx,
        paper=PaperPlan(
            name=paper.name,
            width_mm=paper.width_mm,
            height_mm=paper.height_mm,
            landscape=paper.landscape,
            margin_mm=paper.margin_mm,
            color=paper.color,
            rgb=tuple(paper.rgb),
        ),
        augment=AugmentPlan(
            crop=aug.crop,
            rotate_deg=aug.rotate_deg,
            translate=aug.translate,
            scale=tuple(aug.scale),
            perspective=aug.perspective,
            jitter_px=aug.jitter_px,
        ),
        test=TestPlan(
            steps=test.steps,
            views=test.views,
            crop=test.crop,
            weights=test.weights if test.weights is not None else spec.network.weights,
        ),
        output_dir=spec.output.dir,
    )
