"""What a rebuild reruns: settings only the emitters read never rerun an optimisation stage; a
change to the look (pen colour, nib width, opacity, paper colour or size) re-inks the stored
strokes without rerunning a stage, and is recorded; ``exact`` reruns such stages and then equals
a clean build; a change to the drawing reruns from the first stage it feeds."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from pathlib import Path
from tests.support.build_fixtures import output_files, write_tiny

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


LOOK_CHANGES = {
    "pen-colour": ("pens.1.color=#2255cc",),
    "pen-width": ("pens.0.width=0.7mm",),
    "pen-opacity": ("pens.1.opacity=0.6",),
    "paper-colour": ("paper.color=#f4efe0",),
    "paper-size": ("paper.size=a5",),
}


@pytest.mark.parametrize("what", sorted(LOOK_CHANGES))
def test_look_changes_rerun_no_stage_and_reink_the_strokes(fresh, what):
    spec, out, original = fresh
    changed = build(spec, BuildOptions(out_dir=out, device="cpu", overrides=LOOK_CHANGES[what]))
    assert changed.reused == ALL_STAGES
    assert changed.reinked == ALL_STAGES
    assert [o.steps_run for o in changed.outcomes] == [0, 0, 0]
    assert (changed.scene.control_points == original.scene.control_points).all()
    lock = json.loads((changed.out_dir / "build.lock").read_text())
    assert all(s["optimised_under"]["sha256"] == original.plan.look_sha256 for s in lock["stages"])
    assert lock["look"]["sha256"] == changed.plan.look_sha256 != original.plan.look_sha256
    # the held-out objective is measured again, under the new look
    assert changed.metrics["look_sha256"] == changed.plan.look_sha256
    assert [e["stage"] for e in changed.metrics["reinked"]] == list(ALL_STAGES)
    report = (changed.out_dir / "report.md").read_text()
    assert "optimised under another look" in report


def test_a_new_pen_colour_is_in_the_plotter_files_and_named_in_the_report(fresh):
    spec, out, _ = fresh
    changed = build(spec, BuildOptions(out_dir=out, device="cpu", overrides=("pens.1.color=#2255cc",)))
    svg = (changed.out_dir / "tiny.svg").read_text()
    assert 'stroke="#2255cc"' in svg and 'stroke="#cc2222"' not in svg
    assert "pen red colour #cc2222 -> #2255cc" in (changed.out_dir / "report.md").read_text()
    assert "pen red colour #cc2222 -&gt; #2255cc" in svg  # provenance in the SVG metadata


def test_exact_reoptimises_under_the_new_look_and_equals_a_clean_build(fresh, tmp_path):
    spec, out, _ = fresh
    overrides = ("pens.1.color=#2255cc",)
    exact = build(spec, BuildOptions(out_dir=out, device="cpu", overrides=overrides, exact=True))
    assert exact.reused == () and exact.reinked == ()
    clean = build(spec, BuildOptions(out_dir=str(tmp_path / "clean"), device="cpu", overrides=overrides))
    assert output_files(exact.out_dir) == output_files(clean.out_dir)


def test_a_look_change_with_a_drawing_change_reruns_only_the_changed_stages(fresh):
    spec, out, _ = fresh
    changed = build(spec, BuildOptions(out_dir=out, device="cpu", overrides=("pens.1.color=#2255cc", "stages.2.finetune.lr=0.25")))
    assert changed.reused == ALL_STAGES[:2]
    assert changed.reinked == ALL_STAGES[:2]
    assert changed.outcomes[2].steps_run == 2


def test_a_drawing_change_reruns_from_its_first_stage(fresh):
    spec, out, _ = fresh
    changed = build(spec, BuildOptions(out_dir=out, device="cpu", overrides=("stages.2.finetune.lr=0.25",)))
    assert changed.reused == ALL_STAGES[:2]
    assert changed.reinked == ()


def test_an_unchanged_rebuild_finds_the_folder_up_to_date(fresh):
    spec, out, original = fresh
    again = build(spec, BuildOptions(out_dir=out, device="cpu"))
    assert again.up_to_date
    assert again.reused == ALL_STAGES
    assert (again.scene.control_points == original.scene.control_points).all()
    assert again.metrics == original.metrics


@pytest.mark.parametrize("damage", ["edit", "delete"])
def test_a_damaged_output_is_written_again(fresh, damage):
    spec, out, original = fresh
    svg = Path(out) / "tiny.svg"
    if damage == "edit":
        svg.write_text(svg.read_text().replace("#cc2222", "#000000"))
    else:
        svg.unlink()
    again = build(spec, BuildOptions(out_dir=out, device="cpu"))
    assert not again.up_to_date
    assert again.reused == ALL_STAGES
    assert output_files(again.out_dir) == output_files(original.out_dir)


def test_force_and_exact_never_take_the_up_to_date_path(fresh):
    spec, out, _ = fresh
    assert not build(spec, BuildOptions(out_dir=out, device="cpu", force=True)).up_to_date
    assert build(spec, BuildOptions(out_dir=out, device="cpu", exact=True)).up_to_date  # nothing re-inked: exact changes nothing


def test_an_up_to_date_rebuild_does_not_import_torch(fresh):
    spec, out, _ = fresh
    code = (
        "import sys\n"
        "from penspec.runtime.build import BuildOptions, build\n"
        f"result = build({str(spec)!r}, BuildOptions(out_dir={out!r}, device='cpu'))\n"
        "assert result.up_to_date, 'not up to date'\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("detour", [("pens.1.speed_pendown=40",), ("pens.1.color=#2255cc",)], ids=["emitter", "look"])
def test_back_to_the_original_spec_reuses_again(fresh, detour):
    spec, out, original = fresh
    build(spec, BuildOptions(out_dir=out, device="cpu", overrides=detour))
    again = build(spec, BuildOptions(out_dir=out, device="cpu"))
    assert again.reused == ALL_STAGES and again.reinked == ()
    assert output_files(again.out_dir) == output_files(original.out_dir)
