"""Binned pieces -> transmittance, with an analytic backward.

Per group (one stroke instance in one tile) and pixel: the exact distance ``d`` to the nearest
of the group's pieces and the direction to it; the pixel's coverage (coverage.py); the stroke's
log2 transmittance ``log2(1 - cov * k_c)`` with ``k_c = (1 - rgb_c) * opacity`` summed per
tile pixel, and ``T = exp2(sum)``. ``cov * k`` is capped at ``1 - INK_CAP`` so the log stays
finite; the backward passes gradient straight through that cap, so a fully inked pixel keeps
its colour gradient.

Distances run in chunks of about CHUNK (group, slot) rows so temporaries stay in cache; only
the group pixels a stroke reaches (typically a fifth of a tile) go on to coverage, ink and the
backward. The forward keeps, per inked pixel, the distance, the footprint's q and the winning
piece, so the backward needs no second pass over pieces: dd/da = -(1 - t) n and dd/db = -t n at
the winner, plus the turn of n for the footprint.
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
CHUNK = 8192  # (group, slot) rows per step: temporaries of a few MB


@dataclass(frozen=True)
class Pieces:
    """Polyline pieces in view px: piece j runs from ``vertices[start[j]]`` to
    ``vertices[start[j] + 1]`` and belongs to stroke instance ``instance[j]``."""

    start: Tensor
    instance: Tensor


def _pixel_offsets(tile: int, dtype: torch.dtype, device: torch.device) -> Tensor:
    """Pixel centres of a tile relative to its corner: [2, tile^2]."""
    j = torch.arange(tile * tile, device=device)
    return torch.stack((j % tile, torch.div(j, tile, rounding_mode="floor"))).to(dtype) + 0.5


def _piece_table(vertices: Tensor, start: Tensor) -> Tensor:
    """[M + 1, 6]: ax, ay, abx, aby, abx / |ab|^2, aby / |ab|^2; the last row is the sentinel."""
    a = vertices.index_select(0, start)
    ab = vertices.index_select(0, start + 1) - a
    sq = (ab * ab).sum(1, keepdim=True)
    inv = torch.where(sq > 0, 1 / sq, torch.zeros_like(sq))
    table = torch.cat((a, ab, ab * inv), 1)
    sentinel = table.new_tensor([[FAR, FAR, 0, 0, 0, 0]])
    return torch.cat((table, sentinel))


def _chunks(bins: Bins) -> Iterator[tuple[slice, int, Tensor]]:
    """(group rows, slots, piece ids [rows, slots]) in steps of about CHUNK rows x slots."""
    for bucket in bins.buckets:
        step = max(1, CHUNK // bucket.slots)
        start, stop = bucket.rows.start, bucket.rows.stop
        for lo in range(start, stop, step):
            hi = min(lo + step, stop)
            yield slice(lo, hi), bucket.slots, bucket.pieces[lo - start : hi - start]


def _nearest(table: Tensor, pieces: Tensor, origin: Tensor, offsets: Tensor) -> tuple[Tensor, Tensor | None, Tensor, Tensor]:
    """Per group pixel, over the group's slots: the squared distance to the nearest piece and
    its slot (None for one slot; ties go to the first slot, i.e. stroke order), with the
    components of pixel - nearest point of every slot ([g, slots, px] each)."""
    p = table[pieces]  # [g, slots, 6]
    e = (origin.unsqueeze(1) - p[..., 0:2]).unsqueeze(-1)  # tile corner - a: [g, slots, 2, 1]
    dx = e[..., 0, :] + offsets[0]  # pixel - a: [g, slots, px]
    dy = e[..., 1, :] + offsets[1]
    t = dx * p[..., 4:5]
    t.addcmul_(dy, p[..., 5:6]).clamp_(0, 1)
    dx.addcmul_(t, p[..., 2:3], value=-1)
    dy.addcmul_(t, p[..., 3:4], value=-1)
    sq = dx * dx
    sq.addcmul_(dy, dy)
    slots = pieces.shape[1]
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
    """cov * k per channel, capped below 1: [E, 3]."""
    return (cov.unsqueeze(1) * ink).clamp_(max=1 - INK_CAP)


def _pixel_base(bins: Bins) -> tuple[Tensor, Tensor]:
    """Flat image index of each group's tile corner [G] and of each tile pixel [tile^2] in
    one channel plane of the [views, 3, height, width] image."""
    g = bins.grid
    device = bins.group_tile.device
    view = torch.div(bins.group_tile, g.tiles_per_view, rounding_mode="floor")
    corner = bins.group_origin.long()
    base = (view * 3 * g.height + corner[:, 1]) * g.width + corner[:, 0]
    j = torch.arange(g.tile * g.tile, device=device)
    return base, torch.div(j, g.tile, rounding_mode="floor") * g.width + j % g.tile


@dataclass(frozen=True)
class Inked:
    """Group pixels a stroke reaches (coverage may be > 0), as flat arrays [E]."""

    group: Tensor  # long: the group (stroke instance x tile)
    local: Tensor  # long: the pixel within the tile
    pixel: Tensor  # long: the pixel in the first channel plane of the image
    dist: Tensor  # distance to the nearest piece
    across: Tensor  # q of the pixel's footprint
    winner: Tensor  # long: the nearest piece


def transmittance(vertices: Tensor, radius: Tensor, ink: Tensor, pieces: Pieces, bins: Bins) -> Tensor:
    """Per view, channel and pixel: the fraction of light the strokes let through, [B, 3, h, w].

    ``vertices`` [V, 2] (view px), ``radius`` [K] and ``ink`` [K, 3] (per stroke instance) are
    differentiable.
    """
    return _Transmittance.apply(vertices, radius, ink, pieces, bins)


def rasterise(vertices: Tensor, radius: Tensor, ink: Tensor, pieces: Pieces, bins: Bins) -> tuple[Tensor, list[Inked]]:
    """Forward pass: the transmittance image [B, 3, h, w] and the inked group pixels, per chunk."""
    dtype, device = vertices.dtype, vertices.device
    g = bins.grid
    n_px = g.tile * g.tile
    plane = g.height * g.width
    offsets = _pixel_offsets(g.tile, dtype, device)
    table = _piece_table(vertices, pieces.start)
    base, within = _pixel_base(bins)
    reach = (radius.index_select(0, bins.group_instance).unsqueeze(1) + REACH).square_()
    clipped = g.height % g.tile or g.width % g.tile
    limit = torch.tensor([g.width, g.height], dtype=dtype, device=device)
    log_t = torch.zeros(g.views * 3 * plane, dtype=dtype, device=device)
    parts = []
    for rows, slots, ids in _chunks(bins):
        origin = bins.group_origin[rows]
        sq, rank, dx, dy = _nearest(table, ids, origin, offsets)
        near = sq < reach[rows]
        if clipped:  # pixels of the last tiles that fall off the image
            near &= (origin[:, :1] + offsets[0] < limit[0]) & (origin[:, 1:] + offsets[1] < limit[1])
        hit = torch.nonzero(near.view(-1)).squeeze(1)
        if not hit.numel():
            continue
        row = torch.div(hit, n_px, rounding_mode="floor")
        local = hit - row * n_px
        slot = row * slots if rank is None else row * slots + rank.view(-1).index_select(0, hit)
        at = slot * n_px + local
        d = sq.view(-1).index_select(0, hit).sqrt_()
        p, q = footprint(dx.view(-1).index_select(0, at), dy.view(-1).index_select(0, at), d)
        group = row + rows.start
        inst = bins.group_instance.index_select(0, group)
        cov = coverage(d, radius.index_select(0, inst), p, q)
        log = _capped_ink(cov, ink.index_select(0, inst)).neg_().add_(1).log2_()
        pixel = base.index_select(0, group) + within.index_select(0, local)
        for c in range(3):
            log_t.index_add_(0, pixel + c * plane, log[:, c])
        parts.append(Inked(group, local, pixel, d, q, ids.view(-1).index_select(0, slot)))
    return log_t.exp2_().view(g.views, 3, g.height, g.width), parts


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


def transmittance_backward(grad, vertices, radius, ink, image, parts: list[Inked], pieces: Pieces, bins: Bins):
    """Gradients for vertices [V, 2], radius [K] and ink [K, 3] from the image gradient."""
    plane = bins.grid.height * bins.grid.width
    g_light = (grad * image).view(-1)  # dL/dT * T per pixel
    grad_radius = torch.zeros_like(radius)
    grad_ink = torch.zeros_like(ink)
    grad_vertices = torch.zeros_like(vertices)
    for part in parts:
        inst = bins.group_instance.index_select(0, part.group)
        k = ink.index_select(0, inst)
        p = (1 - part.across * part.across).sqrt_()
        cg = coverage_grad(part.dist, radius.index_select(0, inst), p, part.across)
        # T = prod (1 - x): dT/dx = -T / (1 - x), the pixel's other strokes left in T
        g_x = torch.stack([g_light.index_select(0, part.pixel + c * plane) for c in range(3)], 1)
        g_x.div_(_capped_ink(cg.cov, k).neg_().add_(1)).neg_()
        grad_ink.index_add_(0, inst, g_x * cg.cov.unsqueeze(1))
        g_cov = (g_x * k).sum(1)
        grad_radius.index_add_(0, inst, g_cov * cg.d_radius)
        _geometry_grad(grad_vertices, vertices, part, g_cov * cg.d_dist, g_cov * cg.d_p, g_cov * cg.d_q, pieces, bins)
    return grad_vertices, grad_radius, grad_ink


def _geometry_grad(out: Tensor, vertices: Tensor, inked: Inked, g_dist: Tensor, g_p: Tensor, g_q: Tensor, pieces: Pieces, bins: Bins) -> None:
    """Accumulate into ``out`` [V, 2] the vertex gradients of the inked pixels."""
    tiny = torch.finfo(vertices.dtype).tiny
    offsets = _pixel_offsets(bins.grid.tile, vertices.dtype, vertices.device)
    local = inked.local
    origin = bins.group_origin.index_select(0, inked.group)
    first = pieces.start.index_select(0, inked.winner)
    a = vertices.index_select(0, first)
    ab = vertices.index_select(0, first + 1) - a
    ax, ay, abx, aby = a[:, 0], a[:, 1], ab[:, 0], ab[:, 1]
    apx = origin[:, 0] + offsets[0].index_select(0, local) - ax
    apy = origin[:, 1] + offsets[1].index_select(0, local) - ay
    sq = abx * abx + aby * aby
    t = ((apx * abx + apy * aby) / sq.clamp_min(tiny)).masked_fill_(sq == 0, 0).clamp_(0, 1)
    inv_d = 1 / inked.dist.clamp_min(tiny)
    nx = (apx - t * abx) * inv_d
    ny = (apy - t * aby) * inv_d

    # footprint p = max(|nx|, |ny|), q = min(|nx|, |ny|)  ->  dL/dn
    x_major = nx.abs() >= ny.abs()
    gnx = torch.where(x_major, g_p, g_q) * nx.sign()
    gny = torch.where(x_major, g_q, g_p) * ny.sign()
    # distance: dd/da = -(1 - t) n, dd/db = -t n
    ga = g_dist * (t - 1)
    gb = -g_dist * t
    gax, gay, gbx, gby = ga * nx, ga * ny, gb * nx, gb * ny
    # the normal turns with the piece (nearest point inside it) or about the pixel (an endpoint)
    inside = (t > 0) & (t < 1)
    turn = torch.where(inside, (gnx * abx + gny * aby) / sq.clamp_min(tiny), 0)
    gax += turn * nx
    gay += turn * ny
    gbx -= turn * nx
    gby -= turn * ny
    along = gnx * nx + gny * ny
    radial_x = torch.where(inside, 0, (gnx - along * nx) * inv_d)
    radial_y = torch.where(inside, 0, (gny - along * ny) * inv_d)
    at_a = t == 0
    gax -= torch.where(at_a, radial_x, 0)
    gay -= torch.where(at_a, radial_y, 0)
    gbx -= torch.where(at_a, 0, radial_x)
    gby -= torch.where(at_a, 0, radial_y)
    out.index_add_(0, first, torch.stack((gax, gay), 1))
    out.index_add_(0, first + 1, torch.stack((gbx, gby), 1))
