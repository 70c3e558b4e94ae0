"""Pass 2, resolve layers: objective terms -> network modules, with channel range checks.

Layer names resolve through static tables (``layers.json``, one per network: module paths in
the order their outputs are produced, their output channel counts, and friendly aliases such as
VGG's ``conv3_3``), so compiling needs no torch. A term may name an alias or a real module path.
Unknown networks and layers, channels out of range, neuron positions off the map and missing
style images are compile errors pointing at the column inside the expression.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources

from penspec.spec.errors import CompileError, Diagnostic
from penspec.spec.model import Spec, Term
from penspec.spec.suggest import known

from .context import Context
from .diagnose import diagnostic_at, diagnostic_at_column
from .plan import NetPlan, ObjectivePlan, TermPlan

BUILTIN_WEIGHTS = ("imagenet", "random")
NEEDS_LAYER = ("channel", "neuron", "layer", "diversity", "style")
NEEDS_CHANNEL = ("channel", "neuron")


@dataclass(frozen=True)
class LayerTable:
    """One network's layers: module path -> (depth, channels), alias -> module path."""

    net: str
    modules: dict[str, tuple[int, int]]
    aliases: dict[str, str]

    def resolve(self, layer: str) -> str | None:
        """The module path of an alias or a module path; None when the net has no such layer."""
        if layer in self.aliases:
            return self.aliases[layer]
        return layer if layer in self.modules else None

    def channels(self, module: str) -> int:
        return self.modules[module][1]

    def depth(self, module: str) -> int:
        return self.modules[module][0]

    def names(self) -> list[str]:
        """Every name a spec may use: aliases first, then module paths in forward order."""
        return list(self.aliases) + [m for m in self.modules if m not in self.aliases]


@lru_cache(maxsize=1)
def layer_tables() -> dict[str, LayerTable]:
    """The static tables shipped as ``compiler/layers.json`` (checked against the real nets by
    tests/runtime/test_layer_tables.py)."""
    data = json.loads(resources.files(__package__).joinpath("layers.json").read_text(encoding="utf-8"))
    return {
        name: LayerTable(
            net=name,
            modules={path: (depth, channels) for depth, (path, channels) in enumerate(entry["modules"])},
            aliases=dict(entry["aliases"]),
        )
        for name, entry in data["nets"].items()
    }


def _column_of(term: Term, needle: str | None, after: int = 0) -> int:
    """Column of ``needle`` inside the term's text (the term's own column if not found)."""
    if needle:
        at = term.text.find(needle, after)
        if at >= 0:
            return term.column + at
    return term.column


def _resolve_term(spec: Spec, term: Term, tables: dict[str, LayerTable], errors: list[Diagnostic]) -> TermPlan | None:
    if term.kind not in NEEDS_LAYER:
        return TermPlan(kind=term.kind, weight=term.weight, text=term.text)

    def fail(column: int, message: str) -> None:
        errors.append(diagnostic_at_column(spec, column, message))

    table = tables.get(term.net or "")
    if table is None:
        fail(_column_of(term, term.net), f"unknown network {term.net!r} in {term.text}{known(term.net, list(tables))}")
        return None
    net_end = term.text.find(term.net) + len(term.net) if term.net in term.text else 0
    layer_col = _column_of(term, term.layer, net_end)
    module = table.resolve(term.layer or "")
    if module is None:
        fail(layer_col, f"{term.net} has no layer {term.layer!r}{known(term.layer, table.names())}")
        return None
    channels = table.channels(module)
    shown = term.layer if term.layer == module else f"{term.layer} ({module})"
    ok = True
    if term.kind in NEEDS_CHANNEL:
        if term.channel is None or not 0 <= term.channel < channels:
            layer_end = term.text.find(term.layer, net_end) + len(term.layer) if term.layer in term.text else 0
            fail(
                _column_of(term, str(term.channel), layer_end),
                f"channel {term.channel} is out of range: {term.net} {shown} has {channels} channels (0..{channels - 1})",
            )
            ok = False
    position = None
    if term.kind == "neuron":
        position = term.position if term.position is not None else (0.5, 0.5)
        for axis, value in zip("xy", position):
            if not 0.0 <= value <= 1.0:
                fail(_column_of(term, f"{axis}="), f"neuron position {axis}={value} is off the map: use a fraction in 0..1")
                ok = False
    if term.kind == "style":
        target = os.path.join(spec.base_dir, term.image or "")
        if not term.image or not os.path.isfile(target):
            what = "is a folder" if term.image and os.path.isdir(target) else "does not exist"
            fail(
                _column_of(term, term.image),
                f"style image {term.image!r} {what} (paths are relative to the spec's folder: {_shown_dir(spec)})",
            )
            ok = False
    if not ok:
        return None
    return TermPlan(
        kind=term.kind,
        weight=term.weight,
        text=term.text,
        net=term.net,
        layer=term.layer,
        module=module,
        channels=channels,
        channel=term.channel if term.kind in NEEDS_CHANNEL else None,
        position=tuple(position) if position is not None else None,
        image=term.image,
    )


