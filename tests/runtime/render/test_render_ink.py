"""The ink model: conserved ink on straight strokes, an exact-coverage oracle, no self-darkening,
and multiplicative overlaps."""

import math

import pytest
import torch

from penspec.runtime.render import render

pytestmark = pytest.mark.usefixtures("render_single_thread")

F64 = torch.float64


def stroke(points, width, rgb=(0.0, 0.0, 0.0)):
    cp = torch.as_tensor(points, dtype=F64).reshape(-1, 4, 2)
    return cp, torch.zeros(cp.shape[0], dtype=torch.long), torch.tensor([width], dtype=F64), torch.tensor([0]), torch.tensor([rgb], dtype=F64)


def straight(x0, y0, x1, y1):
    t = torch.tensor([0, 1 / 3, 2 / 3, 1], dtype=F64).unsqueeze(1)
    return torch.tensor([x0, y0], dtype=F64) + t * torch.tensor([x1 - x0, y1 - y0], dtype=F64)


@pytest.mark.parametrize("width", [0.2, 0.35, 0.5, 0.8, 1.0, 2.0, 4.0, 8.0])
@pytest.mark.parametrize("angle", [0.0, 0.05, 0.3, math.pi / 4, 1.2])
def test_straight_strokes_conserve_ink(width, angle):
    length = 150.0
    x0, y0 = 16.3, 17.7
    x1, y1 = x0 + length * math.cos(angle), y0 + length * math.sin(angle)
    ink = (1 - render(*stroke(straight(x0, y0, x1, y1), width), (192, 192))[0]).sum()
    r = width / 2
    assert float(ink) == pytest.approx(length * width + math.pi * r * r, rel=0.01)


def test_caps_conserve_ink_on_average():
    # over sub-pixel positions and angles, each round cap inks about pi r^2 / 2 (see caps.py);
    # without the cap correction a stroke carries up to pi / 12 = 0.26 px^2 too much
    g = torch.Generator().manual_seed(0)
    for width in (0.2, 0.5, 1.0, 3.0):
        excess = []
        for _ in range(24):
            angle = float(torch.rand(1, generator=g)) * math.pi
            x0, y0 = (30 + torch.rand(2, generator=g)).tolist()
            x1, y1 = x0 + 20 * math.cos(angle), y0 + 20 * math.sin(angle)
            ink = float((1 - render(*stroke(straight(x0, y0, x1, y1), width), (64, 64))[0]).sum())
            excess.append(ink - 20 * width - math.pi * width * width / 4)
        assert abs(sum(excess) / len(excess)) < 0.03


def supersampled(points, width, size, n=16):
    """Oracle: fraction of n x n samples per pixel within width / 2 of the (finely sampled)
    curve; only pixels near the rim are sampled, the others are 0 or 1."""
    cp = torch.as_tensor(points, dtype=F64).reshape(-1, 4, 2)
    t = torch.linspace(0, 1, 801, dtype=F64).unsqueeze(1)
    curve = torch.cat([(1 - t) ** 3 * c[0] + 3 * (1 - t) ** 2 * t * c[1] + 3 * (1 - t) * t**2 * c[2] + t**3 * c[3] for c in cp])
    a, ab = curve[:-1], curve[1:] - curve[:-1]

    def distance(p):
        out = []
        for chunk in torch.split(p, 4096):
            q = chunk.unsqueeze(1)
            s = (((q - a) * ab).sum(-1) / (ab * ab).sum(-1)).clamp(0, 1)
            out.append((q - a - s.unsqueeze(-1) * ab).norm(dim=-1).min(1).values)
        return torch.cat(out)

    h, w = size
    r = width / 2
    ys, xs = torch.meshgrid(torch.arange(h, dtype=F64), torch.arange(w, dtype=F64), indexing="ij")
    corner = torch.stack((xs.reshape(-1), ys.reshape(-1)), 1)
    d = distance(corner + 0.5)
    cov = (d < r).to(F64)
    rim = torch.nonzero((d - r).abs() < 0.75).squeeze(1)
    sub = (torch.arange(n, dtype=F64) + 0.5) / n
    grid = torch.stack(torch.meshgrid(sub, sub, indexing="xy"), -1).reshape(-1, 2)
    samples = (corner[rim].unsqueeze(1) + grid).reshape(-1, 2)
    cov[rim] = (distance(samples) <= r).to(F64).reshape(-1, n * n).mean(1)
    return cov.reshape(h, w)


@pytest.mark.parametrize("width", [0.6, 1.5, 4.0])
def test_coverage_follows_a_supersampled_oracle(width):
    points = [[4.2, 20.3], [10.0, 2.0], [26.0, 38.0], [35.5, 12.4]]
    ours = 1 - render(*stroke(points, width), (40, 40))[0]
    oracle = supersampled(points, width, (40, 40))
    err = (ours - oracle).abs()
    assert err.mean() < 0.01
    assert err.max() < 0.2
    assert float(ours.sum()) == pytest.approx(float(oracle.sum()), rel=0.01)


def test_a_stroke_never_darkens_itself():
    there = straight(8, 16, 56, 16)
    back = straight(56, 16, 8, 16.0)
    opacity = torch.tensor([0.5], dtype=F64)
    twice = render(*stroke(torch.stack((there, back)), 3.0), (32, 64), pen_opacity=opacity)
    once = render(*stroke(there, 3.0), (32, 64), pen_opacity=opacity)
    assert twice.min() >= 0.5 - 1e-12
    assert torch.equal(twice[:, :, 12:48], once[:, :, 12:48])  # away from the ends: the same
    # a loop crossing itself is never darker than one layer of its pen
    loop = [[10, 30], [60, 0], [60, 60], [10, 10]]
    img = render(*stroke(loop, 4.0), (64, 64), pen_opacity=opacity)
    assert img.min() >= 0.5 - 1e-12


def test_overlapping_translucent_strokes_darken_like_ink_in_any_order():
    a, b = straight(4, 16, 28, 16), straight(16, 4, 16, 28)
    cp = torch.stack((a, b))
    args = (cp, torch.tensor([0, 1]), torch.tensor([3.0, 3.0], dtype=F64), torch.tensor([0, 1]), torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]], dtype=F64))
    opacity = torch.tensor([0.5, 0.6], dtype=F64)
    img = render(*args, (32, 32), pen_opacity=opacity, paper=(0.9, 0.9, 0.9))
    # at the crossing both cover fully: paper * (1 - (1 - rgb_a) op_a) * (1 - (1 - rgb_b) op_b)
    expect = torch.tensor([0.9 * 0.5 * 1.0, 0.9 * 0.5 * 0.4, 0.9 * 1.0 * 0.4], dtype=F64)
    assert torch.allclose(img[:, 15, 15], expect, atol=1e-12)
    swapped = render(cp.flip(0), torch.tensor([0, 1]), args[2], torch.tensor([1, 0]), args[4], (32, 32), pen_opacity=opacity, paper=(0.9, 0.9, 0.9))
    assert torch.allclose(swapped, img, atol=1e-12)


def test_opaque_black_saturates_without_infinities():
    cp = torch.stack([straight(4, 16, 28, 16)] * 3)
    img = render(cp, torch.tensor([0, 1, 2]), torch.full((3,), 6.0, dtype=F64), torch.zeros(3, dtype=torch.long), torch.zeros(1, 3, dtype=F64), (32, 32))
    assert torch.isfinite(img).all() and img.min() >= 0 and img[:, 16, 16].max() < 1e-12
