"""The built-in backend: flatten, bin, rasterise, in plain PyTorch on any device."""

from __future__ import annotations

import torch
from torch import Tensor

from .binning import Bins, Grid, bin_pieces
from .caps import cap_ends, pull_caps
from .coverage import REACH
from .flatten import DEFAULT_TOL, Polylines, flatten, piece_counts
from .inputs import RenderInputs
from .raster import Pieces, transmittance
from .views import project, stroke_centres, visible_segments, width_scales


def default_tile(device: torch.device) -> int:
    """Tile edge in px: small tiles waste fewer pixel tests on CPU, larger ones suit GPUs."""
    return 16 if device.type == "cuda" else 8


def layout(inputs: RenderInputs, tile: int | None = None, tol: float = DEFAULT_TOL) -> tuple[Tensor, Tensor, Tensor, Pieces, Bins]:
    """Geometry in view px, ready to rasterise: (vertices, radius, ink, pieces, bins).

    radius and ink are per stroke instance (view * S + stroke) and stay in autograd with the
    vertices.
    """
    cp = inputs.control_points
    n_strokes = inputs.strokes
    tile = default_tile(cp.device) if tile is None else int(tile)
    height, width = inputs.out_size
    half = inputs.stroke_width * 0.5
    ink = inputs.ink()
    if inputs.views is None:
        grid = Grid(1, height, width, tile)
        lines = flatten(cp, piece_counts(cp, tol))
        radius = half
        segment_instance = inputs.segment_stroke
        vertices = pull_caps(lines.vertices, lines, *cap_ends(cp, segment_instance), radius.index_select(0, segment_instance))
        piece_instance = segment_instance.index_select(0, lines.piece_segment)
    else:
        views = inputs.views
        grid = Grid(views.shape[0], height, width, tile)
        scale = width_scales(views, stroke_centres(cp, inputs.segment_stroke, n_strokes))  # [B, S]
        radius = (half * scale).reshape(-1)
        ink = ink.repeat(grid.views, 1)
        with torch.no_grad():
            reach = radius.view(grid.views, n_strokes).index_select(1, inputs.segment_stroke) + 1
            seen, projected = visible_segments(views, cp, reach, height, width)
            view_of, segment = torch.nonzero(seen, as_tuple=True)
            counts = piece_counts(projected[view_of, segment], tol)
        seen_cp = cp.index_select(0, segment)
        lines = flatten(seen_cp, counts)
        vertex_view = view_of.index_select(0, _vertex_segment(lines))
        vertices = project(views.index_select(0, vertex_view), lines.vertices)
        segment_instance = view_of * n_strokes + inputs.segment_stroke.index_select(0, segment)
        vertices = pull_caps(vertices, lines, *cap_ends(seen_cp, segment_instance), radius.index_select(0, segment_instance))
        piece_instance = segment_instance.index_select(0, lines.piece_segment)
    pieces = Pieces(lines.piece_start, piece_instance)
    with torch.no_grad():
        v = vertices.detach()
        support = radius.detach().index_select(0, piece_instance) + REACH
        bins = bin_pieces(v.index_select(0, pieces.start), v.index_select(0, pieces.start + 1), support, piece_instance, n_strokes, grid)
    return vertices, radius, ink, pieces, bins


def _vertex_segment(lines: Polylines) -> Tensor:
    return torch.repeat_interleave(
        torch.arange(lines.counts.shape[0], device=lines.counts.device), lines.counts + 1, output_size=lines.vertices.shape[0]
    )


def render_torch(inputs: RenderInputs, *, tile: int | None = None) -> Tensor:
    """[B, 3, h, w] (views) or [3, H, W]: paper * transmittance of the strokes."""
    vertices, radius, ink, pieces, bins = layout(inputs, tile)
    image = transmittance(vertices, radius, ink, pieces, bins)
    if not bool((inputs.paper == 1).all()):
        image = image * inputs.paper.view(1, 3, 1, 1)
    return image if inputs.views is not None else image[0]
