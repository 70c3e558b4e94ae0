"""render()'s contract: shapes, dtypes, errors, the backend registry, flatten_cubics, counts."""

import math

import pytest
import torch

from penspec.runtime.render import (
    BACKENDS,
    BackendUnavailableError,
    RenderError,
    available_backends,
    flatten_cubics,
    get_backend,
    render,
)
from penspec.runtime.render.inputs import check_inputs
from tests.support.scenes import random_scene
from penspec.runtime.render.torch_backend import layout
from penspec.spec.errors import PenspecError
from penspec.spec.model import Size

pytestmark = pytest.mark.usefixtures("render_single_thread")


def line(x0, y0, x1, y1, dtype=torch.float64):
    """A straight cubic with evenly spaced control points."""
    t = torch.tensor([0, 1 / 3, 2 / 3, 1], dtype=dtype).unsqueeze(1)
    return torch.tensor([x0, y0], dtype=dtype) + t * torch.tensor([x1 - x0, y1 - y0], dtype=dtype)


def one_stroke(cp, width=2.0, rgb=(0.0, 0.0, 0.0)):
    cp = cp.reshape(-1, 4, 2)
    n = cp.shape[0]
    return (cp, torch.zeros(n, dtype=torch.long), torch.tensor([width], dtype=cp.dtype), torch.tensor([0]), torch.tensor([rgb], dtype=cp.dtype))


def counts(args, tile=8, **kw):
    strokes = check_inputs(*args, kw.get("pen_opacity"), (1.0, 1.0, 1.0), kw.get("views"), kw.get("view_size"))
    bins = layout(strokes, tile)[-1]
    return bins.pieces, bins.pairs, bins.groups


def test_shapes_dtype_and_range():
    scene = random_scene(48, 20, seed=0)
    img = render(*scene.args())
    assert img.shape == (3, 48, 48) and img.dtype == torch.float32
    assert 0 <= img.min() < 0.5 and img.max() <= 1
    wide = render(*random_scene((40, 56), 20, seed=0, dtype=torch.float64).args())
    assert wide.shape == (3, 40, 56) and wide.dtype == torch.float64


def test_a_size_is_read_by_its_names():
    """A Size is (width, height); a plain pair stays (H, W) like an image's shape."""
    scene = random_scene((40, 56), 20, seed=0, dtype=torch.float64)
    args = scene.args()[:-1]
    named = render(*args, Size(width=56, height=40))
    assert named.shape == (3, 40, 56) and torch.equal(named, render(*args, (40, 56)))
    with pytest.raises(RenderError, match="size must be two positive whole numbers"):
        render(*args, Size(width=56, height=0))


def test_empty_scene_is_paper():
    cp = torch.zeros(0, 4, 2)
    img = render(cp, torch.zeros(0, dtype=torch.long), torch.zeros(0), torch.zeros(0, dtype=torch.long), torch.zeros(1, 3), (5, 7), paper=(0.9, 0.8, 0.7))
    assert torch.equal(img, torch.tensor([0.9, 0.8, 0.7]).view(3, 1, 1).expand(3, 5, 7))


def test_strokes_off_canvas_leave_it_blank():
    img = render(*one_stroke(line(-50, -50, -10, -20)), (16, 16))
    assert torch.equal(img, torch.ones(3, 16, 16, dtype=torch.float64))


def test_counts_for_a_fixed_scene():
    # a straight line is cut in 2 pieces (the minimum); each spans 2 tiles of 8 px, the middle
    # tile holds both pieces of the stroke in one group
    args = (*one_stroke(line(10, 12, 30, 12)), (32, 32))
    assert counts(args, tile=8) == (2, 4, 3)
    assert counts(args, tile=16) == (2, 3, 2)
    ink = (1 - render(*args)[0]).sum()
    assert ink == pytest.approx(20 * 2 + math.pi, rel=0.01)


def test_counts_stay_lean_on_a_random_scene():
    scene = random_scene(224, 200, seed=0)
    strokes = check_inputs(*scene.args(), None, (1.0, 1.0, 1.0), None, None)
    bins = layout(strokes, 8)[-1]
    assert bins.pairs < 2.5 * bins.pieces
    slots = sum(b.pieces.numel() for b in bins.buckets)
    assert slots < 1.15 * bins.pairs  # padding of the group tables
    assert bins.groups < bins.pairs