def _shown_dir(spec: Spec) -> str:
    return os.path.dirname(spec.source) or "."


def _check_weights(spec: Spec, errors: list[Diagnostic]) -> None:
    """A weights file (for the build, or for the smoke build's `test:` section) must exist."""
    for path, weights in (("$.network.weights", spec.network.weights), ("$.test.weights", spec.test.weights)):
        if weights is None or weights in BUILTIN_WEIGHTS:
            continue
        if not os.path.isfile(os.path.join(spec.base_dir, weights)):
            message = (
                f"weights file {weights!r} does not exist (use imagenet, random or a .pth file relative to "
                f"the spec's folder: {_shown_dir(spec)})"
            )
            errors.append(diagnostic_at(spec, path, message))


def resolve_layers(ctx: Context) -> Context:
    spec = ctx.spec
    tables = layer_tables()
    errors: list[Diagnostic] = []
    _check_weights(spec, errors)
    terms = [_resolve_term(spec, term, tables, errors) for term in spec.objective.terms]
    if not errors and not any(term.net for term in terms):
        errors.append(
            diagnostic_at(
                spec,
                "$.objective",
                "the objective reads no network: add a channel, neuron, layer, diversity or style term, "
                "e.g. channel(vgg16:conv3_3, 37)",
            )
        )
    if errors:
        raise CompileError(errors)
    used: dict[str, set[str]] = {}
    for term in terms:
        if term.net is not None:
            used.setdefault(term.net, set()).add(term.module)
    nets = []
    for name, modules in used.items():
        ordered = tuple(sorted(modules, key=tables[name].depth))
        nets.append(
            NetPlan(
                name=name,
                weights=spec.network.weights,
                leaky_relu=spec.network.leaky_relu,
                precision=spec.network.precision,
                modules=ordered,
                deepest=ordered[-1],
            )
        )
    expression, terms = with_knot_cost(spec.objective.expression, terms, spec.strokes.crowding)
    objective = ObjectivePlan(expression=expression, terms=tuple(terms), nets=tuple(nets))
    return replace(ctx, objective=objective)


def with_knot_cost(expression: str, terms: list[TermPlan], weight: float) -> tuple[str, list[TermPlan]]:
    """``strokes.crowding``: the objective with ``- weight * crowding`` appended, unless the
    weight is 0 or the objective already weighs crowding itself (its own weight wins). The plan's
    expression shows the added term, so ``penspec plan`` prints the objective the build runs."""
    if weight <= 0 or any(t.kind == "crowding" for t in terms):
        return expression, terms
    return f"{expression} - {weight:g} * crowding", [*terms, TermPlan(kind="crowding", weight=-weight, text="crowding")]
