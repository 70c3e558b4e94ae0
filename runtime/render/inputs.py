"""Checking and normalising render() arguments, shared by every backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor

from penspec.spec.model import Size

from .errors import RenderError


@dataclass(frozen=True)
class RenderInputs:
    """render()'s arguments, checked: one dtype and device, long indices, defaults filled in."""

    control_points: Tensor  # [N, 4, 2]
    segment_stroke: Tensor  # long [N]
    stroke_width: Tensor  # [S]
    stroke_pen: Tensor  # long [S]
    pen_rgb: Tensor  # [P, 3]
    pen_opacity: Tensor  # [P]
    paper: Tensor  # [3]
    size: tuple[int, int]  # (H, W)
    views: Tensor | None  # [B, 3, 3]
    view_size: tuple[int, int] | None  # (h, w)

    @property
    def strokes(self) -> int:
        return int(self.stroke_width.shape[0])

    @property
    def out_size(self) -> tuple[int, int]:
        return self.size if self.view_size is None else self.view_size

    def ink(self) -> Tensor:
        """Per stroke, how much of each channel its pen absorbs: (1 - rgb) * opacity, [S, 3]."""
        return ((1 - self.pen_rgb) * self.pen_opacity.unsqueeze(1)).index_select(0, self.stroke_pen)


def _shape(name: str, t: Tensor, *dims: int | None) -> None:
    ok = t.ndim == len(dims) and all(d is None or d == s for d, s in zip(dims, t.shape))
    if not ok:
        want = ", ".join("*" if d is None else str(d) for d in dims)
        raise RenderError(f"{name} must have shape [{want}], got {list(t.shape)}")


def _pixels(name: str, value: Size | Sequence[int]) -> tuple[int, int]:
    """(height, width): a :class:`Size` by its names, any other pair as (height, width)."""
    if isinstance(value, Size):
        value = (value.height, value.width)
    try:
        h, w = (int(v) for v in value)
    except (TypeError, ValueError):
        raise RenderError(f"{name} must be (height, width), got {value!r}") from None
    if h < 1 or w < 1 or (h, w) != tuple(value):
        raise RenderError(f"{name} must be two positive whole numbers, got {value!r}")
    return h, w


def _index(name: str, t: Tensor, bound: int, bound_name: str) -> Tensor:
    if t.dtype.is_floating_point or t.dtype == torch.bool or t.is_complex():
        raise RenderError(f"{name} must hold integers, got {t.dtype}")
    if t.numel() and (int(t.min()) < 0 or int(t.max()) >= bound):
        raise RenderError(f"{name} must lie in [0, {bound}) ({bound_name}), got [{int(t.min())}, {int(t.max())}]")
    return t.long()


def check_inputs(
    control_points, segment_stroke, stroke_width, stroke_pen, pen_rgb, size, pen_opacity, paper, views, view_size
) -> RenderInputs:
    if not isinstance(control_points, Tensor) or not control_points.dtype.is_floating_point:
        raise RenderError("control_points must be a floating point tensor")
    dtype, device = control_points.dtype, control_points.device
    if dtype not in (torch.float32, torch.float64):
        raise RenderError(f"render works in float32 or float64, got {dtype}")

    def tensor(name, value, floating):
        if isinstance(value, Tensor) and value.device != device:
            raise RenderError(f"{name} is on {value.device}, control_points on {device}")
        if isinstance(value, Tensor):
            return value.to(dtype) if floating else value
        return torch.as_tensor(value, dtype=dtype if floating else None, device=device)

    segment_stroke = tensor("segment_stroke", segment_stroke, False)
    stroke_width = tensor("stroke_width", stroke_width, True)
    stroke_pen = tensor("stroke_pen", stroke_pen, False)
    pen_rgb = tensor("pen_rgb", pen_rgb, True)
    _shape("control_points", control_points, None, 4, 2)
    n = control_points.shape[0]
    _shape("segment_stroke", segment_stroke, n)
    _shape("stroke_width", stroke_width, None)
    s = stroke_width.shape[0]
    _shape("stroke_pen", stroke_pen, s)
    _shape("pen_rgb", pen_rgb, None, 3)
    p = pen_rgb.shape[0]
    pen_opacity = torch.ones(p, dtype=dtype, device=device) if pen_opacity is None else tensor("pen_opacity", pen_opacity, True)
    _shape("pen_opacity", pen_opacity, p)
    paper = tensor("paper", paper, True)
    _shape("paper", paper, 3)
    segment_stroke = _index("segment_stroke", segment_stroke, s, "stroke_width has one entry per stroke")
    stroke_pen = _index("stroke_pen", stroke_pen, p, "pen_rgb has one row per pen")
    if not bool(torch.isfinite(control_points).all()):
        raise RenderError("control_points contain NaN or infinity")
    if s and not bool(((stroke_width >= 0) & torch.isfinite(stroke_width)).all()):
        raise RenderError("stroke_width must be finite and >= 0")
    size = _pixels("size", size)
    if views is None:
        if view_size is not None:
            raise RenderError("view_size is given without views")
    else:
        views = tensor("views", views, True)
        _shape("views", views, None, 3, 3)
        if not bool(torch.isfinite(views).all()):
            raise RenderError("views contain NaN or infinity")
        if view_size is None:
            raise RenderError("views need view_size=(height, width)")
        view_size = _pixels("view_size", view_size)
    return RenderInputs(control_points, segment_stroke, stroke_width, stroke_pen, pen_rgb, pen_opacity, paper, size, views, view_size)
