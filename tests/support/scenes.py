"""Seeded random stroke scenes, for tests, benchmarks and examples."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

PALETTE = ((0.07, 0.07, 0.07), (0.12, 0.31, 0.61), (0.80, 0.15, 0.15), (0.10, 0.55, 0.30))


@dataclass(frozen=True)
class RandomScene:
    """render()'s positional arguments, in order, as fields."""

    control_points: Tensor
    segment_stroke: Tensor
    stroke_width: Tensor
    stroke_pen: Tensor
    pen_rgb: Tensor
    size: tuple[int, int]

    def args(self) -> tuple:
        return (self.control_points, self.segment_stroke, self.stroke_width, self.stroke_pen, self.pen_rgb, self.size)


def random_scene(
    size: int | tuple[int, int],
    strokes: int,
    *,
    pens: int = 3,
    segments: tuple[int, int] = (1, 3),
    extent: float = 25.0,
    width: tuple[float, float] = (0.5, 4.0),
    bend: float = 0.6,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
) -> RandomScene:
    """Smooth random strokes: chains of ``segments`` cubics (inclusive range) whose control
    polygon is a random walk of legs about ``extent / 3`` px turning by ``bend`` rad (s.d.),
    started uniformly on the canvas; widths uniform in ``width`` px; pens from PALETTE."""
    h, w = (size, size) if isinstance(size, int) else size
    g = torch.Generator().manual_seed(seed)
    n_seg = torch.randint(segments[0], segments[1] + 1, (strokes,), generator=g)
    legs = 3 * segments[1]
    heading = torch.rand(strokes, 1, generator=g) * 2 * math.pi + torch.cumsum(torch.randn(strokes, legs, generator=g) * bend, 1)
    step = (extent / 3) * (0.5 + torch.rand(strokes, legs, generator=g))
    start = torch.rand(strokes, 1, 2, generator=g) * torch.tensor([w, h])
    walk = torch.cumsum(torch.stack((heading.cos(), heading.sin()), -1) * step.unsqueeze(-1), 1)
    points = torch.cat((start, start + walk), 1).to(torch.float64)  # [S, legs + 1, 2]
    j = torch.arange(segments[1])
    index = (3 * j).unsqueeze(1) + torch.arange(4)  # [segments, 4]
    cubic = points[:, index]  # [S, segments, 4, 2]
    used = j.unsqueeze(0) < n_seg.unsqueeze(1)
    rgb = torch.tensor([PALETTE[i % len(PALETTE)] for i in range(pens)], dtype=torch.float64)
    return RandomScene(
        control_points=cubic[used].to(dtype=dtype, device=device),
        segment_stroke=torch.arange(strokes).repeat_interleave(n_seg).to(device),
        stroke_width=(width[0] + (width[1] - width[0]) * torch.rand(strokes, generator=g, dtype=torch.float64)).to(dtype=dtype, device=device),
        stroke_pen=torch.randint(0, pens, (strokes,), generator=g).to(device),
        pen_rgb=rgb.to(dtype=dtype, device=device),
        size=(h, w),
    )
