"""The execution plan: everything a build needs, resolved, as frozen dataclasses.

The plan is the only thing the runtime and the emitters read. It prints as JSON and
round-trips: ``Plan.from_json(plan.to_json()) == plan``. It carries no absolute paths,
dates or versions, so a plan can be kept as a golden file next to its spec.

Units: millimetres for paper things, canvas px for optimisation things, seconds for times.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from penspec.spec.model import Size

PLAN_VERSION = 3  # 3: one record per stage kind, tagged by "kind"


@dataclass(frozen=True)
class PaperPlan:
    name: str
    width_mm: float
    height_mm: float
    landscape: bool
    margin_mm: float
    color: str
    rgb: tuple[float, float, float]


@dataclass(frozen=True)
class CanvasPlan:
    """The final optimisation grid and its place on the paper.

    The canvas is scaled uniformly to fit the drawing area (paper minus margins) and centred in
    it: paper_mm = origin_mm + canvas_px * mm_per_px.
    """

    width_px: int
    height_px: int
    mm_per_px: float
    origin_mm: tuple[float, float]  # paper position of canvas px (0, 0)


@dataclass(frozen=True)
class PenPlan:
    id: str
    index: int  # 0-based, order of the spec
    layer: int  # AxiDraw layer number, 1-based
    color: str
    rgb: tuple[float, float, float]
    opacity: float
    width_mm: float
    width_px: float  # nib width in canvas px: what the renderer draws
    speed_pendown: int
    speed_penup: int
    pen_pos_down: int
    pen_pos_up: int
    delay_ms: int
    max_draw_length_mm: float | None  # pen setting, else plot default, else None
    strokes: int  # initial strokes of this pen at the first stage (0 when pens are learned)


@dataclass(frozen=True)
class StrokesPlan:
    count: int  # strokes at the first stage
    segments: tuple[int, int]
    extent: float
    learn_pens: bool
    shares: tuple[float, ...]  # per pen, in pen order, sums to 1


@dataclass(frozen=True)
class NetPlan:
    name: str  # registry name: vgg16, resnet18, efficientnet_lite0, ...
    weights: str  # imagenet | random | path relative to the spec folder (or absolute)
    leaky_relu: float | None
    modules: tuple[str, ...]  # module paths the objective reads, e.g. ("features.14",)
    deepest: str  # the net is truncated after this module
    precision: str = "auto"  # auto | fp32 | bf16 | fp16 as asked; the runtime resolves it per device


@dataclass(frozen=True)
class TermPlan:
    kind: str  # channel | neuron | layer | diversity | style | tv | crowding
    weight: float
    text: str  # as written in the expression
    net: str | None = None
    layer: str | None = None  # friendly name as written
    module: str | None = None  # resolved module path
    channels: int | None = None  # channel count of that layer
    channel: int | None = None
    position: tuple[float, float] | None = None  # neuron (x, y) fractions
    image: str | None = None  # style image, relative to the spec folder (or absolute)


@dataclass(frozen=True)
class ObjectivePlan:
    expression: str
    terms: tuple[TermPlan, ...]
    nets: tuple[NetPlan, ...]


@dataclass(frozen=True)
class AugmentPlan:
    crop: int
    rotate_deg: float
    translate: float
    scale: tuple[float, float]
    perspective: float
    jitter_px: int


BOOKKEEPING = {"fingerprint": False}  # field metadata: where a stage is, not what it does (not hashed)


@dataclass(frozen=True, kw_only=True)
class StagePlan:
    """What every kind of stage has. Each kind is a subclass tagged by ``kind``; a stage's
    fingerprint hashes every field of its class except the ones marked :data:`BOOKKEEPING`."""

    index: int = field(metadata=BOOKKEEPING)
    kind: str = field(init=False, default="")
    name: str = field(metadata=BOOKKEEPING)  # "1-tile"
    size: Size  # the region the stage works on (tile or canvas), px
    strokes: int  # strokes present after this stage
    line: int = field(default=0, metadata=BOOKKEEPING)  # spec line the stage came from
    # chained hash of the drawing this stage's result depends on (not the look)
    fingerprint: str = field(default="", metadata=BOOKKEEPING)


@dataclass(frozen=True, kw_only=True)
class NetStagePlan(StagePlan):
    """A stage that moves the strokes through the nets: ``steps`` Adam steps at ``lr``, each on
    ``views`` augmented views of the region."""

    steps: int
    lr: float
    views: int

    def describe(self) -> str:
        return f"{self.steps} steps, lr {self.lr:g}, {self.views} views"


@dataclass(frozen=True, kw_only=True)
class OptimizePlan(NetStagePlan):
    kind: Literal["optimize"] = field(init=False, default="optimize")


@dataclass(frozen=True, kw_only=True)
class TilePlan(StagePlan):
    kind: Literal["tile"] = field(init=False, default="tile")
    repeat: tuple[int, int]  # (columns, rows)

    def describe(self) -> str:
        return f"repeat {self.repeat[0]}x{self.repeat[1]}"


@dataclass(frozen=True, kw_only=True)
class FinetunePlan(NetStagePlan):
    kind: Literal["finetune"] = field(init=False, default="finetune")


@dataclass(frozen=True, kw_only=True)
class AssignPensPlan(NetStagePlan):
    kind: Literal["assign_pens"] = field(init=False, default="assign_pens")
    temperature: tuple[float, float]  # softmax temperature, start -> end (annealed)


AnyStagePlan = OptimizePlan | TilePlan | FinetunePlan | AssignPensPlan


@dataclass(frozen=True)
class PlotPlan:
    model: int
    model_name: str
    travel_mm: tuple[float, float]  # the model's travel limits (x, y)
    optimize: bool
    pipeline: str
    pause_between_pens: bool
    penup_layer: bool
    accel: int


@dataclass(frozen=True)
class PenEstimate:
    pen: str
    strokes: int
    ink_mm: float  # pen-down length estimate
    travel_mm: float  # pen-up length estimate
    lifts: int
    time_s: float


@dataclass(frozen=True)
class StageCost:
    """One net stage's memory at its peak (a step's forward and backward) and its work per step.

    Bytes are the growth over a process that has imported torch and loaded the nets (the nets'
    weights are not counted). See :mod:`penspec.compiler.estimate` for the model."""

    stage: str  # the stage's name, "0-optimize"
    peak_bytes: int  # the sum of the four parts below
    renderer_bytes: int  # the rasteriser's kept inked pixels, binned pieces and chunk temporaries
    images_bytes: int  # the views' images and their copies up to the nets' input
    nets_bytes: int  # the nets' activations kept for backward, at the plan's precision (auto: fp32)
    optimizer_bytes: int  # the strokes' parameters, gradients and Adam's two moments
    pixels: int  # work per step: view pixels through the nets (views x crop^2)
    inked: int  # work per step: (stroke, pixel) pairs the renderer shades


@dataclass(frozen=True)
class Estimates:
    pens: tuple[PenEstimate, ...]
    ink_mm: float
    time_s: float
    steps: int  # optimisation steps in all stages
    stages: tuple[StageCost, ...] = ()  # per net stage, in stage order
    peak_bytes: int = 0  # the largest stage's peak_bytes


@dataclass(frozen=True)
class TestPlan:
    steps: int
    views: int
    crop: int
    weights: str | None


@dataclass(frozen=True)
class Plan:
    version: int
    title: str
    seed: int
    source: str  # the spec's file name (no folders: goldens must not hold paths)
    spec_sha256: str
    look_sha256: str  # how the renderer inks the strokes (pens' px widths, colours, opacity; paper colour)
    paper: PaperPlan
    canvas: CanvasPlan
    pens: tuple[PenPlan, ...]
    strokes: StrokesPlan
    objective: ObjectivePlan
    augment: AugmentPlan
    stages: tuple[AnyStagePlan, ...]
    plot: PlotPlan
    output_dir: str | None
    snapshot_every: int
    checkpoint_every: int
    preview_dpi: int
    test: TestPlan
    estimates: Estimates

    def to_dict(self) -> dict[str, Any]:
        return _to_jsonable(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        return _from_jsonable(cls, data)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        return cls.from_dict(json.loads(text))

    def pen(self, pen_id: str) -> PenPlan:
        for pen in self.pens:
            if pen.id == pen_id:
                return pen
        raise KeyError(pen_id)


def _to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [_to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_jsonable(v) for k, v in value.items()}
    return value


def _from_jsonable(tp: Any, data: Any) -> Any:
    """Rebuild a value of type ``tp`` (a dataclass or typing annotation) from JSON data."""
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        fields = [f for f in dataclasses.fields(tp) if f.init and f.name in data]
        return tp(**{f.name: _from_jsonable(hints[f.name], data[f.name]) for f in fields})
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if data is None:
            return None
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            return _from_jsonable(options[0], data)
        return _from_jsonable(_tagged(options, data), data)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_from_jsonable(args[0], v) for v in data)
        return tuple(_from_jsonable(a, v) for a, v in zip(args, data, strict=True))
    if origin is dict:
        return {k: _from_jsonable(args[1], v) for k, v in data.items()}
    if isinstance(tp, type) and issubclass(tp, tuple) and hasattr(tp, "_fields"):  # a NamedTuple such as Size
        hints = typing.get_type_hints(tp)
        return tp(*(_from_jsonable(hints[name], v) for name, v in zip(tp._fields, data, strict=True)))
    if tp is float and isinstance(data, int):
        return float(data)
    return data


def _tagged(options: list[type], data: Any) -> type:
    """The dataclass among ``options`` whose ``kind`` is the one ``data`` is tagged with."""
    kinds = {option.kind: option for option in options}
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind not in kinds:
        raise ValueError(f"unknown kind {kind!r}; known: {', '.join(kinds)}")
    return kinds[kind]
