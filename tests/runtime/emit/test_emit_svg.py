"""The layered SVG and the per-pen SVGs, checked by re-reading them with vpype."""

import dataclasses
import xml.etree.ElementTree as ET

import pytest
import vpype as vp
from tests.support.emit_scenes import PROVENANCE, lines_scene, scatter_scene
from tests.support.factories import make_plan

from penspec.runtime.emit import emit_all
from penspec.runtime.emit.document import canvas_box
from penspec.spec.units import PX_PER_MM
from penspec.runtime.emit.labels import parse

NS = {"svg": "http://www.w3.org/2000/svg", "inkscape": "http://www.inkscape.org/namespaces/inkscape",
      "dc": "http://purl.org/dc/elements/1.1/", "penspec": "urn:penspec:provenance:1"}
LABEL = "{http://www.inkscape.org/namespaces/inkscape}label"


def three_pen_plan(**plot_changes):
    plan = make_plan(canvas=128)
    red = dataclasses.replace(plan.pens[0], id="red", index=2, layer=3, color="#cc2200", rgb=(0.8, 0.13, 0.0), width_mm=0.7,
                              width_px=0.7 / plan.canvas.mm_per_px)
    return dataclasses.replace(plan, pens=plan.pens + (red,), plot=dataclasses.replace(plan.plot, **plot_changes))


def emit(tmp_path, plan, scene, **kw):
    return emit_all(plan, scene, tmp_path, stem="piece", provenance=PROVENANCE, preview=False, **kw)


def svg_paths(path):
    """Every plotted path as a tuple of rounded points, per top-level layer label."""
    root = ET.parse(path).getroot()
    out = {}
    for group in root.findall("svg:g", NS):
        pts = []
        for el in group:
            tag = el.tag.split("}")[1]
            if tag == "line":
                pts.append(((el.get("x1"), el.get("y1")), (el.get("x2"), el.get("y2"))))
            else:
                pts.append((tag, el.get("points")))
        out[group.get(LABEL)] = pts
    return out


def test_vpype_reads_one_layer_per_pen_with_ids_colours_and_widths(tmp_path):
    plan = three_pen_plan()
    emit(tmp_path, plan, scatter_scene(canvas=128, count=60, pens=3))
    doc = vp.read_multilayer_svg(str(tmp_path / "piece.svg"), 0.05)
    assert sorted(doc.layers) == [1, 2, 3]
    assert doc.page_size == pytest.approx((plan.paper.width_mm * PX_PER_MM, plan.paper.height_mm * PX_PER_MM))
    x0, y0, x1, y1 = canvas_box(plan)
    margin = plan.paper.margin_mm * PX_PER_MM
    for number, pen in zip(sorted(doc.layers), plan.pens, strict=True):
        layer = doc.layers[number]
        label = parse(layer.property("vp_name"))
        assert (label.number, label.pen) == (number, pen.id)
        assert layer.property("vp_color") == vp.Color(pen.color)
        assert layer.property("vp_pen_width") / PX_PER_MM == pytest.approx(pen.width_mm, abs=1e-3)
        bx0, by0, bx1, by1 = layer.bounds()
        assert bx0 >= x0 - 1e-3 and by0 >= y0 - 1e-3 and bx1 <= x1 + 1e-3 and by1 <= y1 + 1e-3
        assert bx0 >= margin and bx1 <= doc.page_size[0] - margin


@pytest.mark.parametrize("pause", [True, False])
def test_pauses_sit_exactly_at_pen_changes(tmp_path, pause):
    plan = three_pen_plan(pause_between_pens=pause)
    emit(tmp_path, plan, scatter_scene(canvas=128, count=30, pens=3))
    labels = [parse(g.get(LABEL)) for g in ET.parse(tmp_path / "piece.svg").getroot().findall("svg:g", NS)]
    assert [l.pause for l in labels] == [False, pause, pause]
    pen = {p.id: p for p in plan.pens}
    for label in labels:
        assert label.height == pen[label.pen].pen_pos_down and label.speed == pen[label.pen].speed_pendown


def test_per_pen_svgs_hold_exactly_the_layered_paths(tmp_path):
    plan = three_pen_plan()
    emit(tmp_path, plan, scatter_scene(canvas=128, count=60, pens=3))
    layered = svg_paths(tmp_path / "piece.svg")
    files = sorted((tmp_path / "pens").glob("*.svg"))
    assert [f.name for f in files] == ["1-black.svg", "2-blue.svg", "3-red.svg"]
    per_pen = {}
    for f in files:
        root = ET.parse(f).getroot()
        assert (root.get("width"), root.get("height")) == ("10.5cm", "14.8cm")
        for label, paths in svg_paths(f).items():
            per_pen[parse(label).number] = paths
    assert {parse(label).number: paths for label, paths in layered.items()} == per_pen
    assert sum(len(p) for p in per_pen.values()) == sum(len(p) for p in layered.values()) > 0


