"""Objectives: printable, composable values built from the plan's terms.

Every term is a *score* the optimiser maximises; an :class:`Objective` is a weighted sum of terms
and its loss is ``-(weighted sum)``. Terms read a :class:`Features` value: the rendered views
``[B, 3, h, w]`` and, per network, the activations of the modules the plan asked for. Nothing is
a lambda: each term is a frozen dataclass whose ``describe()`` prints the spec's own syntax.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from penspec.compiler.plan import ObjectivePlan, TermPlan
from penspec.spec.errors import Diagnostic, Location, MissingResourceError, SpecError


@dataclass(frozen=True)
class Features:
    """What the terms read: the views and ``{net name: {module path: activation}}``."""

    images: torch.Tensor  # [B, 3, h, w] in [0, 1]
    activations: Mapping[str, Mapping[str, torch.Tensor]]
    control_points: torch.Tensor | None = None  # [N, 4, 2] region px, for terms on the strokes' shape
    segment_stroke: torch.Tensor | None = None  # long [N]: the stroke of each segment

    def of(self, net: str, module: str) -> torch.Tensor:
        return self.activations[net][module]


def _fmt(value: float) -> str:
    return f"{value:g}"


def _site(term: Channel | Neuron | Layer | Diversity | Style) -> str:
    """``net:layer`` as the spec wrote it (the module path when it named no friendly layer)."""
    return f"{term.net}:{term.layer or term.module}"


# ---------------------------------------------------------------------------- terms


class PerView:
    """Mixin for terms scored view by view: the score is the mean of ``score_per_view``."""

    def score(self, f: Features) -> torch.Tensor:
        return self.score_per_view(f).mean()


@dataclass(frozen=True)
class Channel(PerView):
    """Mean activation of one channel over the map and the views."""

    net: str
    module: str
    channel: int
    layer: str = ""  # friendly name as written, for describe()

    def score_per_view(self, f: Features) -> torch.Tensor:
        return f.of(self.net, self.module)[:, self.channel].mean(dim=(-2, -1))

    def describe(self) -> str:
        return f"channel({_site(self)}, {self.channel})"


@dataclass(frozen=True)
class Neuron(PerView):
    """One unit of a channel at a fractional map position (default the centre)."""

    net: str
    module: str
    channel: int
    position: tuple[float, float] = (0.5, 0.5)
    layer: str = ""

    def score_per_view(self, f: Features) -> torch.Tensor:
        act = f.of(self.net, self.module)[:, self.channel]
        h, w = act.shape[-2:]
        x = min(int(self.position[0] * w), w - 1)
        y = min(int(self.position[1] * h), h - 1)
        return act[:, y, x]

    def describe(self) -> str:
        where = "" if self.position == (0.5, 0.5) else f", x={_fmt(self.position[0])}, y={_fmt(self.position[1])}"
        return f"neuron({_site(self)}, {self.channel}{where})"


@dataclass(frozen=True)
class Layer(PerView):
    """DeepDream: mean squared activation of the whole layer."""

    net: str
    module: str
    layer: str = ""

    def score_per_view(self, f: Features) -> torch.Tensor:
        return f.of(self.net, self.module).pow(2).mean(dim=(1, 2, 3))

    def describe(self) -> str:
        return f"layer({_site(self)})"


def gram(act: torch.Tensor) -> torch.Tensor:
    """Gram matrices ``[B, C, C]`` of activations ``[B, C, h, w]``, normalised by C*h*w."""
    b, c, h, w = act.shape
    flat = act.reshape(b, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


@dataclass(frozen=True)
class Diversity:
    """Negative mean pairwise cosine similarity of the views' Gram matrices (Lucid's diversity).

    Higher means the views (hence parts of the drawing) excite the layer differently. With a
    single view there is nothing to compare and the score is 0.
    """

    net: str
    module: str
    layer: str = ""

    def score(self, f: Features) -> torch.Tensor:
        g = gram(f.of(self.net, self.module)).flatten(1)
        b = g.shape[0]
        if b < 2:
            return g.sum() * 0.0
        g = torch.nn.functional.normalize(g, dim=1)
        sim = g @ g.T
        off_diagonal = sim.sum() - sim.diagonal().sum()
        return -off_diagonal / (b * (b - 1))

    def describe(self) -> str:
        return f"diversity({_site(self)})"


@dataclass(frozen=True)
class Style(PerView):
    """Negative squared Gram-matrix distance to a style image (higher = closer in style)."""

    net: str
    module: str
    image: str  # as written in the spec
    target: torch.Tensor = field(compare=False, repr=False)  # [C, C] Gram of the image
    layer: str = ""

    def score_per_view(self, f: Features) -> torch.Tensor:
        g = gram(f.of(self.net, self.module))
        return -(g - self.target.unsqueeze(0)).pow(2).mean(dim=(1, 2))

    def describe(self) -> str:
        return f'style({_site(self)}, "{self.image}")'


@dataclass(frozen=True)
class TotalVariation(PerView):
    """Total variation of the rendered views: sum of absolute neighbour differences per view,
    averaged over views (Lucid's convention, so ``1e-5 * tv`` balances a channel mean).
    It is a cost: the spec gives it a negative weight."""

    def score_per_view(self, f: Features) -> torch.Tensor:
        img = f.images
        dx = (img[..., :, 1:] - img[..., :, :-1]).abs().sum(dim=(1, 2, 3))
        dy = (img[..., 1:, :] - img[..., :-1, :]).abs().sum(dim=(1, 2, 3))
        return dx + dy

    def describe(self) -> str:
        return "tv"


CROWDING_CELL = 3.0  # px: the knot cell of bench/quality.py
CROWDING_FREE = 2.0  # strokes per cell before the cost starts
CROWDING_GAIN = 3.0  # presence of a stroke that crosses a whole cell: 1 - exp(-3) = 0.95


def bezier_samples(control_points: torch.Tensor, count: int) -> torch.Tensor:
    """``[N, count, 2]`` points of each cubic at ``t = (i + 0.5) / count`` (differentiable)."""
    t = (torch.arange(count, dtype=control_points.dtype, device=control_points.device) + 0.5) / count
    t = t.view(1, count, 1)
    p0, p1, p2, p3 = (control_points[:, i : i + 1] for i in range(4))
    u = 1 - t
    return u**3 * p0 + 3 * u * u * t * p1 + 3 * u * t * t * p2 + t**3 * p3


@dataclass(frozen=True)
class Crowding:
    """How many strokes pass through the same small place: knots of ink on paper.

    Each stroke's curve is splatted (bilinear, by its length) onto a grid of 3 px cells; a
    stroke's presence in a cell is ``1 - exp(-3 * length in it / cell)``, so one stroke counts at
    most once however it loops; a cell crossed by ``n`` strokes costs ``relu(n - 2)^2``. The
    score is the sum over cells divided by the stroke count. It reads the strokes, not the
    views, and is a cost: the spec gives it a negative weight (``- 0.1 * crowding``)."""

    def score(self, f: Features) -> torch.Tensor:
        cps, seg_stroke = f.control_points, f.segment_stroke
        if cps is None or seg_stroke is None or cps.shape[0] == 0:
            raise ValueError("crowding reads the strokes, but this evaluation passed none")
        cell = CROWDING_CELL
        with torch.no_grad():
            poly = (cps[:, 1:] - cps[:, :-1]).norm(dim=-1).sum(dim=-1)  # [N] control polygon length
            count = int(min(64, max(4, math.ceil(float(poly.max()) / (cell / 2)))))
        pts = bezier_samples(cps, count) / cell - 0.5  # [N, K, 2] in cell units, cell centres integral
        mass = (poly / (count * cell)).view(-1, 1).expand(-1, count)  # each sample's share of its length, in cells
        lo = torch.floor(pts.detach())
        frac = pts - lo
        lo = lo.long()
        hi_x = int(lo[..., 0].max()) + 2
        hi_y = int(lo[..., 1].max()) + 2
        min_x, min_y = int(lo[..., 0].min()), int(lo[..., 1].min())
        cols, rows = hi_x - min_x + 1, hi_y - min_y + 1
        stroke = seg_stroke.view(-1, 1).expand(-1, count)
        keys, weights = [], []
        for dx in (0, 1):
            for dy in (0, 1):
                wx = frac[..., 0] if dx else 1 - frac[..., 0]
                wy = frac[..., 1] if dy else 1 - frac[..., 1]
                cell_index = (lo[..., 1] + dy - min_y) * cols + (lo[..., 0] + dx - min_x)
                keys.append((stroke * (rows * cols) + cell_index).reshape(-1))
                weights.append((wx * wy * mass).reshape(-1))
        keys_all = torch.cat(keys)
        unique, inverse = torch.unique(keys_all, return_inverse=True)
        per_stroke_cell = torch.zeros(unique.shape[0], dtype=cps.dtype, device=cps.device).index_add(0, inverse, torch.cat(weights))
        presence = 1 - torch.exp(-CROWDING_GAIN * per_stroke_cell)
        crossings = torch.zeros(rows * cols, dtype=cps.dtype, device=cps.device).index_add(0, unique % (rows * cols), presence)
        strokes = int(seg_stroke.max()) + 1
        return torch.relu(crossings - CROWDING_FREE).pow(2).sum() / strokes

    def describe(self) -> str:
        return "crowding"


Term = Channel | Neuron | Layer | Diversity | Style | TotalVariation | Crowding


# ---------------------------------------------------------------------------- the sum


@dataclass(frozen=True)
class Objective:
    """A weighted sum of terms. ``score`` is maximised; ``loss = -score``."""

    terms: tuple[tuple[float, Term], ...]

    def term_scores(self, f: Features) -> list[torch.Tensor]:
        return [term.score(f) for _, term in self.terms]

    def score(self, f: Features) -> torch.Tensor:
        return self.score_and_terms(f)[0]

    def score_and_terms(self, f: Features) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The weighted sum and each term's own (unweighted) score, from one pass over the terms."""
        scores = self.term_scores(f)
        total = None
        for (weight, _), value in zip(self.terms, scores):
            total = weight * value if total is None else total + weight * value
        return total, scores

    def loss(self, f: Features) -> torch.Tensor:
        return -self.score(f)

    def describe(self) -> str:
        parts: list[str] = []
        for weight, term in self.terms:
            sign = "-" if weight < 0 else "+"
            mag = abs(weight)
            text = term.describe() if mag == 1 else f"{_fmt(mag)} * {term.describe()}"
            if not parts:
                parts.append(text if sign == "+" else f"-{text}")
            else:
                parts.append(f"{sign} {text}")
        return " ".join(parts)

    def __add__(self, other: Objective) -> Objective:
        return Objective(self.terms + other.terms)

    def __mul__(self, factor: float) -> Objective:
        return Objective(tuple((w * factor, t) for w, t in self.terms))

    __rmul__ = __mul__

    def __neg__(self) -> Objective:
        return self * -1.0

    def __sub__(self, other: Objective) -> Objective:
        return self + (-other)


# ---------------------------------------------------------------------------- building


def resolve_image(image: str, base_dir: str | os.PathLike, *, origin: Location | None = None) -> Path:
    """A style image path: relative paths resolve inside the spec's folder and may not leave
    it; absolute paths are taken as they are."""
    raw = Path(image)
    if raw.is_absolute():
        path = raw
    else:
        base = Path(base_dir).resolve()
        path = (base / raw).resolve()
        if not path.is_relative_to(base):
            raise SpecError(
                Diagnostic(origin or Location("<spec>"), "$.objective",
                           f"style image {image!r} resolves outside the spec's folder {base}; use a path inside it or an absolute path")
            )
    if not path.is_file():
        where = f"{origin}: " if origin else ""
        raise MissingResourceError(f"{where}style image {image!r} not found (looked for {path})")
    return path


def load_image(path: Path, size: int) -> torch.Tensor:
    """An RGB image as ``[1, 3, size, size]`` in [0, 1] (resized, aspect not kept)."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as img:
        rgb = img.convert("RGB").resize((size, size), Image.Resampling.BICUBIC)
        arr = np.asarray(rgb, dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0).contiguous()


def make_term(
    term: TermPlan,
    *,
    nets: Mapping[str, torch.nn.Module] | None = None,
    base_dir: str | os.PathLike = ".",
    crop: int = 224,
    origin: Location | None = None,
) -> Term:
    """One term from its plan. Style needs ``nets`` to compute the image's Gram matrix once."""
    layer = term.layer or ""
    if term.kind == "channel":
        return Channel(term.net, term.module, int(term.channel), layer)
    if term.kind == "neuron":
        pos = tuple(term.position) if term.position is not None else (0.5, 0.5)
        return Neuron(term.net, term.module, int(term.channel), pos, layer)
    if term.kind == "layer":
        return Layer(term.net, term.module, layer)
    if term.kind == "diversity":
        return Diversity(term.net, term.module, layer)
    if term.kind == "tv":
        return TotalVariation()
    if term.kind == "crowding":
        return Crowding()
    if term.kind == "style":
        if nets is None or term.net not in nets:
            raise ValueError(f"style term {term.text!r} needs its network {term.net!r} loaded")
        path = resolve_image(term.image, base_dir, origin=origin)
        net = nets[term.net]
        device = next((b.device for b in net.buffers()), torch.device("cpu"))
        with torch.no_grad():
            act = net(load_image(path, crop).to(device))[term.module]
            target = gram(act)[0].detach()
        return Style(term.net, term.module, term.image, target, layer)
    raise ValueError(f"the plan has an objective term of kind {term.kind!r}, which the runtime does not have")


def build_objective(
    plan: ObjectivePlan,
    *,
    nets: Mapping[str, torch.nn.Module] | None = None,
    base_dir: str | os.PathLike = ".",
    crop: int = 224,
    origins: Sequence[Location | None] | None = None,
) -> Objective:
    """The plan's objective as a weighted sum of terms."""
    origins = list(origins or [])
    terms = []
    for i, t in enumerate(plan.terms):
        origin = origins[i] if i < len(origins) else None
        terms.append((float(t.weight), make_term(t, nets=nets, base_dir=base_dir, crop=crop, origin=origin)))
    return Objective(tuple(terms))
