"""Views: homographies from canvas px to view px, applied to geometry rather than to pixels.

A view maps control points (exact for affine views) and flattened vertices (perspective) into
its own pixel grid. A stroke's width is scaled by ``sqrt(|det J|)``, J the homography's Jacobian
at the stroke's centre (the mean of its control points): exact for similarities, the local
area scale otherwise. Geometry on or behind a view's horizon (homogeneous w <= 0) is not drawn.
"""

from __future__ import annotations

import torch
from torch import Tensor

MIN_W = 1e-6  # homogeneous w below this counts as behind the view


def homogeneous_w(views: Tensor, points: Tensor) -> Tensor:
    """w of ``points`` [..., 2] under ``views`` [..., 3, 3] (broadcast)."""
    h = views[..., 2, :]
    return h[..., 0] * points[..., 0] + h[..., 1] * points[..., 1] + h[..., 2]


def project(views: Tensor, points: Tensor) -> Tensor:
    """Apply homographies ``views`` [..., 3, 3] to ``points`` [..., 2] (broadcast)."""
    x, y = points[..., 0], points[..., 1]
    u = views[..., 0, 0] * x + views[..., 0, 1] * y + views[..., 0, 2]
    v = views[..., 1, 0] * x + views[..., 1, 1] * y + views[..., 1, 2]
    w = views[..., 2, 0] * x + views[..., 2, 1] * y + views[..., 2, 2]
    return torch.stack((u / w, v / w), -1)


def stroke_centres(control_points: Tensor, segment_stroke: Tensor, strokes: int) -> Tensor:
    """Mean control point of each stroke, [S, 2] (0 for a stroke without segments)."""
    total = torch.zeros(strokes, 2, dtype=control_points.dtype, device=control_points.device)
    total = total.index_add(0, segment_stroke, control_points.sum(1))
    count = torch.zeros(strokes, dtype=control_points.dtype, device=control_points.device)
    count = count.index_add_(0, segment_stroke, torch.full_like(segment_stroke, 4, dtype=control_points.dtype))
    return total / count.clamp_min(1).unsqueeze(1)


def width_scales(views: Tensor, centres: Tensor) -> Tensor:
    """sqrt(|det J|) of each view [B, 3, 3] at each centre [S, 2]: [B, S]."""
    h = views.unsqueeze(1)  # [B, 1, 3, 3]
    w = homogeneous_w(h, centres)
    mapped = project(h, centres)
    j00 = h[..., 0, 0] - mapped[..., 0] * h[..., 2, 0]
    j01 = h[..., 0, 1] - mapped[..., 0] * h[..., 2, 1]
    j10 = h[..., 1, 0] - mapped[..., 1] * h[..., 2, 0]
    j11 = h[..., 1, 1] - mapped[..., 1] * h[..., 2, 1]
    det = (j00 * j11 - j01 * j10) / (w * w)
    return det.abs().sqrt()


def visible_segments(views: Tensor, control_points: Tensor, reach: Tensor, height: int, width: int) -> tuple[Tensor, Tensor]:
    """(view, segment) pairs whose projected control polygon, grown by ``reach`` [B, N] px,
    meets the view and lies in front of it. Returns the projected points [B, N, 4, 2] too."""
    n = control_points.shape[0]
    ones = torch.ones(n * 4, 1, dtype=control_points.dtype, device=control_points.device)
    homogeneous = torch.cat((control_points.reshape(-1, 2), ones), 1)
    mapped = torch.matmul(homogeneous, views.transpose(1, 2)).view(views.shape[0], n, 4, 3)
    w = mapped[..., 2]
    points = mapped[..., :2] / w.unsqueeze(-1)
    lo, hi = torch.aminmax(points, dim=2)
    lo -= reach.unsqueeze(2)
    hi += reach.unsqueeze(2)
    inside = (lo[..., 0] < width) & (lo[..., 1] < height) & (hi[..., 0] > 0) & (hi[..., 1] > 0)
    return inside & (w > MIN_W).all(2), points
