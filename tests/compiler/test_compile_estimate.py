import dataclasses
import math

import pytest
from tests.support.compile_fixtures import finetune, make_spec, optimize, paper, pen, tile

from penspec.compiler import compile_spec
from penspec.compiler.estimate import pen_time_s, stroke_length_mm, travel_mm
from penspec.compiler.motion import MotionSettings, plot_time
from penspec.spec.model import Strokes


def test_ink_follows_the_documented_model():
    plan = compile_spec(make_spec(canvas=256))
    est = plan.estimates.pens[0]
    side_mm = 256 * plan.canvas.mm_per_px
    assert est.strokes == 200 and est.lifts == 200
    assert est.ink_mm == pytest.approx(200 * 2 * 1.62 * 0.1 * side_mm, rel=1e-6)  # mean of [1, 3] segments = 2
    assert plan.estimates.steps == 500


def test_tiling_multiplies_strokes_and_ink_but_not_stroke_length():
    spec = make_spec(canvas=1024, paper=paper("a3", landscape=True), stages=(optimize(256), tile(4), finetune(steps=1500)))
    plan = compile_spec(spec)
    est = plan.estimates.pens[0]
    assert est.strokes == 3200
    assert est.ink_mm == pytest.approx(3200 * stroke_length_mm((1, 3), 0.1, 256 * plan.canvas.mm_per_px), rel=1e-6)
    assert plan.estimates.steps == 2000


def test_per_pen_split_and_totals():
    pens = (pen("black"), pen("blue", "#1f4e9c", speed_pendown=10))
    plan = compile_spec(make_spec(pens=pens, strokes=Strokes(count=100, segments=(2, 2), extent=0.1, pens=(("black", 0.5), ("blue", 0.5)), crowding=0.0)))
    black, blue = plan.estimates.pens
    assert black.strokes == blue.strokes == 50 and black.ink_mm == blue.ink_mm
    assert blue.time_s > black.time_s  # slower pen-down speed
    assert plan.estimates.time_s == pytest.approx(black.time_s + blue.time_s, abs=1e-3)
    assert plan.estimates.ink_mm == pytest.approx(black.ink_mm + blue.ink_mm, abs=1e-3)


def test_learned_pens_share_the_final_strokes():
    pens = (pen("black"), pen("blue", "#1f4e9c"), pen("red", "#cc0000"))
    plan = compile_spec(make_spec(pens=pens, strokes=Strokes(count=100, segments=(1, 3), extent=0.1, pens="learn", crowding=0.0)))
    assert [e.strokes for e in plan.estimates.pens] == [34, 33, 33]


def test_segment_factor_matches_the_exact_length_of_random_cubics():
    """Three uniform steps in [-1, 1]^2 per cubic, as strokes are initialised: mean length ~1.62."""
    import random

    from penspec.compiler.motion import polyline_length

    rng = random.Random(0)
    total, n = 0.0, 3000
    for _ in range(n):
        pts = [(0.0, 0.0)]
        for _ in range(3):
            pts.append((pts[-1][0] + rng.uniform(-1, 1), pts[-1][1] + rng.uniform(-1, 1)))
        curve = []
        for i in range(65):
            t = i / 64
            b = ((1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3)
            curve.append((sum(w * p[0] for w, p in zip(b, pts)), sum(w * p[1] for w, p in zip(b, pts))))
        total += polyline_length(curve)
    assert stroke_length_mm((1, 1), 1.0, 1.0) == pytest.approx(total / n, rel=0.03)


def test_unoptimised_travel_is_longer():
    assert travel_mm(1000, 100.0 * 100.0, optimized=False) > travel_mm(1000, 100.0 * 100.0, optimized=True)
    assert travel_mm(0, 1.0, True) == 0.0


def test_time_agrees_with_the_motion_model_on_equivalent_paths():
    """pen_time_s is plot_time on straight strokes with evenly spaced hops, home included."""
    p = compile_spec(make_spec()).pens[0]
    n, length, hop, home = 5, 30.0, 20.0, 50.0
    # strokes along x, hops of `hop` between them, home at distance `home` from the first start
    paths = []
    for i in range(n):
        y = i * hop
        paths.append([(0.0, y), (length, y)] if i % 2 == 0 else [(length, y), (0.0, y)])
    ours = pen_time_s(p, 75, n, length, hop * n, home)
    settings = MotionSettings(speed_pendown=p.speed_pendown, speed_penup=p.speed_penup, accel=75,
                              pen_pos_down=p.pen_pos_down, pen_pos_up=p.pen_pos_up)
    ref = plot_time(paths, settings, home=(0.0, -home))
    # same draw and servo time; travel differs only in how the hops are laid out
    assert ours == pytest.approx(ref.total_s, rel=0.1)
    assert ref.lifts == n


def test_a_pen_delay_is_spent_once_at_its_layer_start():
    """The spec's pen delay is AxiDraw's +D: once per layer, not at every lift (as the report)."""
    p = compile_spec(make_spec()).pens[0]
    slow = dataclasses.replace(p, delay_ms=500)
    assert pen_time_s(slow, 75, 200, 17.0, 900.0, 50.0) - pen_time_s(p, 75, 200, 17.0, 900.0, 50.0) == pytest.approx(0.5)


def test_estimates_are_plausible_for_a_real_piece():
    """200 strokes of ~17 mm at 25 % speed: minutes, not seconds or hours."""
    est = compile_spec(make_spec()).estimates
    assert 60 < est.time_s < 600
