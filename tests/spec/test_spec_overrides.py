"""``--set key.path=value`` overrides: applied before validation, located at the override."""

from __future__ import annotations

import pytest

from penspec.spec import load, load_text
from penspec.spec.errors import SpecError
from penspec.spec.model import OptimizeStage

SPEC = "penspec: 1\npens: [{id: black}, {id: blue, color: navy}]\nobjective: channel(vgg16:conv3_3, 37)\nstrokes: {count: 200}\n"


def first_error(overrides, text=SPEC):
    with pytest.raises(SpecError) as caught:
        load_text(text, source="spec.yaml", overrides=overrides)
    return caught.value.diagnostics[0]


def test_values_are_read_as_yaml():
    spec = load_text(
        SPEC,
        overrides=["strokes.count=50", "pens.1.width=0.5mm", "paper.size=a3", "canvas=[512, 256]", "title=Night piece"],
    )
    assert spec.strokes.count == 50
    assert spec.pens[1].width_mm == 0.5
    assert (spec.paper.width_mm, spec.paper.height_mm) == (297.0, 420.0)
    assert spec.canvas == (512, 256)
    assert spec.title == "Night piece"


def test_missing_maps_and_default_stages_are_created():
    spec = load_text(SPEC, overrides=["augment.views=3", "stages.0.optimize.steps=10", "network.leaky_relu=0.2"])
    assert spec.augment.views == 3
    assert spec.stages == (OptimizeStage(size=None, steps=10, lr=1.0, views=None),)
    assert spec.network.leaky_relu == 0.2


def test_later_overrides_win_and_locations_name_the_override():
    spec = load_text(SPEC, source="spec.yaml", overrides=["strokes.count=5", "strokes.count=7"])
    assert spec.strokes.count == 7
    assert spec.where("$.strokes.count").file == "--set strokes.count=7"
    assert spec.where("$.pens[0].id").file == "spec.yaml"


def test_override_objective_points_at_the_override():
    with pytest.raises(SpecError) as caught:
        load_text(SPEC, overrides=["objective=chanel(vgg16:conv3_3, 1)"])
    first = caught.value.diagnostics[0]
    assert first.location.file == "--set objective=chanel(vgg16:conv3_3, 1)"
    assert "did you mean 'channel'" in first.message


def test_bad_value_is_located_at_the_override():
    first = first_error(["strokes.count=abc"])
    assert first.location.file == "--set strokes.count=abc"
    assert first.path == "$.strokes.count"
    assert "expected a whole number" in first.message
    assert first.render().startswith("--set strokes.count=abc: $.strokes.count: ")


def test_unknown_key_in_override_suggests():
    first = first_error(["strokes.cuont=3"])
    assert first.location.file == "--set strokes.cuont=3"
    assert "unknown key 'cuont' (did you mean 'count'?)" in first.message


def test_errors_from_file_and_override_come_together():
    with pytest.raises(SpecError) as caught:
        load_text(SPEC + "canvas: 3\n", source="spec.yaml", overrides=["seed=-1"])
    files = {d.location.file for d in caught.value.diagnostics}
    assert files == {"spec.yaml", "--set seed=-1"}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("strokes.count", "an override is key.path=value"),
        ("=3", "bad key path"),
        ("strokes..count=3", "bad key path"),
        ("0.width=1mm", "must start with a top-level key"),
        ("pens.5.width=1mm", "index 5 is out of range: $.pens has 2 items"),
        ("pens.black.width=1mm", "is a list: use an index"),
        ("objective.x=1", "cannot set 'x' inside $.objective"),
        ("seed=[1", "cannot read the value '[1'"),
        ("seed=!!python/object/apply:os.system [ls]", "is not allowed"),
    ],
)
def test_malformed_overrides(override, message):
    first = first_error([override])
    assert first.location.file == f"--set {override}"
    assert message in first.message


def test_load_applies_overrides_to_files(tmp_path):
    path = tmp_path / "piece.yaml"
    path.write_text(SPEC, encoding="utf-8")
    spec = load(path, overrides=("strokes.count=9",))
    assert spec.strokes.count == 9 and spec.title == "piece" and spec.base_dir == str(tmp_path)


def test_hash_colour_override_is_a_colour_not_a_comment():
    from penspec.spec import load_text

    text = 'penspec: 1\nobjective: "channel(vgg16:conv3_3, 1)"\npens: [{id: a}]\n'
    spec = load_text(text, overrides=["pens.0.color=#2255cc", "paper.color= #f4efe0"])
    assert spec.pens[0].color == "#2255cc"
    assert spec.paper.color == "#f4efe0"
