"""Strokes while they are optimised: chains of cubic Beziers with shared joints.

A stroke of k segments owns 3k+1 points; segment j reads points 3j..3j+3, so consecutive
segments share their joint and the stroke never tears apart while Adam moves it. ``points
[M, 2]`` are canvas px of the stage's region; the renderer sees ``control_points =
points[index]`` ``[N, 4, 2]``. Widths are the pens' nib widths from the plan, never learned.

The optimiser does not move the points themselves but a free parameter per coordinate,
``to_free(points)``, that ``to_canvas`` maps back through ``c + R tanh((u - c) / R)`` (c = R =
half the region's side). Any parameter lands strictly inside the region, a move near the centre
is a move of as many px, and the gradient fades smoothly towards the border, so points that the
objective pushes outwards slow down instead of piling up on it (clamping after each step parked
them on the border, where strokes then ran along the canvas edge).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
from penspec.compiler.pens import largest_remainder
from penspec.compiler.plan import Plan
from penspec.runtime.scene import Scene
from penspec.spec.model import Size

INIT = 2  # generator purpose for initial strokes (augment.py uses 0 and 1)


@dataclass(frozen=True)
class Strokes:
    """A set of strokes in a region of px. Tensors; ``points`` is what gets optimised."""

    points: torch.Tensor  # float [M, 2]
    index: torch.Tensor  # long [N, 4] into points
    segment_stroke: torch.Tensor  # long [N]
    stroke_pen: torch.Tensor  # long [S]
    region: Size

    @property
    def stroke_count(self) -> int:
        return int(self.stroke_pen.shape[0])

    def control_points(self, points: torch.Tensor | None = None) -> torch.Tensor:
        """``[N, 4, 2]`` control points (differentiable in ``points``)."""
        pts = self.points if points is None else points
        return pts[self.index]

    def to(self, device: torch.device | str) -> Strokes:
        return replace(
            self,
            points=self.points.to(device),
            index=self.index.to(device),
            segment_stroke=self.segment_stroke.to(device),
            stroke_pen=self.stroke_pen.to(device),
        )

    def with_points(self, points: torch.Tensor) -> Strokes:
        return replace(self, points=points)

    def with_pens(self, stroke_pen: torch.Tensor) -> Strokes:
        return replace(self, stroke_pen=stroke_pen.to(self.stroke_pen.device, torch.long))

    def to_scene(self) -> Scene:
        return Scene(
            control_points=self.control_points().detach().cpu().to(torch.float64).numpy(),
            segment_stroke=self.segment_stroke.cpu().numpy().astype(np.int64),
            stroke_pen=self.stroke_pen.cpu().numpy().astype(np.int64),
            size=self.region,
        )

    def state_dict(self) -> dict:
        return {
            "points": self.points.detach().cpu(),
            "index": self.index.cpu(),
            "segment_stroke": self.segment_stroke.cpu(),
            "stroke_pen": self.stroke_pen.cpu(),
            "region": list(self.region),
        }

    @classmethod
    def from_state_dict(cls, state: dict) -> Strokes:
        return cls(
            points=state["points"].clone(),
            index=state["index"].clone(),
            segment_stroke=state["segment_stroke"].clone(),
            stroke_pen=state["stroke_pen"].clone(),
            region=Size(*(int(v) for v in state["region"])),
        )

    @classmethod
    def from_scene(cls, scene: Scene, dtype: torch.dtype = torch.float32) -> Strokes:
        """Rebuild chains from a scene (a stroke's segments are consecutive and share joints)."""
        points: list[np.ndarray] = []
        index = np.zeros((len(scene.segment_stroke), 4), dtype=np.int64)
        offset = 0
        for s in range(scene.stroke_count):
            segs = np.flatnonzero(scene.segment_stroke == s)
            cps = scene.control_points[segs]
            chain = [cps[0, 0]]
            for j, cp in enumerate(cps):
                if j > 0:
                    chain[-1] = (chain[-1] + cp[0]) / 2
                chain.extend([cp[1], cp[2], cp[3]])
            for j, seg in enumerate(segs):
                index[seg] = offset + 3 * j + np.arange(4)
            points.extend(chain)
            offset += len(chain)
        return cls(
            points=torch.tensor(np.asarray(points), dtype=dtype),
            index=torch.from_numpy(index),
            segment_stroke=torch.from_numpy(scene.segment_stroke.astype(np.int64)),
            stroke_pen=torch.from_numpy(scene.stroke_pen.astype(np.int64)),
            region=scene.size,
        )


def pen_counts(plan: Plan, count: int) -> list[int]:
    """Strokes per pen: the plan's own counts when they add up, else the shares rounded by
    largest remainder (learned pens start from equal shares)."""
    declared = [p.strokes for p in plan.pens]
    if sum(declared) == count and not plan.strokes.learn_pens:
        return declared
    shares = np.asarray(plan.strokes.shares, dtype=np.float64)
    if plan.strokes.learn_pens or shares.sum() <= 0:
        shares = np.ones(len(plan.pens))
    return list(largest_remainder(count, tuple(float(s) for s in shares / shares.sum())))


def fold_into(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Reflect values into ``[lo, hi]`` as if both ends were mirrors (a walk that leaves the
    interval bounces back in by as much as it overshot)."""
    span = hi - lo
    v = np.mod(np.asarray(values, dtype=np.float64) - lo, 2.0 * span)
    return lo + span - np.abs(v - span)


def init_strokes(plan: Plan, region: Size, *, count: int | None = None) -> Strokes:
    """Seeded random strokes: a start point anywhere in the region, then each next control
    point within ``extent * min(w, h)`` of the previous one, reflected back into the region
    where the walk leaves it (clipping instead put whole segments on the border)."""
    w, h = region
    count = plan.strokes.count if count is None else count
    rng = np.random.default_rng([int(plan.seed), INIT])
    lo, hi = plan.strokes.segments
    radius = plan.strokes.extent * min(w, h)
    counts = pen_counts(plan, count)
    pens = np.repeat(np.arange(len(counts)), counts)
    if plan.strokes.learn_pens:
        pens = rng.permutation(pens)
    points: list[np.ndarray] = []
    index: list[np.ndarray] = []
    segment_stroke: list[int] = []
    base = 0
    for s in range(count):
        segments = int(rng.integers(lo, hi + 1))
        start = rng.uniform((0.0, 0.0), (w, h))
        steps = rng.uniform(-radius, radius, size=(3 * segments, 2))
        chain = np.vstack([start, start + np.cumsum(steps, axis=0)])
        chain = np.stack([fold_into(chain[:, 0], 0.0, w), fold_into(chain[:, 1], 0.0, h)], axis=1)
        for j in range(segments):
            index.append(base + 3 * j + np.arange(4))
            segment_stroke.append(s)
        points.append(chain)
        base += len(chain)
    return Strokes(
        points=torch.tensor(np.vstack(points), dtype=torch.float32),
        index=torch.from_numpy(np.asarray(index, dtype=np.int64).reshape(-1, 4)),
        segment_stroke=torch.tensor(segment_stroke, dtype=torch.long),
        stroke_pen=torch.from_numpy(pens.astype(np.int64)),
        region=Size(int(w), int(h)),
    )


def tile_strokes(strokes: Strokes, repeat: tuple[int, int]) -> Strokes:
    """Copies of the strokes translated over a columns x rows grid, pens kept; tile order is
    row-major and every copy keeps its strokes' order."""
    cols, rows = repeat
    w, h = strokes.region
    m = strokes.points.shape[0]
    s = strokes.stroke_count
    points, index, seg_stroke, pens = [], [], [], []
    k = 0
    for row in range(rows):
        for col in range(cols):
            offset = torch.tensor([col * w, row * h], dtype=strokes.points.dtype, device=strokes.points.device)
            points.append(strokes.points.detach() + offset)
            index.append(strokes.index + k * m)
            seg_stroke.append(strokes.segment_stroke + k * s)
            pens.append(strokes.stroke_pen)
            k += 1
    return Strokes(
        points=torch.cat(points),
        index=torch.cat(index),
        segment_stroke=torch.cat(seg_stroke),
        stroke_pen=torch.cat(pens),
        region=Size(w * cols, h * rows),
    )


EDGE = 1e-6  # to_free: points on (or past) the border start this fraction of R inside it


def _half(region: Size, like: torch.Tensor) -> torch.Tensor:
    w, h = region
    return torch.tensor([w / 2, h / 2], dtype=like.dtype, device=like.device)


def to_canvas(free: torch.Tensor, region: Size) -> torch.Tensor:
    """Canvas px ``[M, 2]`` of the free parameter: ``c + R tanh((u - c) / R)`` per axis, with
    ``c = R`` = half the region's side. Inside the region for every finite ``u`` (on the border
    only where float rounding saturates tanh); slope 1 at the centre, fading to 0 at the border.
    Differentiable."""
    half = _half(region, free)
    return half + half * torch.tanh((free - half) / half)


def to_free(points: torch.Tensor, region: Size) -> torch.Tensor:
    """The free parameter whose :func:`to_canvas` is ``points`` (a detached copy); points on or
    outside the border are taken ``EDGE * R`` inside it."""
    half = _half(region, points)
    ratio = ((points.detach() - half) / half).clamp(-1.0 + EDGE, 1.0 - EDGE)
    return half + half * torch.atanh(ratio)


def pen_tensors(plan: Plan, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(rgb [P, 3], opacity [P], width_px [P])`` of the plan's pens."""
    rgb = torch.tensor([p.rgb for p in plan.pens], dtype=torch.float32, device=device)
    opacity = torch.tensor([p.opacity for p in plan.pens], dtype=torch.float32, device=device)
    width = torch.tensor([p.width_px for p in plan.pens], dtype=torch.float32, device=device)
    return rgb, opacity, width
