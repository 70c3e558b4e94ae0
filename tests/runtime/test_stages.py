"""Stages one step at a time: schedules, tiling, learned pens, exact state round trips, and
failures that name their stage."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from tests.support.factories import make_plan
from penspec.compiler.plan import AssignPensPlan, OptimizePlan, StagePlan, TilePlan
from penspec.runtime.checkpoint import StageStore
from penspec.runtime.look import plan_look
from penspec.runtime.nets import load_net
from penspec.runtime.objectives import build_objective
from penspec.runtime.progress import SilentReporter
from penspec.runtime.runner import RunOptions, run_stages
from penspec.runtime.stages import (
    Engine,
    StageRun,
    initial_region,
    initial_strokes,
    lr_at,
    temperature_at,
)
from penspec.runtime.strokes import Strokes, init_strokes
from penspec.spec.errors import StageError
from penspec.spec.model import Size


def stage(kind="optimize", steps=4, **kw) -> StagePlan:
    values = {"index": 0, "name": f"0-{kind}", "size": Size(64, 64), "strokes": 12, "line": 12, "fingerprint": "ab" * 32}
    if kind != "tile":
        values.update(steps=steps, lr=1.0, views=2)
    values.update(kw)
    return {"optimize": OptimizePlan, "tile": TilePlan, "assign_pens": AssignPensPlan}[kind](**values)


@pytest.fixture(scope="module")
def engine():
    plan = make_plan(canvas=64, strokes=12)
    nets = {n.name: load_net(n, ".", seed=plan.seed) for n in plan.objective.nets}
    return Engine.loaded(plan, nets, build_objective(plan.objective, nets=nets), torch.device("cpu"))


def test_lr_halves_at_half_and_three_quarters():
    s = stage(steps=100, lr=1.0)
    assert [lr_at(s, k) for k in (0, 49, 50, 74, 75, 99)] == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]


def test_temperature_anneals_geometrically():
    s = stage("assign_pens", steps=5, temperature=(1.0, 0.0625))
    assert [temperature_at(s, k) for k in range(5)] == pytest.approx([1.0, 0.5, 0.25, 0.125, 0.0625])


def test_initial_region_is_before_any_tile():
    plan = make_plan(canvas=64)
    assert initial_region(plan) == (64, 64)
    tiled = dataclasses.replace(plan, stages=(stage("tile", size=Size(64, 32), repeat=(4, 2)),))
    assert initial_region(tiled) == (16, 16)


def test_steps_move_points_inside_the_region(engine):
    strokes = initial_strokes(engine.plan)
    run = StageRun(engine, stage(), strokes)
    losses = [run.step() for _ in range(4)]
    assert run.done and all(isinstance(v, float) for v in losses)
    out = run.result()
    assert not torch.equal(out.points, strokes.points)
    assert out.points.min() >= 0 and out.points.max() <= 64
    assert torch.equal(out.index, strokes.index) and torch.equal(out.stroke_pen, strokes.stroke_pen)


class PushOutwards:
    """An engine whose loss pulls every coordinate away from the region's centre with a constant
    gradient of 1: what the objective does to points it wants off the canvas."""

    def __init__(self, plan):
        self.plan = plan
        self.objective = self

    def homographies(self, purpose, stage, step, views, region):
        return None

    def view_images(self, strokes, points, look, homographies):
        centre = torch.tensor(strokes.region, dtype=points.dtype) / 2
        return points, torch.sign(points.detach() - centre)

    def features(self, images, strokes=None, points=None):
        return images

    def score_and_terms(self, features):
        points, outwards = features
        return (points * outwards).sum(), []


def test_points_pushed_outwards_stay_inside_without_piling_on_the_border(engine):
    """60 steps at lr 1 carry a clamped point 41 px outwards: every point of the 64 x 48 region
    ended on its border, and strokes ran along it. Through the bounded map the points slow down
    as they near the border, keep their order and stay strictly inside."""
    region = Size(64, 48)
    strokes = init_strokes(engine.plan, region)
    run = StageRun(PushOutwards(engine.plan), stage(steps=60, size=region), strokes)
    while not run.done:
        run.step()
    out = run.result()
    x, y = out.points[:, 0], out.points[:, 1]
    assert x.min() > 0 and x.max() < 64 and y.min() > 0 and y.max() < 48
    border = torch.minimum(torch.minimum(x, 64 - x), torch.minimum(y, 48 - y))
    assert float((border < 0.5).float().mean()) < 1 / 3  # clamped: all of them, on it
    start = torch.minimum(torch.minimum(strokes.points[:, 0], 64 - strokes.points[:, 0]),
                          torch.minimum(strokes.points[:, 1], 48 - strokes.points[:, 1]))
    assert (border < start).all()  # every point did move outwards
    for axis in (0, 1):  # no two points collapse onto one line: each axis keeps its order
        order = torch.argsort(strokes.points[:, axis])
        assert (out.points[order, axis].diff() >= 0).all()
        assert len(torch.unique(out.points[:, axis])) == len(torch.unique(strokes.points[:, axis]))
    scene = out.to_scene()  # the curves lie in their control points' hull, so inside too
    assert scene.control_points.min() > 0 and scene.control_points[..., 0].max() < 64 and scene.control_points[..., 1].max() < 48


def test_state_round_trip_continues_exactly(engine):
    strokes = initial_strokes(engine.plan)
    straight = StageRun(engine, stage(steps=6), strokes)
    for _ in range(6):
        straight.step()
    first = StageRun(engine, stage(steps=6), strokes)
    for _ in range(3):
        first.step()
    saved = first.state_dict()
    second = StageRun(engine, stage(steps=6), strokes)
    second.load_state_dict(saved)
    assert second.next_step == 3
    while not second.done:
        second.step()
    assert torch.equal(second.result().points, straight.result().points)


def test_a_checkpoint_that_holds_the_points_themselves_resumes_from_them(engine):
    """Checkpoints written while points were clamped kept the points as the parameter."""
    strokes = initial_strokes(engine.plan)
    run = StageRun(engine, stage(steps=6), strokes)
    run.step()
    state = run.state_dict()
    old = {**{k: v for k, v in state.items() if k != "param_space"}, "param": state["strokes"]["points"].clone()}
    again = StageRun(engine, stage(steps=6), strokes)
    again.load_state_dict(old)
    assert again.next_step == 1
    assert torch.allclose(again.current().points, run.current().points, atol=1e-3)


def test_assign_pens_learns_logits_and_ends_on_real_pens(engine):
    plan = engine.plan
    learn = dataclasses.replace(engine, plan=dataclasses.replace(plan, strokes=dataclasses.replace(plan.strokes, learn_pens=True)))
    strokes = initial_strokes(learn.plan)
    run = StageRun(learn, stage("assign_pens", steps=3, lr=0.5, temperature=(1.0, 0.1)), strokes)
    look = run.look()
    assert look.pen_rgb.shape == (strokes.stroke_count, 3)  # one virtual pen per stroke
    for _ in range(3):
        run.step()
    assert run.param.detach().abs().sum() > 0
    out = run.result()
    assert torch.equal(out.points, strokes.points)  # geometry untouched
    assert torch.equal(out.stroke_pen, torch.argmax(run.param.detach(), dim=1))
    assert set(out.stroke_pen.tolist()) <= {0, 1}


def test_soft_pens_mix_colours(engine):
    from penspec.runtime.draw import soft_look

    probs = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    look = soft_look(engine.plan, probs)
    rgb = torch.tensor([p.rgb for p in engine.plan.pens], dtype=torch.float32)
    assert torch.allclose(look.pen_rgb[0], rgb[0]) and torch.allclose(look.pen_rgb[1], rgb.mean(0))
    widths = [p.width_px for p in engine.plan.pens]
    assert float(look.stroke_width[1]) == pytest.approx(sum(widths) / 2)


def test_failure_inside_a_stage_names_the_stage_and_line(engine, tmp_path, monkeypatch):
    def broken(self, images, strokes=None, points=None):
        raise RuntimeError("the net fell over")

    monkeypatch.setattr(Engine, "features", broken)
    with pytest.raises(StageError) as info:
        run_stages(engine, RunOptions(out_dir=tmp_path, spec_file="piece.yaml"))
    assert info.value.stage == "0-optimize"
    assert str(info.value.origin) == "piece.yaml:10:1"
    assert "the net fell over" in str(info.value)


def test_runner_checkpoints_and_reuses(engine, tmp_path):
    plan = dataclasses.replace(engine.plan, stages=(stage(steps=4),))
    eng = dataclasses.replace(engine, plan=plan)
    reporter = SilentReporter()
    first = run_stages(eng, RunOptions(out_dir=tmp_path, checkpoint_every=2), reporter)
    store = StageStore(tmp_path, plan.stages[0], "cpu", "torch")
    assert store.complete() and not store.checkpoint_path.exists()
    again = SilentReporter()
    second = run_stages(eng, RunOptions(out_dir=tmp_path), again)
    assert ("reused", "0-optimize") in again.events and second.outcomes[0].reused
    assert torch.equal(second.final.points, first.final.points)
    forced = SilentReporter()
    run_stages(eng, RunOptions(out_dir=tmp_path, force=True), forced)
    assert ("reused", "0-optimize") not in forced.events


def test_resume_from_a_checkpoint_gives_the_uninterrupted_result(engine, tmp_path):
    plan = dataclasses.replace(engine.plan, stages=(stage(steps=6),))
    eng = dataclasses.replace(engine, plan=plan)
    straight = run_stages(eng, RunOptions(out_dir=tmp_path / "a"))
    # a run stopped after 4 steps leaves a checkpoint; resume picks it up
    run = StageRun(eng, plan.stages[0], initial_strokes(plan))
    for _ in range(4):
        run.step()
    store = StageStore(tmp_path / "b", plan.stages[0], "cpu", "torch", plan_look(plan))
    store.save_checkpoint(run.state_dict())
    resumed = run_stages(eng, RunOptions(out_dir=tmp_path / "b", resume=True))
    assert resumed.outcomes[0].resumed_at == 4 and resumed.outcomes[0].steps_run == 2
    assert torch.equal(resumed.final.points, straight.final.points)


def test_a_checkpoint_made_under_another_look_is_not_resumed(engine, tmp_path):
    """Half a stage optimised for one pen colour must not be finished for another."""
    plan = dataclasses.replace(engine.plan, stages=(stage(steps=4),))
    eng = dataclasses.replace(engine, plan=plan)
    run = StageRun(eng, plan.stages[0], initial_strokes(plan))
    run.step()
    old_look = {**plan_look(plan), "sha256": "9" * 64}
    StageStore(tmp_path, plan.stages[0], "cpu", "torch", old_look).save_checkpoint(run.state_dict())
    assert StageStore(tmp_path, plan.stages[0], "cpu", "torch", plan_look(plan)).load_checkpoint() is None
    out = run_stages(eng, RunOptions(out_dir=tmp_path, resume=True))
    assert out.outcomes[0].resumed_at == 0 and out.outcomes[0].steps_run == 4


def test_checkpoint_of_another_stage_version_is_ignored(engine, tmp_path):
    plan = dataclasses.replace(engine.plan, stages=(stage(steps=4),))
    eng = dataclasses.replace(engine, plan=plan)
    store = StageStore(tmp_path, plan.stages[0], "cpu", "torch")
    other = StageStore(tmp_path, dataclasses.replace(plan.stages[0], fingerprint="ab" * 31 + "cd"), "cpu", "torch")
    assert other.dir == store.dir  # same 12-character folder, different fingerprint
    run = StageRun(eng, plan.stages[0], initial_strokes(plan))
    run.step()
    other.save_checkpoint(run.state_dict())
    assert store.load_checkpoint() is None
    out = run_stages(eng, RunOptions(out_dir=tmp_path, resume=True))
    assert out.outcomes[0].resumed_at == 0


def test_ctrl_c_saves_a_checkpoint_then_stops(engine, tmp_path):
    import os
    import signal

    plan = dataclasses.replace(engine.plan, stages=(stage(steps=6),))
    eng = dataclasses.replace(engine, plan=plan)

    class CtrlCAtStep2(SilentReporter):
        def step(self, stage, step, loss):
            super().step(stage, step, loss)
            if step == 1:
                os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        run_stages(eng, RunOptions(out_dir=tmp_path, checkpoint_every=0), CtrlCAtStep2())
    store = StageStore(tmp_path, plan.stages[0], "cpu", "torch", plan_look(plan))
    assert not store.complete()
    assert store.load_checkpoint()["next_step"] == 2
    resumed = run_stages(eng, RunOptions(out_dir=tmp_path, resume=True))
    straight = run_stages(eng, RunOptions(out_dir=tmp_path / "straight"))
    assert resumed.outcomes[0].resumed_at == 2
    assert torch.equal(resumed.final.points, straight.final.points)


def test_the_runner_has_a_handler_for_every_stage_kind():
    from penspec.compiler.stages import STAGE_KINDS
    from penspec.runtime.runner import HANDLERS

    assert set(HANDLERS) == set(STAGE_KINDS)


def test_a_stage_passes_its_strokes_to_crowding(engine):
    """StageRun hands the strokes' control points to terms that read them: a star of eight
    strokes through one point spreads out under `- crowding` alone."""
    from penspec.runtime.objectives import Crowding, Features, Objective

    region = Size(64, 64)
    angles = torch.arange(8, dtype=torch.float32) * (torch.pi / 8)
    d = torch.stack([torch.cos(angles), torch.sin(angles)], dim=1) * 20
    c = torch.tensor([32.0, 32.0])
    points = torch.cat([torch.stack([c - t, c - t / 3, c + t / 3, c + t]) for t in d])
    star = Strokes(points, torch.arange(32).view(8, 4), torch.arange(8), torch.zeros(8, dtype=torch.long), region)
    objective = Objective(((-1.0, Crowding()),))
    crowd = Engine.loaded(engine.plan, engine.nets, objective, torch.device("cpu"))
    run = StageRun(crowd, stage(steps=20, size=region, lr=0.5), star)

    def cost(strokes):
        return float(Crowding().score(Features(torch.zeros(1), {}, strokes.control_points(), strokes.segment_stroke)))

    before = cost(star)
    while not run.done:
        run.step()
    assert cost(run.result()) < 0.5 * before