def test_provenance_is_in_the_metadata_and_the_page_is_the_paper(tmp_path):
    emit(tmp_path, make_plan(canvas=64), lines_scene())
    root = ET.parse(tmp_path / "piece.svg").getroot()
    assert (root.get("width"), root.get("height")) == ("10.5cm", "14.8cm")
    work = root.find("svg:metadata/{http://www.w3.org/1999/02/22-rdf-syntax-ns}RDF/{http://creativecommons.org/ns}Work", NS)
    assert work.find("dc:source", NS).text == PROVENANCE["command"]
    assert work.find("dc:title", NS).text == "test piece"
    assert work.find("dc:identifier", NS).text == "sha256:" + PROVENANCE["spec_sha256"]
    record = work.find("penspec:provenance", NS)
    assert {k: record.get(k) for k in PROVENANCE} == {k: str(v) for k, v in PROVENANCE.items()}
    assert "date" not in (tmp_path / "piece.svg").read_text()


def test_rebuilding_gives_the_same_bytes(tmp_path):
    plan, scene = make_plan(canvas=64), scatter_scene(canvas=64, count=20)
    emit(tmp_path / "a", plan, scene)
    emit(tmp_path / "b", plan, scene)
    for name in ["piece.svg", "pens/1-black.svg", "plot.py", "report.json", "report.md"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_pen_up_layer_is_a_documentation_layer_vpype_keeps_apart(tmp_path):
    plan = dataclasses.replace(make_plan(canvas=64), plot=dataclasses.replace(make_plan().plot, penup_layer=True))
    emit(tmp_path, plan, lines_scene(per_pen=4))
    groups = ET.parse(tmp_path / "piece.svg").getroot().findall("svg:g", NS)
    assert [g.get(LABEL) for g in groups][-1] == "% pen up trajectories"
    assert len(groups[-1]) > 0
    doc = vp.read_multilayer_svg(str(tmp_path / "piece.svg"), 0.05)
    pens = {k: l for k, l in doc.layers.items() if not l.property("vp_name").startswith("%")}
    assert sorted(pens) == [1, 2] and all(len(l) == 4 for l in pens.values())


def test_hostile_title_and_pen_ids_stay_valid_xml(tmp_path):
    plan = make_plan(canvas=64)
    title = 'say "hi" </dc:title><script>x</script> & \\ \x01 \n next'
    pens = (dataclasses.replace(plan.pens[0], id='a"b<c>&'), plan.pens[1])
    plan = dataclasses.replace(plan, title=title, pens=pens)
    emit(tmp_path, plan, lines_scene())
    root = ET.parse(tmp_path / "piece.svg").getroot()
    assert root.find(".//dc:title", NS).text == title.replace("\x01", "")
    assert parse(root.findall("svg:g", NS)[0].get(LABEL)).pen == 'a"b<c>&'
    assert (tmp_path / "pens" / "1-a_b_c__.svg").is_file()


def test_emitters_write_only_their_named_files(tmp_path):
    """The emitters delete nothing (a build removes the pen files it wrote earlier, see
    tests/runtime/test_ownership.py) and write exactly the files output_names lists."""
    from penspec.runtime.emit import output_names

    (tmp_path / "pens").mkdir()
    (tmp_path / "pens" / "1-old.svg").write_text("<svg/>")
    plan = make_plan(canvas=64)
    emit(tmp_path, plan, lines_scene())
    assert sorted(p.name for p in (tmp_path / "pens").iterdir()) == ["1-black.svg", "1-old.svg", "2-blue.svg"]
    assert (tmp_path / "pens" / "1-old.svg").read_text() == "<svg/>"
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()} - {"pens/1-old.svg"}
    assert written <= set(output_names(plan, "piece"))


def test_emitting_svgs_needs_no_torch(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['torch'] = None\n"
        "from pathlib import Path; from tests.support.factories import make_plan; from tests.support.emit_scenes import lines_scene, PROVENANCE\n"
        "from penspec.runtime.emit import emit_all\n"
        f"emit_all(make_plan(canvas=64), lines_scene(), Path({str(tmp_path)!r}), stem='p', provenance=PROVENANCE, preview=False)\n"
        "assert 'torch' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
    )
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)
    assert (tmp_path / "p.svg").is_file()
