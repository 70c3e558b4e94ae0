"""Tile binning: which polyline pieces can touch which tiles, grouped per (stroke, tile).

Views are rendered side by side: tile ``v * tiles_per_view + ty * tiles_x + tx`` of the
``[views, tiles_y, tiles_x]`` grid. A piece is paired with every tile of its bounding box
(grown by the support radius ``r + sqrt(1/2)``) that also passes a separating-axis test against the
piece's own direction, so no pixel is ever compared with a piece that cannot cover it.

Pairs sharing a (stroke instance, tile) form a group: the pixels of a group take the smallest
distance over its pieces, so a stroke never darkens itself where its pieces meet. Groups are
ordered by size bucket and each bucket is a dense [groups, slots] table of piece ids (unused
slots point to a sentinel piece far away), which turns the per-group minimum into a short loop
over slots. Everything here runs without gradient and uses int64 keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

# slot counts of the buckets; groups with more pieces than the last share one open bucket
BUCKET_SLOTS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)


@dataclass(frozen=True)
class Grid:
    """The pixel grids the views are rendered into, cut into square tiles."""

    views: int
    height: int
    width: int
    tile: int

    @property
    def tiles_x(self) -> int:
        return -(-self.width // self.tile)

    @property
    def tiles_y(self) -> int:
        return -(-self.height // self.tile)

    @property
    def tiles_per_view(self) -> int:
        return self.tiles_x * self.tiles_y

    @property
    def tiles(self) -> int:
        return self.views * self.tiles_per_view


@dataclass(frozen=True)
class Bucket:
    """Groups ``rows`` (a slice of the group order) of at most ``slots`` pieces each."""

    rows: slice
    slots: int
    pieces: Tensor  # long [groups, slots], piece ids, the sentinel id where a group has fewer


@dataclass(frozen=True)
class Bins:
    """Groups of (stroke instance, tile) with their pieces, ordered by bucket; counts for tests."""

    grid: Grid
    group_instance: Tensor  # long [G]: (view, stroke) instance of each group
    group_tile: Tensor  # long [G]: global tile index
    group_origin: Tensor  # float [G, 2]: pixel coordinates of the tile's top-left corner
    buckets: tuple[Bucket, ...]
    pieces: int
    pairs: int

    @property
    def groups(self) -> int:
        return int(self.group_tile.shape[0])


def _bucket_of(device: torch.device) -> Tensor:
    """Bucket index by piece count, for counts 0 .. BUCKET_SLOTS[-1] + 1 (the open bucket)."""
    counts = torch.arange(BUCKET_SLOTS[-1] + 2, device=device)
    return torch.searchsorted(torch.tensor(BUCKET_SLOTS, device=device), counts)


def bin_pieces(a: Tensor, b: Tensor, support: Tensor, piece_instance: Tensor, strokes: int, grid: Grid) -> Bins:
    """Pair pieces ``a -> b`` ([M, 2] view px, detached) with the tiles they may cover.

    ``support`` [M] is the distance beyond which a piece leaves no ink (radius + REACH);
    instance ``i`` belongs to view ``i // strokes``.
    """
    device = a.device
    size = grid.tile
    n_pieces = a.shape[0]
    limit = torch.tensor([grid.width, grid.height], device=device, dtype=a.dtype)
    grow = support.unsqueeze(1)
    # pixel i (centre i + 1/2) can be covered when lo <= i <= hi
    lo = (torch.minimum(a, b) - grow - 0.5).ceil_().clamp_(min=torch.zeros_like(limit), max=limit)
    hi = (torch.maximum(a, b) + grow - 0.5).floor_().clamp_(min=-torch.ones_like(limit), max=limit - 1)
    first = torch.div(lo.long(), size, rounding_mode="floor")
    last = torch.div(hi.long(), size, rounding_mode="floor")
    span = (last - first + 1).clamp_(min=0)
    per_piece = span[:, 0] * span[:, 1]
    n_pairs = int(per_piece.sum())
    pair_piece = torch.repeat_interleave(torch.arange(n_pieces, device=device), per_piece, output_size=n_pairs)

    # separating axes of the piece (its direction and normal) against the tile's pixel centres
    ab = b - a
    length = torch.linalg.vector_norm(ab, dim=1)
    unit = ab / length.clamp_min(torch.finfo(a.dtype).tiny).unsqueeze(1)
    reach = support + 0.5 * (size - 1) * unit.abs().sum(1)
    # per pair, gathered at once: the piece's first tile, span, a, direction, length, reach
    per = torch.cat((first.T.to(a.dtype), span[:, :1].T.to(a.dtype), a.T, unit.T, length.unsqueeze(0), reach.unsqueeze(0)))
    per = per.index_select(1, pair_piece)
    k = torch.arange(n_pairs, device=device) - (torch.cumsum(per_piece, 0) - per_piece).index_select(0, pair_piece)
    k = k.to(a.dtype)  # the pair's index within its piece: small, exact
    down = torch.floor(k / per[2])  # tiles are enumerated row by row over the piece's span
    tx, ty = per[0] + (k - down * per[2]), per[1] + down
    rel_x = tx * size + (0.5 * size) - per[3]
    rel_y = ty * size + (0.5 * size) - per[4]
    along = rel_x * per[5] + rel_y * per[6]
    across = rel_y * per[5] - rel_x * per[6]
    keep = (across.abs() <= per[8]) & (along >= -per[8]) & (along <= per[7] + per[8])
    keep = torch.nonzero(keep).squeeze(1)
    pair_piece = pair_piece.index_select(0, keep)
    local = (ty.index_select(0, keep) * grid.tiles_x + tx.index_select(0, keep)).long()
    n_pairs = int(pair_piece.shape[0])

    # group pairs by (instance, tile); a stable sort keeps each group's pieces in stroke order
    key = piece_instance.index_select(0, pair_piece) * grid.tiles_per_view + local
    if n_pairs and int(key.max()) < 2**31:
        key = key.int()  # sorts faster
    key, order = torch.sort(key, stable=True)
    sorted_piece = pair_piece.index_select(0, order)
    group_key, counts = torch.unique_consecutive(key.long(), return_counts=True)
    starts = torch.cumsum(counts, 0) - counts

    bucket = _bucket_of(device)[counts.clamp(max=BUCKET_SLOTS[-1] + 1)]
    bucket, group_order = torch.sort(bucket, stable=True)
    group_key, counts, starts = group_key[group_order], counts[group_order], starts[group_order]
    _, sizes = torch.unique_consecutive(bucket, return_counts=True)

    sentinel = n_pieces
    padded = torch.cat((sorted_piece, sorted_piece.new_full((1,), sentinel)))
    buckets = []
    done = 0
    for n_groups in sizes.tolist():
        rows = slice(done, done + n_groups)
        done += n_groups
        width = int(counts[rows].max())  # at most the bucket's size
        slot = torch.arange(width, device=device)
        index = starts[rows].unsqueeze(1) + slot
        index = torch.where(slot < counts[rows].unsqueeze(1), index, n_pairs)
        buckets.append(Bucket(rows, width, padded[index]))

    instance = torch.div(group_key, grid.tiles_per_view, rounding_mode="floor")
    local = group_key - instance * grid.tiles_per_view
    view = torch.div(instance, strokes, rounding_mode="floor")
    tile_y = torch.div(local, grid.tiles_x, rounding_mode="floor")
    origin = torch.stack((local - tile_y * grid.tiles_x, tile_y), 1).to(a.dtype) * size
    return Bins(
        grid=grid,
        group_instance=instance,
        group_tile=view * grid.tiles_per_view + local,
        group_origin=origin,
        buckets=tuple(buckets),
        pieces=n_pieces,
        pairs=n_pairs,
    )
