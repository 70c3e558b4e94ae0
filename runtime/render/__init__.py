"""Differentiable pen rendering: cubic Bezier strokes -> an image of ink on paper.

``render`` draws strokes with round caps and joins; each stroke is one pen's ink: it never
darkens itself where its own pieces overlap, and overlapping strokes multiply like ink
(order independent). Backends are named, never imported by callers: ``render(...,
backend="torch")`` (built in, CPU and CUDA) or ``backend="diffvg"`` (needs pydiffvg).
See docs/renderer.md.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from torch import Tensor

from penspec.spec.model import Size

from .errors import BackendUnavailableError, RenderError
from .flatten import flatten_cubics
from .inputs import check_inputs

__all__ = [
    "BACKENDS",
    "Backend",
    "BackendUnavailableError",
    "RenderError",
    "available_backends",
    "flatten_cubics",
    "get_backend",
    "render",
]


@dataclass(frozen=True)
class Backend:
    """A renderer implementation, loaded on first use: ``module:function`` taking
    (RenderInputs, **options) and returning the image."""

    name: str
    target: str
    requires: str | None = None  # a module that must import
    install_hint: str = ""
    options: tuple[str, ...] = ()  # keyword options it understands besides the render arguments

    def load(self) -> Callable[..., Tensor]:
        if self.requires is not None:
            try:
                importlib.import_module(self.requires)
            except ImportError as exc:
                raise BackendUnavailableError(
                    f"renderer backend {self.name!r} needs {self.requires}, which does not import ({exc}). {self.install_hint}"
                ) from exc
        module, function = self.target.split(":")
        return getattr(importlib.import_module(module, __name__), function)

    def available(self) -> bool:
        try:
            self.load()
        except BackendUnavailableError:
            return False
        return True


BACKENDS: Mapping[str, Backend] = {
    b.name: b
    for b in (
        Backend("torch", ".torch_backend:render_torch", options=("tile",)),
        Backend(
            "diffvg",
            ".diffvg_backend:render_diffvg",
            requires="pydiffvg",
            install_hint="diffvg is not on PyPI: build it from https://github.com/BachiLi/diffvg "
            "(git clone --recursive, then python setup.py install), or use backend='torch'.",
            options=("seed", "samples"),
        ),
    )
}


def get_backend(name: str) -> Backend:
    """The backend called ``name``; RenderError lists the known names for an unknown one."""
    try:
        return BACKENDS[name]
    except KeyError:
        raise RenderError(f"unknown renderer backend {name!r}; known: {', '.join(sorted(BACKENDS))}") from None


def available_backends() -> tuple[str, ...]:
    """Names of the backends that can run here."""
    return tuple(name for name, backend in BACKENDS.items() if backend.available())


def render(
    control_points: Tensor,
    segment_stroke: Tensor,
    stroke_width: Tensor,
    stroke_pen: Tensor,
    pen_rgb: Tensor,
    size: Size | Sequence[int],
    *,
    pen_opacity: Tensor | None = None,
    paper: Sequence[float] | Tensor = (1.0, 1.0, 1.0),
    views: Tensor | None = None,
    view_size: Sequence[int] | None = None,
    backend: str = "torch",
    tile: int | None = None,
    **options,
) -> Tensor:
    """Render cubic Bezier strokes as pen ink on paper.

    Args:
        control_points: float [N, 4, 2], cubic segments in canvas px (x right, y down, pixel
            centres at +0.5).
        segment_stroke: long [N], the stroke of each segment (a stroke's segments consecutive,
            each starting where the previous one ends).
        stroke_width: float [S], full nib width in px.
        stroke_pen: long [S], the pen of each stroke.
        pen_rgb: float [P, 3], pen colours in [0, 1].
        size: the canvas in px: a :class:`~penspec.spec.model.Size` (width, height), or a
            plain (H, W) pair like an image's shape.
        pen_opacity: float [P] (default 1): how much of its colour a pen lays down.
        paper: the paper's colour, 3 floats.
        views: optional float [B, 3, 3] homographies from canvas px to view px; renders B views
            straight from the transformed geometry (no raster resampling).
        view_size: (h, w) of every view; required with ``views``.
        backend: "torch" (default) or "diffvg"; see BACKENDS.
        tile: tile edge in px for the torch backend (default 8 on CPU, 16 on CUDA); the image
            does not depend on it.
        options: backend specific (diffvg: seed, samples).

    Returns:
        float [3, H, W], or [B, 3, h, w] with views, in [0, 1]: per pixel
        ``paper * prod over strokes (1 - cov * (1 - rgb) * opacity)``. Differentiable with
        respect to control_points, stroke_width, pen_rgb and pen_opacity; on the device and in
        the dtype (float32 or float64) of control_points.
    """
    chosen = get_backend(backend)
    if tile is not None:
        options["tile"] = tile
    unknown = sorted(set(options) - set(chosen.options))
    if unknown:
        raise RenderError(f"backend {backend!r} takes no option {', '.join(unknown)}; it takes: {', '.join(chosen.options) or 'none'}")
    inputs = check_inputs(
        control_points, segment_stroke, stroke_width, stroke_pen, pen_rgb, size, pen_opacity, paper, views, view_size
    )
    return chosen.load()(inputs, **options)
