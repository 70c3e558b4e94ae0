from tests.support.compile_fixtures import finetune, make_spec, optimize, paper, tile

from penspec.compiler import compile_spec
from penspec.compiler.summary import duration, length, summarize


def test_duration_and_length_formats():
    assert [duration(12.4), duration(245), duration(5520)] == ["12s", "4m 05s", "1h 32m"]
    assert [length(850), length(41100)] == ["850 mm", "41.1 m"]


def test_summary_lists_stages_pens_and_totals():
    plan = compile_spec(make_spec(canvas=1024, paper=paper("a3", landscape=True), stages=(optimize(256), tile(4), finetune(steps=1500))))
    text = summarize(plan, source="pieces/x.yaml")
    assert "(pieces/x.yaml)" in text.splitlines()[0]
    assert "1-tile" in text and "repeat 4x4" in text and "3200 strokes" in text
    assert f"total: {plan.estimates.steps} optimisation steps" in text
    assert duration(plan.estimates.time_s) in text
