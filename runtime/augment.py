"""Augmentation in geometry space: each view is a homography, not a resampled raster.

For every step and view the random parameters (crop position, rotation, zoom, translation,
jitter, perspective) are drawn once from a generator seeded by ``(seed, purpose, stage, step,
view)`` and turned into a 3x3 homography from region px to view px. The renderer then draws each
view directly at the CNN input size, so a step costs views x crop^2 whatever the canvas size.

Seeding by position instead of carrying an RNG stream makes resume exact without saved RNG
state, and view k of a step is the same whether 4 or 24 views are drawn (batched == unbatched).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from penspec.compiler.plan import AugmentPlan

TRAIN, HELD_OUT = 0, 1  # generator purposes


@dataclass(frozen=True)
class ViewParams:
    """One view's parameters, drawn once, applied deterministically."""

    center: tuple[float, float]  # region px at the view's centre before translate/jitter
    angle_deg: float
    scale: float  # zoom: > 1 magnifies
    shift: tuple[float, float]  # translation, view px
    jitter: tuple[int, int]  # whole-pixel shift, view px
    corners: tuple[tuple[float, float], ...]  # perspective: each view corner's inward offset, fraction of the crop


def view_rng(seed: int, purpose: int, stage: int, step: int, view: int) -> np.random.Generator:
    """The generator for one view of one step: a pure function of its position in the build."""
    return np.random.default_rng([int(seed), int(purpose), int(stage), int(step), int(view)])


def sample_view(rng: np.random.Generator, aug: AugmentPlan, region: tuple[int, int]) -> ViewParams:
    """Draw one view's parameters (fixed draw order: changing it changes every build)."""
    width, height = region
    crop = aug.crop
    lo, hi = aug.scale
    scale = float(rng.uniform(lo, hi)) if hi > lo else float(lo)
    window = crop / scale  # region px seen by the view
    cx = float(rng.uniform(window / 2, width - window / 2)) if width > window else width / 2
    cy = float(rng.uniform(window / 2, height - window / 2)) if height > window else height / 2
    angle = float(rng.uniform(-aug.rotate_deg, aug.rotate_deg)) if aug.rotate_deg > 0 else 0.0
    shift = tuple(float(v) for v in rng.uniform(-aug.translate, aug.translate, size=2) * crop) if aug.translate > 0 else (0.0, 0.0)
    j = int(aug.jitter_px)
    jitter = tuple(int(v) for v in rng.integers(-j, j + 1, size=2)) if j > 0 else (0, 0)
    if aug.perspective > 0:
        offsets = rng.uniform(0.0, aug.perspective / 2, size=(4, 2))
        corners = tuple((float(a), float(b)) for a, b in offsets)
    else:
        corners = ((0.0, 0.0),) * 4
    return ViewParams((cx, cy), angle, scale, shift, jitter, corners)


def sample_views(seed: int, purpose: int, stage: int, step: int, count: int, aug: AugmentPlan, region: tuple[int, int]) -> list[ViewParams]:
    """The ``count`` views of one step."""
    return [sample_view(view_rng(seed, purpose, stage, step, v), aug, region) for v in range(count)]


def _translate(tx: float, ty: float) -> np.ndarray:
    return np.array([[1.0, 0.0, tx], [0.0, 1.0, ty], [0.0, 0.0, 1.0]])


def homography_from_points(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 3x3 homography mapping four ``src`` points onto four ``dst`` points (DLT, h33 = 1)."""
    a = np.zeros((8, 8))
    b = np.zeros(8)
    for i, ((x, y), (u, v)) in enumerate(zip(src, dst)):
        a[2 * i] = [x, y, 1, 0, 0, 0, -u * x, -u * y]
        a[2 * i + 1] = [0, 0, 0, x, y, 1, -v * x, -v * y]
        b[2 * i], b[2 * i + 1] = u, v
    h = np.linalg.solve(a, b)
    return np.append(h, 1.0).reshape(3, 3)


def perspective_matrix(corners: tuple[tuple[float, float], ...], crop: int) -> np.ndarray:
    """Moves each corner of the crop x crop view inward by its offset (torchvision's
    RandomPerspective convention: the content's corners land on the perturbed points)."""
    c = float(crop)
    square = np.array([[0.0, 0.0], [c, 0.0], [c, c], [0.0, c]])
    inward = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], dtype=np.float64)
    moved = square + inward * np.asarray(corners, dtype=np.float64) * c
    if np.allclose(moved, square):
        return np.eye(3)
    return homography_from_points(square, moved)


def view_homography(p: ViewParams, crop: int) -> np.ndarray:
    """Region px -> view px for one view: centre, rotate and zoom about it, translate, jitter,
    then the perspective distortion in view space."""
    cx, cy = p.center
    theta = math.radians(p.angle_deg)
    cos, sin = math.cos(theta) * p.scale, math.sin(theta) * p.scale
    rot_scale = np.array([[cos, -sin, 0.0], [sin, cos, 0.0], [0.0, 0.0, 1.0]])
    to_view = _translate(crop / 2 + p.shift[0] + p.jitter[0], crop / 2 + p.shift[1] + p.jitter[1])
    h = perspective_matrix(p.corners, crop) @ to_view @ rot_scale @ _translate(-cx, -cy)
    return h / h[2, 2]


def view_homographies(views: list[ViewParams], crop: int) -> np.ndarray:
    """``[B, 3, 3]`` float64 homographies for a batch of views."""
    return np.stack([view_homography(v, crop) for v in views]) if views else np.zeros((0, 3, 3))


def apply_homography(points: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Map ``[..., 2]`` points through a 3x3 homography (for tests and culling)."""
    pts = np.asarray(points, dtype=np.float64)
    homog = pts @ h[:, :2].T + h[:, 2]
    return homog[..., :2] / homog[..., 2:3]
