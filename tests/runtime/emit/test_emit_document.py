"""Scene -> page geometry: flattening, the canvas->paper mapping, clipping, splitting, labels."""

import dataclasses
import math

import numpy as np
import pytest
import vpype as vp
from tests.support.emit_scenes import line_cubic, lines_scene, scene_from_strokes
from tests.support.factories import make_plan

from penspec.runtime.emit.document import (
    canvas_box,
    flatten_stroke,
    optimize_travel,
    pen_drawings,
    plot_layers,
    split_by_draw_length,
)
from penspec.spec.errors import EmitError
from penspec.spec.units import PX_PER_MM


def bezier(cp, t):
    t = np.asarray(t)[:, None]
    u = 1 - t
    return u**3 * cp[0] + 3 * u * u * t * cp[1] + 3 * u * t * t * cp[2] + t**3 * cp[3]


def distance_to_polyline(points, line):
    a, b = line[:-1], line[1:]
    ab = b - a
    out = []
    for p in points:
        t = np.clip(((p - a) * ab).sum(1) / np.maximum((ab * ab).sum(1), 1e-30), 0, 1)
        out.append(np.min(np.linalg.norm(a + t[:, None] * ab - p, axis=1)))
    return np.array(out)


@pytest.mark.parametrize("tol", [0.5, 0.05, 0.01])
def test_flattening_stays_within_tolerance(tol):
    rng = np.random.default_rng(1)
    for _ in range(20):
        cp = rng.uniform(0, 50, (1, 4, 2))
        line = flatten_stroke(cp, tol)
        err = distance_to_polyline(bezier(cp[0], np.linspace(0, 1, 400)), line)
        assert err.max() <= tol * 1.0001
        assert np.allclose(line[0], cp[0, 0]) and np.allclose(line[-1], cp[0, 3])


def test_straight_segments_flatten_to_their_endpoints_and_chains_share_joints():
    chain = np.stack([line_cubic((0, 0), (10, 0)), line_cubic((10, 0), (10, 5))])
    assert flatten_stroke(chain, 0.01).tolist() == [[0, 0], [10, 0], [10, 5]]


def test_canvas_maps_onto_the_paper_as_the_plan_says():
    plan = make_plan(canvas=64)
    scene = scene_from_strokes([(0, [line_cubic((0, 0), (64, 64))])], (64, 64))
    (black, _) = pen_drawings(plan, scene)
    line = black.lines[0]
    c = plan.canvas
    assert line[0] == pytest.approx(complex(*c.origin_mm) * PX_PER_MM)
    end = (c.origin_mm[0] + 64 * c.mm_per_px) + 1j * (c.origin_mm[1] + 64 * c.mm_per_px)
    assert line[-1] == pytest.approx(end * PX_PER_MM)
    x0, y0, x1, y1 = canvas_box(plan)
    margin = plan.paper.margin_mm * PX_PER_MM
    assert x0 >= margin - 1e-9 and y0 >= margin - 1e-9
    assert x1 <= plan.paper.width_mm * PX_PER_MM - margin + 1e-9
    assert y1 <= plan.paper.height_mm * PX_PER_MM - margin + 1e-9


def test_strokes_leaving_the_canvas_are_cut_at_its_edge():
    plan = make_plan(canvas=64)
    scene = scene_from_strokes([(0, [line_cubic((-20, 32), (90, 32))]), (0, [line_cubic((5, 5), (10, 10))])], (64, 64))
    (black, _) = pen_drawings(plan, scene)
    assert black.clipped == 1 and black.strokes == 2
    x0, _, x1, _ = canvas_box(plan)
    assert black.lines[0][0].real == pytest.approx(x0)
    assert black.lines[0][-1].real == pytest.approx(x1)


def test_scene_must_match_the_plan():
    plan = make_plan(canvas=64)
    with pytest.raises(EmitError, match="canvas"):
        pen_drawings(plan, lines_scene(canvas=32))
    bad = scene_from_strokes([(5, [line_cubic((1, 1), (2, 2))])], (64, 64))
    with pytest.raises(EmitError, match="pen index 5"):
        pen_drawings(plan, bad)


def test_split_keeps_every_part_within_the_budget_and_the_order():
    lines = vp.LineCollection([np.array([0, 10 + 0j]) + 20j * i for i in range(10)])  # ten 10 px paths
    parts = split_by_draw_length(lines, 25.0)
    assert [len(p) for p in parts] == [2, 2, 2, 2, 2]
    assert all(p.length() <= 25.0 for p in parts)
    joined = [line for p in parts for line in p]
    assert all(np.array_equal(a, b) for a, b in zip(joined, lines, strict=True))
    # a path over the budget gets a part of its own rather than being lost
    long = vp.LineCollection([np.array([0, 5 + 0j]), np.array([0, 100 + 0j]), np.array([0, 5 + 0j])])
    assert [len(p) for p in split_by_draw_length(long, 20.0)] == [1, 1, 1]
    assert len(split_by_draw_length(lines, None)) == 1


def test_layers_are_numbered_in_order_and_pause_at_pen_changes_and_parts():
    plan = make_plan(canvas=64)
    pens = (dataclasses.replace(plan.pens[0], max_draw_length_mm=120.0), plan.pens[1])
    plan = dataclasses.replace(plan, pens=pens)
    drawings = pen_drawings(plan, lines_scene(canvas=64, per_pen=4))  # 40 px lines: 53.1 mm each, two per part
    layers = plot_layers(plan, drawings)
    got = [(l.number, l.pen.id, l.label.pause, l.label.part) for l in layers]
    assert got == [(1, "black", False, (1, 2)), (2, "black", True, (2, 2)), (3, "blue", True, None)]
    assert [l.name for l in layers] == ["1+H30+S25 black (1/2)", "!2+H30+S25 black (2/2)", "!3+H30+S25 blue"]
    no_pause = plot_layers(dataclasses.replace(plan, plot=dataclasses.replace(plan.plot, pause_between_pens=False)), drawings)
    assert [l.label.pause for l in no_pause] == [False, True, False]  # parts still pause


def test_pens_that_draw_nothing_get_no_layer():
    plan = make_plan(canvas=64)
    scene = scene_from_strokes([(1, [line_cubic((5, 5), (20, 5))])], (64, 64))
    layers = plot_layers(plan, pen_drawings(plan, scene))
    assert [(l.number, l.pen.id, l.label.pause) for l in layers] == [(1, "blue", False)]


def test_travel_optimisation_keeps_the_ink_and_the_layers():
    plan = make_plan(canvas=64)
    raw = pen_drawings(plan, lines_scene(canvas=64, per_pen=5))
    optimized = optimize_travel(raw, plan.plot.pipeline)
    for before, after in zip(raw, optimized, strict=True):
        assert after.pen == before.pen
        assert math.isclose(after.lines.length(), before.lines.length(), rel_tol=1e-9)


def test_a_pipeline_vpype_cannot_run_is_an_emit_error():
    plan = make_plan(canvas=64)
    with pytest.raises(EmitError, match="plot.pipeline"):
        optimize_travel(pen_drawings(plan, lines_scene()), "linesort --no-such-option")
