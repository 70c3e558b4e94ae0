"""Ink-conserving round caps.

Behind a stroke's end every pixel sees the band turned radially (coverage.py), which inks a
round cap with ``pi r^2 / 2 + E(r)``: the radial filter spreads the disc's rim outward.
``E(r) = pi / 24`` px^2 once ``r >= sqrt(1/2)`` (then it only depends on the footprint's
variance, 1/12), less for thinner pens. Pulling each cap's end point back along the stroke by
``E(r) / (2 r)`` takes exactly that much band away, so a stroke of length L inks
``L w + pi r^2``, which matters for sub-pixel pens on short strokes. The shift is part of the
geometry, in autograd; a segment end counts as a cap unless the next segment of the same
stroke starts there (within JOINED px).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .flatten import Polylines

FOOTPRINT_RADIUS = math.sqrt(0.5)
# E(r) / r on [0, sqrt(1/2)]: a degree-4 fit (relative error < 4e-4) of
# E(r) = pi * mean over directions of int_0^inf cov(rho) rho d rho - pi r^2 / 2
EXCESS_FIT = (0.765046, -1.564122, 1.113001, 0.199859, -0.404092)
JOINED = 1e-3


def cap_shift(radius: Tensor) -> Tensor:
    """How far to pull a cap's end point back, E(r) / (2 r), for half-widths ``radius``."""
    r = radius.clamp(max=FOOTPRINT_RADIUS)
    fit = torch.zeros_like(r)
    for c in reversed(EXCESS_FIT):
        fit = fit * r + c
    wide = (math.pi / 48) / radius.clamp_min(FOOTPRINT_RADIUS)
    return torch.where(radius < FOOTPRINT_RADIUS, fit * 0.5, wide)


def cap_ends(control_points: Tensor, segment_key: Tensor) -> tuple[Tensor, Tensor]:
    """Which segments start and end with a cap: bool [N] each. ``segment_key`` [N] is equal
    and consecutive for segments that may join (same stroke, same view, adjacent)."""
    n = control_points.shape[0]
    start = torch.ones(n, dtype=torch.bool, device=control_points.device)
    end = torch.ones_like(start)
    if n > 1:
        gap = torch.linalg.vector_norm(control_points[1:, 0] - control_points[:-1, 3], dim=1)
        joined = (segment_key[1:] == segment_key[:-1]) & (gap <= JOINED)
        start[1:] = ~joined
        end[:-1] = ~joined
    return start, end


def pull_caps(vertices: Tensor, lines: Polylines, start: Tensor, end: Tensor, segment_radius: Tensor) -> Tensor:
    """Vertices with each cap's end point moved back along its end piece by cap_shift.

    The move saturates smoothly on short end pieces (``shift * ab / (|ab| + 4 shift)``).
    """
    first = lines.first[start]
    last = (lines.first + lines.counts)[end]
    index = torch.cat((first, last))
    toward = torch.cat((first + 1, last - 1))  # the other end of the cap's piece
    shift = cap_shift(torch.cat((segment_radius[start], segment_radius[end]))).unsqueeze(1)
    ab = vertices.index_select(0, toward) - vertices.index_select(0, index)
    length = torch.linalg.vector_norm(ab, dim=1, keepdim=True)
    return vertices.index_add(0, index, ab * shift / (length + 4 * shift))
