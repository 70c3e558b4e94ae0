"""Pass 3, expand stages: the region each stage works on, its strokes, steps, lr and views.

The canvas px scale is the same in every stage; only the region changes. The first stage that
optimises chooses the region (``optimize.size``, default the whole canvas), ``tile`` repeats the
region and its strokes, ``finetune`` and ``assign_pens`` keep it. The region after the last
stage must be the canvas exactly, every tile must land on a grid that reaches the canvas, and the
augmentation crop must fit inside every region the net looks at. Errors explain the arithmetic
and suggest a fix.
"""

from __future__ import annotations

import math
from dataclasses import replace

from penspec.spec.errors import CompileError, Diagnostic
from penspec.spec.model import AssignPensStage, FinetuneStage, OptimizeStage, Spec, TileStage

from .context import Context
from .diagnose import at_path, diagnostic_at
from .plan import StagePlan

Size = tuple[int, int]
NET_STAGES = ("optimize", "finetune", "assign_pens")


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


def expand_stages(ctx: Context) -> Context:
    spec = ctx.spec
    canvas: Size = tuple(spec.canvas)
    aug = spec.augment
    errors: list[Diagnostic] = []
    if not spec.stages:
        raise at_path(spec, "$.stages", "no stages: add at least one, e.g. - optimize: {steps: 500}")
    last_tile_index = max((i for i, s in enumerate(spec.stages) if isinstance(s, TileStage)), default=-1)
    region: Size | None = None
    strokes = spec.strokes.count
    tiles = 1
    plans: list[StagePlan] = []
    for i, stage in enumerate(spec.stages):
        base = dict(index=i, kind=stage.kind, name=f"{i}-{stage.kind}", line=stage_line(spec, i, stage.kind))
        if isinstance(stage, OptimizeStage):
            size = tuple(stage.size) if stage.size is not None else (region or canvas)
            if region is not None and size != region:
                errors.append(
                    diagnostic_at(
                        spec,
                        f"$.stages[{i}].optimize.size",
                        f"this optimize continues on the current {px(region)} region; its size {px(size)} must match it or be left out "
                        "(only the first stage chooses the region)",
                    )
                )
                size = region
            elif size[0] > canvas[0] or size[1] > canvas[1]:
                errors.append(
                    diagnostic_at(
                        spec,
                        f"$.stages[{i}].optimize.size",
                        f"optimize size {px(size)} is larger than the {px(canvas)} canvas: use a size of at most "
                        f"{_as_spec_size(canvas)} or a larger canvas",
                    )
                )
            region = size
            plans.append(StagePlan(**base, size=region, strokes=strokes, steps=stage.steps, lr=stage.lr, views=stage.views or aug.views))
        elif isinstance(stage, TileStage):
            repeat = tuple(stage.repeat)
            if region is None:
                errors.append(
                    diagnostic_at(spec, f"$.stages[{i}].tile", "tile needs an optimize stage before it: there is nothing to repeat yet")
                )
                region = canvas
            elif not any(d.path.endswith(".tile.repeat") for d in errors):  # one tiling error is enough
                later = [t.repeat for t in spec.stages[i:] if isinstance(t, TileStage)]
                total = (math.prod(r[0] for r in later), math.prod(r[1] for r in later))
                problem = _tile_error(spec, i, region, repeat, total, canvas, last_tile=i == last_tile_index)
                if problem:
                    errors.append(problem)
            region = (region[0] * repeat[0], region[1] * repeat[1])
            strokes *= repeat[0] * repeat[1]
            tiles *= repeat[0] * repeat[1]
            plans.append(StagePlan(**base, size=region, strokes=strokes, repeat=repeat))
        elif isinstance(stage, FinetuneStage):
            region = region or canvas
            views = stage.views or finetune_views(aug.views, tiles)
            plans.append(StagePlan(**base, size=region, strokes=strokes, steps=stage.steps, lr=stage.lr, views=views))
        elif isinstance(stage, AssignPensStage):
            region = region or canvas
            plans.append(
                StagePlan(**base, size=region, strokes=strokes, steps=stage.steps, lr=stage.lr, views=aug.views, temperature=tuple(stage.temperature))
            )
        else:  # a new stage kind in the model that the compiler does not know yet
            raise TypeError(f"unknown stage type {type(stage).__name__}")
    if region != canvas and not errors:  # a stage error above already explains the size
        last = len(spec.stages) - 1
        hint = []
        if canvas[0] % region[0] == 0 and canvas[1] % region[1] == 0:
            fit = (canvas[0] // region[0], canvas[1] // region[1])
            hint.append(f"add - tile: {{repeat: {_as_spec_size(fit)}}} ({region[0]} x {fit[0]} = {canvas[0]})")
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


def _crop_errors(spec: Spec, plans: list[StagePlan]) -> list[Diagnostic]:
    """The crop (and the smoke build's crop) must fit in the smallest region the net looks at."""
    looked_at = [p for p in plans if p.kind in NET_STAGES]
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
