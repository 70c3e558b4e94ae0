"""plot.py against the fake pyaxidraw: every layer once, in order, with the spec's settings."""

import ast
import dataclasses
import json
import os
import subprocess
import sys

import pytest
from tests.support.emit_scenes import FAKE_PYAXIDRAW, HOSTILE, HOSTILE_PEN_ID, PROVENANCE, lines_scene
from tests.support.factories import make_plan

from penspec.runtime.emit import emit_all


def build(tmp_path, plan=None, scene=None):
    plan = plan or make_plan(canvas=64)
    emit_all(plan, scene or lines_scene(), tmp_path, stem="piece", provenance=PROVENANCE, preview=False)
    return plan


def run_script(build_dir, *args, fake=True, stdin=None):
    log = build_dir / "fake.log"
    log.unlink(missing_ok=True)
    env = dict(os.environ, FAKE_PYAXIDRAW_LOG=str(log))
    env["PYTHONPATH"] = str(FAKE_PYAXIDRAW) if fake else ""
    proc = subprocess.run(
        [sys.executable, "-I" if not fake else "-s", str(build_dir / "plot.py"), *args],
        cwd="/", env=env, capture_output=True, text=True, input=stdin, timeout=60,
    )
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return proc, calls


def runs(calls):
    return [c for c in calls if c["call"] == "plot_run"]


def test_plots_every_layer_once_in_order_with_the_spec_settings(tmp_path):
    plan = make_plan(canvas=64)
    blue = dataclasses.replace(plan.pens[1], speed_pendown=18, speed_penup=90, pen_pos_down=22, pen_pos_up=70)
    plan = build(tmp_path, dataclasses.replace(plan, pens=(plan.pens[0], blue), plot=dataclasses.replace(plan.plot, accel=55, model=2)))
    proc, calls = run_script(tmp_path, "--yes")
    assert proc.returncode == 0, proc.stderr
    done = runs(calls)
    assert [c["plotted"] for c in done] == [["1+H30+S25 black"], ["2+H22+S18 blue"]]  # "!" handled by the script
    assert all(c["paused_before"] is None and c["output"] for c in done)
    assert [c["options"]["layer"] for c in done] == [1, 2]
    for c, pen in zip(done, plan.pens, strict=True):
        o = c["options"]
        assert (o["mode"], o["model"], o["accel"], o["preview"]) == ("layers", 2, 55, False)
        assert (o["speed_pendown"], o["speed_penup"], o["pen_pos_down"], o["pen_pos_up"]) == (
            pen.speed_pendown, pen.speed_penup, pen.pen_pos_down, pen.pen_pos_up)
    assert [c["call"] for c in calls].count("plot_setup") == 2
    assert json.loads((tmp_path / "plot-progress.json").read_text()) == {"layer": 2, "pen": "blue"}
    assert (tmp_path / "plot-progress.svg").read_text().startswith("<?xml")


