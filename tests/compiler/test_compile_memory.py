"""The memory estimate per net stage (compiler/estimate.py): its parts follow the documented
model, every layer a spec may name has a measured activation size, and it scales as it should."""

import dataclasses

import pytest
from tests.support.compile_fixtures import finetune, make_spec, optimize, paper, tile

from penspec.compiler import compile_spec
from penspec.compiler.estimate import IMAGE_COPIES, activation_tables
from penspec.compiler.layers import layer_tables
from penspec.compiler.summary import summarize


def test_every_layer_of_every_net_has_a_measured_activation_size():
    tables = activation_tables()
    for name, table in layer_tables().items():
        assert set(table.modules) <= set(tables[name]), name
        sizes = [tables[name][m] for m in table.modules]
        assert all(s > 0 for s in sizes)


def test_parts_follow_the_model():
    plan = compile_spec(make_spec(canvas=256))
    (cost,) = plan.estimates.stages
    net = plan.objective.nets[0]
    pixels = 8 * 224 * 224
    assert cost.stage == "0-optimize" and cost.pixels == pixels
    assert cost.images_bytes == pixels * 3 * 4 * IMAGE_COPIES
    assert cost.nets_bytes == int(pixels * activation_tables()[net.name][net.deepest])
    assert cost.optimizer_bytes == int(200 * (2 * 3 + 1) * 2) * 16  # mean 2 segments: 7 points x 2 floats; p, grad, 2 moments
    assert cost.peak_bytes == cost.renderer_bytes + cost.images_bytes + cost.nets_bytes + cost.optimizer_bytes
    assert plan.estimates.peak_bytes == cost.peak_bytes


def test_estimate_grows_with_views_crop_and_strokes():
    base = compile_spec(make_spec(canvas=256)).estimates.peak_bytes
    spec = make_spec(canvas=256)
    more_views = dataclasses.replace(spec, augment=dataclasses.replace(spec.augment, views=16))
    assert compile_spec(more_views).estimates.peak_bytes > 1.9 * base
    more_strokes = dataclasses.replace(spec, strokes=dataclasses.replace(spec.strokes, count=20000))
    assert compile_spec(more_strokes).estimates.stages[0].renderer_bytes > 50 * compile_spec(spec).estimates.stages[0].renderer_bytes


def test_each_net_stage_has_its_cost_and_the_peak_is_the_largest():
    spec = make_spec(canvas=1024, paper=paper("a3", landscape=True), stages=(optimize(256), tile(4), finetune(steps=10)))
    est = compile_spec(spec).estimates
    assert [c.stage for c in est.stages] == ["0-optimize", "2-finetune"]
    assert est.stages[1].inked > est.stages[0].inked  # 16x the strokes, each a quarter as long in view px
    assert est.peak_bytes == max(c.peak_bytes for c in est.stages)


def test_summary_prints_the_memory_per_stage():
    plan = compile_spec(make_spec(canvas=256))
    text = summarize(plan)
    line = next(line for line in text.splitlines() if line.strip().startswith("0-optimize") and "peak" in line)
    assert "MiB" in line and "nets" in line and "renderer" in line


@pytest.mark.parametrize("precision", ["auto", "fp32", "bf16", "fp16"])
def test_every_precision_is_counted_at_fp32(precision):
    spec = make_spec(canvas=256)
    spec = dataclasses.replace(spec, network=dataclasses.replace(spec.network, precision=precision))
    assert compile_spec(spec).estimates.stages[0].nets_bytes == compile_spec(make_spec(canvas=256)).estimates.stages[0].nets_bytes
