"""Binned pieces -> transmittance, with an analytic backward.

Per group (one stroke instance in one tile) and pixel: the exact distance ``d`` to the nearest
of the group's pieces and the direction to it; the pixel's coverage (coverage.py); the stroke's
log2 transmittance ``log2(1 - cov * k_c)`` with ``k_c = (1 - rgb_c) * opacity`` summed per
tile pixel, and ``T = exp2(sum)``. ``cov * k`` is capped at ``1 - INK_CAP`` so the log stays
finite; the backward passes gradient straight through that cap, so a fully inked pixel keeps
its colour gradient.

Work runs in chunks of about CHUNK (group, slot) rows so temporaries stay in cache. The forward
keeps, per group pixel, the distance, the footprint's q and the winning piece; the backward
needs no second pass over pieces: it visits only the pixels in a stroke's anti-aliased rim,
with dd/da = -(1 - t) n, dd/db = -t n at the winner and the rotation of n for the footprint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import torch
from torch import Tensor

from .binning import Bins
from .coverage import coverage, coverage_grad, footprint

INK_CAP = 1e-6  # the darkest a single stroke makes a pixel: transmittance >= INK_CAP
FAR = 1e15  # coordinate of the sentinel piece
CHUNK = 2048  # (group, slot) rows per step


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


def _nearest(table: Tensor, pieces: Tensor, origin: Tensor, offsets: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Per group pixel: distance, normal components (pixel - nearest point) and the winning
    piece, over the group's slots; ties go to the first slot (stroke order)."""
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
        return sq[:, 0].sqrt_(), dx[:, 0], dy[:, 0], pieces.expand(-1, sq.shape[2])
    best = sq[:, 0].clone()
    rank = torch.zeros(best.shape, dtype=torch.long, device=best.device)
    for slot in range(1, slots):
        closer = sq[:, slot] < best
        torch.minimum(best, sq[:, slot], out=best)
        rank.masked_fill_(closer, slot)
    pick = rank.unsqueeze(1)
    nx = torch.gather(dx, 1, pick).squeeze(1)
    ny = torch.gather(dy, 1, pick).squeeze(1)
    return best.sqrt_(), nx, ny, torch.gather(pieces, 1, rank)


def _capped_ink(cov: Tensor, ink: Tensor) -> Tensor:
    """cov * k per channel, capped below 1: [g, 3, px]."""
    return (cov.unsqueeze(1) * ink.unsqueeze(2)).clamp_(max=1 - INK_CAP)


def _to_image(tiles: Tensor, bins: Bins) -> Tensor:
    """[tiles, 3, tile^2] -> [views, 3, height, width]."""
    g = bins.grid
    img = tiles.view(g.views, g.tiles_y, g.tiles_x, 3, g.tile, g.tile).permute(0, 3, 1, 4, 2, 5)
    img = img.reshape(g.views, 3, g.tiles_y * g.tile, g.tiles_x * g.tile)
    if img.shape[2] != g.height or img.shape[3] != g.width:
        img = img[:, :, : g.height, : g.width].contiguous()
    return img


def _to_tiles(image: Tensor, bins: Bins) -> Tensor:
    """[views, 3, height, width] -> [tiles, 3, tile^2], the inverse of _to_image (zero padded)."""
    g = bins.grid
    full = (g.tiles_y * g.tile, g.tiles_x * g.tile)
    if image.shape[2:] != full:
        image = torch.nn.functional.pad(image, (0, full[1] - g.width, 0, full[0] - g.height))
    img = image.reshape(g.views, 3, g.tiles_y, g.tile, g.tiles_x, g.tile).permute(0, 2, 4, 1, 3, 5)
    return img.reshape(g.tiles, 3, g.tile * g.tile)


def transmittance(vertices: Tensor, radius: Tensor, ink: Tensor, pieces: Pieces, bins: Bins) -> Tensor:
    """Per view, channel and pixel: the fraction of light the strokes let through, [B, 3, h, w].

    ``vertices`` [V, 2] (view px), ``radius`` [K] and ``ink`` [K, 3] (per stroke instance) are
    differentiable.
    """
    return _Transmittance.apply(vertices, radius, ink, pieces, bins)


class _Transmittance(torch.autograd.Function):
    @staticmethod
    def forward(ctx, vertices, radius, ink, pieces, bins):
        dtype, device = vertices.dtype, vertices.device
        g = bins.grid
        n_px = g.tile * g.tile
        offsets = _pixel_offsets(g.tile, dtype, device)
        table = _piece_table(vertices, pieces.start)
        index_dtype = torch.int32 if table.shape[0] < 2**31 else torch.long
        dist = torch.empty(bins.groups, n_px, dtype=dtype, device=device)
        across = torch.empty_like(dist)  # q of each pixel's footprint
        winner = torch.empty(bins.groups, n_px, dtype=index_dtype, device=device)
        tiles = torch.zeros(g.tiles, 3, n_px, dtype=dtype, device=device)
        group_radius = radius.index_select(0, bins.group_instance).unsqueeze(1)
        group_ink = ink.index_select(0, bins.group_instance)
        for rows, _, ids in _chunks(bins):
            d, nx, ny, win = _nearest(table, ids, bins.group_origin[rows], offsets)
            p, q = footprint(nx, ny, d)
            cov = coverage(d, group_radius[rows], p, q)
            log_t = _capped_ink(cov, group_ink[rows]).neg_().add_(1).log2_()
            tiles.index_add_(0, bins.group_tile[rows], log_t)
            dist[rows] = d
            across[rows] = q
            winner[rows] = win
        tiles.exp2_()
        ctx.save_for_backward(vertices, radius, ink, dist, across, winner, tiles)
        ctx.pieces, ctx.bins = pieces, bins
        return _to_image(tiles, bins)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        return (*transmittance_backward(grad, *ctx.saved_tensors, ctx.pieces, ctx.bins), None, None)


