"""The objective over the steps: each optimising stage's per-step scores, as one file per build.

Each stage's store keeps its own record (the objective and each term's score at every step, as
the optimiser computed them); a build gathers them, in stage order, into ``history.json`` for
the build's page and for anyone plotting the course of an optimisation.
"""

from __future__ import annotations

import json

from penspec.compiler.plan import NetStagePlan, Plan


def stage_histories(plan: Plan, histories) -> list[dict]:
    """Each optimising stage's per-step scores, as its stage store keeps them (an empty list of
    steps for a stage stored before histories were kept)."""
    out = []
    for stage, record in zip(plan.stages, histories, strict=True):
        if isinstance(stage, NetStagePlan):
            record = record or {}
            out.append({"stage": stage.name, "first_step": int(record.get("first_step", 0)), "steps": record.get("steps", [])})
    return out


def history_json(plan: Plan, history: list[dict]) -> str:
    """history.json: the columns (the objective, then each term as written), one line per stage."""
    columns = ["objective"] + [t.text for t in plan.objective.terms]
    lines = [json.dumps(h, ensure_ascii=False, separators=(",", ":")) for h in history]
    return '{"columns": ' + json.dumps(columns, ensure_ascii=False) + ',\n "stages": [\n  ' + ",\n  ".join(lines) + "\n]}\n"
