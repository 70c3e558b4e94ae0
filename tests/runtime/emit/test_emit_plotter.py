"""`penspec plot BUILD_DIR`: the plot flow in-process, against the fake pyaxidraw."""

import dataclasses
import json
import sys

import pytest
from tests.support.emit_scenes import PROVENANCE, lines_scene
from tests.support.factories import make_plan

from penspec.runtime.cli import main
from penspec.runtime.emit import emit_all
from penspec.runtime.emit.plotter import plot_build
from penspec.spec.errors import MissingResourceError, UsageError


def build(tmp_path, plan=None, scene=None):
    plan = plan or make_plan(canvas=64)
    emit_all(plan, scene or lines_scene(), tmp_path, stem="piece", provenance=PROVENANCE, preview=False)
    (tmp_path / "plan.json").write_text(plan.to_json())
    return plan


def penspec(*argv):
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    return exit_info.value.code


def runs(fake):
    return [c for c in fake.CALLS if c["call"] == "plot_run"]


def test_plot_command_plots_every_layer_in_order(tmp_path, fake_pyaxidraw, capsys):
    plan = build(tmp_path)
    assert penspec("plot", str(tmp_path), "--yes") == 0
    done = runs(fake_pyaxidraw)
    assert [c["plotted"] for c in done] == [["1+H30+S25 black"], ["2+H30+S25 blue"]]
    assert all(c["options"]["mode"] == "layers" and c["options"]["model"] == plan.plot.model for c in done)
    assert "Layer 2: pen blue, #1f4e9c, 0.5 mm" in capsys.readouterr().out
    assert json.loads((tmp_path / "plot-progress.json").read_text())["layer"] == 2


def test_plot_preview_prints_the_estimate(tmp_path, fake_pyaxidraw, capsys):
    build(tmp_path)
    assert penspec("plot", str(tmp_path), "--preview", "--layer", "2") == 0
    (run,) = runs(fake_pyaxidraw)
    assert run["options"]["preview"] and run["options"]["layer"] == 2
    out = capsys.readouterr().out
    assert "estimate:" in out and "Estimated total:" in out


def test_plot_asks_for_each_pen_in_process(tmp_path, fake_pyaxidraw):
    build(tmp_path)
    asked = []
    session = plot_build(tmp_path, ask=asked.append, echo=lambda s: None)
    assert [r.number for r in session.layers] == [1, 2] and not session.stopped
    assert asked[0].startswith("Layer 1: pen black, #111111, 0.3 mm: load the pen")

    def stop(prompt):
        if "blue" in prompt:
            raise KeyboardInterrupt

    session = plot_build(tmp_path, ask=stop, echo=lambda s: None)
    assert [r.number for r in session.layers] == [1] and session.stopped


def test_plot_resume(tmp_path, fake_pyaxidraw):
    plan = make_plan(canvas=64)
    build(tmp_path, dataclasses.replace(plan, pens=(dataclasses.replace(plan.pens[0], max_draw_length_mm=120.0), plan.pens[1])),
          lines_scene(per_pen=4))
    ad = fake_pyaxidraw.AxiDraw()
    ad.plot_setup(str(tmp_path / "piece.svg"))
    (tmp_path / "plot-progress.svg").write_text(ad.plot_run(True))  # paused before "!2"
    (tmp_path / "plot-progress.json").write_text(json.dumps({"layer": 2}))
    fake_pyaxidraw.CALLS.clear()
    session = plot_build(tmp_path, resume=True, yes=True, echo=lambda s: None)
    assert [(r.number, r.resumed) for r in session.layers] == [(2, True), (3, False)]
    assert [c["options"]["mode"] for c in runs(fake_pyaxidraw)] == ["res_plot", "layers"]


def test_missing_pyaxidraw_is_an_input_error_with_the_install_hint(tmp_path, monkeypatch, capsys):
    build(tmp_path)
    monkeypatch.setitem(sys.modules, "pyaxidraw", None)
    with pytest.raises(MissingResourceError, match="not on PyPI"):
        plot_build(tmp_path, yes=True)
    assert penspec("plot", str(tmp_path), "--yes") == 2
    assert "axidraw.com" in capsys.readouterr().err


def test_plot_needs_a_build(tmp_path, fake_pyaxidraw, capsys):
    assert penspec("plot", str(tmp_path)) == 2
    assert "plan.json" in capsys.readouterr().err
    build(tmp_path)
    with pytest.raises(UsageError, match="no layer 7"):
        plot_build(tmp_path, layer=7, yes=True)
    with pytest.raises(UsageError, match="nothing to resume"):
        plot_build(tmp_path, resume=True, yes=True)
    (tmp_path / "plan.json").write_text('{"version": 1}')
    assert penspec("plot", str(tmp_path)) == 2
    assert "not a penspec plan" in capsys.readouterr().err


def test_a_layer_stopped_early_ends_the_session(tmp_path, fake_pyaxidraw):
    import types

    build(tmp_path)

    class Stopping(fake_pyaxidraw.AxiDraw):
        def plot_run(self, output=False):
            out = super().plot_run(output)
            self.errors = types.SimpleNamespace(code=102)
            return out

    said = []
    module = types.SimpleNamespace(AxiDraw=Stopping)
    session = plot_build(tmp_path, yes=True, echo=said.append, axidraw=module)
    assert session.stopped and [(r.number, r.stop_code) for r in session.layers] == [(1, 102)]
    assert "--resume" in said[-1]
