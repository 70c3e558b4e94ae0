"""Invariances: stroke order, tile size, whole-pixel shifts, views drawn from geometry."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from penspec.runtime.render import render
from tests.support.scenes import random_scene

pytestmark = pytest.mark.usefixtures("render_single_thread")

F64 = torch.float64


def scene64(seed=0, size=96, strokes=40):
    return random_scene(size, strokes, pens=3, width=(0.3, 4.0), seed=seed, dtype=F64)


def test_stroke_order_does_not_matter():
    scene = scene64()
    cp, ss, width, pen, rgb, size = scene.args()
    opacity = torch.tensor([0.6, 0.9, 0.4], dtype=F64)
    before = render(*scene.args(), pen_opacity=opacity)
    order = torch.randperm(width.shape[0], generator=torch.Generator().manual_seed(1))
    rank = torch.argsort(order)  # new id of each old stroke
    new_ss = rank[ss]
    segments = torch.argsort(new_ss, stable=True)  # keep each stroke's segments consecutive
    after = render(cp[segments], new_ss[segments], width[order], pen[order], rgb, size, pen_opacity=opacity)
    assert torch.allclose(after, before, atol=1e-12)


@pytest.mark.parametrize("tile", [2, 4, 5, 13, 16, 32])
def test_tile_size_does_not_matter(tile):
    scene = scene64(1, size=80)
    assert torch.allclose(render(*scene.args(), tile=tile), render(*scene.args(), tile=8), atol=1e-12)


@pytest.mark.parametrize("shift", [(1, 0), (0, -3), (7, 5), (-8, 16)])
def test_whole_pixel_shifts_shift_the_image(shift):
    scene = random_scene(64, 25, width=(0.3, 4.0), seed=2, dtype=F64)
    cp, ss, width, pen, rgb, _ = scene.args()
    cp = cp * 0.5 + 40  # keep the strokes well inside a 128 px canvas
    dx, dy = shift
    base = render(cp, ss, width, pen, rgb, (128, 128))
    moved = render(cp + torch.tensor([dx, dy], dtype=F64), ss, width, pen, rgb, (128, 128))
    assert torch.allclose(moved[:, 20 + dy : 108 + dy, 20 + dx : 108 + dx], base[:, 20:108, 20:108], atol=1e-12)
    assert torch.allclose((1 - moved).sum(), (1 - base).sum(), rtol=1e-12)  # nothing left the canvas


def test_identity_view_equals_the_plain_render():
    scene = scene64(3)
    plain = render(*scene.args())
    viewed = render(*scene.args(), views=torch.eye(3, dtype=F64)[None], view_size=scene.size)
    assert viewed.shape == (1, 3, *scene.size)
    assert torch.allclose(viewed[0], plain, atol=1e-12)


def similarity(angle, scale, tx, ty):
    c, s = math.cos(angle) * scale, math.sin(angle) * scale
    return torch.tensor([[c, -s, tx], [s, c, ty], [0, 0, 1]], dtype=F64)


def test_batched_affine_views_equal_renders_of_moved_control_points():
    scene = scene64(4)
    cp, ss, width, pen, rgb, _ = scene.args()
    views = torch.stack(
        [
            similarity(0.3, 0.8, 10, -5),
            similarity(-1.0, 1.7, 40, 30),
            torch.tensor([[1.2, 0.3, -4], [0.1, 0.7, 6], [0, 0, 1]], dtype=F64),  # shear: width * sqrt|det|
        ]
    )
    batched = render(*scene.args(), views=views, view_size=(64, 72))
    for b, h in enumerate(views):
        moved = cp @ h[:2, :2].T + h[:2, 2]
        scale = float(torch.linalg.det(h[:2, :2]).abs().sqrt())
        single = render(moved, ss, width * scale, pen, rgb, (64, 72))
        assert torch.allclose(batched[b], single, atol=1e-10)


def test_batched_views_equal_single_views_with_perspective():
    scene = scene64(5)
    views = torch.stack(
        [
            torch.tensor([[1.0, 0.1, 1.0], [0.05, 0.95, 2.0], [0.003, -0.002, 1.0]], dtype=F64),
            similarity(0.5, 0.6, 30, 0),
            torch.tensor([[0.8, 0.0, -10.0], [0.0, 0.8, 5.0], [-0.002, 0.004, 1.0]], dtype=F64),
        ]
    )
    batched = render(*scene.args(), views=views, view_size=(48, 48))
    for b in range(3):
        single = render(*scene.args(), views=views[b : b + 1], view_size=(48, 48))
        assert torch.allclose(batched[b], single[0], atol=1e-12)


def test_a_translated_view_is_a_crop_of_the_canvas():
    scene = scene64(6, size=128, strokes=80)
    canvas = render(*scene.args())
    view = render(*scene.args(), views=similarity(0, 1, -40, -24)[None], view_size=(56, 64))
    assert torch.allclose(view[0], canvas[:, 24:80, 40:104], atol=1e-10)


def test_geometry_behind_a_view_is_not_drawn():
    scene = scene64(7)
    horizon = torch.tensor([[1.0, 0, 0], [0, 1.0, 0], [-0.05, 0, 1.0]], dtype=F64)  # w <= 0 for x >= 20
    img = render(*scene.args(), views=horizon[None], view_size=(64, 64))
    assert torch.isfinite(img).all() and img.min() >= 0 and img.max() <= 1


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), strokes=st.integers(1, 8), opacity=st.floats(0.05, 1.0))
def test_ink_only_darkens(seed, strokes, opacity):
    scene = random_scene(24, strokes + 1, pens=2, extent=12.0, width=(0.1, 5.0), seed=seed, dtype=F64)
    cp, ss, width, pen, rgb, size = scene.args()
    paper = (0.95, 0.9, 0.8)
    kw = dict(pen_opacity=torch.tensor([opacity, 1.0], dtype=F64), paper=paper)
    full = render(*scene.args(), **kw)
    keep = ss < strokes  # drop the last stroke
    fewer = render(cp[keep], ss[keep], width, pen, rgb, size, **kw)
    assert full.min() >= 0
    assert (full <= torch.tensor(paper, dtype=F64).view(3, 1, 1) + 1e-12).all()
    assert (full <= fewer + 1e-12).all()
