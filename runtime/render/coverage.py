"""Pixel coverage of a pen stroke: the exact area of a unit pixel inside a straight band.

A pixel centre at distance ``d`` from a stroke of half-width ``r`` sees the band through its
footprint: projected on the unit normal ``n`` from the stroke to the pixel, a unit square
spreads over a trapezoid (a box of width ``p = max(|nx|, |ny|)`` convolved with one of width
``q = min(|nx|, |ny|)``, ``p^2 + q^2 = 1``). The covered area is

    cov = sign(r - d) H(|r - d|) + H(r + d),      H(x) = P(0 <= u <= x), u ~ trapezoid

which is exact for a straight band at every angle (the sum over pixels is the band's area, so
ink is conserved), stays in [0, 1] with no clamp, and for axis-aligned strokes reduces to the
box band ``clamp(min(d + 1/2, r) + min(1/2 - d, r), 0, 1)``. Near caps and joins ``n`` is the
direction from the nearest point, i.e. radial, which approximates the round disc.

With ``m = (p - q) / 2``, ``M = (p + q) / 2`` and ``z = clamp((M - x) / q, 0, 1)``:
``H = (min(x, m) + (1 - z^2) q / 2) / p``, ``dH/dx = z / p``,
``dH/dp = ((1 - z) / 2 - H) / p`` and ``dH/dq = z (z - 1) / (2 p)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

# how far beyond the band a pixel centre can still be covered: half the pixel's diagonal
REACH = math.sqrt(0.5) * (1 + 1e-6)


def footprint(dx: Tensor, dy: Tensor, dist: Tensor) -> tuple[Tensor, Tensor]:
    """(p, q) of the pixel's footprint for normals (dx, dy) / dist (a box where dist is 0)."""
    tiny = torch.finfo(dist.dtype).tiny
    inv = 1 / dist.clamp_min(tiny)
    ax = dx.abs().mul_(inv)
    ay = dy.abs().mul_(inv)
    p = torch.maximum(ax, ay)
    q = torch.minimum(ax, ay)
    flat = dist == 0
    return p.masked_fill_(flat, 1.0), q.masked_fill_(flat, 0.0)


def _half(x: Tensor, p: Tensor, q: Tensor) -> tuple[Tensor, Tensor]:
    """H(x) and z for x >= 0."""
    tiny = torch.finfo(x.dtype).tiny
    big = (p + q) * 0.5
    z = (big - x).div_(q.clamp_min(tiny)).clamp_(0, 1)
    h = torch.minimum(x, (p - q) * 0.5)
    h.addcmul_(1 - z * z, q, value=0.5).div_(p)
    return h, z


def coverage(dist: Tensor, radius: Tensor, p: Tensor, q: Tensor) -> Tensor:
    """Area of each pixel inside the band of half-width ``radius`` at distance ``dist``."""
    inside = radius - dist
    near, _ = _half(inside.abs(), p, q)
    far, _ = _half(radius + dist, p, q)
    return far.addcmul_(near, inside.sign())


@dataclass(frozen=True)
class CoverageGrad:
    cov: Tensor
    d_dist: Tensor
    d_radius: Tensor
    d_p: Tensor
    d_q: Tensor


def coverage_grad(dist: Tensor, radius: Tensor, p: Tensor, q: Tensor) -> CoverageGrad:
    """Coverage and its partial derivatives in dist, radius, p and q."""
    inside = radius - dist
    sign = inside.sign()
    near, z_near = _half(inside.abs(), p, q)
    far, z_far = _half(radius + dist, p, q)
    inv_p = 1 / p
    slope_near = z_near * inv_p
    slope_far = z_far * inv_p
    dp_near = ((1 - z_near) * 0.5 - near) * inv_p
    dp_far = ((1 - z_far) * 0.5 - far) * inv_p
    dq_near = z_near * (z_near - 1) * 0.5 * inv_p
    dq_far = z_far * (z_far - 1) * 0.5 * inv_p
    return CoverageGrad(
        cov=far + sign * near,
        d_dist=slope_far - slope_near,
        d_radius=slope_far + slope_near,
        d_p=dp_far + sign * dp_near,
        d_q=dq_far + sign * dq_near,
    )
