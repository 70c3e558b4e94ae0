"""`penspec build` end to end on tiny specs: outputs, determinism, stage reuse, errors, CLI."""

from __future__ import annotations

import json

import pytest
from tests.support.browser import load, needs_chromium
from tests.support.build_fixtures import output_files, write_tiny
from click.testing import CliRunner
from penspec.runtime.build import BuildOptions, build, piece_name
from penspec.runtime.progress import SilentReporter
from penspec.spec.errors import MissingResourceError, SpecError


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("piece")
    spec = write_tiny(folder)
    reporter = SilentReporter()
    result = build(spec, BuildOptions(out_dir=str(folder / "out"), device="cpu"), reporter)
    return spec, result, reporter


def test_outputs_of_a_build(built):
    _, result, _ = built
    out = result.out_dir
    for name in ("plan.json", "metrics.json", "history.json", "build.lock", "tiny.svg", "preview.png", "plot.py", "report.json",
                 "report.md", "report.html"):
        assert (out / name).is_file(), name
    assert sorted(p.name for p in (out / "pens").iterdir()) == ["1-black.svg", "2-red.svg"]
    assert sorted(p.name for p in (out / "snapshots").iterdir()) == [
        "0-optimize-00002.png", "0-optimize-00004.png", "2-finetune-00002.png", "2-finetune-00004.png"]
    assert json.loads((out / "plan.json").read_text())["title"] == "tiny piece"
    assert result.scene.size == (96, 96) and result.scene.stroke_count == 48
    assert result.scene.control_points.min() >= 0 and result.scene.control_points.max() <= 96
    assert [d.name.split("-")[1] for d in sorted((out / "stages").iterdir())] == ["optimize", "tile", "finetune"]


def test_metrics_before_and_after_everywhere(built):
    _, result, reporter = built
    objective = result.metrics["objective"]
    assert [t["term"] for t in objective["terms"]] == ["channel(resnet18:layer1, 3)", "tv", "crowding"]  # strokes.crowding: the default knot cost
    assert objective["before"] == pytest.approx(sum(t["weight"] * t["before"] for t in objective["terms"]))
    assert json.loads((result.out_dir / "metrics.json").read_text()) == result.metrics
    report = json.loads((result.out_dir / "report.json").read_text())
    assert report["objective"]["before"] == objective["before"] and report["objective"]["after"] == objective["after"]
    assert any(e[0] == "note" and "before" in e[1] and "after" in e[1] for e in reporter.events)


def test_build_lock(built):
    _, result, _ = built
    lock = json.loads((result.out_dir / "build.lock").read_text())
    assert lock["seed"] == 3 and lock["renderer"] == "torch" and lock["device"].startswith("cpu")
    assert set(lock["versions"]) >= {"penspec", "torch", "torchvision", "vpype"}
    assert [s["fingerprint"] for s in lock["stages"]] == [s.fingerprint for s in result.plan.stages]
    assert all(s["seconds"] >= 0 for s in lock["stages"])
    assert len(lock["spec_sha256"]) == 64 and len(lock["plan_sha256"]) == 64
    assert lock["objective"] == {k: result.metrics["objective"][k] for k in ("before", "after")}


def test_history_of_every_optimising_stage_step_by_step(built):
    _, result, reporter = built
    data = json.loads((result.out_dir / "history.json").read_text())
    assert data["columns"] == ["objective", "channel(resnet18:layer1, 3)", "tv", "crowding"]
    assert [s["stage"] for s in data["stages"]] == ["0-optimize", "2-finetune"]
    losses: dict[str, list[float]] = {}
    for event in reporter.events:
        if event[0] == "step":
            losses.setdefault(event[1], []).append(event[3])
    for stage, stored in zip(data["stages"], sorted((result.out_dir / "stages").glob("*-*-*/history.json")), strict=True):
        assert stage["first_step"] == 0 and len(stage["steps"]) == 4
        assert [row[0] for row in stage["steps"]] == [-loss for loss in losses[stage["stage"]]]  # the optimiser's own values
        assert all(row[0] == pytest.approx(row[1] - 1e-4 * row[2] - 0.3 * row[3], rel=1e-5, abs=1e-6) for row in stage["steps"])
        assert json.loads(stored.read_text()) == stage
    lock = json.loads((result.out_dir / "build.lock").read_text())
    assert {"history.json", "report.html"} <= set(lock["outputs"])


@needs_chromium
def test_build_page_in_a_browser(built):
    _, result, _ = built
    page = result.out_dir / "report.html"
    loaded = load(page, "hide=pen-2&show=travel")
    assert loaded.console == [] and loaded.elements("html")[0].attrs.get("data-ready") == "1"
    pens = loaded.elements("g", class_="pen")
    assert [(g.attrs["data-pen"], g.attrs["stroke"], "off" in g.classes) for g in pens] == [
        ("black", "#111111", False), ("red", "#cc2222", True)]
    chart = loaded.dom.split('id="objective-chart"')[1].split("</svg>")[0]
    assert chart.count('class="series"') == 2  # 0-optimize and 2-finetune; the tile stage does not optimise
    assert "off" not in loaded.by_id("travel").classes
    labels = [f.attrs["data-label"] for f in loaded.elements("figure", class_="frame")]
    assert labels == ["0-optimize, step 2 of 4", "0-optimize, step 4 of 4", "2-finetune, step 2 of 4", "2-finetune, step 4 of 4",
                      "the plotted layers (preview.png)"]
    assert loaded.by_id("spec").text == (result.out_dir.parent / "tiny.yaml").read_text()


def test_two_builds_are_byte_identical(built, tmp_path):
    spec, first, _ = built
    again = build(spec, BuildOptions(out_dir=str(tmp_path / "again"), device="cpu"))
    a, b = output_files(first.out_dir), output_files(again.out_dir)
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []


