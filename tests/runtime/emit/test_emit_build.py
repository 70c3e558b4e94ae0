"""The emitters on a real (tiny) build: spec -> plan -> a few optimisation steps -> files."""

import json
import os
import subprocess
import sys

import pytest
import vpype as vp
from tests.support.emit_scenes import FAKE_PYAXIDRAW

from penspec.spec.units import PX_PER_MM
from penspec.runtime.emit.labels import parse
from penspec.runtime.emit.plotter import plot_build

TINY = """\
penspec: 1
title: 'tiny "quoted" \\ piece'
seed: 5
paper: {size: a6, margin: 10mm}
canvas: 64
pens:
  - {id: black, color: "#111", width: 0.5mm}
  - {id: red, color: "#c22", width: 0.8mm, opacity: 0.8}
strokes: {count: 10, segments: [1, 2], extent: 0.2}
network: {weights: random}
objective: "channel(resnet18:layer1, 3)"
augment: {views: 2, crop: 48, jitter: 2}
stages:
  - optimize: {steps: 3}
plot: {model: 2, max_draw_length: 150mm}
output: {snapshot_every: 0, checkpoint_every: 10, preview_dpi: 100}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    build_mod = pytest.importorskip("penspec.runtime.build")
    folder = tmp_path_factory.mktemp("tiny")
    (folder / "tiny.yaml").write_text(TINY)
    return build_mod.build(str(folder / "tiny.yaml"), build_mod.BuildOptions(out_dir=str(folder / "out")))


def test_a_real_build_emits_every_plotter_file(built):
    out = built.out_dir
    for name in ["tiny.svg", "pens/1-black.svg", "pens/2-red.svg", "preview.png", "plot.py", "report.json", "report.md"]:
        assert (out / name).is_file(), name
    doc = vp.read_multilayer_svg(str(out / "tiny.svg"), 0.05)
    labels = [parse(doc.layers[k].property("vp_name")) for k in sorted(doc.layers)]
    assert [l.number for l in labels] == sorted(doc.layers) == list(range(1, len(labels) + 1))
    pens_in_order = [l.pen for l in labels]
    assert pens_in_order == sorted(pens_in_order, key=["black", "red"].index)  # spec order, parts adjacent
    assert set(pens_in_order) == {"black", "red"}
    for k, label in zip(sorted(doc.layers), labels, strict=True):
        pen = built.plan.pen(label.pen)
        assert doc.layers[k].property("vp_pen_width") / PX_PER_MM == pytest.approx(pen.width_mm, abs=1e-3)
        assert doc.layers[k].property("vp_color") == vp.Color(pen.color)
        changes = k > 1 and labels[k - 2].pen != label.pen
        assert label.pause == (changes or (label.part is not None and label.part[0] > 1))
    report = json.loads((out / "report.json").read_text())
    assert report["objective"]["after"] == built.metrics["objective"]["after"]
    assert report["provenance"]["spec_sha256"] == built.plan.spec_sha256
    assert all(l["ink_mm"] <= 150.0 for p in report["pens"] for l in p["layers"])
    assert any("opacity 0.8" in w for w in report["warnings"])


def test_plot_script_and_plot_command_on_a_real_build(built, fake_pyaxidraw):
    out = built.out_dir
    env = dict(os.environ, PYTHONPATH=str(FAKE_PYAXIDRAW), FAKE_PYAXIDRAW_LOG=str(out / "fake.log"))
    proc = subprocess.run([sys.executable, "-s", str(out / "plot.py"), "--preview"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    layers = json.loads((out / "report.json").read_text())["totals"]["layers"]
    assert proc.stdout.count("estimate:") == layers
    session = plot_build(out, preview=True, echo=lambda s: None)
    assert [r.number for r in session.layers] == list(range(1, layers + 1))
    assert session.time_s > 0