def test_asks_for_each_pen_and_stops_when_told(tmp_path):
    build(tmp_path)
    proc, calls = run_script(tmp_path, stdin="\n\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("the pen, then press Enter") == 2
    assert "Layer 1: pen black, #111111, 0.3 mm: load the pen" in proc.stdout
    proc, calls = run_script(tmp_path, stdin="\n")  # end of input at the second pen
    assert proc.returncode == 130
    assert [c["options"]["layer"] for c in runs(calls)] == [1]


def test_layer_pen_and_preview(tmp_path):
    build(tmp_path)
    proc, calls = run_script(tmp_path, "--layer", "2", "--yes")
    assert [c["options"]["layer"] for c in runs(calls)] == [2]
    proc, calls = run_script(tmp_path, "--pen", "black", "--yes")
    assert [c["options"]["layer"] for c in runs(calls)] == [1]
    (tmp_path / "plot-progress.json").unlink()
    proc, calls = run_script(tmp_path, "--preview")  # no prompt in a simulation
    assert proc.returncode == 0, proc.stderr
    assert all(c["options"]["preview"] and c["options"]["report_time"] for c in runs(calls))
    assert proc.stdout.count("estimate:") == 2 and "Estimated total:" in proc.stdout
    assert not (tmp_path / "plot-progress.json").exists()  # a simulation saves no progress
    proc, _ = run_script(tmp_path, "--layer", "9", "--yes")
    assert proc.returncode == 2 and "no layer 9; this piece has layers 1, 2" in proc.stderr


def test_resume_finishes_the_saved_layer_then_goes_on(tmp_path):
    plan = make_plan(canvas=64)
    build(tmp_path, dataclasses.replace(plan, pens=(dataclasses.replace(plan.pens[0], max_draw_length_mm=120.0), plan.pens[1])),
          lines_scene(per_pen=4))
    # a plot that stopped in layer 2: a plain AxiDraw run over the whole SVG pauses before "!2"
    sys.path.insert(0, str(FAKE_PYAXIDRAW))
    try:
        from pyaxidraw import axidraw
    finally:
        sys.path.remove(str(FAKE_PYAXIDRAW))
    ad = axidraw.AxiDraw()
    ad.plot_setup(str(tmp_path / "piece.svg"))
    saved = ad.plot_run(True)
    (tmp_path / "plot-progress.svg").write_text(saved)
    (tmp_path / "plot-progress.json").write_text(json.dumps({"layer": 2}))
    proc, calls = run_script(tmp_path, "--resume", "--yes")
    assert proc.returncode == 0, proc.stderr
    done = runs(calls)
    assert [c["options"]["mode"] for c in done] == ["res_plot", "layers"]
    assert done[0]["plotted"][0].startswith("!2") and done[1]["options"]["layer"] == 3


def test_missing_pyaxidraw_prints_the_install_hint(tmp_path):
    build(tmp_path)
    proc, calls = run_script(tmp_path, "--yes", fake=False)
    assert proc.returncode == 2
    assert "not on PyPI" in proc.stderr and "axidraw.com" in proc.stderr
    assert calls == []


@pytest.mark.parametrize("title", HOSTILE)
def test_hostile_titles_and_pen_ids_cannot_change_the_script(tmp_path, title):
    base = build(tmp_path / "plain")
    hostile = dataclasses.replace(base, title=title, pens=(dataclasses.replace(base.pens[0], id=HOSTILE_PEN_ID), base.pens[1]))
    build(tmp_path / "hostile", hostile)
    plain_src, hostile_src = (tmp_path / "plain" / "plot.py").read_text(), (tmp_path / "hostile" / "plot.py").read_text()

    def shape(src):  # the code with its single data literal blanked out
        tree = ast.parse(src)
        data = [n for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.startswith("{")]
        assert len(data) == 1
        data[0].value = ""
        return ast.dump(tree)

    assert shape(plain_src) == shape(hostile_src)
    proc_a, calls_a = run_script(tmp_path / "plain", "--yes")
    proc_b, calls_b = run_script(tmp_path / "hostile", "--yes")
    assert proc_a.returncode == proc_b.returncode == 0, proc_b.stderr
    strip = lambda calls: [(c["options"], len(c["plotted"])) for c in runs(calls)]  # noqa: E731
    assert strip(calls_a) == strip(calls_b)
    assert HOSTILE_PEN_ID in proc_b.stdout


def test_a_layer_stopped_by_the_pause_button_ends_the_run(tmp_path):
    build(tmp_path / "piece")
    shim = tmp_path / "shim" / "pyaxidraw"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("")
    (shim / "axidraw.py").write_text(
        "import importlib.util, types\n"
        f"spec = importlib.util.spec_from_file_location('fake_axidraw', {str(FAKE_PYAXIDRAW / 'pyaxidraw' / 'axidraw.py')!r})\n"
        "fake = importlib.util.module_from_spec(spec); spec.loader.exec_module(fake)\n"
        "class AxiDraw(fake.AxiDraw):\n"
        "    def plot_run(self, output=False):\n"
        "        out = super().plot_run(output)\n"
        "        self.errors = types.SimpleNamespace(code=102 if self.options.layer == 1 else 0)\n"
        "        return out\n"
    )
    log = tmp_path / "fake.log"
    env = dict(os.environ, FAKE_PYAXIDRAW_LOG=str(log), PYTHONPATH=str(tmp_path / "shim"))
    proc = subprocess.run([sys.executable, "-s", str(tmp_path / "piece" / "plot.py"), "--yes"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3 and "--resume" in proc.stderr
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert [c["options"]["layer"] for c in runs(calls)] == [1]
    assert json.loads((tmp_path / "piece" / "plot-progress.json").read_text())["layer"] == 1


def test_plot_py_is_the_plot_flow_module_with_the_piece_as_data(tmp_path):
    from penspec.runtime.emit import plotflow
    from penspec.runtime.emit.plotscript import DATA_HEADER, SHEBANG

    build(tmp_path)
    text = (tmp_path / "plot.py").read_text()
    module = open(plotflow.__file__, encoding="utf-8").read()
    assert text.startswith(SHEBANG)
    embedded, tail = text[len(SHEBANG):].split(DATA_HEADER)
    assert embedded == module
    tree = ast.parse(tail)
    assigned = [n.targets[0].id for n in tree.body if isinstance(n, ast.Assign)]
    assert assigned == ["PIECE_JSON"]  # the tail adds data and the entry point, no functions
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom))]


def test_the_plot_flow_imports_only_the_standard_library_and_pyaxidraw():
    from penspec.runtime.emit import plotflow

    tree = ast.parse(open(plotflow.__file__, encoding="utf-8").read())
    top, nested = set(), set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports: plot.py runs on its own"
            top.add(node.module.split(".")[0])
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and node not in tree.body:
            nested |= {node.module.split(".")[0]} if isinstance(node, ast.ImportFrom) else {a.name.split(".")[0] for a in node.names}
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    assert top <= stdlib, top - stdlib
    assert nested == {"pyaxidraw"}  # imported only when plotting starts
    # and it runs where penspec is not installed: a bare interpreter imports the module by path
    proc = subprocess.run([sys.executable, "-I", "-c", "import runpy, sys; runpy.run_path(sys.argv[1]); "
                           "print(sorted(m for m in sys.modules if m.split('.')[0] in ('penspec', 'pyaxidraw', 'numpy', 'vpype')))",
                           plotflow.__file__], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
