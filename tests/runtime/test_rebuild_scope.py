"""What a rebuild reruns: settings only the emitters read never rerun an optimisation stage;
anything the renderer or the net sees does, from the first stage it feeds."""

from __future__ import annotations

import json
import shutil

import pytest
from build_fixtures import output_files, write_tiny

from penspec.runtime.build import BuildOptions, build

ALL_STAGES = ("0-optimize", "1-tile", "2-finetune")


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rebuild")
    spec = write_tiny(folder, steps=2, finetune=2)
    out = str(folder / "out")
    return spec, out, build(spec, BuildOptions(out_dir=out, device="cpu"))


@pytest.fixture
def fresh(first, tmp_path):
    """A copy of the first build's folder (stage store included), so each change starts from it."""
    spec, out, original = first
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    return spec, str(copy), original


@pytest.mark.parametrize(
    "overrides",
    [
        ("pens.1.speed_pendown=40", "pens.1.pen_pos_down=20", "pens.0.delay=150"),
        ("pens.0.max_draw_length=1m",),
        ("plot.pause_between_pens=false", "plot.penup_layer=true", "plot.accel=50"),
        ("plot.optimize=false",),
        ("title=another title", "plot.model=2"),
    ],
    ids=["pen-axidraw-settings", "max-draw-length", "plot-options", "no-travel-optimisation", "title-and-model"],
)
def test_emitter_only_changes_reuse_every_stage(fresh, overrides):
    spec, out, original = fresh
    changed = build(spec, BuildOptions(out_dir=out, device="cpu", overrides=overrides))
    assert changed.reused == ALL_STAGES
    assert [o.steps_run for o in changed.outcomes] == [0, 0, 0]
    # same strokes, new plotter files
    assert (changed.scene.control_points == original.scene.control_points).all()
    lock = json.loads((changed.out_dir / "build.lock").read_text())
    assert all(s["reused"] for s in lock["stages"])


def test_emitter_change_rewrites_the_plotter_files(fresh):
    spec, out, _ = fresh
    changed = build(spec, BuildOptions(out_dir=out, device="cpu", overrides=("pens.1.speed_pendown=40",)))
    svg = (changed.out_dir / "tiny.svg").read_text()
    assert "+S40 red" in svg


@pytest.mark.parametrize(
    "overrides, first_rerun",
    [
        (("pens.1.color=#2255cc",), "0-optimize"),  # the net sees the ink colour
        (("pens.0.width=0.7mm",), "0-optimize"),  # and the nib width in px
        (("paper.color=#f4efe0",), "0-optimize"),  # and the paper
        (("stages.2.finetune.lr=0.25",), "2-finetune"),
    ],
    ids=["pen-colour", "pen-width", "paper-colour", "finetune-lr"],
)
def test_what_the_net_sees_reruns_from_its_first_stage(fresh, overrides, first_rerun):
    spec, out, _ = fresh
    changed = build(spec, BuildOptions(out_dir=out, device="cpu", overrides=overrides))
    assert changed.reused == ALL_STAGES[: ALL_STAGES.index(first_rerun)]


def test_back_to_the_original_spec_reuses_again(fresh):
    spec, out, original = fresh
    build(spec, BuildOptions(out_dir=out, device="cpu", overrides=("pens.1.speed_pendown=40",)))
    again = build(spec, BuildOptions(out_dir=out, device="cpu"))
    assert again.reused == ALL_STAGES
    assert output_files(again.out_dir) == output_files(original.out_dir)
