"""Stage kinds: the schema, the spec model, the compiler's kind table and the plan classes name
the same kinds, and every stage setting in the schema reaches its stage's fingerprint.

The completeness test walks the schema rather than the plan classes: a key the schema accepts
whose value changes what a stage computes must change that stage's fingerprint (and, through the
chain, every later one) and no earlier one. A new stage key fails it until CHANGES says how to
change it; a stage key that only changes the look or the plot would be listed in EXEMPT with
the reason (there is none today).
"""

from __future__ import annotations

import dataclasses
import typing

import pytest

from penspec.compiler import compile_spec
from penspec.compiler.fingerprint import stage_parameters
from penspec.compiler.plan import AnyStagePlan, Plan
from penspec.compiler.stages import STAGE_KINDS
from penspec.spec import load_text, schema
from penspec.spec.model import Stage

# Every kind once, two tiles so a tile's repeat can change without touching the stages before it.
BASE = """\
penspec: 1
paper: {size: a6}
canvas: 128
pens:
  - {id: black, color: "#111", width: 0.5mm}
  - {id: blue, color: "#1f4e9c", width: 0.5mm}
strokes: {count: 20, pens: learn}
objective: "channel(vgg16:conv3_3, 37)"
augment: {crop: 32}
test: {crop: 32}
stages:
  - optimize: {size: 32, steps: 10, lr: 1.0, views: 4}
  - tile: {repeat: 2}
  - tile: {repeat: 2}
  - finetune: {steps: 10, lr: 0.5, views: 4}
  - assign_pens: {steps: 10, lr: 0.1, temperature: [1.0, 0.05]}
"""
STAGE_OF = {"optimize": 0, "tile": 1, "finetune": 3, "assign_pens": 4}

# schema stage key -> overrides that change it to another valid value; a second override may
# only touch a later stage, to keep the tiling on the canvas.
CHANGES: dict[str, tuple[str, ...]] = {
    "optimize.size": ("stages.0.optimize.size=64", "stages.2.tile.repeat=1"),
    "optimize.steps": ("stages.0.optimize.steps=11",),
    "optimize.lr": ("stages.0.optimize.lr=0.9",),
    "optimize.views": ("stages.0.optimize.views=3",),
    "tile.repeat": ("stages.1.tile.repeat=4", "stages.2.tile.repeat=1"),
    "finetune.steps": ("stages.3.finetune.steps=11",),
    "finetune.lr": ("stages.3.finetune.lr=0.4",),
    "finetune.views": ("stages.3.finetune.views=3",),
    "assign_pens.steps": ("stages.4.assign_pens.steps=11",),
    "assign_pens.lr": ("stages.4.assign_pens.lr=0.2",),
    "assign_pens.temperature": ("stages.4.assign_pens.temperature=[2.0, 0.05]",),
}
EXEMPT: dict[str, str] = {}  # stage key -> why it changes only the look or the plot
BOOKKEEPING = {"index", "name", "line", "fingerprint"}  # where a stage is, not what it computes


def stage_schemas() -> dict[str, dict]:
    return schema()["properties"]["stages"]["items"]["properties"]


def compiled(*overrides: str) -> Plan:
    return compile_spec(load_text(BASE, source="spec.yaml", base_dir=".", overrides=overrides))


def test_schema_model_compiler_and_plan_name_the_same_kinds():
    kinds = set(stage_schemas())
    assert set(STAGE_KINDS) == kinds
    assert {cls.kind for cls in typing.get_args(Stage)} == kinds
    assert {cls.kind for cls in typing.get_args(AnyStagePlan)} == kinds
    for name, kind in STAGE_KINDS.items():
        assert kind.spec.kind == kind.plan.kind == name
        assert kind.plan in typing.get_args(AnyStagePlan) and kind.spec in typing.get_args(Stage)


def test_every_schema_stage_key_has_a_change():
    keys = {f"{kind}.{key}" for kind, node in stage_schemas().items() for key in node.get("properties", {})}
    assert set(CHANGES) | set(EXEMPT) == keys


@pytest.mark.parametrize("key", sorted(CHANGES))
def test_a_stage_setting_changes_its_stage_and_later_fingerprints_only(key):
    kind, setting = key.split(".")
    index = STAGE_OF[kind]
    base, changed = compiled(), compiled(*CHANGES[key])
    before, after = base.stages[index], changed.stages[index]
    assert (before.kind, after.kind) == (kind, kind)
    spec_before = load_text(BASE, source="spec.yaml", base_dir=".").stages[index]
    spec_after = load_text(BASE, source="spec.yaml", base_dir=".", overrides=CHANGES[key]).stages[index]
    assert getattr(spec_before, setting) != getattr(spec_after, setting), "the change must change the setting"
    moved = [a.fingerprint != b.fingerprint for a, b in zip(base.stages, changed.stages, strict=True)]
    assert moved == [i >= index for i in range(len(moved))]
    assert changed.look_sha256 == base.look_sha256


def test_only_bookkeeping_fields_stay_out_of_the_fingerprint():
    for stage in compiled().stages:
        params = stage_parameters(stage)
        fields = {f.name for f in dataclasses.fields(stage)}
        assert fields - set(params) == BOOKKEEPING, stage.kind
        for name in fields - BOOKKEEPING:  # hashed as its own value, not as another kind's blank
            assert params[name] == getattr(stage, name), (stage.kind, name)


def test_the_learned_pens_stage_takes_the_schema_defaults():
    defaults = stage_schemas()["assign_pens"]["properties"]
    plan = compile_spec(load_text(BASE.split("stages:")[0] + "stages:\n  - optimize: {size: 128}\n", source="spec.yaml", base_dir="."))
    last = plan.stages[-1]
    assert (last.kind, last.steps, last.lr, list(last.temperature)) == (
        "assign_pens", defaults["steps"]["default"], defaults["lr"]["default"], defaults["temperature"]["default"])


def test_plan_json_tags_each_stage_with_its_kind_and_only_its_fields():
    plan = compiled()
    data = plan.to_dict()["stages"]
    assert [s["kind"] for s in data] == ["optimize", "tile", "tile", "finetune", "assign_pens"]
    assert "steps" not in data[1] and "repeat" not in data[0] and "temperature" not in data[3]
    assert Plan.from_json(plan.to_json()) == plan
    data[1]["kind"] = "spiral"
    with pytest.raises(ValueError, match="unknown kind 'spiral'"):
        Plan.from_dict({**plan.to_dict(), "stages": data})
