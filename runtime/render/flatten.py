"""Cubic Bezier segments -> polylines, with a piece count from a flatness bound.

The piece count of a segment is chosen without gradient (Wang's bound for cubics,
``n = ceil(sqrt(0.75 * D / tol))`` with ``D = max(|P0 - 2 P1 + P2|, |P1 - 2 P2 + P3|)``, clamped
to [MIN_PIECES, MAX_PIECES]); the vertices are Bernstein combinations of the control points and
stay in autograd.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .errors import RenderError

MIN_PIECES = 2
MAX_PIECES = 64
DEFAULT_TOL = 0.1  # px: the largest distance between the curve and its polyline


def piece_counts(points: Tensor, tol: float = DEFAULT_TOL) -> Tensor:
    """Number of polyline pieces per cubic; ``points`` is [..., 4, 2], the result long [...]."""
    p = points.detach()
    second = torch.stack((p[..., 0, :] - 2 * p[..., 1, :] + p[..., 2, :], p[..., 1, :] - 2 * p[..., 2, :] + p[..., 3, :]), -2)
    deviation = torch.linalg.vector_norm(second, dim=-1).amax(-1)
    n = torch.sqrt(deviation * (0.75 / tol)).ceil_()
    return n.clamp_(MIN_PIECES, MAX_PIECES).long()


def bernstein(t: Tensor) -> Tensor:
    """Cubic Bernstein weights [V, 4] at parameters ``t`` [V]."""
    s = 1 - t
    return torch.stack((s * s * s, 3 * s * s * t, 3 * s * t * t, t * t * t), -1)


@dataclass(frozen=True)
class Polylines:
    """Flattened segments, packed: ``vertices`` [V, 2]; segment i owns ``counts[i] + 1`` vertices
    starting at ``first[i]``; piece j runs from vertex ``piece_start[j]`` to ``piece_start[j] + 1``
    and belongs to segment ``piece_segment[j]``."""

    vertices: Tensor
    counts: Tensor
    first: Tensor
    piece_start: Tensor
    piece_segment: Tensor


def flatten(points: Tensor, counts: Tensor) -> Polylines:
    """Evaluate ``counts[i]`` uniform pieces of each cubic ``points[i]`` ([N, 4, 2])."""
    device = points.device
    n_seg = counts.shape[0]
    per_seg = counts + 1
    ends = torch.cumsum(per_seg, 0)
    first = ends - per_seg
    n_vert = int(ends[-1]) if n_seg else 0
    vert_seg = torch.repeat_interleave(torch.arange(n_seg, device=device), per_seg, output_size=n_vert)
    k = torch.arange(n_vert, device=device) - first.index_select(0, vert_seg)
    t = k.to(points.dtype) / counts.index_select(0, vert_seg).to(points.dtype)
    weights = bernstein(t)
    vertices = torch.bmm(weights.unsqueeze(1), points.index_select(0, vert_seg)).squeeze(1)
    # every vertex but a segment's last one starts a piece
    is_start = torch.ones(n_vert, dtype=torch.bool, device=device)
    is_start[ends - 1] = False
    piece_start = torch.nonzero(is_start).squeeze(1)
    piece_segment = vert_seg.index_select(0, piece_start)
    return Polylines(vertices, counts, first, piece_start, piece_segment)


def flatten_cubics(control_points: Tensor, tol: float = DEFAULT_TOL) -> tuple[Tensor, ...]:
    """Polyline vertices of each cubic segment, as the renderer draws it.

    ``control_points`` is [N, 4, 2]; returns N tensors, segment i as [n_i + 1, 2] with
    ``n_i`` in [2, 64] chosen so the polyline stays within ``tol`` of the curve (same units as
    the points). Differentiable with respect to the control points.
    """
    if control_points.ndim != 3 or control_points.shape[1:] != (4, 2):
        raise RenderError(f"control_points must be [N, 4, 2], got {list(control_points.shape)}")
    if control_points.shape[0] == 0:
        return ()
    lines = flatten(control_points, piece_counts(control_points, tol))
    return torch.split(lines.vertices, (lines.counts + 1).tolist())
