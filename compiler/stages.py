"""Pass 3, expand stages: the region each stage works on, its strokes, steps, lr and views.

The canvas px scale is the same in every stage; only the region changes. The first stage that
optimises chooses the region (``optimize.size``, default the whole canvas), ``tile`` repeats the
region and its strokes, ``finetune`` and ``assign_pens`` keep it. With ``strokes.pens: learn``
and no ``assign_pens`` stage, one with every schema default ends the plan. The region after the
last stage must be the canvas exactly, every tile must land on a grid that reaches the canvas,
and the augmentation crop must fit inside every region the net looks at. Errors explain the
arithmetic and suggest a fix.

:data:`STAGE_KINDS` is the one table of stage kinds: each spec stage class, its plan class and
the function that expands it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from penspec.spec.build import default_stage
from penspec.spec.errors import CompileError, Diagnostic
from penspec.spec.model import AssignPensStage, FinetuneStage, OptimizeStage, Size, Spec, TileStage

from .context import Context
from .diagnose import at_path, diagnostic_at, location_of
from .plan import AnyStagePlan, AssignPensPlan, FinetunePlan, NetStagePlan, OptimizePlan, StagePlan, TilePlan


def px(size: Size) -> str:
    return f"{size[0]}x{size[1]} px"


def _as_spec_size(size: Size) -> str:
    """How the user would write a size in the spec: an int when square, else [w, h]."""
    return str(size[0]) if size[0] == size[1] else f"[{size[0]}, {size[1]}]"


def stage_line(spec: Spec, index: int, kind: str) -> int:
    """The spec line of stage ``index`` (0 when stages were left to their default)."""
    for path in (f"$.stages[{index}]", f"$.stages[{index}].{kind}"):
        loc = spec.locations.get(path)
        if loc is not None:
            return loc.line
    return 0


def finetune_views(augment_views: int, tiles: int) -> int:
    """Finetune default: more views when the canvas holds more tiles, capped at 32, never fewer
    than the augmentation's own views."""
    return max(augment_views, min(32, math.ceil(1.5 * tiles)))


