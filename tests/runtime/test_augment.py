"""Geometry-space augmentation: parameters drawn once per (seed, stage, step, view), homographies
that do what they say, batched == unbatched, seed-stable."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from tests.support.factories import make_plan
from penspec.compiler.plan import AugmentPlan
from penspec.runtime.augment import (
    HELD_OUT,
    TRAIN,
    apply_homography,
    homography_from_points,
    sample_views,
    view_homographies,
    view_homography,
)
from penspec.runtime.draw import pen_look, render_views
from penspec.runtime.strokes import init_strokes

PLAIN = AugmentPlan(crop=32, rotate_deg=0.0, translate=0.0, scale=(1.0, 1.0), perspective=0.0, jitter_px=0)
FULL = AugmentPlan(crop=48, rotate_deg=10.0, translate=0.05, scale=(0.8, 1.2), perspective=0.3, jitter_px=4)


def test_seed_stable_and_position_keyed():
    a = sample_views(7, TRAIN, 0, 3, 4, FULL, (128, 128))
    assert a == sample_views(7, TRAIN, 0, 3, 4, FULL, (128, 128))
    assert a != sample_views(7, TRAIN, 0, 4, 4, FULL, (128, 128))
    assert a != sample_views(8, TRAIN, 0, 3, 4, FULL, (128, 128))
    assert a != sample_views(7, TRAIN, 1, 3, 4, FULL, (128, 128))
    assert a != sample_views(7, HELD_OUT, 0, 3, 4, FULL, (128, 128))


def test_more_views_keep_the_first_ones():
    few = sample_views(1, TRAIN, 2, 5, 3, FULL, (256, 256))
    many = sample_views(1, TRAIN, 2, 5, 9, FULL, (256, 256))
    assert many[:3] == few


def test_identity_view_is_a_crop():
    (view,) = sample_views(0, TRAIN, 0, 0, 1, PLAIN, (32, 32))
    h = view_homography(view, 32)
    assert np.allclose(h, np.eye(3))


def test_crop_window_stays_in_the_region():
    for view in sample_views(3, TRAIN, 0, 0, 32, PLAIN, (200, 100)):
        h = view_homography(view, 32)
        corners = apply_homography(np.array([[0, 0], [32, 32]]), np.linalg.inv(h))
        assert corners.min() >= -1e-9 and corners[:, 0].max() <= 200 + 1e-9 and corners[:, 1].max() <= 100 + 1e-9


def test_rotation_scale_jitter_translate_are_what_was_drawn():
    aug = dataclasses.replace(PLAIN, rotate_deg=30.0, scale=(0.5, 2.0), jitter_px=5, translate=0.1)
    for view in sample_views(11, TRAIN, 0, 0, 8, aug, (512, 512)):
        h = view_homography(view, 32)
        jac = h[:2, :2]
        assert math.sqrt(abs(np.linalg.det(jac))) == pytest.approx(view.scale)
        assert math.degrees(math.atan2(jac[1, 0], jac[0, 0])) == pytest.approx(view.angle_deg)
        centre = apply_homography(np.array(view.center), h)
        expected = 16 + np.array(view.shift) + np.array(view.jitter)
        assert np.allclose(centre, expected)
        assert all(isinstance(j, int) and abs(j) <= 5 for j in view.jitter)


def test_perspective_moves_corners_inward():
    aug = dataclasses.replace(PLAIN, perspective=0.5)
    view = sample_views(2, TRAIN, 0, 0, 1, aug, (32, 32))[0]
    h = view_homography(view, 32)
    mapped = apply_homography(np.array([[0.0, 0.0], [32.0, 0.0], [32.0, 32.0], [0.0, 32.0]]), h)
    assert mapped.min() >= 0.0 and mapped.max() <= 32.0
    assert not np.allclose(mapped, [[0, 0], [32, 0], [32, 32], [0, 32]])


def test_homography_from_points_round_trip():
    src = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]])
    dst = np.array([[1.0, 2.0], [9.0, 1.0], [11.0, 12.0], [-1.0, 9.0]])
    assert np.allclose(apply_homography(src, homography_from_points(src, dst)), dst)


def test_batched_views_equal_single_renders():
    plan = make_plan(canvas=64, strokes=16)
    strokes = init_strokes(plan, (64, 64))
    look = pen_look(plan, strokes)
    hs = view_homographies(sample_views(1, TRAIN, 0, 0, 3, plan.augment, (64, 64)), 48)
    batched = render_views(strokes, strokes.points, look, hs, 48)
    for b in range(3):
        single = render_views(strokes, strokes.points, look, hs[b : b + 1], 48)
        assert torch.allclose(batched[b], single[0], atol=1e-6)


def test_step_cost_does_not_depend_on_the_canvas():
    """A view is drawn at the crop size whatever the region: same output shape, and a view of a
    big region sees the strokes under its window only."""
    plan = make_plan(canvas=64, strokes=16)
    strokes = init_strokes(plan, (64, 64))
    look = pen_look(plan, strokes)
    hs = view_homographies(sample_views(1, TRAIN, 0, 0, 2, plan.augment, (4096, 4096)), 48)
    out = render_views(dataclasses.replace(strokes, region=(4096, 4096)), strokes.points, look, hs, 48)
    assert out.shape == (2, 3, 48, 48)
