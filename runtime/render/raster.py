"""Binned pieces -> transmittance, with an analytic backward.

Per group (one stroke instance in one tile) and pixel: the exact distance ``d`` to the nearest
of the group's pieces and the direction to it; the pixel's coverage (coverage.py); the stroke's
log2 transmittance ``log2(1 - cov * k_c)`` with ``k_c = (1 - rgb_c) * opacity``, summed per
pixel, and ``T = exp2(sum)``. ``cov * k`` is capped at ``1 - INK_CAP`` so the log stays finite;
the backward passes gradient straight through that cap, so a fully inked pixel keeps its
colour gradient.

Distances run in chunks of about CHUNK (group, slot) rows so temporaries stay in cache; only
the group pixels a stroke reaches (typically a fifth of a tile) go on to coverage, ink and the
backward. The forward keeps, per inked pixel, the distance, the footprint's q and the winning
piece, so the backward needs no second pass over pieces. Tables are stored field-major
([fields, rows]) because gathering and scattering whole rows is slow on CPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import torch
from torch import Tensor

from .binning import Bins
from .coverage import REACH, coverage, coverage_grad, footprint

INK_CAP = 1e-6  # the darkest a single stroke makes a pixel: transmittance >= INK_CAP
FAR = 1e15  # coordinate of the sentinel piece
CHUNK = 8192  # (group, slot) rows per step on CPU: temporaries of a few MB stay in cache
CHUNK_GPU = 1 << 18  # on a GPU, fewer and larger kernels


@dataclass(frozen=True)
class Pieces:
    """Polyline pieces in view px: piece j runs from ``vertices[start[j]]`` to
    ``vertices[start[j] + 1]`` and belongs to stroke instance ``instance[j]``."""

    start: Tensor
    instance: Tensor


@dataclass(frozen=True)
class Inked:
    """Group pixels a stroke reaches (coverage may be > 0), as flat arrays [E]."""

    group: Tensor  # int: the group (stroke instance x tile)
    local: Tensor  # int: the pixel within the tile
    pixel: Tensor  # int: the pixel in the first channel plane of the [B, 3, h, w] image
    dist: Tensor  # distance to the nearest piece
    across: Tensor  # q of the pixel's footprint
    winner: Tensor  # int: the nearest piece


def transmittance(vertices: Tensor, radius: Tensor, ink: Tensor, pieces: Pieces, bins: Bins) -> Tensor:
    """Per view, channel and pixel: the fraction of light the strokes let through, [B, 3, h, w].

    ``vertices`` [V, 2] (view px), ``radius`` [K] and ``ink`` [K, 3] (per stroke instance) are
    differentiable.
    """
    return _Transmittance.apply(vertices, radius, ink, pieces, bins)


class _Transmittance(torch.autograd.Function):
    @staticmethod
    def forward(ctx, vertices, radius, ink, pieces, bins):
        image, parts = rasterise(vertices, radius, ink, pieces, bins)
        ctx.save_for_backward(vertices, radius, ink, image)
        ctx.parts, ctx.pieces, ctx.bins = parts, pieces, bins
        return image

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        vertices, radius, ink, image = ctx.saved_tensors
        return (*transmittance_backward(grad, vertices, radius, ink, image, ctx.parts, ctx.pieces, ctx.bins), None, None)


def _pixel_offsets(tile: int, dtype: torch.dtype, device: torch.device) -> Tensor:
    """Pixel centres of a tile relative to its corner: [2, tile^2]."""
    j = torch.arange(tile * tile, device=device)
    return torch.stack((j % tile, torch.div(j, tile, rounding_mode="floor"))).to(dtype) + 0.5


def _pixel_base(bins: Bins) -> tuple[Tensor, Tensor]:
    """Flat image index of each group's tile corner [G] and of each tile pixel [tile^2] in
    one channel plane of the [views, 3, height, width] image."""
    g = bins.grid
    view = torch.div(bins.group_tile, g.tiles_per_view, rounding_mode="floor")
    corner = bins.group_origin.long()
    base = (view * 3 * g.height + corner[:, 1]) * g.width + corner[:, 0]
    j = torch.arange(g.tile * g.tile, device=base.device)
    return base, torch.div(j, g.tile, rounding_mode="floor") * g.width + j % g.tile


def _piece_table(vertices: Tensor, start: Tensor) -> Tensor:
    """[6, M + 1]: ax, ay, abx, aby, abx / |ab|^2, aby / |ab|^2; the last column is the sentinel."""
    a = vertices.index_select(0, start)
    ab = vertices.index_select(0, start + 1) - a
    sq = (ab * ab).sum(1, keepdim=True)
    inv = torch.where(sq > 0, 1 / sq, torch.zeros_like(sq))
    sentinel = a.new_tensor([[FAR, FAR, 0, 0, 0, 0]])
    return torch.cat((torch.cat((a, ab, ab * inv), 1), sentinel)).T.contiguous()


def _chunks(bins: Bins) -> Iterator[tuple[slice, int, Tensor]]:
    """(group rows, slots, piece ids [rows, slots]) in steps of about CHUNK rows x slots."""
    rows = CHUNK if bins.group_tile.device.type == "cpu" else CHUNK_GPU
    for bucket in bins.buckets:
        step = max(1, rows // bucket.slots)
        start, stop = bucket.rows.start, bucket.rows.stop
        for lo in range(start, stop, step):
            hi = min(lo + step, stop)
            yield slice(lo, hi), bucket.slots, bucket.pieces[lo - start : hi - start]


def _nearest(table: Tensor, pieces: Tensor, origin: Tensor, offsets: Tensor) -> tuple[Tensor, Tensor | None, Tensor, Tensor]:
    """Per group pixel, over the group's slots: the squared distance to the nearest piece and
    its slot (None for one slot; ties go to the first slot, i.e. stroke order), with the
    components of pixel - nearest point of every slot ([g, slots, px] each)."""
    g, slots = pieces.shape
    ax, ay, abx, aby, ux, uy = table.index_select(1, pieces.reshape(-1)).view(6, g, slots, 1)
    dx = (origin[:, 0, None, None] - ax) + offsets[0]  # pixel - a: [g, slots, px]
    dy = (origin[:, 1, None, None] - ay) + offsets[1]
    t = dx * ux
    t.addcmul_(dy, uy).clamp_(0, 1)
    dx.addcmul_(t, abx, value=-1)
    dy.addcmul_(t, aby, value=-1)
    sq = dx * dx
    sq.addcmul_(dy, dy)
    if slots == 1:
        return sq[:, 0], None, dx, dy
    best = sq[:, 0].clone()
    rank = torch.zeros(best.shape, dtype=torch.long, device=best.device)
    for slot in range(1, slots):
        closer = sq[:, slot] < best
        torch.minimum(best, sq[:, slot], out=best)
        rank.masked_fill_(closer, slot)
    return best, rank, dx, dy


def _capped_ink(cov: Tensor, ink: Tensor) -> Tensor:
    """cov * k per channel [3, E], capped below 1."""
    return (ink * cov).clamp_(max=1 - INK_CAP)


def rasterise(vertices: Tensor, radius: Tensor, ink: Tensor, pieces: Pieces, bins: Bins) -> tuple[Tensor, list[Inked]]:
    """Forward pass: the transmittance image [B, 3, h, w] and the inked group pixels, per chunk."""
    dtype, device = vertices.dtype, vertices.device
    g = bins.grid
    n_px = g.tile * g.tile
    plane = g.height * g.width
    offsets = _pixel_offsets(g.tile, dtype, device)
    table = _piece_table(vertices, pieces.start)
    base, within = _pixel_base(bins)
    ink_by = ink.T.contiguous()
    reach = (radius.index_select(0, bins.group_instance).unsqueeze(1) + REACH).square_()
    clipped = g.height % g.tile or g.width % g.tile
    log_t = torch.zeros(g.views * 3 * plane, dtype=dtype, device=device)
    # the kept indices are stored (and gathered with) in int32 when they fit: less memory, faster
    narrow = torch.int32 if max(log_t.numel(), table.shape[1], bins.groups) < 2**31 else torch.long
    parts = []
    for rows, slots, ids in _chunks(bins):
        origin = bins.group_origin[rows]
        sq, rank, dx, dy = _nearest(table, ids, origin, offsets)
        near = sq < reach[rows]
        if clipped:  # pixels of the last tiles that fall off the image
            near &= (origin[:, :1] + offsets[0] < g.width) & (origin[:, 1:] + offsets[1] < g.height)
        hit = torch.nonzero(near.view(-1)).squeeze(1)
        if not hit.numel():
            continue
        row = torch.div(hit, n_px, rounding_mode="floor")
        local = hit - row * n_px
        slot = row * slots if rank is None else row * slots + rank.view(-1).index_select(0, hit)
        at = slot * n_px + local
        d = sq.view(-1).index_select(0, hit).sqrt_()
        p, q = footprint(dx.view(-1).index_select(0, at), dy.view(-1).index_select(0, at), d)
        group = row.add_(rows.start)
        inst = bins.group_instance.index_select(0, group)
        cov = coverage(d, radius.index_select(0, inst), p, q)
        log = _capped_ink(cov, ink_by.index_select(1, inst)).neg_().add_(1).log2_()
        pixel = base.index_select(0, group).add_(within.index_select(0, local))
        for c in range(3):
            log_t.index_add_(0, pixel + c * plane, log[c])
        winner = ids.view(-1).index_select(0, slot)
        parts.append(Inked(group.to(narrow), local.to(narrow), pixel.to(narrow), d, q, winner.to(narrow)))
    return log_t.exp2_().view(g.views, 3, g.height, g.width), parts


def transmittance_backward(grad, vertices, radius, ink, image, parts: list[Inked], pieces: Pieces, bins: Bins):
    """Gradients for vertices [V, 2], radius [K] and ink [K, 3] from the image gradient."""
    dtype = vertices.dtype
    plane = bins.grid.height * bins.grid.width
    g_light = (grad * image).contiguous().view(-1)  # dL/dT * T per pixel
    inst_of = bins.group_instance
    # what an inked pixel looks up, field-major so one gather fetches it: r, k (3), tile corner (2)
    per_group = torch.cat((radius.index_select(0, inst_of).unsqueeze(1), ink.index_select(0, inst_of), bins.group_origin), 1).T.contiguous()
    per_piece = torch.cat((vertices.index_select(0, pieces.start), vertices.index_select(0, pieces.start + 1)), 1).T.contiguous()
    offsets = _pixel_offsets(bins.grid.tile, dtype, vertices.device)
    grad_radius = torch.zeros_like(radius)
    grad_ink = torch.zeros(3, ink.shape[0], dtype=dtype, device=ink.device)
    grad_piece = torch.zeros_like(per_piece)
    for part in parts:
        inst = inst_of.index_select(0, part.group)
        looked = per_group.index_select(1, part.group)
        r, k = looked[0], looked[1:4]
        p = (1 - part.across * part.across).sqrt_()
        cg = coverage_grad(part.dist, r, p, part.across)
        # T = prod (1 - x): dT/dx = -T / (1 - x), the pixel's other strokes left in T
        g_x = torch.empty_like(k)
        for c in range(3):
            torch.index_select(g_light, 0, part.pixel + c * plane, out=g_x[c])
        g_x.div_(_capped_ink(cg.cov, k).sub_(1))
        grad_ink.index_add_(1, inst, g_x * cg.cov)
        g_cov = (g_x.mul_(k)).sum(0)
        grad_radius.index_add_(0, inst, g_cov * cg.d_radius)
        centre = looked[4:6] + offsets.index_select(1, part.local)
        ends = per_piece.index_select(1, part.winner)
        g_ends = _ends_grad(centre, ends, part.dist, g_cov * cg.d_dist, g_cov * cg.d_p, g_cov * cg.d_q)
        for f in range(4):
            grad_piece[f].index_add_(0, part.winner, g_ends[f])
    grad_vertices = torch.zeros_like(vertices)
    grad_vertices.index_add_(0, pieces.start, grad_piece[:2].T)
    grad_vertices.index_add_(0, pieces.start + 1, grad_piece[2:].T)
    return grad_vertices, grad_radius, grad_ink.T


def _ends_grad(centre: Tensor, ends: Tensor, dist: Tensor, g_dist: Tensor, g_p: Tensor, g_q: Tensor) -> tuple[Tensor, ...]:
    """dL/d(ax, ay, bx, by) of the nearest pieces ``ends`` [4, E] of pixels ``centre`` [2, E].

    With v = pixel - nearest point = d n, the pixel's coverage depends on d and, through its
    footprint (p, q), on the direction n: dL/dv = g_d n + (g_n . tau / d) tau, tau = n turned
    by 90 degrees. Nearest point at an end: that end moves v by -1. Inside the piece
    (0 < t < 1, length L): dL/da = (-(1 - t) g_d + w) n and dL/db = (-t g_d - w) n, where
    w = (g_n . tau) (tau . u) / L comes from the piece turning about its other end.
    """
    tiny = torch.finfo(dist.dtype).tiny
    ax, ay, bx, by = ends
    abx, aby = bx - ax, by - ay
    apx, apy = centre[0] - ax, centre[1] - ay
    sq = (abx * abx).addcmul_(aby, aby)
    t = (apx * abx).addcmul_(apy, aby).div_(sq.clamp_min(tiny)).masked_fill_(sq == 0, 0).clamp_(0, 1)
    inv_d = 1 / dist.clamp_min(tiny)
    nx = apx.addcmul_(t, abx, value=-1).mul_(inv_d)
    ny = apy.addcmul_(t, aby, value=-1).mul_(inv_d)
    # p = max(|nx|, |ny|), q = min(|nx|, |ny|): dL/dn, and its part along tau = (-ny, nx)
    x_major = nx.abs() >= ny.abs()
    gnx = torch.where(x_major, g_p, g_q).mul_(nx.sign())
    gny = torch.where(x_major, g_q, g_p).mul_(ny.sign())
    s = (gny * nx).addcmul_(gnx, ny, value=-1)
    inside = (t > 0) & (t < 1)
    # inside: coefficients of n for a and b
    w = (nx * aby).addcmul_(ny, abx, value=-1).mul_(s).div_(sq.clamp_min(tiny))
    coef_a = (t - 1).mul_(g_dist).add_(w)
    coef_b = (t * g_dist).add_(w).neg_()
    # at an end: -dL/dv on that end
    s.mul_(inv_d)
    vx = (g_dist * nx).addcmul_(s, ny, value=-1).neg_()
    vy = (g_dist * ny).addcmul_(s, nx).neg_()
    at_a = (t == 0).to(dist.dtype)
    at_b = (t == 1).to(dist.dtype)
    return (
        torch.where(inside, coef_a * nx, vx * at_a),
        torch.where(inside, coef_a * ny, vy * at_a),
        torch.where(inside, coef_b * nx, vx * at_b),
        torch.where(inside, coef_b * ny, vy * at_b),
    )