def test_same_inputs_give_bit_identical_outputs_and_gradients():
    scene = random_scene(96, 60, seed=2)
    cp = scene.control_points.clone().requires_grad_()
    width = scene.stroke_width.clone().requires_grad_()
    results = []
    for _ in range(2):
        img = render(cp, scene.segment_stroke, width, scene.stroke_pen, scene.pen_rgb, scene.size)
        grads = torch.autograd.grad((img * torch.linspace(0, 1, img.numel()).view_as(img)).sum(), (cp, width))
        results.append((img, *grads))
    for a, b in zip(*results):
        assert torch.equal(a, b)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: {**a, "control_points": torch.zeros(3, 3, 2)}, "control_points must have shape"),
        (lambda a: {**a, "segment_stroke": torch.tensor([0, 0, 5])}, "segment_stroke must lie in"),
        (lambda a: {**a, "stroke_pen": torch.tensor([0.0])}, "stroke_pen must hold integers"),
        (lambda a: {**a, "stroke_width": torch.tensor([-1.0])}, "stroke_width must be finite and >= 0"),
        (lambda a: {**a, "pen_rgb": torch.zeros(1, 4)}, "pen_rgb must have shape"),
        (lambda a: {**a, "size": (0, 10)}, "size must be two positive whole numbers"),
        (lambda a: {**a, "control_points": torch.full((3, 4, 2), math.nan)}, "NaN"),
        (lambda a: {**a, "control_points": torch.zeros(3, 4, 2, dtype=torch.float16)}, "float32 or float64"),
        (lambda a: {**a, "views": torch.eye(3)[None]}, "view_size"),
        (lambda a: {**a, "view_size": (8, 8)}, "without views"),
        (lambda a: {**a, "backend": "cairo"}, "known: diffvg, torch"),
        (lambda a: {**a, "samples": 4}, "takes no option samples"),
    ],
)
def test_bad_arguments_raise_render_errors(change, message):
    good = dict(
        control_points=torch.zeros(3, 4, 2),
        segment_stroke=torch.tensor([0, 0, 0]),
        stroke_width=torch.tensor([1.0]),
        stroke_pen=torch.tensor([0]),
        pen_rgb=torch.zeros(1, 3),
        size=(8, 8),
    )
    args = change(good)
    with pytest.raises(RenderError, match=message) as info:
        render(**args)
    assert isinstance(info.value, PenspecError) and isinstance(info.value, ValueError)


def test_registry():
    assert set(BACKENDS) == {"torch", "diffvg"}
    assert "torch" in available_backends()
    assert get_backend("torch").load().__name__ == "render_torch"
    with pytest.raises(RenderError, match="known: diffvg, torch"):
        get_backend("nope")
    assert issubclass(BackendUnavailableError, PenspecError)


def test_flatten_cubics_stays_within_tolerance():
    scene = random_scene(200, 30, seed=1, dtype=torch.float64)
    cp = scene.control_points
    lines = flatten_cubics(cp, tol=0.1)
    assert len(lines) == cp.shape[0]
    t = torch.linspace(0, 1, 2001, dtype=torch.float64).unsqueeze(1)
    for seg, poly in zip(cp, lines):
        assert 3 <= poly.shape[0] <= 65
        assert torch.equal(poly[0], seg[0]) and torch.allclose(poly[-1], seg[3])
        curve = (1 - t) ** 3 * seg[0] + 3 * (1 - t) ** 2 * t * seg[1] + 3 * (1 - t) * t**2 * seg[2] + t**3 * seg[3]
        a, ab = poly[:-1], poly[1:] - poly[:-1]
        s = (((curve[:, None] - a) * ab).sum(-1) / (ab * ab).sum(-1)).clamp(0, 1)
        dist = (curve[:, None] - a - s[..., None] * ab).norm(dim=-1).min(1).values
        assert dist.max() <= 0.1
    coarse = flatten_cubics(cp, tol=1.0)
    assert sum(p.shape[0] for p in coarse) < sum(p.shape[0] for p in lines)


def test_flatten_cubics_is_differentiable():
    cp = random_scene(64, 3, seed=0, dtype=torch.float64).control_points.requires_grad_()
    total = sum(p.sum() for p in flatten_cubics(cp))
    (grad,) = torch.autograd.grad(total, cp)
    assert grad.abs().sum() > 0


def test_a_view_that_sees_nothing_is_paper_with_zero_gradient():
    scene = random_scene(64, 10, seed=0)
    cp = scene.control_points.clone().requires_grad_()
    away = torch.tensor([[[1.0, 0, 1000], [0, 1.0, 1000], [0, 0, 1]]])
    img = render(cp, *scene.args()[1:], views=away, view_size=(16, 16), paper=(0.5, 0.6, 0.7))
    assert torch.equal(img, torch.tensor([0.5, 0.6, 0.7]).view(1, 3, 1, 1).expand(1, 3, 16, 16))
    img.sum().backward()
    assert torch.equal(cp.grad, torch.zeros_like(cp))


def test_wide_pens_and_zero_widths():
    cp = torch.stack((line(25, 48, 65, 48), line(48, 25, 48, 65)))
    args = (cp, torch.tensor([0, 1]), torch.tensor([30.0, 0.0], dtype=torch.float64), torch.tensor([0, 0]), torch.zeros(1, 3, dtype=torch.float64))
    img = render(*args, (96, 96))
    ink = (1 - img[0]).sum()
    assert float(ink) == pytest.approx(40 * 30 + math.pi * 15**2, rel=0.01)  # the zero-width stroke adds nothing
    width = args[2].clone().requires_grad_()
    (g,) = torch.autograd.grad((1 - render(args[0], args[1], width, *args[3:], (96, 96))).sum(), width)
    assert g[1] > 0  # a zero-width stroke still learns to grow
