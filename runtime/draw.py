"""Drawing strokes with the renderer: the whole region (snapshots) or a batch of views (steps).

The pens' look is a :class:`Look`: per-stroke widths, the pen of each stroke, and the pens'
colours and opacities. Real pens come from the plan; learned pens (assign_pens) use one virtual
pen per stroke whose colour, opacity and width are soft mixtures of the real pens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from penspec.compiler.plan import Plan
from penspec.runtime.render import render
from penspec.runtime.strokes import Strokes, pen_tensors


@dataclass(frozen=True)
class Look:
    """What the renderer needs besides geometry: ``stroke_width [S]``, ``stroke_pen [S]``,
    ``pen_rgb [P, 3]``, ``pen_opacity [P]`` and the paper colour."""

    stroke_width: torch.Tensor
    stroke_pen: torch.Tensor
    pen_rgb: torch.Tensor
    pen_opacity: torch.Tensor
    paper: tuple[float, float, float]


def pen_look(plan: Plan, strokes: Strokes) -> Look:
    """The real pens: each stroke drawn at its pen's nib width, colour and opacity."""
    device = strokes.points.device
    rgb, opacity, width = pen_tensors(plan, device)
    return Look(width[strokes.stroke_pen], strokes.stroke_pen, rgb, opacity, tuple(plan.paper.rgb))


def soft_look(plan: Plan, probabilities: torch.Tensor) -> Look:
    """Learned pens: stroke s is drawn by a virtual pen mixing the real pens with
    ``probabilities[s]`` (softmax over pens), so colour, opacity and width stay differentiable."""
    rgb, opacity, width = pen_tensors(plan, probabilities.device)
    s = probabilities.shape[0]
    return Look(
        probabilities @ width,
        torch.arange(s, device=probabilities.device),
        probabilities @ rgb,
        probabilities @ opacity,
        tuple(plan.paper.rgb),
    )


def render_views(
    strokes: Strokes,
    points: torch.Tensor,
    look: Look,
    homographies: np.ndarray | torch.Tensor,
    crop: int,
    *,
    backend: str = "torch",
) -> torch.Tensor:
    """``[B, 3, crop, crop]`` views of the strokes, drawn straight from transformed geometry."""
    views = torch.as_tensor(homographies, dtype=points.dtype, device=points.device)
    return render(
        strokes.control_points(points),
        strokes.segment_stroke,
        look.stroke_width,
        look.stroke_pen,
        look.pen_rgb,
        strokes.region,
        pen_opacity=look.pen_opacity,
        paper=look.paper,
        views=views,
        view_size=(crop, crop),
        backend=backend,
    )


def render_region(strokes: Strokes, look: Look, *, backend: str = "torch") -> torch.Tensor:
    """``[3, h, w]`` image of the whole region (no gradient), for snapshots and previews."""
    with torch.no_grad():
        return render(
            strokes.control_points().detach(),
            strokes.segment_stroke,
            look.stroke_width.detach(),
            look.stroke_pen,
            look.pen_rgb.detach(),
            strokes.region,
            pen_opacity=look.pen_opacity.detach(),
            paper=look.paper,
            backend=backend,
        )


def to_png(image: torch.Tensor) -> bytes:
    """PNG bytes of a ``[3, h, w]`` image in [0, 1] (deterministic encoder settings)."""
    import io

    from PIL import Image

    arr = (image.detach().clamp(0, 1).cpu().permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr, "RGB").save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()
