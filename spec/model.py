"""The loaded spec: frozen dataclasses with every unit resolved.

After :func:`penspec.spec.load` nothing looks at YAML again. Lengths are millimetres, angles
degrees, colours ``#rrggbb`` strings plus RGB floats in [0, 1]. Every value also keeps where it
came from (``Spec.locations``: JSON path -> :class:`Location`) so later stages can point at the
spec line that caused a problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from .errors import Location

RGB = tuple[float, float, float]


class Size(NamedTuple):
    """A size in px, width first, wherever penspec passes one: the canvas, a stage's region, a
    scene, the renderer's canvas. Code reads ``size.width`` / ``size.height``, never guesses."""

    width: int
    height: int


@dataclass(frozen=True)
class Paper:
    name: str  # as written: "a3", "297x210mm"
    width_mm: float  # after orientation
    height_mm: float
    landscape: bool
    margin_mm: float
    color: str  # "#rrggbb"
    rgb: RGB


@dataclass(frozen=True)
class Pen:
    id: str
    color: str  # "#rrggbb"
    rgb: RGB
    width_mm: float
    opacity: float
    speed_pendown: int  # AxiDraw %, 1-110
    speed_penup: int  # AxiDraw %, 1-110
    pen_pos_down: int  # AxiDraw height %, 0-100
    pen_pos_up: int
    delay_ms: int
    max_draw_length_mm: float | None


@dataclass(frozen=True)
class Strokes:
    count: int
    segments: tuple[int, int]  # min, max cubic segments per stroke
    extent: float  # initial stroke size as a fraction of the canvas
    pens: Literal["learn"] | tuple[tuple[str, float], ...]  # share per pen id, or learn
    crowding: float  # weight of the knot cost the compiler adds to the objective (0: none)


@dataclass(frozen=True)
class Network:
    weights: str  # "imagenet" | "random" | a file path (relative to the spec's folder)
    leaky_relu: float | None  # replace ReLU by LeakyReLU(slope); None keeps ReLU
    precision: str = "auto"  # auto | fp32 | bf16 | fp16: how the nets compute (runtime resolves auto)


@dataclass(frozen=True)
class Term:
    """One weighted term of the objective expression, as written (layers not yet resolved)."""

    kind: Literal["channel", "neuron", "layer", "diversity", "style", "tv", "crowding"]
    weight: float
    text: str  # the term's source text, e.g. "channel(vgg16:conv3_3, 37)"
    column: int  # 1-based column of the term inside the expression string
    net: str | None = None
    layer: str | None = None
    channel: int | None = None
    position: tuple[float, float] | None = None  # neuron: (x, y) as fractions of the map, default centre
    image: str | None = None  # style: image path as written


@dataclass(frozen=True)
class Objective:
    expression: str
    terms: tuple[Term, ...]


@dataclass(frozen=True)
class Augment:
    views: int  # augmented views per step
    crop: int  # px, the CNN input size of each view
    rotate_deg: float  # max |rotation|
    translate: float  # max shift as a fraction of the crop
    scale: tuple[float, float]  # min, max zoom
    perspective: float  # 0..1 distortion strength
    jitter_px: int  # max pixel shift (Lucid's jitter)


@dataclass(frozen=True)
class OptimizeStage:
    size: Size | None  # px of the tile optimised here; None = the canvas
    steps: int
    lr: float
    views: int | None  # None = augment.views
    kind: Literal["optimize"] = "optimize"


@dataclass(frozen=True)
class TileStage:
    repeat: tuple[int, int]  # (columns, rows)
    kind: Literal["tile"] = "tile"


@dataclass(frozen=True)
class FinetuneStage:
    steps: int
    lr: float
    views: int | None  # None = the tile count x 1.5 rounded, at least augment.views
    kind: Literal["finetune"] = "finetune"


@dataclass(frozen=True)
class AssignPensStage:
    steps: int
    lr: float
    temperature: tuple[float, float]  # softmax temperature, start -> end (annealed)
    kind: Literal["assign_pens"] = "assign_pens"


Stage = OptimizeStage | TileStage | FinetuneStage | AssignPensStage


@dataclass(frozen=True)
class Plot:
    model: int  # AxiDraw model 1-7
    optimize: bool  # travel optimisation with vpype
    pipeline: str  # vpype commands used when optimize is true
    pause_between_pens: bool
    max_draw_length_mm: float | None  # default for pens that set none
    penup_layer: bool  # write a "% pen up trajectories" layer
    accel: int  # AxiDraw acceleration %, 1-100


@dataclass(frozen=True)
class Output:
    dir: str | None  # None = build/<spec stem>
    snapshot_every: int  # steps between PNG snapshots (0 = none)
    checkpoint_every: int  # steps between checkpoints
    preview_dpi: int


@dataclass(frozen=True)
class TestSettings:
    """The `test:` section: a smoke build for `penspec test --render`."""

    steps: int
    views: int
    crop: int
    weights: str | None  # overrides network.weights in smoke builds (e.g. "random")


@dataclass(frozen=True)
class Spec:
    version: int
    title: str
    seed: int
    paper: Paper
    canvas: Size  # px of the final optimisation grid
    pens: tuple[Pen, ...]
    strokes: Strokes
    network: Network
    objective: Objective
    augment: Augment
    stages: tuple[Stage, ...]
    plot: Plot
    output: Output
    test: TestSettings
    source: str  # the spec file as given (for messages)
    base_dir: str  # folder that relative paths (style images, weights) resolve against
    # (name, value); already substituted into the objective, so not hashed again: a spec with
    # variables hashes (and plans) like the spec written out
    vars: tuple[tuple[str, int | float | str], ...] = field(default=(), compare=False)
    # what `penspec sweep` varies (penspec.spec.sweep.Axis values); not part of the piece, so not hashed
    sweep: tuple = field(default=(), compare=False, repr=False)
    locations: dict[str, Location] = field(default_factory=dict, compare=False, repr=False)
    # the location of each character of objective.expression, plus one past its end
    # (see penspec.spec.expression_location)
    expression_locations: tuple[Location, ...] = field(default=(), compare=False, repr=False)

    def where(self, path: str) -> Location | None:
        """The location of a JSON path like ``$.stages[1].tile``; falls back to its parents."""
        while path:
            if path in self.locations:
                return self.locations[path]
            cut = max(path.rfind("."), path.rfind("["))
            if cut <= 0:
                break
            path = path[:cut]
        return self.locations.get("$")
