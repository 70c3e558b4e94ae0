"""Reference renderers for the render tests: cairo, skia and a dense autograd oracle."""

from __future__ import annotations

import numpy as np
import pytest
import torch


def _strokes(scene_args):
    cp, segment_stroke, width, pen, rgb, size = scene_args
    cp = cp.detach().double().cpu().numpy()
    segment_stroke = segment_stroke.cpu().numpy()
    for s in range(width.shape[0]):
        segments = cp[segment_stroke == s]
        if len(segments):
            yield s, segments


def cairo_render(scene_args, opacity=None, paper=(1.0, 1.0, 1.0)) -> torch.Tensor:
    """cairo's stroke of each path (round caps and joins) multiplied onto the paper: float64 [3, H, W]."""
    cairo = pytest.importorskip("cairocffi")
    _, _, width, pen, rgb, (h, w) = scene_args
    surface = cairo.ImageSurface(cairo.FORMAT_ARGB32, w, h)
    ctx = cairo.Context(surface)
    ctx.set_source_rgb(*paper)
    ctx.paint()
    ctx.set_operator(cairo.OPERATOR_MULTIPLY)
    ctx.set_line_cap(cairo.LINE_CAP_ROUND)
    ctx.set_line_join(cairo.LINE_JOIN_ROUND)
    for s, segments in _strokes(scene_args):
        ctx.move_to(*segments[0, 0])
        for seg in segments:
            ctx.curve_to(*seg[1], *seg[2], *seg[3])
        p = int(pen[s])
        ctx.set_source_rgba(*rgb[p].tolist(), 1.0 if opacity is None else float(opacity[p]))
        ctx.set_line_width(float(width[s]))
        ctx.stroke()
    surface.flush()
    bgra = np.frombuffer(surface.get_data(), np.uint8).reshape(h, w, 4)
    return torch.from_numpy(bgra[..., [2, 1, 0]].astype(np.float64) / 255).permute(2, 0, 1)


def skia_render(scene_args) -> torch.Tensor:
    """skia's anti-aliased strokes with the multiply blend mode: float64 [3, H, W]."""
    skia = pytest.importorskip("skia")
    _, _, width, pen, rgb, (h, w) = scene_args
    surface = skia.Surface(w, h)
    canvas = surface.getCanvas()
    canvas.clear(skia.ColorWHITE)
    for s, segments in _strokes(scene_args):
        path = skia.Path()
        path.moveTo(*segments[0, 0])
        for seg in segments:
            path.cubicTo(*seg[1], *seg[2], *seg[3])
        r, g, b = (round(float(c) * 255) for c in rgb[int(pen[s])])
        paint = skia.Paint(
            AntiAlias=True,
            Style=skia.Paint.kStroke_Style,
            StrokeWidth=float(width[s]),
            StrokeCap=skia.Paint.kRound_Cap,
            StrokeJoin=skia.Paint.kRound_Join,
            Color=skia.Color(r, g, b),
            BlendMode=skia.BlendMode.kMultiply,
        )
        canvas.drawPath(path, paint)
    rgba = surface.makeImageSnapshot().toarray(colorType=skia.kRGBA_8888_ColorType)
    return torch.from_numpy(rgba[..., :3].astype(np.float64) / 255).permute(2, 0, 1)


def _band_area(x, p, q):
    """Area of a unit pixel between its centre line and a parallel line x further along the
    normal (x >= 0), for a footprint trapezoid of widths p >= q, written piece by piece."""
    m, big = (p - q) / 2, (p + q) / 2
    y = big - x
    tail = 0.5 - y * y / (2 * p * q.clamp_min(1e-300))
    return torch.where(x <= m, x / p, torch.where(x >= big, torch.full_like(x, 0.5), tail))


def dense_render(control_points, segment_stroke, stroke_width, stroke_pen, pen_rgb, size, *, pen_opacity=None, paper=(1.0, 1.0, 1.0)):
    """The renderer's raster written the obvious way: every pixel against every piece of a
    stroke, plain autograd, no tiles, no custom backward. Ties between pieces go to the first
    one, as in the renderer."""
    from penspec.runtime.render.caps import cap_ends, pull_caps
    from penspec.runtime.render.flatten import flatten, piece_counts
    from penspec.runtime.render.raster import INK_CAP

    dtype = control_points.dtype
    # the same geometry as the renderer (flattened, caps pulled back), then the raster by hand
    packed = flatten(control_points, piece_counts(control_points))
    ends = cap_ends(control_points, segment_stroke)
    vertices = pull_caps(packed.vertices, packed, *ends, stroke_width.index_select(0, segment_stroke) / 2)
    lines = torch.split(vertices, (packed.counts + 1).tolist())
    h, w = size
    ys, xs = torch.meshgrid(torch.arange(h, dtype=dtype) + 0.5, torch.arange(w, dtype=dtype) + 0.5, indexing="ij")
    pixels = torch.stack((xs, ys), -1).reshape(-1, 1, 2)
    opacity = torch.ones(pen_rgb.shape[0], dtype=dtype) if pen_opacity is None else pen_opacity
    log_t = torch.zeros(3, h * w, dtype=dtype)
    for s in range(stroke_width.shape[0]):
        mine = [lines[i] for i in torch.nonzero(segment_stroke == s).flatten().tolist()]
        if not mine:
            continue
        a = torch.cat([line[:-1] for line in mine])
        ab = torch.cat([line[1:] for line in mine]) - a
        ap = pixels - a
        t = ((ap * ab).sum(-1) / (ab * ab).sum(-1)).clamp(0, 1)
        v = ap - t.unsqueeze(-1) * ab  # pixel - nearest point, per piece
        best = v.norm(dim=-1).min(dim=1).indices
        v = v[torch.arange(v.shape[0]), best]
        d = v.norm(dim=-1)
        n = v / d.unsqueeze(-1)
        p, q = n.abs().max(-1).values, n.abs().min(-1).values
        r = stroke_width[s] / 2
        cov = torch.sign(r - d) * _band_area((r - d).abs(), p, q) + _band_area(r + d, p, q)
        x = cov * ((1 - pen_rgb[stroke_pen[s]]) * opacity[stroke_pen[s]]).unsqueeze(1)
        x = x - (x - x.clamp(max=1 - INK_CAP)).detach()  # capped, gradient passes through
        log_t = log_t + torch.log(1 - x)
    return (torch.as_tensor(paper, dtype=dtype).unsqueeze(1) * torch.exp(log_t)).reshape(3, h, w)


@pytest.fixture
def render_cairo():
    return cairo_render


@pytest.fixture
def render_skia():
    return skia_render


@pytest.fixture
def render_dense():
    return dense_render


@pytest.fixture
def render_single_thread():
    """Run a render test on one intra-op thread: the scenes are tiny, and on a busy 2-core
    machine every OpenMP barrier of a tiny op can cost a scheduler slice."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
