"""`penspec test --render`: smoke builds of each spec against a golden summary."""

import json
import shutil
from pathlib import Path

import pytest
from tests.support.clirun import run_cli

from penspec.runtime.smoke import smoke_overrides
from penspec.spec import load

GALLERY = Path(__file__).resolve().parents[3] / "gallery"




def test_smoke_overrides_cut_every_stage_and_switch_weights():
    spec = load(GALLERY / "vgg16-conv3_3-37" / "spec.yaml")
    overrides = smoke_overrides(spec)
    assert f"network.weights={spec.test.weights}" in overrides and spec.test.weights == "random"
    assert "network.precision=fp32" in overrides  # a golden must not depend on whether the CPU has bf16
    kinds = [s.kind for s in spec.stages]
    for i, kind in enumerate(kinds):
        if kind in ("optimize", "finetune"):
            assert f"stages.{i}.{kind}.steps={spec.test.steps}" in overrides
    assert not any(o.startswith(f"stages.{kinds.index('tile')}.") for o in overrides)


def test_render_golden_round_trip(tmp_path, capsys):
    shutil.copytree(GALLERY / "hello", tmp_path / "hello")
    (tmp_path / "hello" / "render.json").unlink(missing_ok=True)
    code, text = run_cli(["test", "--render", str(tmp_path)], capsys)
    assert code == 1 and "missing  render" in text
    code, text = run_cli(["test", "--render", "--update", str(tmp_path)], capsys)
    assert code == 0, text
    summary = json.loads((tmp_path / "hello" / "render.json").read_text())
    assert summary["pens"][0]["id"] == "black"
    assert summary["pens"][0]["strokes"] == load(tmp_path / "hello" / "spec.yaml").strokes.count
    assert summary["pens"][0]["paths"] >= 1 and summary["pens"][0]["ink_mm"] > 0
    code, text = run_cli(["test", "--render", str(tmp_path)], capsys)
    assert code == 0, text

    summary["pens"][0]["paths"] += 1
    (tmp_path / "hello" / "render.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    code, text = run_cli(["test", "--render", str(tmp_path)], capsys)
    assert code == 1 and "mismatch render" in text
    assert f'-      "paths": {summary["pens"][0]["paths"]},' in text


@pytest.mark.slow
def test_gallery_render_goldens(capsys):
    code, text = run_cli(["test", "--render", str(GALLERY)], capsys)
    assert code == 0, text