def transmittance_backward(grad, vertices, radius, ink, dist, across, winner, tiles, pieces: Pieces, bins: Bins):
    """Gradients for vertices [V, 2], radius [K] and ink [K, 3] from the image gradient."""
    inst = bins.group_instance
    group_radius = radius.index_select(0, inst).unsqueeze(1)
    group_ink = ink.index_select(0, inst)
    g_light = _to_tiles(grad, bins).mul_(tiles)  # dL/dT * T per tile pixel
    g_radius = torch.empty(bins.groups, dtype=radius.dtype, device=radius.device)
    g_ink = torch.empty_like(group_ink)
    rims = []  # (flat group pixel index, dL/dd, dL/dp, dL/dq) where the geometry matters
    for rows, _, _ in _chunks(bins):
        d, q, r, k = dist[rows], across[rows], group_radius[rows], group_ink[rows]
        p = (1 - q * q).sqrt_()
        cg = coverage_grad(d, r, p, q)
        # T = prod (1 - x): dT/dx = -T / (1 - x), the pixel's other strokes left in T
        g_x = g_light.index_select(0, bins.group_tile[rows]).div_(_capped_ink(cg.cov, k).neg_().add_(1)).neg_()
        g_ink[rows] = torch.bmm(g_x, cg.cov.unsqueeze(2)).squeeze(2)
        g_cov = torch.bmm(k.unsqueeze(1), g_x).squeeze(1)
        g_radius[rows] = (g_cov * cg.d_radius).sum(1)
        g_dist = (g_cov * cg.d_dist).view(-1)
        g_p = (g_cov * cg.d_p).view(-1)
        g_q = (g_cov * cg.d_q).view(-1)
        hit = torch.nonzero((g_dist != 0) | (g_p != 0) | (g_q != 0)).squeeze(1)
        if hit.numel():
            parts = (g.index_select(0, hit) for g in (g_dist, g_p, g_q))
            rims.append((hit + rows.start * d.shape[1], *parts))
    grad_radius = torch.zeros_like(radius).index_add_(0, inst, g_radius)
    grad_ink = torch.zeros_like(ink).index_add_(0, inst, g_ink)
    grad_vertices = torch.zeros_like(vertices)
    if rims:
        hit, g_dist, g_p, g_q = (torch.cat(parts) for parts in zip(*rims))
        _geometry_grad(grad_vertices, vertices, hit, g_dist, g_p, g_q, dist, winner, pieces, bins)
    return grad_vertices, grad_radius, grad_ink


def _geometry_grad(out, vertices, hit, g_dist, g_p, g_q, dist, winner, pieces: Pieces, bins: Bins) -> None:
    """Accumulate into ``out`` [V, 2] the vertex gradients of the rim pixels ``hit``."""
    dtype = vertices.dtype
    tiny = torch.finfo(dtype).tiny
    n_px = bins.grid.tile**2
    group = torch.div(hit, n_px, rounding_mode="floor")
    offsets = _pixel_offsets(bins.grid.tile, dtype, vertices.device)
    pixel = bins.group_origin.index_select(0, group) + offsets[:, hit - group * n_px].T
    first = pieces.start.index_select(0, winner.view(-1).index_select(0, hit).long())
    a = vertices.index_select(0, first)
    ab = vertices.index_select(0, first + 1) - a
    ap = pixel - a
    sq = (ab * ab).sum(1)
    t = ((ap * ab).sum(1) / sq.clamp_min(tiny)).masked_fill_(sq == 0, 0).clamp_(0, 1)
    d = dist.view(-1).index_select(0, hit).clamp_min(tiny)
    n = (ap - t.unsqueeze(1) * ab) / d.unsqueeze(1)

    # footprint: p = max(|nx|, |ny|), q = min(|nx|, |ny|)  ->  dL/dn
    x_major = (n[:, 0].abs() >= n[:, 1].abs()).to(dtype)
    sign = n.sign()
    g_n = torch.stack((g_p * x_major + g_q * (1 - x_major), g_q * x_major + g_p * (1 - x_major)), 1) * sign

    # distance: dd/da = -(1 - t) n, dd/db = -t n
    g_a = n * (g_dist * (t - 1)).unsqueeze(1)
    g_b = n * (-g_dist * t).unsqueeze(1)
    # the normal turns with the piece (interior) or about the pixel (nearest point an endpoint)
    length = sq.sqrt().clamp_min(tiny)
    interior = ((t > 0) & (t < 1)).to(dtype).unsqueeze(1)
    turn = ((g_n * ab).sum(1) / (length * length)).unsqueeze(1) * n * interior
    g_a += turn
    g_b -= turn
    radial = (g_n - (g_n * n).sum(1, keepdim=True) * n) / d.unsqueeze(1) * (1 - interior)
    g_a -= radial * (t == 0).to(dtype).unsqueeze(1)
    g_b -= radial * (t == 1).to(dtype).unsqueeze(1)
    out.index_add_(0, first, g_a)
    out.index_add_(0, first + 1, g_b)
