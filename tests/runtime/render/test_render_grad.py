"""Gradients: the custom backward equals plain autograd, and both agree with finite differences."""

import pytest
import torch

from penspec.runtime.render import render
from tests.support.scenes import random_scene

pytestmark = pytest.mark.usefixtures("render_single_thread")

F64 = torch.float64


def chained(scene):
    """Free points of each stroke (joints shared, as an optimiser holds them) and the index that
    turns them into [N, 4, 2] control points."""
    cp, ss = scene.control_points, scene.segment_stroke
    points, index = [], []
    for i in range(cp.shape[0]):
        joined = i > 0 and ss[i] == ss[i - 1] and torch.equal(cp[i, 0], cp[i - 1, 3])
        base = len(points) - 1 if joined else len(points)
        if not joined:
            points.append(cp[i, 0])
        points.extend(cp[i, 1:])
        index.append([base, base + 1, base + 2, base + 3])
    return torch.stack(points), torch.tensor(index)


def tiny(seed, width=(0.3, 3.0)):
    return random_scene(32, 3, pens=3, extent=20.0, width=width, seed=seed, dtype=F64)


def loss_weights(shape, seed=0):
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def numeric_grad(f, x, h=1e-6):
    out = torch.zeros_like(x)
    for j in range(x.numel()):
        up, down = x.clone(), x.clone()
        up.view(-1)[j] += h
        down.view(-1)[j] -= h
        out.view(-1)[j] = (f(up) - f(down)) / (2 * h)
    return out


def rel_err(a, b):
    return float((a - b).norm() / b.norm().clamp_min(1e-30))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_custom_backward_equals_plain_autograd(seed, render_dense):
    scene = tiny(seed)
    cp = scene.control_points.clone().requires_grad_()
    width = scene.stroke_width.clone().requires_grad_()
    rgb = scene.pen_rgb.clone().requires_grad_()
    opacity = torch.tensor([1.0, 0.7, 0.45], dtype=F64, requires_grad=True)  # opaque and translucent
    args = (cp, scene.segment_stroke, width, scene.stroke_pen, rgb, scene.size)
    weights = loss_weights((3, 32, 32), seed)
    ours = render(*args, pen_opacity=opacity, paper=(0.9, 0.95, 1.0))
    ref = render_dense(*args, pen_opacity=opacity, paper=(0.9, 0.95, 1.0))
    assert torch.allclose(ours, ref, atol=1e-12)
    g_ours = torch.autograd.grad((ours * weights).sum(), (cp, width, rgb, opacity))
    g_ref = torch.autograd.grad((ref * weights).sum(), (cp, width, rgb, opacity))
    for a, b in zip(g_ours, g_ref):
        assert rel_err(a, b) < 1e-9


def test_black_pens_keep_their_colour_gradient_where_saturated(render_dense):
    scene = tiny(4, width=(2.5, 4.0))
    rgb = torch.zeros(3, 3, dtype=F64, requires_grad=True)
    args = (scene.control_points, scene.segment_stroke, scene.stroke_width, scene.stroke_pen, rgb, scene.size)
    (g,) = torch.autograd.grad(render(*args).sum(), rgb)
    (g_ref,) = torch.autograd.grad(render_dense(*args).sum(), rgb)
    assert rel_err(g, g_ref) < 1e-9 and (g[scene.stroke_pen.unique()] > 0).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_finite_differences(seed):
    scene = tiny(seed)
    points, index = chained(scene)
    ss, pen, size = scene.segment_stroke, scene.stroke_pen, scene.size
    width, rgb = scene.stroke_width, torch.tensor([[0.1, 0.2, 0.3], [0.6, 0.3, 0.1], [0.2, 0.7, 0.5]], dtype=F64)
    opacity = torch.tensor([0.9, 0.6, 0.8], dtype=F64)
    weights = loss_weights((3, 32, 32), seed)

    def loss(p=points, w=width, c=rgb, o=opacity):
        return float((render(p[index], ss, w, pen, c, size, pen_opacity=o) * weights).sum())

    leaves = [t.clone().requires_grad_() for t in (points, width, rgb, opacity)]
    img = render(leaves[0][index], ss, leaves[1], pen, leaves[2], size, pen_opacity=leaves[3])
    grads = torch.autograd.grad((img * weights).sum(), leaves)
    checks = [
        (grads[0], numeric_grad(lambda p: loss(p=p), points)),
        (grads[1], numeric_grad(lambda w: loss(w=w), width)),
        (grads[2], numeric_grad(lambda c: loss(c=c), rgb)),
        (grads[3], numeric_grad(lambda o: loss(o=o), opacity)),
    ]
    for analytic, numeric in checks:
        assert rel_err(analytic, numeric) < 1e-5


