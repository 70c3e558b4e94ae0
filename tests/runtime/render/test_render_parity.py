"""Forward parity with cairo (our ink model is its OPERATOR_MULTIPLY) and, looser, skia."""

import pytest
import torch

from penspec.runtime.render import render
from tests.support.scenes import random_scene

pytestmark = pytest.mark.usefixtures("render_single_thread")


@pytest.mark.parametrize("seed", [0, 1])
def test_matches_cairo_on_random_smooth_scenes(seed, render_cairo):
    scene = random_scene(224, 300, pens=3, width=(0.5, 4.0), seed=seed, dtype=torch.float64)
    ours = render(*scene.args())
    ref = render_cairo(scene.args())
    err = (ours - ref).abs()
    assert err.mean() <= 3 / 255
    assert torch.quantile(err.flatten(), 0.99) <= 25 / 255
    ink, ref_ink = (1 - ours).sum(), (1 - ref).sum()
    assert abs(ink / ref_ink - 1) <= 0.01


def test_matches_cairo_with_translucent_pens_and_coloured_paper(render_cairo):
    scene = random_scene(160, 150, pens=3, width=(0.5, 4.0), seed=3, dtype=torch.float64)
    opacity = torch.tensor([0.5, 0.8, 0.3], dtype=torch.float64)
    paper = (0.95, 0.92, 0.85)
    ours = render(*scene.args(), pen_opacity=opacity, paper=paper)
    ref = render_cairo(scene.args(), opacity=opacity, paper=paper)
    err = (ours - ref).abs()
    assert err.mean() <= 3 / 255
    assert torch.quantile(err.flatten(), 0.99) <= 25 / 255
    paper_t = torch.tensor(paper, dtype=torch.float64).view(3, 1, 1)
    ink, ref_ink = (paper_t - ours).sum(), (paper_t - ref).sum()
    assert abs(ink / ref_ink - 1) <= 0.01


def test_matches_skia_loosely(render_skia):
    scene = random_scene(224, 300, pens=3, width=(0.5, 4.0), seed=4, dtype=torch.float64)
    ours = render(*scene.args())
    ref = render_skia(scene.args())
    err = (ours - ref).abs()
    assert err.mean() <= 5 / 255
    assert abs((1 - ours).sum() / (1 - ref).sum() - 1) <= 0.03


def test_float32_matches_float64():
    scene = random_scene(128, 80, seed=5, dtype=torch.float64)
    wide = render(*scene.args())
    cp, ss, w, pen, rgb, size = scene.args()
    narrow = render(cp.float(), ss, w.float(), pen, rgb.float(), size)
    assert narrow.dtype == torch.float32
    assert (narrow.double() - wide).abs().max() < 1e-4
