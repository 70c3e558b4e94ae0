"""The files in saxi: group ids that name the pen, the settings to type, and saxi's own planner.

The fast tests check what penspec writes. The slow ones drive saxi's web page in headless
Chromium (tests/support/saxi/drive.mjs, see tests/support/saxi_check.py): drag each pen's file in, type the
report's settings, and compare saxi's plan with the report. They skip when node, Chromium or
the npm packages are missing (.ci/run installs them).
"""

import dataclasses
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import vpype as vp
from tests.support.saxi_check import SAXI_DIR, check_build, drive, file_paths_mm, missing_tools
from tests.support.emit_scenes import PROVENANCE, scatter_scene
from tests.support.factories import make_plan
from tests.support.gallery_pieces import plan_of

from penspec.compiler.motion import MotionSettings, accel_mm_s2, servo_time, speed_mm_s
from penspec.runtime.emit import emit_all
from penspec.runtime.emit.labels import LayerLabel, group_id, parse
from penspec.runtime.emit.saxi import AXIDRAW_SERVO, SAXI_SERVO, paper_choice, saxi_duration, saxi_height

SVG = "{http://www.w3.org/2000/svg}"
LABEL = "{http://www.inkscape.org/namespaces/inkscape}label"


def emit(tmp_path, plan, scene):
    emit_all(plan, scene, tmp_path, stem="piece", provenance=PROVENANCE, preview=False)
    return json.loads((tmp_path / "report.json").read_text())


def groups(path):
    """(id, label) of every top-level group, in file order."""
    return [(g.get("id"), g.get(LABEL)) for g in ET.parse(path).getroot().findall(f"{SVG}g")]


def split_plan():
    """Two pens on A6; the second pen split into parts by its max draw length."""
    plan = make_plan(canvas=128)
    return dataclasses.replace(plan, pens=(plan.pens[0], dataclasses.replace(plan.pens[1], max_draw_length_mm=150.0)))


def test_group_ids_name_the_layer_number_and_pen_in_both_files(tmp_path):
    report = emit(tmp_path, split_plan(), scatter_scene(canvas=128, count=80, pens=2))
    layered = groups(tmp_path / "piece.svg")
    assert 3 <= len(layered) <= 9  # black, then blue in parts
    for gid, label in layered:
        parsed = parse(label)
        part = f"-part-{parsed.part[0]}-of-{parsed.part[1]}" if parsed.part else ""
        assert gid == f"layer-{parsed.number}-{parsed.pen}{part}"
    assert layered[0][0] == "layer-1-black"
    assert layered[1][0] == "layer-2-blue-part-1-of-" + str(len(layered) - 1)
    by_pen = {}
    for pen in report["pens"]:
        by_pen[pen["id"]] = [gid for gid, _ in groups(tmp_path / pen["saxi"]["file"])]
        assert by_pen[pen["id"]] == pen["saxi"]["groups"]
    assert by_pen["black"] + by_pen["blue"] == [gid for gid, _ in layered]  # the same id for a layer in both files
    doc = vp.read_multilayer_svg(str(tmp_path / "piece.svg"), 0.05)  # vpype still numbers layers by label
    assert sorted(doc.layers) == list(range(1, len(layered) + 1))


def test_group_ids_are_padded_so_a_text_sort_keeps_plotting_order():
    labels = [LayerLabel(number=n, pen="ink") for n in range(1, 12)]
    ids = [group_id(label, digits=2) for label in labels]
    assert ids[0] == "layer-01-ink" and ids[-1] == "layer-11-ink"
    assert sorted(ids) == ids
    assert group_id(LayerLabel(number=3, pen="odd pen!", part=(2, 3))) == "layer-3-odd_pen_-part-2-of-3"
    with pytest.raises(ValueError):
        group_id(LayerLabel(number=None, pen="x"))


def test_pen_heights_land_on_the_same_servo_position_in_saxi():
    assert (saxi_height(60), saxi_height(30)) == (36, 62)  # AxiDraw's defaults; saxi's own are 50 / 60
    low, high = AXIDRAW_SERVO
    zero, full = SAXI_SERVO
    half_step = abs(zero - full) / 100 / 2
    for pct in range(0, 101):
        axidraw = low + (high - low) * pct / 100
        saxi = zero + (full - zero) * saxi_height(pct) / 100  # saxi's penPctToPos
        assert abs(saxi - axidraw) <= half_step + 1e-9
        assert 0 <= saxi_height(pct) <= 100


