"""What each kind of stage does to the strokes, one step at a time.

``optimize`` and ``finetune`` move control points with Adam (lr halved at 50 % and 75 % of the
steps, as the seed did) through the bounded map of :func:`~penspec.runtime.strokes.to_canvas`,
so points stay inside the stage's region without piling up on its border; ``tile`` copies the
strokes over a grid; ``assign_pens`` learns one logit per (stroke, pen), drawn as soft virtual
pens under an annealed softmax temperature, and ends with the argmax so every stroke is a real
pen again.

A :class:`StageRun` owns one stage's optimiser and exposes ``step(k)``, ``state_dict()`` and
``load_state_dict()``; the runner drives the loop, saves checkpoints and shows progress. Each
step's views come from ``(seed, stage index, step)``, so a resumed run draws exactly the views an
uninterrupted one would.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from penspec.compiler.plan import AssignPensPlan, NetStagePlan, Plan, TilePlan
from penspec.runtime.augment import TRAIN, sample_views, view_homographies
from penspec.runtime.draw import Look, pen_look, render_views, soft_look
from penspec.runtime.objectives import Features, Objective
from penspec.runtime.precision import FP32, Numerics
from penspec.runtime.strokes import (
    Strokes,
    init_strokes,
    tile_strokes,
    to_canvas,
    to_free,
)
from penspec.spec.model import Size

MAX_SKIPPED = 16  # fp16 steps in a row the loss scaler may skip before the stage fails
POINT_PARAM = "tanh"  # what a checkpoint's "param" holds for a point stage: to_free() of the points


@dataclass(frozen=True)
class Engine:
    """Everything a step needs besides the strokes: plan, nets, objective, device, renderer and
    the nets' numerics (precision, memory format: runtime/precision.py).

    ``load`` gives the nets and the objective; it is called on first use, so a build that
    reuses every stage never loads a net. :meth:`loaded` wraps nets already in hand.
    """

    plan: Plan
    device: torch.device
    load: Callable[[], tuple[Mapping[str, torch.nn.Module], Objective]]
    backend: str = "torch"
    numerics: Numerics = FP32

    @classmethod
    def loaded(cls, plan: Plan, nets: Mapping[str, torch.nn.Module], objective: Objective, device: torch.device,
               backend: str = "torch", numerics: Numerics = FP32) -> Engine:
        return cls(plan, device, lambda: (nets, objective), backend, numerics)

    @functools.cached_property
    def _nets_and_objective(self) -> tuple[Mapping[str, torch.nn.Module], Objective]:
        return self.load()

    @property
    def nets(self) -> Mapping[str, torch.nn.Module]:
        return self._nets_and_objective[0]

    @property
    def objective(self) -> Objective:
        return self._nets_and_objective[1]

    def features(self, images: torch.Tensor, strokes: Strokes | None = None, points: torch.Tensor | None = None) -> Features:
        """The nets' activations of ``images``: computed in the engine's precision, handed to the
        objective in fp32 (its reductions stay fp32). With ``strokes`` (and their current
        ``points``) also the control points that terms on the strokes' shape read."""
        numerics = self.numerics
        with numerics.autocast(self.device.type):
            acts = {name: net(numerics.net_input(name, images)) for name, net in self.nets.items()}
        acts = {name: {m: a.float() for m, a in act.items()} for name, act in acts.items()}
        if strokes is None:
            return Features(images, acts)
        return Features(images, acts, strokes.control_points(points), strokes.segment_stroke)

    def homographies(self, purpose: int, stage: int, step: int, views: int, region: Size):
        params = sample_views(self.plan.seed, purpose, stage, step, views, self.plan.augment, region)
        return view_homographies(params, self.plan.augment.crop)

    def view_images(self, strokes: Strokes, points: torch.Tensor, look: Look, homographies) -> torch.Tensor:
        return render_views(strokes, points, look, homographies, self.plan.augment.crop, backend=self.backend)


