"""What the report promises against what AxiDraw does, on the fake pyaxidraw and by hand.

The fake follows the AxiDraw software's behaviour: auto_rotate turns a portrait page so the pen
starts at the page's top-right corner; a ``!`` layer plotted on its own pauses at 0 mm and
``res_plot`` does not resume a pause at 0 mm; without a plotter a run fails with code 101.
"""

import dataclasses
import json
import os
import shlex
import subprocess
import sys

import pytest
from tests.support.emit_scenes import FAKE_PYAXIDRAW, PROVENANCE, line_cubic, lines_scene, scene_from_strokes
from tests.support.factories import make_plan

from penspec.runtime.cli import main
from penspec.runtime.emit import emit_all
from penspec.runtime.emit.plotflow import EXIT_NO_PLOTTER, PROGRESS_STATE, PROGRESS_SVG
from penspec.runtime.emit.plotter import plot_build


def landscape(plan):
    """The same plan on an A6 page turned landscape (148 x 105 mm), the canvas centred again."""
    w, h = plan.paper.height_mm, plan.paper.width_mm
    side = plan.canvas.width_px * plan.canvas.mm_per_px
    canvas = dataclasses.replace(plan.canvas, origin_mm=((w - side) / 2, (h - side) / 2))
    return dataclasses.replace(plan, paper=dataclasses.replace(plan.paper, width_mm=w, height_mm=h, landscape=True), canvas=canvas)


def build(path, plan, scene=None):
    emit_all(plan, scene or lines_scene(), path, stem="piece", provenance=PROVENANCE, preview=False)
    (path / "plan.json").write_text(plan.to_json())
    return json.loads((path / "report.json").read_text())


def fake_env(path, **extra):
    return dict(os.environ, FAKE_PYAXIDRAW_LOG=str(path / "fake.log"), PYTHONPATH=str(FAKE_PYAXIDRAW), **extra)


def run(path, argv, **extra):
    (path / "fake.log").unlink(missing_ok=True)
    proc = subprocess.run([sys.executable, "-s", *argv], cwd=path, env=fake_env(path, **extra), capture_output=True,
                          text=True, timeout=60)
    log = path / "fake.log"
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return proc, [c for c in calls if c["call"] == "plot_run"]


def layers(report):
    return [layer for pen in report["pens"] for layer in pen["layers"]]


# A scene off the page's centre line, so that the home corner changes the pen-up travel.
OFF_CENTRE = scene_from_strokes([(0, [line_cubic((4, 10), (30, 10))])], (64, 64))


@pytest.mark.parametrize("turn", [False, True], ids=["portrait", "landscape"])
def test_the_report_plot_py_penspec_plot_and_axicli_measure_the_same_plot(tmp_path, turn, fake_pyaxidraw):
    plan = make_plan(canvas=64)
    plan = landscape(plan) if turn else plan
    report = build(tmp_path, plan, lines_scene(per_pen=4))
    assert report["paper"]["rotated"] is (not turn)
    assert report["paper"]["home_mm"] == ([0.0, 0.0] if turn else [105.0, 0.0])
    proc, script_runs = run(tmp_path, ["plot.py", "--preview"])
    assert proc.returncode == 0, proc.stderr
    session = plot_build(tmp_path, preview=True, echo=lambda s: None)
    for layer, script_run, result in zip(layers(report), script_runs, session.layers, strict=True):
        assert script_run["options"]["auto_rotate"] is True
        assert result.number == layer["number"]
        proc, (axicli_run,) = run(tmp_path, ["-m", *shlex.split(layer["axicli"])])  # `axicli ...` -> `python -m axicli ...`
        assert proc.returncode == 0, proc.stderr
        assert axicli_run["options"]["auto_rotate"] is True and axicli_run["options"]["layer"] == layer["number"]
        assert result.pen_lifts == layer["lifts"]
        assert result.pendown_m * 1000 == pytest.approx(layer["ink_mm"], rel=1e-3)
        assert (result.total_m - result.pendown_m) * 1000 == pytest.approx(layer["penup_mm"], rel=1e-3)


def test_a_portrait_page_is_measured_from_its_top_right_corner(tmp_path, fake_pyaxidraw):
    report = build(tmp_path, make_plan(canvas=64, pens=1), OFF_CENTRE)
    (layer,) = layers(report)
    ad = fake_pyaxidraw.AxiDraw()
    ad.plot_setup(str(tmp_path / "piece.svg"))
    ad.options.preview = True
    ad.plot_run()
    turned = ad.distance_total - ad.distance_pendown
    ad.options.auto_rotate = False  # from the top-left corner, as the report assumed before
    ad.plot_run()
    unturned = ad.distance_total - ad.distance_pendown
    assert turned * 1000 == pytest.approx(layer["penup_mm"], rel=1e-3)
    assert abs(unturned - turned) > 0.05 * turned  # the corner matters on this scene