def _tile_fixes(start: Size, total: tuple[int, int], canvas: Size, last_tile: bool) -> str:
    """Ways out, given the region the tiles start from and the repeat of this and every later
    tile together (``total``)."""
    fixes = []
    if canvas[0] % total[0] == 0 and canvas[1] % total[1] == 0:
        size = (canvas[0] // total[0], canvas[1] // total[1])
        fixes.append(f"optimize at size {_as_spec_size(size)} ({canvas[0]} / {total[0]} = {size[0]})")
    if last_tile and canvas[0] % start[0] == 0 and canvas[1] % start[1] == 0:
        fit = (canvas[0] // start[0], canvas[1] // start[1])
        fixes.append(f"repeat {_as_spec_size(fit)} ({start[0]} x {fit[0]} = {canvas[0]})")
    made = (start[0] * total[0], start[1] * total[1])
    fixes.append(f"set canvas: {_as_spec_size(made)}")
    return "; ".join(fixes[:-1] + ["or " + fixes[-1]]) if len(fixes) > 1 else fixes[0]


def _tile_error(spec: Spec, index: int, start: Size, repeat: tuple[int, int], total: tuple[int, int], canvas: Size, last_tile: bool) -> Diagnostic | None:
    made = (start[0] * repeat[0], start[1] * repeat[1])
    if last_tile:
        if made == canvas:
            return None
        sums = [f"{a} x {r} = {a * r}" + (f" != {c}" if a * r != c else "") for a, r, c in zip(start, repeat, canvas)]
        what = "does not land on"
    else:
        if all(m <= c and c % m == 0 for m, c in zip(made, canvas)):
            return None
        sums = [f"{a} x {r} = {a * r}, and {c} / {a * r} is not a whole number" for a, r, c in zip(start, repeat, canvas) if c % (a * r)]
        what = "does not divide"
    message = (
        f"tile repeat [{repeat[0]}, {repeat[1]}] turns the {px(start)} region into {px(made)}, which {what} "
        f"the {px(canvas)} canvas ({'; '.join(dict.fromkeys(sums))}): {_tile_fixes(start, total, canvas, last_tile)}"
    )
    path = f"$.stages[{index}].tile.repeat"
    return diagnostic_at(spec, path, message)


@dataclass
class _Walk:
    """What expanding the stages in order carries from one stage to the next."""

    spec: Spec
    canvas: Size
    strokes: int  # strokes present so far
    region: Size | None = None  # chosen by the first stage that needs one
    tiles: int = 1  # tile copies so far
    errors: list[Diagnostic] = field(default_factory=list)

    def kept_region(self) -> Size:
        """The region so far, for a stage that keeps it; the canvas when no stage chose one."""
        self.region = self.region or self.canvas
        return self.region


def _optimize(walk: _Walk, i: int, stage: OptimizeStage, common: dict[str, Any]) -> OptimizePlan:
    spec, canvas, region = walk.spec, walk.canvas, walk.region
    size = stage.size if stage.size is not None else (region or canvas)
    if region is not None and size != region:
        walk.errors.append(
            diagnostic_at(
                spec,
                f"$.stages[{i}].optimize.size",
                f"this optimize continues on the current {px(region)} region; its size {px(size)} must match it or be left out "
                "(only the first stage chooses the region)",
            )
        )
        size = region
    elif size.width > canvas.width or size.height > canvas.height:
        walk.errors.append(
            diagnostic_at(
                spec,
                f"$.stages[{i}].optimize.size",
                f"optimize size {px(size)} is larger than the {px(canvas)} canvas: use a size of at most "
                f"{_as_spec_size(canvas)} or a larger canvas",
            )
        )
    walk.region = size
    return OptimizePlan(**common, size=size, strokes=walk.strokes, steps=stage.steps, lr=stage.lr, views=stage.views or spec.augment.views)


def _tile(walk: _Walk, i: int, stage: TileStage, common: dict[str, Any]) -> TilePlan:
    spec, canvas, region = walk.spec, walk.canvas, walk.region
    repeat = tuple(stage.repeat)
    if region is None:
        walk.errors.append(diagnostic_at(spec, f"$.stages[{i}].tile", "tile needs an optimize stage before it: there is nothing to repeat yet"))
        region = canvas
    elif not any(d.path.endswith(".tile.repeat") for d in walk.errors):  # one tiling error is enough
        tiles = [(j, t) for j, t in enumerate(spec.stages) if isinstance(t, TileStage)]
        later = [t.repeat for j, t in tiles if j >= i]
        total = (math.prod(r[0] for r in later), math.prod(r[1] for r in later))
        problem = _tile_error(spec, i, region, repeat, total, canvas, last_tile=i == tiles[-1][0])
        if problem:
            walk.errors.append(problem)
    walk.region = Size(region.width * repeat[0], region.height * repeat[1])
    walk.strokes *= repeat[0] * repeat[1]
    walk.tiles *= repeat[0] * repeat[1]
    return TilePlan(**common, size=walk.region, strokes=walk.strokes, repeat=repeat)


def _finetune(walk: _Walk, i: int, stage: FinetuneStage, common: dict[str, Any]) -> FinetunePlan:
    views = stage.views or finetune_views(walk.spec.augment.views, walk.tiles)
    return FinetunePlan(**common, size=walk.kept_region(), strokes=walk.strokes, steps=stage.steps, lr=stage.lr, views=views)


def _assign_pens(walk: _Walk, i: int, stage: AssignPensStage, common: dict[str, Any]) -> AssignPensPlan:
    return AssignPensPlan(
        **common, size=walk.kept_region(), strokes=walk.strokes, steps=stage.steps, lr=stage.lr, views=walk.spec.augment.views,
        temperature=tuple(stage.temperature),
    )


@dataclass(frozen=True)
class StageKind:
    """One kind of stage: its spec class, its plan class and how a spec stage becomes a plan."""

    spec: type
    plan: type[StagePlan]
    expand: Callable[[_Walk, int, Any, dict[str, Any]], StagePlan]

    @property
    def name(self) -> str:
        return self.spec.kind


STAGE_KINDS: dict[str, StageKind] = {
    kind.name: kind
    for kind in (
        StageKind(OptimizeStage, OptimizePlan, _optimize),
        StageKind(TileStage, TilePlan, _tile),
        StageKind(FinetuneStage, FinetunePlan, _finetune),
        StageKind(AssignPensStage, AssignPensPlan, _assign_pens),
    )
}


def expand_stages(ctx: Context) -> Context:
    spec = ctx.spec
    canvas = spec.canvas
    if not spec.stages:
        raise at_path(spec, "$.stages", "no stages: add at least one, e.g. - optimize: {steps: 500}")
    stages, lines = spec.stages, [stage_line(spec, i, s.kind) for i, s in enumerate(spec.stages)]
    if spec.strokes.pens == "learn" and not any(isinstance(s, AssignPensStage) for s in stages):
        stages += (default_stage("assign_pens"),)  # learned pens need a stage that picks them
        lines.append(location_of(spec, "$.strokes.pens").line)
    walk = _Walk(spec, canvas, spec.strokes.count)
    plans: list[AnyStagePlan] = []
    for i, (stage, line) in enumerate(zip(stages, lines)):
        kind = STAGE_KINDS.get(stage.kind)
        if kind is None:  # a new stage kind in the model that the compiler does not know yet
            raise TypeError(f"unknown stage type {type(stage).__name__}")
        plans.append(kind.expand(walk, i, stage, dict(index=i, name=f"{i}-{stage.kind}", line=line)))
    region, errors = walk.region, walk.errors
    if region != canvas and not errors:  # a stage error above already explains the size
        last = len(spec.stages) - 1
        hint = []
        if canvas.width % region.width == 0 and canvas.height % region.height == 0:
            fit = (canvas.width // region.width, canvas.height // region.height)
            hint.append(f"add - tile: {{repeat: {_as_spec_size(fit)}}} ({region.width} x {fit[0]} = {canvas.width})")
        hint.append(f"set canvas: {_as_spec_size(region)}")
        errors.append(
            diagnostic_at(
                spec,
                f"$.stages[{last}]",
                f"after the last stage the drawing is {px(region)}, but the canvas is {px(canvas)}: " + " or ".join(hint),
            )
        )
    errors.extend(_crop_errors(spec, plans))
    if errors:
        raise CompileError(errors)
    return replace(ctx, stages=tuple(plans))


def _crop_errors(spec: Spec, plans: list[AnyStagePlan]) -> list[Diagnostic]:
    """The crop (and the smoke build's crop) must fit in the smallest region the net looks at."""
    looked_at = [p for p in plans if isinstance(p, NetStagePlan)]
    if not looked_at:
        return []
    smallest = min(looked_at, key=lambda p: min(p.size))
    side = min(smallest.size)
    where = f"stage {smallest.name}" + (f" (line {smallest.line})" if smallest.line else "")
    out = []
    for path, crop, fix in (
        ("$.augment.crop", spec.augment.crop, "optimize a larger region"),
        ("$.test.crop", spec.test.crop, "the smoke build runs the same stages"),
    ):
        if crop > side:
            out.append(
                diagnostic_at(
                    spec,
                    path,
                    f"crop {crop} px is larger than the {px(smallest.size)} region of {where}: "
                    f"use a crop of at most {side} px ({fix})",
                )
            )
    return out
