import dataclasses

import pytest
from tests.support.compile_fixtures import make_spec, optimize, pen
from hypothesis import given
from hypothesis import strategies as st

from penspec.compiler import compile_spec
from penspec.compiler.pens import largest_remainder
from penspec.spec.errors import CompileError
from penspec.spec.model import AssignPensStage, Strokes

THREE = (pen("black"), pen("blue", "#1f4e9c", 0.5), pen("red", "#cc2200", 0.4))


def with_strokes(count=200, shares=(("black", 1.0),), **kw):
    return make_spec(strokes=Strokes(count=count, segments=(1, 3), extent=0.1, pens=shares, crowding=0.0), **kw)


def test_largest_remainder_examples():
    assert largest_remainder(10, (0.7, 0.3)) == (7, 3)
    assert largest_remainder(10, (1 / 3, 1 / 3, 1 / 3)) == (4, 3, 3)  # ties go to the first pen
    assert largest_remainder(7, (0.5, 0.25, 0.25)) == (3, 2, 2)  # 3.5, 1.75, 1.75


@given(st.integers(0, 5000), st.lists(st.floats(0.0, 10.0), min_size=1, max_size=8).filter(lambda xs: sum(xs) > 0))
def test_largest_remainder_adds_up_and_stays_within_one(total, raw):
    shares = tuple(x / sum(raw) for x in raw)
    counts = largest_remainder(total, shares)
    assert sum(counts) == total
    assert all(abs(c - total * s) < 1 + 1e-9 for c, s in zip(counts, shares))


def test_shares_split_the_stroke_budget():
    plan = compile_spec(with_strokes(200, (("black", 0.7), ("blue", 0.2), ("red", 0.1)), pens=THREE))
    assert [p.strokes for p in plan.pens] == [140, 40, 20]
    assert plan.strokes.shares == pytest.approx((0.7, 0.2, 0.1))
    assert not plan.strokes.learn_pens


def test_pens_left_out_of_the_map_get_no_strokes():
    plan = compile_spec(with_strokes(101, (("black", 3), ("red", 1)), pens=THREE))
    assert [p.strokes for p in plan.pens] == [76, 0, 25]


def test_unknown_pen_in_shares():
    with pytest.raises(CompileError) as err:
        compile_spec(with_strokes(shares=(("blak", 1.0),)))
    d = err.value.diagnostics[0]
    assert d.path == "$.strokes.pens.blak" and "did you mean 'black'" in d.message


def test_all_zero_shares():
    with pytest.raises(CompileError, match="every pen's share is 0"):
        compile_spec(with_strokes(shares=(("black", 0.0),)))


def test_learn_appends_an_assign_pens_stage():
    plan = compile_spec(make_spec(pens=THREE, strokes=Strokes(count=90, segments=(1, 3), extent=0.1, pens="learn", crowding=0.0)))
    assert plan.strokes.learn_pens and plan.strokes.shares == pytest.approx((1 / 3,) * 3)
    assert [p.strokes for p in plan.pens] == [0, 0, 0]
    last = plan.stages[-1]
    assert (last.kind, last.name, last.steps, last.lr, last.temperature) == ("assign_pens", "1-assign_pens", 100, 0.1, (1.0, 0.05))
    assert last.fingerprint and last.strokes == 90


def test_learn_keeps_a_written_assign_pens_stage():
    spec = make_spec(
        pens=THREE,
        strokes=Strokes(count=90, segments=(1, 3), extent=0.1, pens="learn", crowding=0.0),
        stages=(optimize(), AssignPensStage(steps=7, lr=0.3, temperature=(1.0, 0.5)), optimize(steps=5)),
    )
    kinds = [s.kind for s in compile_spec(spec).stages]
    assert kinds == ["optimize", "assign_pens", "optimize"]


def test_assign_pens_without_learn():
    spec = with_strokes(stages=(optimize(), AssignPensStage(steps=7, lr=0.3, temperature=(1.0, 0.5))))
    with pytest.raises(CompileError) as err:
        compile_spec(spec)
    d = err.value.diagnostics[0]
    assert d.path == "$.stages[1].assign_pens" and "learn" in d.message