def lr_at(stage: NetStagePlan, step: int) -> float:
    """The seed's schedule: the stage's lr, halved at 50 % and again at 75 % of its steps."""
    lr = stage.lr
    if step >= stage.steps // 2:
        lr *= 0.5
    if step >= (3 * stage.steps) // 4:
        lr *= 0.5
    return lr


def temperature_at(stage: AssignPensPlan, step: int) -> float:
    """Geometric annealing from the first to the last temperature over the stage's steps."""
    start, end = stage.temperature
    if stage.steps <= 1:
        return end
    return start * (end / start) ** (step / (stage.steps - 1))


def initial_region(plan: Plan) -> Size:
    """The region the first strokes are drawn in: the first stage's, before any tiling."""
    first = plan.stages[0]
    if isinstance(first, TilePlan):
        return Size(first.size.width // first.repeat[0], first.size.height // first.repeat[1])
    return first.size


def initial_strokes(plan: Plan, device: torch.device | str = "cpu") -> Strokes:
    return init_strokes(plan, initial_region(plan)).to(device)


def apply_tile(stage: TilePlan, strokes: Strokes) -> Strokes:
    return tile_strokes(strokes, stage.repeat)


class StageRun:
    """One optimising stage in progress: its parameter, its Adam and the step it is at.

    ``param`` is what Adam moves: for ``optimize``/``finetune`` the free parameter of the points
    (:func:`to_free`; :meth:`points` maps it to canvas px), for ``assign_pens`` the pen logits
    (the points stay fixed)."""

    def __init__(self, engine: Engine, stage: NetStagePlan, strokes: Strokes):
        if not isinstance(stage, NetStagePlan):
            raise ValueError(f"stage {stage.name} does not optimise")
        if stage.size != strokes.region:
            raise ValueError(f"stage {stage.name} works on {stage.size.width}x{stage.size.height} px but the strokes cover "
                             f"{strokes.region.width}x{strokes.region.height} px")
        self.engine = engine
        self.stage = stage
        self.strokes = strokes
        self.next_step = 0
        self.learn_pens = isinstance(stage, AssignPensPlan)
        self.fixed_points = strokes.points.detach().clone()
        if self.learn_pens:
            pens = len(engine.plan.pens)
            self.param = torch.zeros(strokes.stroke_count, pens, device=strokes.points.device, requires_grad=True)
        else:
            self.param = to_free(strokes.points, strokes.region).requires_grad_(True)
        self.optimizer = torch.optim.Adam([self.param], lr=stage.lr)
        # fp16's narrow range needs loss scaling: a step whose scaled gradient overflows is
        # skipped and the scale halves (see docs/precision.md)
        self.numerics = getattr(engine, "numerics", FP32)
        self.scaler = torch.amp.GradScaler(engine.device.type) if self.numerics.precision == "fp16" else None
        self.skipped: list[int] = []  # fp16 steps skipped for a non-finite gradient
        # per step: the objective's score, then each term's score, as the step computed them
        self.history: list[list[float]] = []
        self.history_from = 0  # the step history[0] belongs to (later than 0 after resuming an older checkpoint)

    def points(self) -> torch.Tensor:
        """Canvas px of the control points now (differentiable in ``param`` for a point stage)."""
        if self.learn_pens:
            return self.fixed_points
        return to_canvas(self.param, self.strokes.region)

    def look(self, step: int | None = None) -> Look:
        """The pens as drawn at ``step`` (learned pens: soft mixture at that temperature)."""
        if not self.learn_pens:
            return pen_look(self.engine.plan, self.strokes)
        t = temperature_at(self.stage, self.next_step if step is None else step)
        return soft_look(self.engine.plan, torch.softmax(self.param / t, dim=1))

    def step(self) -> float:
        """Run step ``next_step``: draw its views, render, forward, backward, Adam."""
        k = self.next_step
        stage = self.stage
        for group in self.optimizer.param_groups:
            group["lr"] = stage.lr if self.learn_pens else lr_at(stage, k)
        h = self.engine.homographies(TRAIN, stage.index, k, stage.views, self.strokes.region)
        self.optimizer.zero_grad(set_to_none=True)
        points = self.points()
        images = self.engine.view_images(self.strokes, points, self.look(k), h)
        score, terms = self.engine.objective.score_and_terms(self.engine.features(images, self.strokes, points))
        loss = -score
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss became {float(loss)} at step {k}{self._under()}")
        if self.scaler is None:
            loss.backward()
            if not torch.isfinite(self.param.grad).all():
                raise FloatingPointError(f"the gradient reaching the strokes is not finite at step {k}{self._under()}")
            self.optimizer.step()
        else:
            self._scaled_step(loss, k)
        self.history.append(torch.stack([v.detach().float().reshape(()) for v in (score, *terms)]).tolist())
        self.next_step = k + 1
        return float(loss.detach())

    def _under(self) -> str:
        precision = self.numerics.precision
        return "" if precision == "fp32" else f" (nets in {precision}; --precision fp32 runs them in full precision)"

    def _scaled_step(self, loss: torch.Tensor, k: int) -> None:
        """fp16: backward through the scaled loss; the scaler skips a step whose gradient is not
        finite. More than MAX_SKIPPED skipped steps in a row is an error naming the step."""
        scale = self.scaler.get_scale()
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.scaler.get_scale() < scale:
            self.skipped.append(k)
            streak = 0
            while streak < len(self.skipped) and self.skipped[-1 - streak] == k - streak:
                streak += 1
            if streak > MAX_SKIPPED:
                raise FloatingPointError(f"the gradient reaching the strokes is not finite at step {k} after {streak} "
                                         f"loss-scaled fp16 steps in a row{self._under()}")

    @property
    def done(self) -> bool:
        return self.next_step >= self.stage.steps

    def current(self) -> Strokes:
        """The strokes as they are now (learned pens: not yet decided)."""
        return self.strokes.with_points(self.points().detach().clone())

    def result(self) -> Strokes:
        """The stage's outcome; learned pens become the most likely real pen of each stroke."""
        strokes = self.current()
        if self.learn_pens:
            strokes = strokes.with_pens(torch.argmax(self.param.detach(), dim=1))
        return strokes

    def state_dict(self) -> dict:
        return {
            "next_step": self.next_step,
            "strokes": self.current().state_dict(),
            "param": self.param.detach().cpu().clone(),
            "param_space": "logits" if self.learn_pens else POINT_PARAM,
            "optimizer": self.optimizer.state_dict(),
            "torch_rng": torch.get_rng_state(),
            **({"scaler": self.scaler.state_dict()} if self.scaler is not None else {}),
            "history": self.history_record(),
        }

    def history_record(self) -> dict:
        """The per-step scores so far: ``{"first_step": n, "steps": [[score, term, ...], ...]}``."""
        return {"first_step": self.history_from, "steps": [list(h) for h in self.history]}

    def load_state_dict(self, state: dict) -> None:
        device = self.strokes.points.device
        self.strokes = Strokes.from_state_dict(state["strokes"]).to(device)
        param = state["param"].to(device)
        if not self.learn_pens and state.get("param_space") != POINT_PARAM:
            param = to_free(param, self.strokes.region)  # an older checkpoint: param held the points
        with torch.no_grad():
            self.param.copy_(param)
        self.fixed_points = self.strokes.points.detach().clone()
        self.optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["torch_rng"])
        if self.scaler is not None and "scaler" in state:
            self.scaler.load_state_dict(state["scaler"])
        self.next_step = int(state["next_step"])
        history = state.get("history") or {"first_step": self.next_step, "steps": []}  # older checkpoints kept none
        self.history_from = int(history["first_step"])
        self.history = [list(h) for h in history["steps"]]
