"""Initial strokes, tiling, the bounded map of the optimised points and the scene round trip."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from tests.support.factories import make_plan
from penspec.runtime.scene import Scene
from penspec.runtime.strokes import (
    Strokes,
    fold_into,
    init_strokes,
    pen_counts,
    tile_strokes,
    to_canvas,
    to_free,
)
from penspec.spec.model import Size


def test_init_is_seeded_and_in_the_region():
    plan = make_plan(canvas=64, strokes=30)
    a = init_strokes(plan, (64, 48))
    b = init_strokes(plan, (64, 48))
    c = init_strokes(dataclasses.replace(plan, seed=8), (64, 48))
    assert torch.equal(a.points, b.points) and not torch.equal(a.points, c.points)
    assert a.points[:, 0].min() >= 0 and a.points[:, 0].max() <= 64
    assert a.points[:, 1].min() >= 0 and a.points[:, 1].max() <= 48
    assert a.stroke_count == 30 and a.region == (64, 48)


def test_segments_in_range_and_chains_share_joints():
    plan = make_plan(canvas=64, strokes=40)
    s = init_strokes(plan, (64, 64))
    counts = torch.bincount(s.segment_stroke, minlength=40)
    assert counts.min() >= 1 and counts.max() <= 3 and len(set(counts.tolist())) > 1
    cp = s.control_points()
    same_stroke = s.segment_stroke[1:] == s.segment_stroke[:-1]
    assert torch.equal(cp[1:, 0][same_stroke], cp[:-1, 3][same_stroke])
    assert torch.equal(s.index[1:, 0][same_stroke], s.index[:-1, 3][same_stroke])


def test_extent_bounds_the_stroke_size():
    plan = make_plan(canvas=200, strokes=50)
    s = init_strokes(plan, (200, 200))
    radius = plan.strokes.extent * 200
    cp = s.control_points()
    for k in range(s.stroke_count):
        pts = cp[s.segment_stroke == k].reshape(-1, 2)
        segments = int((s.segment_stroke == k).sum())
        assert float((pts - pts[0]).abs().max()) <= radius * 3 * segments + 1e-4


def test_pens_follow_the_plan_counts():
    plan = make_plan(canvas=64, strokes=13)
    s = init_strokes(plan, (64, 64))
    assert torch.bincount(s.stroke_pen).tolist() == [p.strokes for p in plan.pens]


def test_pen_counts_from_shares_by_largest_remainder():
    plan = make_plan(canvas=64, strokes=10)
    plan = dataclasses.replace(plan, strokes=dataclasses.replace(plan.strokes, shares=(0.75, 0.25)),
                               pens=tuple(dataclasses.replace(p, strokes=0) for p in plan.pens))
    assert pen_counts(plan, 10) == [8, 2]
    learn = dataclasses.replace(plan, strokes=dataclasses.replace(plan.strokes, learn_pens=True))
    assert pen_counts(learn, 11) == [6, 5]


def test_tile_translates_copies_and_keeps_pens():
    plan = make_plan(canvas=64, strokes=5)
    s = init_strokes(plan, (32, 16))
    t = tile_strokes(s, (2, 3))
    assert t.region == (64, 48) and t.stroke_count == 30
    cp, tcp = s.control_points(), t.control_points()
    n = cp.shape[0]
    for k, (row, col) in enumerate((r, c) for r in range(3) for c in range(2)):
        assert torch.allclose(tcp[k * n : (k + 1) * n], cp + torch.tensor([col * 32.0, row * 16.0]))
    assert torch.equal(t.stroke_pen, s.stroke_pen.repeat(6))
    assert torch.equal(t.segment_stroke[n : 2 * n], s.segment_stroke + 5)


def test_fold_reflects_into_the_interval():
    out = fold_into(np.array([-3.0, 5.0, 70.0, 130.0, 64.0, 0.0]), 0.0, 64.0)
    assert out.tolist() == [3.0, 5.0, 58.0, 2.0, 64.0, 0.0]


def test_init_walks_bounce_off_the_border_instead_of_running_along_it():
    """Long walks on a small region: clipping put half of the points on the border."""
    plan = make_plan(canvas=32, strokes=40)
    plan = dataclasses.replace(plan, strokes=dataclasses.replace(plan.strokes, extent=0.5, segments=(2, 3)))
    s = init_strokes(plan, (32, 24))
    x, y = s.points[:, 0], s.points[:, 1]
    on_border = (x == 0) | (x == 32) | (y == 0) | (y == 24)
    assert x.min() >= 0 and x.max() <= 32 and y.min() >= 0 and y.max() <= 24
    assert int(on_border.sum()) == 0


def test_to_canvas_is_bounded_with_unit_slope_at_the_centre():
    region = (64, 32)
    free = torch.tensor([[32.0, 16.0], [-1e4, 1e4], [1e4, -1e4], [40.0, 10.0]], dtype=torch.float64)
    pts = to_canvas(free, region)
    assert pts[0].tolist() == [32.0, 16.0]
    assert (pts[:, 0] >= 0).all() and (pts[:, 0] <= 64).all() and (pts[:, 1] >= 0).all() and (pts[:, 1] <= 32).all()
    slope = torch.autograd.functional.jacobian(lambda u: to_canvas(u, region), free[:1]).reshape(2, 2)
    assert torch.allclose(slope, torch.eye(2, dtype=torch.float64))
    far = torch.tensor([[32.0 + 5 * 32.0, 16.0 - 5 * 16.0]], requires_grad=True)  # 5 R from the centre
    to_canvas(far, region).sum().backward()
    assert (far.grad.abs() < 1e-3).all()  # the gradient fades towards the border


def test_to_free_inverts_to_canvas_and_takes_border_points_inside():
    region = (64, 32)
    pts = torch.tensor([[0.5, 31.0], [63.9, 0.2], [20.0, 16.0]])
    assert torch.allclose(to_canvas(to_free(pts, region), region), pts, atol=1e-4)
    edge = torch.tensor([[0.0, 32.0], [64.0, 0.0], [-5.0, 40.0]])
    free = to_free(edge, region)
    assert torch.isfinite(free).all()
    back = to_canvas(free, region)
    assert (back[:, 0] >= 0).all() and (back[:, 0] <= 64).all() and (back[:, 1] >= 0).all() and (back[:, 1] <= 32).all()


def test_scene_round_trip(tmp_path):
    plan = make_plan(canvas=64, strokes=9)
    s = init_strokes(plan, (64, 40))
    scene = s.to_scene()
    assert scene.size == Size(width=64, height=40) and scene.control_points.dtype == np.float64
    scene.save(tmp_path / "scene.npz")
    with np.load(tmp_path / "scene.npz") as stored:  # the file keeps the shape order of earlier builds
        assert stored["size"].tolist() == [40, 64]
    back = Strokes.from_scene(Scene.load(tmp_path / "scene.npz"))
    assert back.region == s.region
    assert torch.allclose(back.control_points(), s.control_points())
    assert torch.equal(back.stroke_pen, s.stroke_pen)


def test_state_dict_round_trip():
    plan = make_plan(canvas=64, strokes=9)
    s = init_strokes(plan, (64, 64))
    back = Strokes.from_state_dict(s.state_dict())
    assert torch.equal(back.points, s.points) and torch.equal(back.index, s.index) and back.region == s.region
