import dataclasses

import pytest
from tests.support.compile_fixtures import finetune, line_of, make_spec, optimize, paper, tile

from penspec.compiler import compile_spec
from penspec.compiler.stages import finetune_views
from penspec.spec.errors import CompileError
from penspec.spec.model import AssignPensStage


def stages_of(*stages, canvas=1024, **kw):
    return compile_spec(make_spec(canvas=canvas, stages=tuple(stages), paper=paper("a3", landscape=True), **kw)).stages


def errors_of(*stages, canvas=1024, **kw):
    with pytest.raises(CompileError) as err:
        stages_of(*stages, canvas=canvas, **kw)
    return err.value.diagnostics


def test_optimize_defaults_to_the_whole_canvas():
    (stage,) = stages_of(optimize(steps=50), canvas=256)
    assert (stage.size, stage.strokes, stage.steps, stage.views, stage.name) == ((256, 256), 200, 50, 8, "0-optimize")


def test_optimize_tile_finetune_lands_on_the_canvas():
    opt, til, fin = stages_of(optimize(256), tile(4), finetune(steps=1500))
    assert opt.size == (256, 256) and opt.strokes == 200
    assert til.size == (1024, 1024) and til.strokes == 3200 and til.repeat == (4, 4) and not hasattr(til, "steps")
    assert fin.size == (1024, 1024) and fin.strokes == 3200 and fin.steps == 1500
    assert fin.views == 24  # max(8, min(32, ceil(1.5 * 16)))
    assert [s.line for s in (opt, til, fin)] == [line_of("$.stages[0]"), line_of("$.stages[1]"), line_of("$.stages[2]")]


def test_finetune_views_rule():
    assert finetune_views(8, 1) == 8
    assert finetune_views(8, 16) == 24
    assert finetune_views(8, 64) == 32
    assert finetune_views(40, 64) == 40


def test_rectangular_tiles():
    _, til = stages_of(optimize((256, 224)), tile(2, 4), canvas=(512, 896))
    assert til.size == (512, 896) and til.strokes == 1600


def test_two_tiles_may_reach_the_canvas_in_steps():
    stages = stages_of(optimize(256), tile(2), finetune(), tile(2), finetune())
    assert [s.size[0] for s in stages] == [256, 512, 512, 1024, 1024]
    assert stages[-1].strokes == 200 * 16
    assert stages[-1].views == 24


def test_tile_that_misses_the_canvas_explains_the_arithmetic():
    (d,) = errors_of(optimize(300), tile(4), finetune())
    assert d.path == "$.stages[1].tile.repeat"
    assert d.location.line == line_of("$.stages[1]")
    assert "300 x 4 = 1200 != 1024" in d.message
    assert "optimize at size 256" in d.message and "canvas: 1200" in d.message


def test_tile_before_any_optimize_is_an_error():
    (d,) = errors_of(tile(4), finetune(), canvas=1024)
    assert "nothing to repeat" in d.message


def test_region_must_equal_the_canvas_after_the_last_stage():
    (d,) = errors_of(optimize(256), finetune())
    assert d.location.line == line_of("$.stages[1]")
    assert "256x256 px" in d.message and "1024x1024 px" in d.message
    assert "tile: {repeat: 4}" in d.message


def test_optimize_larger_than_the_canvas():
    diags = errors_of(optimize(2048), canvas=1024)
    assert any("larger than the 1024x1024 px canvas" in d.message for d in diags)


def test_later_optimize_must_keep_the_region():
    (d,) = errors_of(optimize(256), tile(4), optimize(512))
    assert d.path == "$.stages[2].optimize.size"


def test_crop_larger_than_a_region_is_an_error():
    spec = make_spec(canvas=512, stages=(optimize(128), tile(4)), paper=paper("a3", landscape=True))
    with pytest.raises(CompileError) as err:
        compile_spec(spec)
    (d,) = err.value.diagnostics
    assert d.path == "$.augment.crop" and "crop 224 px is larger than the 128x128 px region" in d.message
    assert "at most 128 px" in d.message


def test_smoke_build_crop_is_checked_too():
    spec = make_spec(canvas=128, stages=(optimize(32), tile(4)))
    spec = dataclasses.replace(spec, augment=dataclasses.replace(spec.augment, crop=32))
    with pytest.raises(CompileError) as err:
        compile_spec(spec)
    assert [d.path for d in err.value.diagnostics] == ["$.test.crop"]


def test_assign_pens_stage_keeps_region_and_temperature():
    from tests.support.compile_fixtures import pen

    spec = make_spec(
        pens=(pen("black"), pen("red", "#cc0000")),
        strokes=dataclasses.replace(make_spec().strokes, pens="learn"),
        stages=(optimize(), AssignPensStage(steps=30, lr=0.2, temperature=(2.0, 0.1))),
    )
    stages = compile_spec(spec).stages
    assert [s.kind for s in stages] == ["optimize", "assign_pens"]
    assert stages[1].temperature == (2.0, 0.1) and stages[1].size == (256, 256)
