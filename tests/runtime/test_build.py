"""`penspec build` end to end on tiny specs: outputs, determinism, stage reuse, errors, CLI."""

from __future__ import annotations

import json

import pytest
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
    for name in ("plan.json", "metrics.json", "build.lock", "tiny.svg", "preview.png", "plot.py", "report.json", "report.md"):
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
    assert [t["term"] for t in objective["terms"]] == ["channel(resnet18:layer1, 3)", "tv"]
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
    stage_dirs = sorted(p.name for p in (tmp_path / "out" / "stages").iterdir())
    assert len(stage_dirs) == 3 and stage_dirs[2] == f"2-finetune-{changed.plan.stages[2].fingerprint[:12]}"
    forced = build(spec, BuildOptions(out_dir=out, device="cpu", force=True))
    assert forced.reused == ()
    assert output_files(forced.out_dir) == first_files


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
