"""AxiDraw layer names: compose from pen settings, parse back the way AxiDraw reads them."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from penspec.runtime.emit.labels import LayerLabel, compose, parse


@pytest.mark.parametrize(
    "label, text",
    [
        (LayerLabel(number=1, pen="black", height=40, speed=20), "1+H40+S20 black"),
        (LayerLabel(number=2, pen="blue", pause=True, speed=25), "!2+S25 blue"),
        (LayerLabel(number=3, pen="red", pause=True, delay_ms=500, height=30, speed=25), "!3+D500+H30+S25 red"),
        (LayerLabel(number=4, pen="black", pause=True, part=(2, 3)), "!4 black (2/3)"),
        (LayerLabel(number=None, pen=" pen up trajectories", documentation=True), "% pen up trajectories"),
    ],
)
def test_compose_examples(label, text):
    assert compose(label) == text
    assert parse(text) == label


def test_parse_reads_settings_in_any_order_and_case():
    label = parse("!12+s30+h45+D200 fine liner")
    assert (label.number, label.pause, label.speed, label.height, label.delay_ms, label.pen) == (12, True, 30, 45, 200, "fine liner")


def test_parse_free_text_and_unnumbered_layers():
    assert parse("7 notes +H10").height is None  # settings only count right after the number
    assert parse("7 notes +H10").pen == "notes +H10"
    assert parse("sketch").number is None
    assert parse("%1 do not plot").documentation


@pytest.mark.parametrize(
    "label",
    [
        LayerLabel(number=1001, pen="x"),
        LayerLabel(number=1, pen="x", height=101),
        LayerLabel(number=1, pen="x", speed=0),
        LayerLabel(number=1, pen="x", speed=111),
        LayerLabel(number=1, pen="x", delay_ms=-1),
        LayerLabel(number=1, pen="+H3"),
    ],
)
def test_compose_refuses_what_axidraw_would_clamp_or_misread(label):
    with pytest.raises(ValueError):
        compose(label)


pen_ids = st.from_regex(r"[A-Za-z_][A-Za-z0-9_ .-]{0,20}[A-Za-z0-9_]", fullmatch=True)


@given(
    number=st.integers(0, 1000),
    pen=pen_ids,
    pause=st.booleans(),
    delay=st.none() | st.integers(0, 10_000),
    height=st.none() | st.integers(0, 100),
    speed=st.none() | st.integers(1, 110),
    part=st.none() | st.tuples(st.integers(1, 9), st.integers(1, 9)),
)
def test_round_trip(number, pen, pause, delay, height, speed, part):
    label = LayerLabel(number=number, pen=pen, pause=pause, delay_ms=delay, height=height, speed=speed, part=part)
    text = compose(label)
    assert parse(text) == label
    assert text.startswith("!") == pause
