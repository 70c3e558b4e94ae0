import dataclasses

import pytest
from tests.support.compile_fixtures import make_spec

from penspec.compiler import PASSES, Plan, compile_spec
from penspec.compiler.context import Context
from penspec.compiler.passes import run_passes


def test_passes_run_in_the_documented_order():
    names = [p.__name__ for p in PASSES]
    assert names == [
        "resolve_defaults", "resolve_layers", "expand_stages", "assign_pens", "physical_mapping", "fingerprint", "estimate",
    ]


def test_compiled_plan_round_trips_through_json():
    plan = compile_spec(make_spec())
    assert isinstance(plan, Plan)
    assert Plan.from_json(plan.to_json()) == plan


def test_compile_is_pure_and_deterministic():
    spec = make_spec()
    assert compile_spec(spec).to_json() == compile_spec(spec).to_json()


def test_plan_keeps_only_the_spec_file_name(tmp_path):
    spec = make_spec(source=str(tmp_path / "pieces" / "spec.yaml"), base_dir=str(tmp_path / "pieces"))
    plan = compile_spec(spec)
    assert plan.source == "spec.yaml"
    assert str(tmp_path) not in plan.to_json()


def test_passes_out_of_order_say_so():
    with pytest.raises(RuntimeError, match="pass order"):
        run_passes(Context(spec=make_spec()), passes=(PASSES[-1],))


def test_test_weights_fall_back_to_the_network():
    spec = make_spec()
    spec = dataclasses.replace(spec, test=dataclasses.replace(spec.test, weights=None))
    assert compile_spec(spec).test.weights == "imagenet"


def test_spec_hash_follows_values_not_locations():
    a = compile_spec(make_spec())
    b = compile_spec(make_spec(source="elsewhere/other.yaml", base_dir="elsewhere", locations={}))
    c = compile_spec(make_spec(seed=43))
    assert a.spec_sha256 == b.spec_sha256
    assert a.spec_sha256 != c.spec_sha256


def test_independent_problems_are_reported_together():
    from tests.support.compile_fixtures import channel, objective, optimize, paper, pen, tile

    from penspec.spec.errors import CompileError

    spec = make_spec(
        canvas=64,
        paper=paper("a3", landscape=True),
        pens=(pen(width_mm=0.05),),
        objective=objective(channel("vgg16", "conv3_3", 999)),
        stages=(optimize(30), tile(2)),
    )
    with pytest.raises(CompileError) as err:
        compile_spec(spec)
    paths = {d.path for d in err.value.diagnostics}
    assert {"$.objective", "$.stages[1].tile.repeat", "$.pens[0].width"} <= paths