def test_channel_rises_on_held_out_views(tmp_path):
    spec = write_tiny(tmp_path, steps=12, finetune=4, objective="channel(resnet18:layer1, 3)")
    result = build(spec, BuildOptions(out_dir=str(tmp_path / "out"), device="cpu"))
    objective = result.metrics["objective"]
    assert objective["after"] > objective["before"]


def test_rebuild_reuses_unchanged_stages_and_reruns_from_the_first_change(tmp_path):
    spec = write_tiny(tmp_path, steps=2, finetune=2)
    out = str(tmp_path / "out")
    first = build(spec, BuildOptions(out_dir=out, device="cpu"))
    assert first.reused == ()
    first_files = output_files(first.out_dir)
    same = build(spec, BuildOptions(out_dir=out, device="cpu"))
    assert same.reused == ("0-optimize", "1-tile", "2-finetune")
    assert output_files(same.out_dir) == first_files
    changed = build(spec, BuildOptions(out_dir=out, device="cpu", overrides=("stages.2.finetune.steps=3",)))
    assert changed.reused == ("0-optimize", "1-tile")
    before, after = json.loads(first_files["history.json"]), json.loads((tmp_path / "out" / "history.json").read_text())
    assert after["stages"][0] == before["stages"][0]  # a reused stage keeps its history
    assert len(after["stages"][1]["steps"]) == 3
    stage_dirs = sorted(p.name for p in (tmp_path / "out" / "stages").iterdir())
    assert len(stage_dirs) == 3 and stage_dirs[2] == f"2-finetune-{changed.plan.stages[2].fingerprint[:12]}"
    forced = build(spec, BuildOptions(out_dir=out, device="cpu", force=True))
    assert forced.reused == ()
    assert output_files(forced.out_dir) == first_files


def test_a_folder_built_before_the_page_existed_gets_one_from_its_stored_stages(tmp_path):
    spec = write_tiny(tmp_path, steps=1, finetune=1)
    out = tmp_path / "out"
    first = build(spec, BuildOptions(out_dir=str(out), device="cpu"))
    page = (out / "report.html").read_bytes()
    lock = json.loads((out / "build.lock").read_text())
    for name in ("report.html", "history.json"):
        del lock["outputs"][name]
        (out / name).unlink()
    (out / "build.lock").write_text(json.dumps(lock))
    again = build(spec, BuildOptions(out_dir=str(out), device="cpu"))
    assert not again.up_to_date and again.reused == first.reused + ("0-optimize", "1-tile", "2-finetune")
    assert (out / "report.html").read_bytes() == page


def test_offline_imagenet_weights_fail_before_any_stage(tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    spec = write_tiny(tmp_path, weights="imagenet")
    with pytest.raises(MissingResourceError, match="resnet18-f37072fd.pth"):
        build(spec, BuildOptions(out_dir=str(tmp_path / "out"), device="cpu"))
    assert (tmp_path / "out" / "plan.json").is_file()
    assert not (tmp_path / "out" / "stages").exists()


def test_bad_spec_is_a_spec_error_with_a_location(tmp_path):
    spec = write_tiny(tmp_path)
    with pytest.raises(SpecError) as info:
        build(spec, BuildOptions(out_dir=str(tmp_path / "out"), overrides=("strokes.count=0",)))
    assert "strokes.count" in str(info.value)


def test_cli_build(tmp_path):
    from penspec.runtime.cli import cli

    spec = write_tiny(tmp_path)
    result = CliRunner().invoke(cli, ["build", str(spec), "-o", str(tmp_path / "cli"), "--device", "cpu", "--set", "seed=9"])
    assert result.exit_code == 0, result.output
    assert "->" in result.output and (tmp_path / "cli" / "tiny.svg").is_file()
    assert json.loads((tmp_path / "cli" / "plan.json").read_text())["seed"] == 9


def test_default_output_dir_and_piece_name(tmp_path, monkeypatch):
    folder = tmp_path / "gallery" / "hello"
    spec = write_tiny(folder, "spec.yaml", steps=1, finetune=1)
    assert piece_name(spec) == "hello"
    monkeypatch.chdir(tmp_path)
    result = build(spec, BuildOptions(device="cpu"))
    assert result.out_dir.resolve() == (tmp_path / "build" / "hello").resolve()
    assert (tmp_path / "build" / "hello" / "hello.svg").is_file()


def test_learned_pens_end_on_real_pens(tmp_path):
    spec = tmp_path / "learn.yaml"
    spec.write_text(
        write_tiny(tmp_path).read_text()
        .replace("strokes: {count: 12, segments: [1, 3], extent: 0.2}", "strokes: {count: 12, pens: learn}")
        .replace("  - finetune: {steps: 4}", "  - finetune: {steps: 1}\n  - assign_pens: {steps: 3, lr: 0.5}")
    )
    result = build(spec, BuildOptions(out_dir=str(tmp_path / "out"), device="cpu"))
    assert [s.kind for s in result.plan.stages] == ["optimize", "tile", "finetune", "assign_pens"]
    assert set(result.scene.stroke_pen.tolist()) <= {0, 1}
    assert (tmp_path / "out" / "snapshots" / "3-assign_pens-00002.png").is_file()


def test_unavailable_renderer_is_a_missing_resource(tmp_path):
    import importlib.util

    if importlib.util.find_spec("pydiffvg") is not None:
        pytest.skip("pydiffvg is installed here")
    spec = write_tiny(tmp_path)
    with pytest.raises(MissingResourceError, match="diffvg"):
        build(spec, BuildOptions(out_dir=str(tmp_path / "out"), device="cpu", renderer="diffvg"))
    assert not (tmp_path / "out" / "stages").exists()
