"""The plot report: time estimates against a hand computation, travel optimisation figures."""

import dataclasses
import json
import math

import pytest
from tests.support.emit_scenes import PROVENANCE, line_cubic, lines_scene, scatter_scene, scene_from_strokes
from tests.support.factories import make_plan

from penspec.runtime.emit import emit_all

IN = 25.4


def emit(tmp_path, plan, scene, **kw):
    emit_all(plan, scene, tmp_path, stem="piece", provenance=PROVENANCE, preview=False, **kw)
    return json.loads((tmp_path / "report.json").read_text())


def hand_move(length, v, a):
    """Rest-to-rest trapezoid, written out: accelerate to v, cruise, brake (or a triangle)."""
    ramp = v / a  # seconds to reach v
    ramp_len = 0.5 * a * ramp**2
    if 2 * ramp_len <= length:
        return 2 * ramp + (length - 2 * ramp_len) / v
    return 2 * math.sqrt(length / a)


def test_time_of_a_straight_line_matches_the_motion_model_by_hand(tmp_path):
    plan = make_plan(canvas=64)
    black = dataclasses.replace(plan.pens[0], speed_pendown=30, speed_penup=80, pen_pos_down=25, pen_pos_up=65, delay_ms=0)
    plan = dataclasses.replace(plan, pens=(black,), plot=dataclasses.replace(plan.plot, accel=60))
    scene = scene_from_strokes([(0, [line_cubic((8, 32), (56, 32))])], (64, 64))
    report = emit(tmp_path, plan, scene)

    c = plan.canvas
    start = (c.origin_mm[0] + 8 * c.mm_per_px, c.origin_mm[1] + 32 * c.mm_per_px)
    end = (c.origin_mm[0] + 56 * c.mm_per_px, start[1])
    length = 48 * c.mm_per_px  # 63.75 mm
    v_down, v_up = 30 / 110 * 8.6979 * IN, 80 / 110 * 8.6979 * IN  # mm/s
    a_down, a_up = 0.60 * 40 * IN, 0.60 * 60 * IN  # mm/s^2
    d = 65 - 25
    lower_ms = ((2.69 * d + 45) ** 4 + (200 * d / 50) ** 4) ** 0.25
    raise_ms = ((2.69 * d + 45) ** 4 + (200 * d / 75) ** 4) ** 0.25
    by_hand = (
        hand_move(math.hypot(*start), v_up, a_up)
        + hand_move(length, v_down, a_down)
        + hand_move(math.hypot(*end), v_up, a_up)
        + (lower_ms + raise_ms) / 1000
    )
    pen = report["pens"][0]
    assert pen["ink_mm"] == pytest.approx(length, rel=1e-6)
    assert pen["lifts"] == 1
    assert pen["time_s"] == pytest.approx(by_hand, rel=0.02)
    assert report["totals"]["time_s"] == pytest.approx(by_hand, rel=0.02)


def test_layer_delay_counts_once_per_layer(tmp_path):
    plan = make_plan(canvas=64)
    base = emit(tmp_path / "a", plan, lines_scene())["pens"][0]["time_s"]
    slow = dataclasses.replace(plan, pens=(dataclasses.replace(plan.pens[0], delay_ms=1500), plan.pens[1]))
    report = emit(tmp_path / "b", slow, lines_scene())
    assert report["pens"][0]["time_s"] == pytest.approx(base + 1.5, abs=1e-3)
    assert report["pens"][0]["layers"][0]["label"].startswith("1+D1500+H30+S25")


def test_travel_optimisation_shortens_pen_up_travel_on_a_gallery_like_scene(tmp_path):
    plan = make_plan(canvas=256)
    report = emit(tmp_path, plan, scatter_scene(canvas=256, count=300))
    for pen in report["pens"]:
        assert pen["penup_mm_after"] < 0.6 * pen["penup_mm_before"]
        assert pen["strokes"] > 100 and pen["paths"] <= pen["strokes"]
    totals = report["totals"]
    assert totals["penup_mm_after"] < totals["penup_mm_before"]
    off = dataclasses.replace(plan, plot=dataclasses.replace(plan.plot, optimize=False))
    plain = emit(tmp_path / "off", off, scatter_scene(canvas=256, count=300))
    assert plain["totals"]["penup_mm_after"] == plain["totals"]["penup_mm_before"] == totals["penup_mm_before"]
    assert plain["totals"]["time_s"] > totals["time_s"]
    assert plain["plot"]["pipeline"] == ""


def test_report_lists_layers_with_axicli_commands_and_totals(tmp_path):
    plan = make_plan(canvas=64)
    plan = dataclasses.replace(plan, pens=(dataclasses.replace(plan.pens[0], max_draw_length_mm=120.0), plan.pens[1]))
    report = emit(tmp_path, plan, lines_scene(per_pen=4), metrics={"objective": {"before": 1.5, "after": -3.25, "terms": []}})
    black, blue = report["pens"]
    assert [l["number"] for l in black["layers"]] == [1, 2] and [l["number"] for l in blue["layers"]] == [3]
    assert black["layers"][1]["pause"] and black["layers"][1]["part"] == [2, 2]
    assert all(l["ink_mm"] <= 120.0 for l in black["layers"])
    assert blue["layers"][0]["axicli"] == "axicli pens/2-blue.svg -m layers -l 3 -L 2 -s 25 -S 75 -a 75 -d 30 -u 60 -o plot-progress.svg"
    assert report["totals"]["layers"] == 3 and report["totals"]["lifts"] == 8
    assert report["totals"]["ink_mm"] == pytest.approx(black["ink_mm"] + blue["ink_mm"], abs=0.01)
    assert report["objective"]["after"] == -3.25
    assert report["provenance"] == PROVENANCE
    assert report["files"]["layered_svg"] == "piece.svg"
    md = (tmp_path / "report.md").read_text()
    assert "| black | #111111 | 0.3 | 4 | 4 |" in md
    assert "`axicli pens/2-blue.svg -m layers -l 3" in md and "before 1.5, after -3.25" in md


def test_report_warns_about_what_the_targets_cannot_express(tmp_path):
    plan = make_plan(canvas=64)
    ghost = dataclasses.replace(plan.pens[1], opacity=0.6, max_draw_length_mm=10.0)
    plan = dataclasses.replace(plan, pens=(plan.pens[0], ghost))
    scene = scene_from_strokes([(0, [line_cubic((-10, 5), (30, 5))]), (1, [line_cubic((5, 20), (50, 20))])], (64, 64))
    warnings = emit(tmp_path, plan, scene)["warnings"]
    assert any("1 of 1 strokes of pen 'black' reach outside the canvas" in w for w in warnings)
    assert any("opacity 0.6" in w for w in warnings)
    assert any("over its max draw length of 10 mm" in w for w in warnings)
