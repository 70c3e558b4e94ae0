"""Valid specs load into the expected dataclasses, with units, defaults and locations resolved."""

from __future__ import annotations

from pathlib import Path

import pytest

from penspec.spec import expression_location, load, load_text
from penspec.spec.errors import SpecError
from penspec.spec.model import AssignPensStage, FinetuneStage, OptimizeStage, TileStage

DATA = Path(__file__).parent / "data"
MINIMAL = "penspec: 1\npens: [{id: black}]\nobjective: channel(vgg16:conv3_3, 37)\n"


def test_full_spec_resolves_units_and_values():
    spec = load(DATA / "full.yaml")
    assert spec.version == 1
    assert spec.title == "VGG16 conv3_3 channel 37"
    assert spec.seed == 42
    assert (spec.paper.width_mm, spec.paper.height_mm) == (420.0, 297.0)  # a3 landscape
    assert spec.paper.landscape and spec.paper.margin_mm == 20.0
    assert spec.paper.color == "#ffffff" and spec.paper.rgb == (1.0, 1.0, 1.0)
    assert spec.canvas == (1024, 1024)
    black, blue = spec.pens
    assert black.color == "#111111" and black.width_mm == 0.3
    assert black.rgb == pytest.approx((17 / 255,) * 3)
    assert black.max_draw_length_mm == 20000.0 and black.delay_ms == 0
    assert blue.color == "#1f4e9c" and blue.width_mm == 0.5 and blue.opacity == 0.8
    assert blue.max_draw_length_mm is None
    assert spec.strokes.pens == (("black", pytest.approx(0.7)), ("blue", pytest.approx(0.3)))
    assert spec.strokes.segments == (1, 3)
    assert spec.network.weights == "imagenet" and spec.network.leaky_relu == 0.1
    assert spec.augment.rotate_deg == 5.0 and spec.augment.scale == (0.9, 1.1) and spec.augment.jitter_px == 8
    assert spec.stages == (
        OptimizeStage(size=(256, 256), steps=500, lr=1.0, views=8),
        TileStage(repeat=(4, 4)),
        FinetuneStage(steps=1500, lr=0.5, views=24),
    )
    assert spec.plot.max_draw_length_mm is None and spec.plot.accel == 75
    assert spec.test.crop == 64
    assert spec.base_dir == str(DATA)
    assert spec.source == str(DATA / "full.yaml")


def test_objective_terms_and_columns():
    spec = load(DATA / "full.yaml")
    channel, tv = spec.objective.terms
    assert (channel.kind, channel.net, channel.layer, channel.channel, channel.weight) == ("channel", "vgg16", "conv3_3", 37, 1.0)
    assert (tv.kind, tv.weight, tv.column) == ("tv", -1e-5, 37)
    # line 11 is `objective: "channel(vgg16:conv3_3, 37) - 1e-5 * tv"`; the expression starts at column 13
    where = expression_location(spec, tv.column)
    assert (where.line, where.column) == (11, 13 + 36)
    assert where.source_line[where.column - 1 : where.column + 1] == "tv"


def test_defaults_come_from_the_schema():
    spec = load_text(MINIMAL, source="pieces/minimal.yaml")
    assert spec.title == "minimal"
    assert spec.base_dir == "."
    assert (spec.paper.name, spec.paper.width_mm, spec.paper.height_mm, spec.paper.margin_mm) == ("a4", 210.0, 297.0, 10.0)
    assert spec.canvas == (256, 256)
    pen = spec.pens[0]
    assert (pen.color, pen.width_mm, pen.opacity, pen.speed_pendown, pen.pen_pos_up) == ("#000000", 0.3, 1.0, 25, 60)
    assert spec.strokes.count == 200 and spec.strokes.segments == (1, 3) and spec.strokes.pens == (("black", 1.0),)
    assert spec.stages == (OptimizeStage(size=None, steps=500, lr=1.0, views=None),)
    assert spec.augment.rotate_deg == 5.0 and spec.augment.scale == (1.0, 1.0)
    assert spec.plot.pipeline == "linemerge linesimplify reloop linesort --two-opt"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.3mm", 0.3),
        ("11in", 279.4),
        ("2cm", 20.0),
        ("12pt", 4.233333),
        ("96px", 25.4),
    ],
)
def test_lengths_in_mm(text, expected):
    spec = load_text(MINIMAL.replace("{id: black}", f"{{id: black, width: {text}}}"))
    assert spec.pens[0].width_mm == pytest.approx(expected)


def test_paper_sizes_and_orientation():
    def paper(fields: str):
        return load_text(MINIMAL + f"paper: {{{fields}}}\n").paper

    assert (paper("size: a3").width_mm, paper("size: a3").height_mm) == (297.0, 420.0)
    assert (paper("size: A3, landscape: true").width_mm, paper("size: A3, landscape: true").height_mm) == (420.0, 297.0)
    assert (paper("size: 11x14in").width_mm, paper("size: 11x14in").height_mm) == (279.4, 355.6)
    custom = paper("size: 297x210mm, color: ivory")
    assert (custom.width_mm, custom.height_mm, custom.color) == (297.0, 210.0, "#fffff0")
    assert paper("size: 210x297mm, landscape: true").width_mm == 297.0


def test_pairs_angles_and_learned_pens():
    spec = load_text(
        MINIMAL
        + "canvas: [512, 256]\nstrokes: {segments: 2, pens: learn}\naugment: {rotate: 0.02turn, scale: 1.2}\n"
        + "stages: [{optimize: {size: [128, 64]}}, {tile: {repeat: 2}}, {assign_pens: {temperature: 0.5}}]\n"
    )
    assert spec.canvas == (512, 256)
    assert spec.strokes.segments == (2, 2) and spec.strokes.pens == "learn"
    assert spec.augment.rotate_deg == pytest.approx(7.2) and spec.augment.scale == (1.2, 1.2)
    assert spec.stages[0].size == (128, 64)
    assert spec.stages[1] == TileStage(repeat=(2, 2))
    assert spec.stages[2] == AssignPensStage(steps=100, lr=0.1, temperature=(0.5, 0.5))


def test_shares_are_normalised_in_pen_order():
    text = "penspec: 1\npens: [{id: a}, {id: b}, {id: c}]\nobjective: layer(vgg16:conv4_1)\nstrokes: {pens: {c: 3, a: 1}}\n"
    assert load_text(text).strokes.pens == (("a", 0.25), ("b", 0.0), ("c", 0.75))


def test_locations_point_at_values():
    spec = load(DATA / "full.yaml")
    width = spec.where("$.pens[1].width")
    assert (width.line, width.column) == (8, 41) and width.source_line.startswith("  - {id: blue")
    assert spec.where("$.stages[1].tile.repeat").line == 15
    assert spec.where("$.stages[1].tile.nothing").line == 15  # falls back to the parent


def test_spec_is_frozen_and_comparable():
    first, second = load_text(MINIMAL), load_text(MINIMAL, source="other.yaml")
    assert first.pens == second.pens and first.objective == second.objective
    with pytest.raises(AttributeError):
        first.seed = 3  # type: ignore[misc]


def test_missing_file_is_a_spec_error(tmp_path):
    with pytest.raises(SpecError, match="no such spec file"):
        load(tmp_path / "absent.yaml")


def test_block_scalar_objective_locations():
    text = "penspec: 1\npens: [{id: black}]\nobjective: >-\n  channel(vgg16:conv3_3, 37)\n  - 1e-5 * tv\n"
    spec = load_text(text, source="s.yaml")
    tv = spec.objective.terms[1]
    where = expression_location(spec, tv.column)
    assert (where.line, where.column) == (5, 12)
