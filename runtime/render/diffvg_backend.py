"""The diffvg backend: the same strokes through pydiffvg (optional; not on PyPI).

Conventions bridged here: diffvg's ``stroke_width`` is a half-width, so a w px nib becomes
``w / 2``; a stroke is one open ``Path`` of cubic segments (``num_control_points`` 2 each) in
its own ``ShapeGroup`` with stroke colour (rgb, opacity); the RGBA result is composited 'over'
the paper. For black pens that equals the built-in multiplicative ink model; coloured and
translucent pens differ where strokes overlap (diffvg mixes, ink multiplies), and diffvg caps
overlaps per pixel. Views are drawn from transformed geometry: affine views map the control
points, perspective views draw the projected polyline of each segment (flattened as the
built-in backend does).
"""

from __future__ import annotations

import torch
from torch import Tensor

from .errors import RenderError
from .flatten import DEFAULT_TOL, flatten, piece_counts
from .inputs import RenderInputs
from .views import project, stroke_centres, width_scales


def render_diffvg(inputs: RenderInputs, *, seed: int = 0, samples: int = 2) -> Tensor:
    """[3, H, W] or [B, 3, h, w], like the built-in backend; float32 inside diffvg."""
    import pydiffvg

    cp = inputs.control_points
    device, dtype = cp.device, cp.dtype
    pydiffvg.set_use_gpu(device.type == "cuda")
    pydiffvg.set_device(device)
    runs = _stroke_runs(inputs.segment_stroke)
    color = torch.cat((inputs.pen_rgb, inputs.pen_opacity.unsqueeze(1)), 1).index_select(0, inputs.stroke_pen)
    half = inputs.stroke_width * 0.5
    height, width = inputs.out_size
    if inputs.views is None:
        return _draw(pydiffvg, cp, None, runs, half, color, inputs.paper, height, width, seed, samples).to(dtype)
    scales = width_scales(inputs.views, stroke_centres(cp, inputs.segment_stroke, inputs.strokes))
    images = []
    for view, scale in zip(inputs.views, scales):
        if bool((view[2, :2] == 0).all()):
            mapped = project(view / view[2, 2], cp)  # affine: exact on control points
            polylines = None
        else:
            lines = flatten(cp, piece_counts(project(view, cp), DEFAULT_TOL))
            mapped = project(view, lines.vertices)
            polylines = lines
        images.append(_draw(pydiffvg, mapped, polylines, runs, half * scale, color, inputs.paper, height, width, seed, samples))
    return torch.stack(images).to(dtype)


def _stroke_runs(segment_stroke: Tensor) -> list[tuple[int, int, int]]:
    """(stroke, first segment, segment count) per stroke; each stroke's segments must be consecutive."""
    ids, counts = torch.unique_consecutive(segment_stroke, return_counts=True)
    if ids.numel() != torch.unique(ids).numel():
        raise RenderError("the diffvg backend needs each stroke's segments to be consecutive in segment_stroke")
    starts = torch.cumsum(counts, 0) - counts
    return list(zip(ids.tolist(), starts.tolist(), counts.tolist()))


def _draw(pydiffvg, points, polylines, runs, half, color, paper, height, width, seed, samples) -> Tensor:
    """One image: a Path per stroke (cubics, or the flattened polyline), composited over paper."""
    if not runs:
        return paper.float().view(3, 1, 1).expand(3, height, width)
    shapes, groups = [], []
    for stroke, first, count in runs:
        if polylines is None:
            segs = points[first : first + count].float()
            path_points = torch.cat((segs[0, :1], segs[:, 1:].reshape(-1, 2)))
            n_ctrl = torch.full((count,), 2, dtype=torch.int32)
        else:
            # vertices of the stroke's segments, each segment's first vertex dropped after the first
            lo = int(polylines.first[first])
            pieces = polylines.counts[first : first + count]
            keep = [torch.arange(lo, lo + int(pieces[0]) + 1)]
            for j in range(1, count):
                start = int(polylines.first[first + j])
                keep.append(torch.arange(start + 1, start + int(pieces[j]) + 1))
            path_points = points.index_select(0, torch.cat(keep).to(points.device)).float()
            n_ctrl = torch.zeros(path_points.shape[0] - 1, dtype=torch.int32)
        shapes.append(pydiffvg.Path(num_control_points=n_ctrl, points=path_points, stroke_width=half[stroke].float(), is_closed=False))
        groups.append(
            pydiffvg.ShapeGroup(shape_ids=torch.tensor([len(shapes) - 1]), fill_color=None, stroke_color=color[stroke].float())
        )
    scene_args = pydiffvg.RenderFunction.serialize_scene(width, height, shapes, groups)
    rgba = pydiffvg.RenderFunction.apply(width, height, samples, samples, seed, None, *scene_args)
    alpha = rgba[:, :, 3:4]
    image = alpha * rgba[:, :, :3] + paper.float().to(rgba.device) * (1 - alpha)
    return image.permute(2, 0, 1)
