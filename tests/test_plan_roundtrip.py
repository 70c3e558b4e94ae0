from tests.support.factories import make_plan

from penspec.compiler.plan import Plan


def test_plan_json_round_trip():
    plan = make_plan()
    again = Plan.from_json(plan.to_json())
    assert again == plan
    assert again.to_json() == plan.to_json()


def test_plan_json_holds_no_absolute_paths():
    text = make_plan().to_json()
    assert "/work" not in text and "/home" not in text
