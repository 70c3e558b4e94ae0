"""Binned pieces -> transmittance, with an analytic backward.

Per group (one stroke instance in one tile) and pixel: the exact distance ``d`` to the nearest
of the group's pieces; the ink-conserving box-band coverage
``cov = clamp(min(d + 1/2, r) + min(1/2 - d, r), 0, 1)``; the stroke's log2 transmittance
``log2(1 - cov * k_c)`` with ``k_c = (1 - rgb_c) * opacity`` summed per tile pixel, and
``T = exp2(sum)``. ``cov * k`` is capped at ``1 - INK_CAP`` so the log stays finite; the backward
passes gradient straight through that cap (a fully inked pixel keeps its colour gradient).

The backward needs no second pass over pairs: the forward keeps, per group pixel, the winning
piece and the distance; dd/da = -(1 - t) n and dd/db = -t n at the winner.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .binning import Bins

INK_CAP = 1e-6  # the darkest a single stroke makes a pixel: transmittance >= INK_CAP
FAR = 1e15  # coordinate of the sentinel piece


@dataclass(frozen=True)
class Pieces:
    """Polyline pieces in view px: piece j runs from ``vertices[start[j]]`` to
    ``vertices[start[j] + 1]`` and belongs to stroke instance ``instance[j]``."""

    start: Tensor
    instance: Tensor


def _pixel_offsets(tile: int, dtype: torch.dtype, device: torch.device) -> tuple[Tensor, Tensor]:
    j = torch.arange(tile * tile, device=device)
    return (j % tile).to(dtype) + 0.5, torch.div(j, tile, rounding_mode="floor").to(dtype) + 0.5


def _piece_table(vertices: Tensor, start: Tensor) -> Tensor:
    """[M + 1, 6]: ax, ay, abx, aby, abx / |ab|^2, aby / |ab|^2; the last row is the sentinel."""
    a = vertices.index_select(0, start)
    ab = vertices.index_select(0, start + 1) - a
    sq = (ab * ab).sum(1, keepdim=True)
    inv = torch.where(sq > 0, 1 / sq, torch.zeros_like(sq))
    table = torch.cat((a, ab, ab * inv), 1)
    sentinel = table.new_tensor([[FAR, FAR, 0, 0, 0, 0]])
    return torch.cat((table, sentinel))


def nearest_pieces(vertices: Tensor, start: Tensor, bins: Bins) -> tuple[Tensor, Tensor]:
    """Distance from every group pixel to its nearest piece, and that piece: [G, tile^2] each.

    Ties go to the piece that comes first in stroke order.
    """
    tile = bins.grid.tile
    n_px = tile * tile
    dtype, device = vertices.dtype, vertices.device
    ox, oy = _pixel_offsets(tile, dtype, device)
    table = _piece_table(vertices, start)
    sq_dist = torch.empty(bins.groups, n_px, dtype=dtype, device=device)
    winner = torch.empty(bins.groups, n_px, dtype=torch.long, device=device)
    for bucket in bins.buckets:
        p = table[bucket.pieces]  # [g, slots, 6]
        origin = bins.group_origin[bucket.rows].unsqueeze(1)
        e = (origin - p[..., 0:2]).unsqueeze(-1)  # tile corner relative to a: [g, slots, 2, 1]
        dx = e[..., 0, :] + ox  # pixel - a: [g, slots, px]
        dy = e[..., 1, :] + oy
        t = dx * p[..., 4:5]
        t.addcmul_(dy, p[..., 5:6]).clamp_(0, 1)
        dx.addcmul_(t, p[..., 2:3], value=-1)
        dy.addcmul_(t, p[..., 3:4], value=-1)
        dist = dx.mul_(dx).addcmul_(dy, dy)
        best = sq_dist[bucket.rows]
        if bucket.slots == 1:
            best.copy_(dist[:, 0])
            winner[bucket.rows] = bucket.pieces.expand(-1, n_px)
            continue
        rank = torch.zeros(dist.shape[0], n_px, dtype=torch.long, device=device)
        best.copy_(dist[:, 0])
        for slot in range(1, bucket.slots):
            closer = dist[:, slot] < best
            torch.minimum(best, dist[:, slot], out=best)
            rank.masked_fill_(closer, slot)
        torch.gather(bucket.pieces, 1, rank, out=winner[bucket.rows])
    return sq_dist.sqrt_(), winner


def coverage(dist: Tensor, radius: Tensor) -> Tensor:
    """Box-filtered coverage of a band of half-width ``radius`` at distance ``dist`` (1 px box)."""
    inner = torch.minimum(dist + 0.5, radius)
    outer = torch.minimum(0.5 - dist, radius)
    return inner.add_(outer).clamp_(0, 1)


def _ink(cov: Tensor, ink: Tensor) -> Tensor:
    """cov * k, capped: [G, 3, px]."""
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
    """Per view, channel and pixel: the fraction of light the strokes let through."""
    return _Transmittance.apply(vertices, radius, ink, pieces, bins)


class _Transmittance(torch.autograd.Function):
    @staticmethod
    def forward(ctx, vertices, radius, ink, pieces, bins):
        dist, winner = nearest_pieces(vertices, pieces.start, bins)
        inst = bins.group_instance
        cov = coverage(dist, radius.index_select(0, inst).unsqueeze(1))
        ink_groups = ink.index_select(0, inst)
        log_t = _ink(cov, ink_groups).neg_().add_(1).log2_()
        g = bins.grid
        tiles = torch.zeros(g.tiles, 3, g.tile * g.tile, dtype=vertices.dtype, device=vertices.device)
        tiles.index_add_(0, bins.group_tile, log_t).exp2_()
        ctx.save_for_backward(vertices, radius, ink, dist, winner, tiles)
        ctx.pieces, ctx.bins = pieces, bins
        return _to_image(tiles, bins)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        vertices, radius, ink, dist, winner, tiles = ctx.saved_tensors
        return (*transmittance_backward(grad, vertices, radius, ink, dist, winner, tiles, ctx.pieces, ctx.bins), None, None)


def transmittance_backward(grad, vertices, radius, ink, dist, winner, tiles, pieces: Pieces, bins: Bins):
    """Gradients for vertices [V, 2], radius [K] and ink [K, 3] from the image gradient."""
    inst = bins.group_instance
    r = radius.index_select(0, inst).unsqueeze(1)
    inner = dist + 0.5
    outer = 0.5 - dist
    total = torch.minimum(inner, r) + torch.minimum(outer, r)
    cov = total.clamp(0, 1)
    ink_groups = ink.index_select(0, inst)
    # dT/dx = -T / (1 - x) for x = cov * k, the pixel's other strokes left in T
    g_tiles = _to_tiles(grad, bins).mul_(tiles)
    q = g_tiles.index_select(0, bins.group_tile).div_(_ink(cov, ink_groups).neg_().add_(1)).neg_()
    g_ink = torch.bmm(q, cov.unsqueeze(2)).squeeze(2)  # [G, 3]
    g_cov = torch.bmm(ink_groups.unsqueeze(1), q).squeeze(1)  # [G, px]
    del q

    g_cov.mul_((total >= 0) & (total <= 1))
    g_dist = g_cov * ((inner < r).to(dist.dtype) - (outer < r).to(dist.dtype))
    g_r = (g_cov * ((inner >= r).to(dist.dtype) + (outer >= r).to(dist.dtype))).sum(1)

    grad_radius = torch.zeros_like(radius).index_add_(0, inst, g_r)
    grad_ink = torch.zeros_like(ink).index_add_(0, inst, g_ink)
    grad_vertices = torch.zeros_like(vertices)

    hit = torch.nonzero(g_dist.view(-1)).squeeze(1)
    if hit.numel():
        n_px = bins.grid.tile ** 2
        group = torch.div(hit, n_px, rounding_mode="floor")
        ox, oy = _pixel_offsets(bins.grid.tile, dist.dtype, dist.device)
        px = hit - group * n_px
        pixel = bins.group_origin.index_select(0, group) + torch.stack((ox[px], oy[px]), 1)
        first = pieces.start.index_select(0, winner.view(-1).index_select(0, hit))
        a = vertices.index_select(0, first)
        ab = vertices.index_select(0, first + 1) - a
        ap = pixel - a
        sq = (ab * ab).sum(1)
        t = torch.where(sq > 0, (ap * ab).sum(1) / sq.clamp_min(torch.finfo(sq.dtype).tiny), torch.zeros_like(sq)).clamp_(0, 1)
        normal = (ap - t.unsqueeze(1) * ab) / dist.view(-1).index_select(0, hit).clamp_min(torch.finfo(sq.dtype).tiny).unsqueeze(1)
        g = g_dist.view(-1).index_select(0, hit).unsqueeze(1) * normal
        grad_vertices.index_add_(0, first, g * (t - 1).unsqueeze(1))
        grad_vertices.index_add_(0, first + 1, g * (-t).unsqueeze(1))
    return grad_vertices, grad_radius, grad_ink