def test_saxi_settings_are_the_specs_in_saxis_units(tmp_path):
    plan = plan_of("highlighter")  # marker at speed 15, A6 landscape, margin 8 mm
    report = emit(tmp_path, plan, scatter_scene(canvas=plan.canvas.width_px, count=40, pens=2))
    marker = next(p for p in report["pens"] if p["id"] == "marker")
    s = marker["saxi"]["settings"]
    pen = plan.pen("marker")
    motion = MotionSettings(speed_pendown=pen.speed_pendown, speed_penup=pen.speed_penup, accel=plan.plot.accel,
                            pen_pos_down=pen.pen_pos_down, pen_pos_up=pen.pen_pos_up)
    assert s["down max vel. (mm/s)"] == pytest.approx(speed_mm_s(15), abs=0.05) == pytest.approx(30.1, abs=0.05)
    assert s["up max vel. (mm/s)"] == pytest.approx(speed_mm_s(pen.speed_penup), abs=0.05)
    assert s["down acc. (mm/s2)"] == pytest.approx(accel_mm_s2(plan.plot.accel, True), abs=0.05)
    assert s["up acc. (mm/s2)"] == pytest.approx(accel_mm_s2(plan.plot.accel, False), abs=0.05)
    assert s["pen lift duration (s)"] == pytest.approx(servo_time(motion, lowering=False), abs=0.005)
    assert s["pen drop duration (s)"] == pytest.approx(servo_time(motion, lowering=True), abs=0.005)
    assert (s["paper"], s["landscape"], s["margin (mm)"]) == ("A6", True, 8.0)
    assert (s["fit page"], s["sort paths"], s["path-joining radius (mm)"]) == (False, False, 0)
    assert report["saxi"]["order"] == ["marker", "liner"] and report["saxi"]["fits"]
    assert marker["saxi"]["file"] == report["files"]["pens"]["marker"]


def test_every_setting_is_an_input_on_saxis_page(tmp_path):
    """The keys are the words drive.mjs finds saxi's inputs by: a typo would not reach saxi."""
    source = (SAXI_DIR / "drive.mjs").read_text()
    known = set()
    for name in ("NUMBER_INPUTS", "CHECKBOXES"):
        block = re.search(rf"const {name} = \[(.*?)\];", source, re.DOTALL).group(1)
        known |= set(re.findall(r'"([^"]+)"', block))
    report = emit(tmp_path, split_plan(), scatter_scene(canvas=128, count=40, pens=2))
    for pen in report["pens"]:
        assert set(pen["saxi"]["settings"]) - {"paper", "landscape"} <= known


def test_paper_choice_names_saxis_paper_or_types_it():
    plan = make_plan()
    assert paper_choice(plan) == {"paper": "A6", "landscape": False}
    letter = dataclasses.replace(plan, paper=dataclasses.replace(plan.paper, width_mm=279.4, height_mm=215.9))
    assert paper_choice(letter) == {"paper": "USLetter", "landscape": True}
    odd = dataclasses.replace(plan, paper=dataclasses.replace(plan.paper, width_mm=200.0, height_mm=120.0))
    assert paper_choice(odd) == {"width (mm)": 200.0, "height (mm)": 120.0}


def test_report_md_says_how_to_plot_with_saxi(tmp_path):
    report = emit(tmp_path, split_plan(), scatter_scene(canvas=128, count=80, pens=2))
    text = (tmp_path / "report.md").read_text()
    section = text.split("## Plot with saxi", 1)[1].split("\n## ", 1)[0]
    assert "paper **A6**, portrait" in section and "**fit page off**" in section and "margin 10 mm" in section
    rows = [line for line in section.splitlines() if re.match(r"\| \d+ \|", line)]
    assert [row.split("|")[2].strip() for row in rows] == ["black", "blue"]
    for row, pen in zip(rows, report["pens"], strict=True):
        cells = [c.strip() for c in row.split("|")[1:-1]]
        s = pen["saxi"]["settings"]
        assert cells[2] == f"`{pen['saxi']['file']}`"
        assert cells[3:5] == [str(s["up height (%)"]), str(s["down height (%)"])]
        assert cells[-1] == saxi_duration(pen["time_s"])
    blue = report["pens"][1]["saxi"]["groups"]
    assert all(f"`{g}`" in section for g in blue)  # the split pen's parts, by the names saxi lists