def test_finite_differences_through_views():
    scene = tiny(5)
    points, index = chained(scene)
    views = torch.tensor(
        [
            [[0.9, 0.2, 3.0], [-0.15, 1.1, -2.0], [0.0, 0.0, 1.0]],  # affine
            [[1.0, 0.1, 1.0], [0.05, 0.95, 2.0], [0.004, -0.003, 1.0]],  # perspective
        ],
        dtype=F64,
    )
    ss, pen, rgb, size = scene.segment_stroke, scene.stroke_pen, scene.pen_rgb, scene.size
    weights = loss_weights((2, 3, 28, 28))

    def image(p, w):
        return render(p[index], ss, w, pen, rgb, size, views=views, view_size=(28, 28))

    p, w = points.clone().requires_grad_(), scene.stroke_width.clone().requires_grad_()
    g_p, g_w = torch.autograd.grad((image(p, w) * weights).sum(), (p, w))
    assert rel_err(g_p, numeric_grad(lambda q: float((image(q, scene.stroke_width) * weights).sum()), points)) < 1e-5
    assert rel_err(g_w, numeric_grad(lambda v: float((image(points, v) * weights).sum()), scene.stroke_width)) < 1e-5


def test_translation_gradient_follows_cairo(render_cairo):
    """Moving a stroke by a fraction of a pixel: autograd agrees with cairo's finite difference."""
    scene = random_scene(96, 60, pens=1, width=(1.0, 3.0), seed=7, dtype=F64)
    yy, xx = torch.meshgrid(torch.arange(96, dtype=F64), torch.arange(96, dtype=F64), indexing="ij")
    weights = (torch.sin(xx / 7) + torch.cos(yy / 5) + torch.sin((xx + yy) / 11)).expand(3, 96, 96)
    cp = scene.control_points.clone().requires_grad_()
    img = render(cp, *scene.args()[1:])
    (g,) = torch.autograd.grad((img * weights).sum(), cp)
    per_stroke = torch.zeros(60, 2, dtype=F64).index_add_(0, scene.segment_stroke, g.sum(1))
    h = 0.25
    fd = torch.zeros(60, 2, dtype=F64)
    for s in range(60):
        for axis in range(2):
            shift = torch.zeros(2, dtype=F64)
            shift[axis] = h
            moved = [scene.control_points.clone() for _ in range(2)]
            mine = scene.segment_stroke == s
            moved[0][mine] += shift
            moved[1][mine] -= shift
            up, down = (render_cairo((m, *scene.args()[1:])) for m in moved)
            fd[s, axis] = ((up - down) * weights).sum() / (2 * h)
    corr = torch.corrcoef(torch.stack((per_stroke.flatten(), fd.flatten())))[0, 1]
    assert corr >= 0.95


def test_float32_gradients_follow_float64():
    scene = random_scene(96, 40, pens=3, width=(0.5, 3.0), seed=8, dtype=F64)
    weights = loss_weights((3, 96, 96), 8)
    grads = {}
    for dtype in (torch.float32, F64):
        cp = scene.control_points.to(dtype).requires_grad_()
        width = scene.stroke_width.to(dtype).requires_grad_()
        img = render(cp, scene.segment_stroke, width, scene.stroke_pen, scene.pen_rgb.to(dtype), scene.size)
        grads[dtype] = torch.autograd.grad((img * weights.to(dtype)).sum(), (cp, width))
    for a, b in zip(grads[torch.float32], grads[F64]):
        assert rel_err(a.double(), b) < 1e-3
