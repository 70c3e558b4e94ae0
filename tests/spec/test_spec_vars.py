"""``vars:`` with ``$name`` in the objective, and sweep axes (the ``sweep:`` section, ``--vary``)."""

from __future__ import annotations

import pytest

from penspec.compiler import compile_spec
from penspec.spec import load_text
from penspec.spec.errors import SpecError
from penspec.spec.sweep import expand_range, merge_axes, points, set_text, vary_axis
from penspec.spec.overrides import parse_override

HEAD = "penspec: 1\npens: [{id: black}]\n"
LITERAL = HEAD + 'objective: "channel(vgg16:conv3_3, 37) - 1e-05 * tv"\n'
WITH_VARS = HEAD + 'vars: {channel: 37, w: 1e-5}\nobjective: "channel(vgg16:conv3_3, $channel) - $w * tv"\n'


def errors(text, overrides=()):
    with pytest.raises(SpecError) as caught:
        load_text(text, source="spec.yaml", overrides=overrides)
    return caught.value.diagnostics


def test_variables_give_the_plan_of_the_spec_written_out():
    with_vars, literal = compile_spec(load_text(WITH_VARS, source="a.yaml")), compile_spec(load_text(LITERAL, source="a.yaml"))
    assert with_vars.to_json() == literal.to_json()  # objective, fingerprints and spec hash alike
    spec = load_text(WITH_VARS, overrides=["vars.channel=12"])
    assert spec.objective.terms[0].channel == 12
    assert dict(spec.vars) == {"channel": 12, "w": 1e-5}


def test_a_layer_name_can_be_a_variable():
    spec = load_text(HEAD + 'vars: {layer: conv4_1}\nobjective: "channel(vgg16:$layer, 3)"\n')
    assert spec.objective.terms[0].layer == "conv4_1"


def test_unknown_variable_is_located_at_its_dollar():
    unused, d = errors(HEAD + 'vars: {channel: 3}\nobjective: "channel(vgg16:conv3_3, $chanel)"\n')
    assert (d.location.line, d.location.column) == (4, 36) and "never used" in unused.message
    assert "unknown variable $chanel" in d.message and "did you mean 'channel'" in d.message
    (d,) = errors(HEAD + 'objective: "channel(vgg16:conv3_3, $c)"\n')
    assert "declare it under vars:" in d.message


def test_unused_variable_is_located_at_its_key_or_override():
    (d,) = errors(HEAD + 'vars: {channel: 3, spare: 1}\nobjective: "channel(vgg16:conv3_3, $channel)"\n')
    assert (d.location.line, d.location.column) == (3, 20) and d.path == "$.vars.spare"
    assert "never used" in d.message
    (d,) = errors(WITH_VARS, overrides=["vars.extra=2"])
    assert str(d.location) == "--set vars.extra=2"


def test_a_channel_out_of_range_from_a_variable_points_where_the_value_was_set():
    with pytest.raises(SpecError) as caught:
        compile_spec(load_text(WITH_VARS.replace("channel: 37", "channel: 600"), source="spec.yaml"))
    (d,) = caught.value.diagnostics
    assert (d.location.line, d.location.column) == (3, 17) and "channel 600 is out of range" in d.message
    with pytest.raises(SpecError) as caught:
        compile_spec(load_text(WITH_VARS, source="spec.yaml", overrides=["vars.channel=600"]))
    assert str(caught.value.diagnostics[0].location) == "--set vars.channel=600"


def test_an_objective_error_after_a_variable_keeps_its_column():
    (d,) = errors(HEAD + 'vars: {channel: 123456}\nobjective: "channel(vgg16:conv3_3, $channel) ! tv"\n')
    assert (d.location.line, d.location.column) == (4, 46) and "'!'" in d.message


def test_bad_variable_names_and_values():
    found = errors(HEAD + 'vars: {"1x": 3, ok: [1]}\nobjective: "channel(vgg16:conv3_3, $ok)"\n')
    messages = " | ".join(d.message for d in found)
    assert "not a valid variable name" in messages and "expected" in messages


def test_sweep_section_axes_keep_their_lines():
    spec = load_text(WITH_VARS + "sweep:\n  vars.channel: [17, 20, 33]\n  seed: 1..4\n  stages.0.optimize.lr: 0..30 step 10\n",
                     source="spec.yaml")
    channel, seed, lr = spec.sweep
    assert channel.values == (17, 20, 33) and [loc.column for loc in channel.locations] == [18, 22, 26]
    assert seed.values == (1, 2, 3, 4) and seed.locations[0].line == 7
    assert lr.parts == ("stages", 0, "optimize", "lr") and lr.values == (0, 10, 20, 30)
    assert len(points(spec.sweep)) == 3 * 4 * 4
    # the sweep is not part of the piece: adding one keeps the plan
    assert compile_spec(spec).to_json() == compile_spec(load_text(WITH_VARS, source="spec.yaml")).to_json()


@pytest.mark.parametrize(("section", "message"), [
    ("seed: 4..1", "is empty"),
    ("seed: 1..4 step 0", "step"),
    ("seed: 1..x", "is not a list"),
    ("seed: []", "at least 1"),
    ("'seed..x': [1]", "not a valid key path"),
])
def test_bad_sweep_sections(section, message):
    found = errors(WITH_VARS + f"sweep:\n  {section}\n")
    assert any(message in d.message for d in found), [d.message for d in found]
    assert all(d.location.line == 6 for d in found)


def test_vary_reads_lists_ranges_and_single_values():
    assert vary_axis("vars.channel=[17, 20, 33]").values == (17, 20, 33)
    assert vary_axis("seed=1..2").values == (1, 2)
    assert vary_axis("seed=0..9 step 3").values == (0, 3, 6, 9)
    assert vary_axis("pens.0.color=#1f4e9c").values == ("#1f4e9c",)
    assert str(vary_axis("seed=1..2").locations[0]) == "--vary seed=1..2"
    for bad in ("seed", "seed=5..1", "..x=1"):
        with pytest.raises(SpecError):
            vary_axis(bad)


def test_vary_replaces_an_axis_of_the_same_key_and_zip_pairs_axes():
    spec = load_text(WITH_VARS + "sweep:\n  vars.channel: [1, 2]\n  seed: 1..2\n")
    axes = merge_axes(spec.sweep, [vary_axis("seed=[7, 8, 9]"), vary_axis("augment.views=[1, 2, 3]")])
    assert [(a.key, a.values) for a in axes] == [("vars.channel", (1, 2)), ("seed", (7, 8, 9)), ("augment.views", (1, 2, 3))]
    assert points(axes[1:], zipped=True) == [(0, 0), (1, 1), (2, 2)]
    assert points(axes[:2]) == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    with pytest.raises(SpecError, match="equal length"):
        points(axes, zipped=True)


@pytest.mark.parametrize("value", [17, 0.5, 1e-5, "#1f4e9c", "navy", "yes", "12", [4, 4], None, True, "a: b"])
def test_set_text_reads_back_as_the_same_value(value):
    assert parse_override(f"x={set_text(value)}").value == value


def test_ranges():
    assert expand_range("3..3") == [3]
    assert expand_range("-2..2 step 2") == [-2, 0, 2]
    assert expand_range("a..b") is None