@pytest.mark.parametrize(
    "turn, penup_mm, time_s",
    [
        # A6 portrait 105 x 148 mm, turned: home is the page's top-right corner (105, 0). The line
        # runs (15.31, 44.78) -> (49.84, 44.78) mm: 34.53 mm pen-down, pen-up 99.61 + 71.68 mm.
        (False, 171.29, 2.431),
        # A6 landscape 148 x 105 mm: home (0, 0); the line (36.81, 23.28) -> (71.34, 23.28) mm.
        (True, 118.60, 2.081),
    ],
    ids=["portrait", "landscape"],
)
def test_the_report_reproduces_axidraws_figures(tmp_path, turn, penup_mm, time_s):
    """Expected figures worked out by hand from AxiDraw's behaviour and constants, not penspec's code.

    25 % pen-down speed = 25/110 x 8.6979 in/s = 50.21 mm/s at 75 % of 40 in/s^2 (762 mm/s^2);
    75 % pen-up = 150.63 mm/s at 75 % of 60 in/s^2 (1143 mm/s^2); each move rest to rest,
    L/v + v/a. Servo 30 % travel: lower ((2.69*30 + 45)^4 + (200*30/50)^4)^(1/4) = 146.2 ms,
    raise (rate 75) 130.6 ms. Draw 0.754 s, pen-up 0.661 + 0.476 + 0.264 s servo = 2.431 s.
    """
    plan = make_plan(canvas=64, pens=1)
    report = build(tmp_path, landscape(plan) if turn else plan, OFF_CENTRE)
    (layer,) = layers(report)
    assert layer["lifts"] == 1 and layer["ink_mm"] == pytest.approx(34.53, rel=1e-3)
    assert layer["penup_mm"] == pytest.approx(penup_mm, rel=0.01)
    assert layer["time_s"] == pytest.approx(time_s, rel=0.01)


def test_every_axicli_command_plots_its_layer_even_a_pause_layer(tmp_path):
    plan = make_plan(canvas=64)
    plan = dataclasses.replace(plan, pens=(dataclasses.replace(plan.pens[0], max_draw_length_mm=120.0), plan.pens[1]))
    report = build(tmp_path, plan, lines_scene(per_pen=4))
    pause_layers = [layer for layer in layers(report) if layer["pause"]]
    assert [layer["number"] for layer in pause_layers] == [2, 3]  # a second part, and a pen change
    for layer in layers(report):
        proc, (done,) = run(tmp_path, ["-m", *shlex.split(layer["axicli"])])
        assert proc.returncode == 0, proc.stderr
        assert done["paused_before"] is None and done["plotted"] == [layer["label"].lstrip("!")]
    # the layered SVG cannot do it: the layer pauses at 0 mm, and resuming pauses again
    proc, (first,) = run(tmp_path, ["-m", "axicli", "piece.svg", "-m", "layers", "-l", "3", "-o", "out.svg"])
    assert first["plotted"] == [] and first["paused_before"] is not None
    proc, (again,) = run(tmp_path, ["-m", "axicli", "out.svg", "-m", "res_plot", "-o", "out2.svg"])
    assert again["plotted"] == [] and again["paused_before"] == first["paused_before"]


def test_no_plotter_says_what_to_check_saves_nothing_and_exits_4(tmp_path, fake_pyaxidraw, monkeypatch, capsys):
    build(tmp_path, make_plan(canvas=64))
    proc, done = run(tmp_path, ["plot.py", "--yes"], FAKE_PYAXIDRAW_PLOTTER="absent")
    assert proc.returncode == EXIT_NO_PLOTTER == 4
    assert "No AxiDraw answered on USB" in proc.stderr and "cable" in proc.stderr and "power" in proc.stderr
    assert "--resume" not in proc.stderr and [c["options"]["layer"] for c in done] == [1]
    assert not (tmp_path / PROGRESS_SVG).exists() and not (tmp_path / PROGRESS_STATE).exists()
    # a resume without the plotter keeps the progress it was given
    (tmp_path / PROGRESS_SVG).write_text("<svg>saved</svg>")
    (tmp_path / PROGRESS_STATE).write_text(json.dumps({"layer": 2}))
    proc, _ = run(tmp_path, ["plot.py", "--resume", "--yes"], FAKE_PYAXIDRAW_PLOTTER="absent")
    assert proc.returncode == 4 and "No AxiDraw answered" in proc.stderr
    assert (tmp_path / PROGRESS_SVG).read_text() == "<svg>saved</svg>"
    (tmp_path / PROGRESS_SVG).unlink()
    (tmp_path / PROGRESS_STATE).unlink()
    monkeypatch.setenv("FAKE_PYAXIDRAW_PLOTTER", "absent")
    with pytest.raises(SystemExit) as exit_info:
        main(["plot", str(tmp_path), "--yes"])
    assert exit_info.value.code == 4
    assert "No AxiDraw answered on USB" in capsys.readouterr().err
    assert not (tmp_path / PROGRESS_SVG).exists() and not (tmp_path / PROGRESS_STATE).exists()


def test_a_connection_lost_mid_layer_keeps_the_progress_and_exits_4(tmp_path, fake_pyaxidraw):
    import types

    build(tmp_path, make_plan(canvas=64))

    class Unplugged(fake_pyaxidraw.AxiDraw):
        def plot_run(self, output=False):
            out = super().plot_run(output)
            self.errors.code = 104
            return out

    said = []
    session = plot_build(tmp_path, yes=True, echo=said.append, axidraw=types.SimpleNamespace(AxiDraw=Unplugged))
    assert session.no_plotter and session.exit_code == 4 and [r.number for r in session.layers] == [1]
    assert "connection was lost during layer 1" in said[-1] and "--resume" in said[-1]
    assert json.loads((tmp_path / PROGRESS_STATE).read_text())["layer"] == 1


def test_the_report_names_the_settings_only_plot_py_honours(tmp_path):
    plan = make_plan(canvas=64)
    plan = dataclasses.replace(plan, pens=(dataclasses.replace(plan.pens[0], speed_penup=50, pen_pos_up=70), plan.pens[1]))
    report = build(tmp_path, plan)
    assert report["pens"][0]["not_in_layer_names"] == {"speed_penup": 50, "pen_pos_up": 70}
    md = (tmp_path / "report.md").read_text()
    assert "## Settings the layer names cannot carry" in md
    assert "- black: pen-up speed 50 %, pen-up height 70 %" in md
    assert "- blue: pen-up speed 75 %, pen-up height 60 %" in md
    assert "top-right corner" in md  # the A6 portrait page is turned