def test_a_page_saxi_cannot_lay_on_the_plotter_says_so(tmp_path):
    plan = make_plan(canvas=64)
    a4 = dataclasses.replace(plan.paper, width_mm=210.0, height_mm=297.0)  # portrait: AxiDraw turns it, saxi does not
    plan = dataclasses.replace(plan, paper=a4, plot=dataclasses.replace(plan.plot, model=1, travel_mm=(300.0, 218.0)))
    report = emit(tmp_path, plan, scatter_scene(canvas=64, count=10, pens=2))
    assert report["saxi"]["fits"] is False
    text = (tmp_path / "report.md").read_text().split("## Plot with saxi", 1)[1]
    assert "does not turn the page" in text and "plot.py" in text and "| 1 |" not in text.split("\n## ", 1)[0]


def test_saxi_duration_is_printed_as_saxi_prints_it():
    assert [saxi_duration(s) for s in (45.9, 93.2, 3600, 3725.5)] == ["45s", "1m33s", "1h0m0s", "1h2m5s"]


# --- saxi's own page ------------------------------------------------------------------------------

needs_saxi = pytest.mark.skipif(missing_tools() is not None, reason=f"saxi's page cannot be driven here: {missing_tools()}")


@pytest.mark.slow
@needs_saxi
@pytest.mark.parametrize("piece", ["hello", "highlighter"])
def test_saxi_plots_each_pen_file_as_the_report_says(tmp_path, piece):
    """Size and place on the paper, layer names, pen-down length and time, in saxi's own planner."""
    plan = plan_of(piece)
    if piece == "highlighter":  # a split pen too: its parts are listed in saxi by group id
        plan = dataclasses.replace(plan, pens=(plan.pens[0], dataclasses.replace(plan.pens[1], max_draw_length_mm=600.0)))
    scene = scatter_scene(canvas=plan.canvas.width_px, count=120, pens=len(plan.pens), seed=3)
    emit(tmp_path, plan, scene)
    rows = check_build(tmp_path)
    assert rows and all(not row.problems for row in rows), "\n".join(row.line() for row in rows)
    assert {row.shown["paper"] for row in rows} == {"A6"}
    if piece == "highlighter":
        liner = json.loads((tmp_path / "report.json").read_text())["pens"][1]["saxi"]["groups"]
        assert len(liner) > 1 and rows[1].shown["layer_list"] == liner


@pytest.mark.slow
@needs_saxi
def test_saxi_reads_no_page_size_and_fit_page_follows_the_drawing(tmp_path):
    """Why the report says what it says: saxi's defaults scale every file to its own extent."""
    report = emit(tmp_path, make_plan(canvas=128), scatter_scene(canvas=128, count=60, pens=2))
    files = [tmp_path / p["saxi"]["file"] for p in report["pens"]]
    fresh = drive([{"file": str(f)} for f in files])  # a first visit: saxi's defaults
    for result in fresh:
        assert result["shown"]["paper"] == "ArchA" and result["shown"]["fit page"]  # the file's 10.5 x 14.8 cm is not read
    a6 = {"paper": "A6", "landscape": False, "margin (mm)": 10}
    fitted = drive([{"file": str(f), "settings": a6} for f in files])
    scales = []
    for f, result, pen in zip(files, fitted, report["pens"], strict=True):
        xs = [x for path in result["plan"]["paths"] for x, _ in path]
        ys = [y for path in result["plan"]["paths"] for _, y in path]
        own = [p for path in file_paths_mm(f) for p in path]
        width, height = max(p[0] for p in own) - min(p[0] for p in own), max(p[1] for p in own) - min(p[1] for p in own)
        scale = min((105 - 20) / width, (148 - 20) / height)  # each file's own extent fills the margins
        assert (max(xs) - min(xs)) == pytest.approx(width * scale, rel=1e-3)
        assert (max(ys) - min(ys)) == pytest.approx(height * scale, rel=1e-3)
        assert result["plan"]["pendown_mm"] == pytest.approx(pen["ink_mm"] * scale, rel=1e-3)
        scales.append(scale)
    assert abs(scales[0] - scales[1]) > 1e-3  # two pens, two scales: they would not line up on paper
