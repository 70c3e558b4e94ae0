"""YAML reading (marks, refusals) and unit parsing (vpype's parsers, strict about mistakes)."""

from __future__ import annotations

import pytest

from penspec.spec import load_text
from penspec.spec.errors import SpecError
from penspec.spec.units import UnitError, angle_deg, color_hex, length_mm, page_size_mm
from penspec.spec.yamlsrc import parse_yaml

SPEC = "penspec: 1\npens: [{id: black}]\nobjective: channel(vgg16:conv3_3, 37)\n"


def errors(text: str | bytes) -> list:
    with pytest.raises(SpecError) as caught:
        load_text(text, source="s.yaml")
    return caught.value.diagnostics


def test_marks_for_keys_and_values():
    parsed = parse_yaml("a:\n  b: [1, {c: x}]\n", "s.yaml")
    assert parsed.data == {"a": {"b": [1, {"c": "x"}]}}
    assert (parsed.keys["$.a.b"].line, parsed.keys["$.a.b"].column) == (2, 3)
    assert (parsed.values["$.a.b"].line, parsed.values["$.a.b"].column) == (2, 6)
    assert (parsed.values["$.a.b[1].c"].line, parsed.values["$.a.b[1].c"].column) == (2, 14)
    assert parsed.values["$.a.b[1].c"].source_line == "  b: [1, {c: x}]"


def test_keys_are_kept_as_written():
    parsed = parse_yaml("yes: 1\n1: 2\nnull: 3\n", "s.yaml")
    assert parsed.data == {"yes": 1, "1": 2, "null": 3}


def test_all_problems_are_reported_together():
    found = errors(SPEC + "seed: 1\nseed: 2\ncanvas: 3\ncavnas: 4\ntitle: !!binary aGk=\n")
    messages = [d.message for d in found]
    assert any("duplicate key 'seed'" in m for m in messages)
    assert any("less than the minimum of 16" in m for m in messages)
    assert any("did you mean 'canvas'" in m for m in messages)
    assert any("!!binary" in m for m in messages)
    assert [d.location.line for d in found] == sorted(d.location.line for d in found)


def test_many_errors_are_capped_in_the_message():
    text = SPEC + "".join(f"unknown{i}: 1\n" for i in range(30))
    with pytest.raises(SpecError) as caught:
        load_text(text, source="s.yaml")
    assert len(caught.value.diagnostics) == 30
    assert str(caught.value).endswith("... and 10 more")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the spec is empty"),
        ("# only a comment\n", "the spec is empty"),
        ("[1, 2]\n", "must be a mapping"),
        ("just text\n", "must be a mapping"),
        ("a: &x [*x]\n", "recursive alias"),
        ("a: " + "[" * 200 + "]" * 200 + "\n", "nested more than"),
        ("a: " + "[" * 5000 + "\n", "nested too deeply"),
        ("a: \x07\n", "invalid character '\\x07'"),
        ('a: "\\ud800"\n', "unpaired surrogate"),
        ("a: .inf\n", "not a finite number"),
        ("? [a, b]\n: 1\n", "a key must be a plain name"),
        ("x: !!set {a, b}\n", "!!set"),
        ("x: !!python/name:os.system\n", "!!python/name:os.system"),
    ],
)
def test_refusals(text, message):
    found = errors(text)
    assert any(message in d.message for d in found), [d.render() for d in found]


def test_bytes_bom_and_latin1():
    assert load_text(b"\xef\xbb\xbf" + SPEC.encode()).pens[0].id == "black"
    assert load_text("\ufeff" + SPEC).pens[0].id == "black"
    (found,) = errors(SPEC.encode() + b"title: na\xefve\n")
    assert (found.location.line, found.location.column) == (4, 10)
    assert "not UTF-8" in found.message


def test_dates_and_numbers_are_plain_values():
    spec = load_text(SPEC + "title: 2024-05-01\nseed: 0x10\n")
    assert spec.title == "2024-05-01" and spec.seed == 16


@pytest.mark.parametrize(
    ("text", "mm"),
    [("0.3mm", 0.3), ("11in", 279.4), ("2cm", 20.0), ("1m", 1000.0), ("96px", 25.4), ("72pt", 25.4), ("6pc", 25.4)],
)
def test_lengths(text, mm):
    assert length_mm(text) == pytest.approx(mm)


@pytest.mark.parametrize(
    ("value", "message"),
    [("5", "needs a unit"), (5, "expected a length"), ("5 mm", "cannot read"), ("5cms", "did you mean 'cm'"), ("", "cannot read")],
)
def test_bad_lengths(value, message):
    with pytest.raises(UnitError, match=message):
        length_mm(value)


def test_angles():
    assert angle_deg(5) == 5.0 and angle_deg("5deg") == 5.0
    assert angle_deg("0.5turn") == 180.0 and angle_deg("100grad") == pytest.approx(90.0)
    with pytest.raises(UnitError, match="did you mean 'rad'"):
        angle_deg("1rads")


def test_paper_sizes():
    assert page_size_mm("a4") == (210.0, 297.0)
    assert page_size_mm("Letter") == (215.9, 279.4)
    assert page_size_mm("297x210mm") == (297.0, 210.0)
    assert page_size_mm("1inx2in") == (25.4, 50.8)
    for bad, message in [("a9", "unknown paper size"), ("a44", "did you mean 'a4'"), ("210x297", "needs a unit"), ("tight", "unknown paper size")]:
        with pytest.raises(UnitError, match=message):
            page_size_mm(bad)


def test_colours():
    assert color_hex("#111") == ("#111111", pytest.approx((17 / 255,) * 3))
    assert color_hex("navy")[0] == "#000080"
    assert color_hex("rgb(31, 78, 156)")[0] == "#1f4e9c"
    assert color_hex("Black")[0] == "#000000"
    for bad, message in [("blu", "did you mean 'blue'"), ("#12", "not a hex colour"), ("#ggg", "not a hex colour"),
                         ("transparent", "transparent"), ("rgb(1, 2)", "cannot read"), ("none", "unknown colour")]:
        with pytest.raises(UnitError, match=message):
            color_hex(bad)


def test_exponent_numbers_without_a_dot_are_numbers():
    spec = load_text(SPEC + "stages: [{optimize: {lr: 1e-3}}]\nnetwork: {leaky_relu: 5E-2}\n")
    assert spec.stages[0].lr == 0.001 and spec.network.leaky_relu == 0.05
    assert load_text(SPEC + 'title: "1e-3"\n').title == "1e-3"


def test_yaml_words_that_are_not_text_get_a_quoting_hint():
    found = errors("penspec: 1\npens: [{id: no}]\nobjective: channel(vgg16:conv3_3, 37)\n")
    assert found[0].message == "expected a string, got false (YAML reads 'no' as false; quote it to keep it text: \"no\")"
