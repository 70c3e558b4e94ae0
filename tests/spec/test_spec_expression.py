"""The objective grammar: terms, weights, columns, and errors that point at the right column."""

from __future__ import annotations

import pytest

from penspec.spec import load_text, parse_expression
from penspec.spec.errors import SpecError


def terms(text):
    return [(t.kind, t.weight, t.net, t.layer, t.channel) for t in parse_expression(text).terms]


def test_weighted_sum():
    objective = parse_expression("channel(vgg16:conv3_3, 37) - 1e-5 * tv + 0.5 * diversity(vgg16:conv3_3)")
    assert [(t.kind, t.weight, t.column, t.text) for t in objective.terms] == [
        ("channel", 1.0, 1, "channel(vgg16:conv3_3, 37)"),
        ("tv", -1e-5, 37, "tv"),
        ("diversity", 0.5, 48, "diversity(vgg16:conv3_3)"),
    ]


def test_shorthand_and_module_paths():
    assert terms("vgg16:conv3_3:37") == [("channel", 1.0, "vgg16", "conv3_3", 37)]
    assert terms("layer(resnet18:layer3.1.conv2)") == [("layer", 1.0, "resnet18", "layer3.1.conv2", None)]
    assert terms("channel(vgg16:features.14, 3)") == [("channel", 1.0, "vgg16", "features.14", 3)]
    assert terms("resnet18:layer:2") == [("channel", 1.0, "resnet18", "layer", 2)]


def test_weights_on_either_side_and_signs():
    assert terms("-2 * layer(a:b) + layer(a:c) * 3 - tv * 0.1") == [
        ("layer", -2.0, "a", "b", None),
        ("layer", 3.0, "a", "c", None),
        ("tv", -0.1, None, None, None),
    ]
    assert terms("+ layer(a:b)") == [("layer", 1.0, "a", "b", None)]


def test_neuron_positions_and_style_paths():
    neuron, centre, style = parse_expression(
        "neuron(vgg16:conv4_1, 4, x=0.25, y=0.75) + neuron(vgg16:conv4_1, 5, y=0.1) + style(vgg16:conv2_1, 'img/a b.png')"
    ).terms
    assert neuron.position == (0.25, 0.75) and neuron.channel == 4
    assert centre.position == (0.5, 0.1)
    assert style.image == "img/a b.png" and style.kind == "style"
    assert parse_expression('style(vgg16:conv2_1, "x.jpg")').terms[0].image == "x.jpg"


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("chanel(vgg16:conv3_3, 37)", 1, "unknown term 'chanel' (did you mean 'channel'?)"),
        ("channel(vgg16:conv3_3 37)", 23, "expected ','"),
        ("channel(vgg16:conv3_3, 37", 26, "ends too early; expected ')'"),
        ("channel(vgg16:conv3_3, 37) / 2", 28, "unexpected character '/'"),
        ("channel(vgg16:conv3_3, -1)", 24, "a channel is a whole number"),
        ("channel(vgg16, 3)", 14, "expected ':'"),
        ("tv(2) + layer(a:b)", 3, "tv takes no arguments"),
        ("layer(a:b) tv", 12, "expected '*', '+', '-' or the end of the expression"),
        ("neuron(a:b, 1, z=0.5)", 16, "unknown neuron argument 'z'"),
        ("neuron(a:b, 1, x=0.5, x=0.2)", 23, "given twice"),
        ("neuron(a:b, 1, x=1.5)", 18, "outside 0..1"),
        ("style(a:b, '')", 12, "image path is empty"),
        ("1e999 * layer(a:b)", 1, "not a finite number"),
        ("- 1e-5 * tv", 10, "needs at least one network term"),
        ("   ", 1, "the objective is empty"),
        ("layer(a:b) +", 13, "ends too early"),
    ],
)
def test_errors_point_at_the_column(text, column, message):
    with pytest.raises(SpecError) as caught:
        parse_expression(text)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.location.column == column, diagnostic.render()
    assert message in diagnostic.message
    assert diagnostic.path == "$.objective"


def test_errors_in_multiline_expressions_have_lines():
    with pytest.raises(SpecError) as caught:
        parse_expression("channel(vgg16:conv3_3, 37)\n  + x tv")
    location = caught.value.diagnostics[0].location
    assert (location.line, location.column) == (2, 7)


@pytest.mark.parametrize(
    "yaml_value",
    [
        '"layer(a:b) tv"',  # double-quoted: the quote shifts by one
        "'layer(a:b) tv'",
        "layer(a:b) tv",  # plain
        '"l\\u0061yer(a:b) tv"',  # an escape is longer in the file than in the value
        "'style(a:b, \"it''s.png\") tv'",  # '' is one quote in the value
        "|\n  layer(a:b)\n  tv",  # literal block: the line break is not an operator
        '"layer(a:b)\n  tv"',  # a quoted scalar folded over two lines
        "layer(a:b)\n  tv",  # a plain scalar folded over two lines
    ],
)
def test_errors_inside_yaml_point_at_the_file(yaml_value):
    """The error is always at the last 'tv' (a term with no operator before it)."""
    text = f"penspec: 1\npens: [{{id: black}}]\nseed: 1\nobjective: {yaml_value}\n"
    lines = text.splitlines()
    line = max(i for i, source in enumerate(lines, 1) if "tv" in source)
    column = lines[line - 1].rindex("tv") + 1
    with pytest.raises(SpecError) as caught:
        load_text(text, source="s.yaml")
    location = caught.value.diagnostics[0].location
    assert (location.file, location.line, location.column) == ("s.yaml", line, column), caught.value.render()
    assert "unexpected 'tv'" in caught.value.diagnostics[0].message
