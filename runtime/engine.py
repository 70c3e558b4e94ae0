"""The engine of a build: its nets and objective, checked at once and loaded on first use."""

from __future__ import annotations

from penspec.compiler.plan import Plan
from penspec.runtime.precision import FP32, Numerics
from penspec.runtime.stages import Engine
from penspec.spec import expression_location
from penspec.spec.model import Spec


def engine_for(spec: Spec, plan: Plan, device, backend: str, numerics: Numerics = FP32) -> Engine:
    """An engine whose nets load when a step or the held-out objective first needs them, in the
    memory format ``numerics`` gives each. Every weights file is checked now (a missing one is a
    MissingResourceError before any work)."""
    from penspec.runtime.nets import resolve_weights

    weights_origin = spec.where("$.network.weights")
    for net in plan.objective.nets:
        resolve_weights(net, spec.base_dir, origin=weights_origin)

    def load():
        from penspec.runtime.nets import load_net
        from penspec.runtime.objectives import build_objective

        nets = {n.name: numerics.prepare(load_net(n, spec.base_dir, seed=plan.seed, device=device, origin=weights_origin))
                for n in plan.objective.nets}
        origins = [expression_location(spec, t.column) for t in spec.objective.terms]
        return nets, build_objective(plan.objective, nets=nets, base_dir=spec.base_dir, crop=plan.augment.crop, origins=origins)

    return Engine(plan, device, load, backend, numerics)
