"""report.html: self-contained, escaped, deterministic, and working in a real headless browser."""

from __future__ import annotations

import dataclasses
import io
import json
import math
import re

import pytest
from PIL import Image
from tests.support.browser import load, needs_chromium, screenshot
from tests.support.emit_scenes import HOSTILE, HOSTILE_PEN_ID, PROVENANCE, lines_scene
from tests.support.factories import make_plan

from penspec.compiler.plan import FinetunePlan, NetStagePlan
from penspec.runtime import pagekit as kit
from penspec.runtime.emit import emit_all
from penspec.runtime.emit.page import travel_moves
from penspec.runtime.emit.report import estimate_layer, home_mm
from penspec.spec.model import Size

HOSTILE_PEN = HOSTILE_PEN_ID
HOSTILE_COLOR = '#111"><script>document.title="owned"</script>'
SPEC_TEXT = 'title: "</pre><script>alert(1)</script>"\n# <b>not bold</b> & more\n'


def two_stage_plan(**changes):
    plan = make_plan(canvas=64, steps=4)
    finetune = FinetunePlan(index=1, name="1-finetune", size=Size(64, 64), strokes=12, steps=3, lr=0.5, views=2, line=11,
                            fingerprint="f1")
    return dataclasses.replace(plan, stages=(plan.stages[0], finetune), snapshot_every=2, **changes)


def history(plan):
    """Made-up per-step scores [objective, term] for every optimising stage."""
    return [{"stage": s.name, "first_step": 0, "steps": [[0.5 * k + s.index, 0.25 * k] for k in range(s.steps)]}
            for s in plan.stages if isinstance(s, NetStagePlan)]


def png(color, size=(64, 64)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def emit_page(out, plan=None, *, snapshots=True, spec_text=SPEC_TEXT):
    plan = plan or two_stage_plan()
    found = []
    if snapshots:  # given out of order, and one of a stage the plan does not have
        (out / "snapshots").mkdir(parents=True, exist_ok=True)
        for stage, step, color in (("1-finetune", 2, "blue"), ("0-optimize", 4, "green"), ("9-gone", 2, "black"), ("0-optimize", 2, "red")):
            path = out / "snapshots" / f"{stage}-{step:05d}.png"
            path.write_bytes(png(color))
            found.append((stage, step, path))
    metrics = {"objective": {"before": 0.5, "after": 2.5, "held_out_views": 8,
                             "terms": [{"term": plan.objective.terms[0].text, "weight": 1.0, "before": 0.5, "after": 2.5}]}}
    written = emit_all(plan, lines_scene(), out, stem="piece", provenance=PROVENANCE, metrics=metrics, preview=False,
                       history=history(plan), spec_text=spec_text, snapshots=found)
    return plan, (out / "report.html"), written


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    return emit_page(tmp_path_factory.mktemp("page"))


# ------------------------------------------------------------------------------------ the file


def test_page_is_written_with_the_other_outputs_and_listed_in_the_report(page):
    _, path, written = page
    assert path in written
    report = json.loads((path.parent / "report.json").read_text())
    assert "report.html" in report["files"]["report"]


def test_page_is_self_contained(page):
    text = page[1].read_text()
    assert text.startswith("<!DOCTYPE html>") and "Content-Security-Policy" in text and "default-src 'none'" in text
    assert "<link" not in text and "@import" not in text and "url(" not in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    assert text.count("<script") == 1  # the kit's own script; the spec's "<script>" is text
    assert all(src.startswith("data:image/webp;base64,") for src in re.findall(r'<img[^>]* src="([^"]+)"', text))


def test_snapshots_in_stage_and_step_order_only_of_the_plans_stages(page):
    text = page[1].read_text()
    labels = re.findall(r'<figure class="frame[^"]*" data-label="([^"]+)"', text)
    assert labels == ["0-optimize, step 2 of 4", "0-optimize, step 4 of 4", "1-finetune, step 2 of 3"]


def test_two_emits_give_the_same_bytes(tmp_path):
    a = emit_page(tmp_path / "a")[1].read_bytes()
    b = emit_page(tmp_path / "b")[1].read_bytes()
    assert a == b


def test_travel_runs_home_to_home_per_layer_in_plotting_order(tmp_path):
    from penspec.runtime.emit.document import pen_drawings, plot_layers

    plan = make_plan(canvas=64)
    layers = plot_layers(plan, pen_drawings(plan, lines_scene(per_pen=3)))
    home = home_mm(plan)  # a portrait page is plotted turned: home is its top-right corner
    assert home == (plan.paper.width_mm, 0.0)
    moves = travel_moves(layers, home)
    assert len(moves) == sum(len(layer.lines) + 1 for layer in layers)  # to each path, and home after the last
    assert moves[0][0] == home and moves[-1][1] == home
    lengths = sum(math.dist(a, b) for a, b in moves)
    assert lengths == pytest.approx(sum(estimate_layer(plan, layer).time.travel_mm for layer in layers), rel=1e-6)


@pytest.mark.parametrize("title", HOSTILE + ['<script>alert("t")</script> & </title>'])
def test_hostile_titles_pen_ids_and_colours_are_escaped(tmp_path, title):
    base = two_stage_plan()
    pens = (dataclasses.replace(base.pens[0], id=HOSTILE_PEN, color=HOSTILE_COLOR), base.pens[1])
    _, path, _ = emit_page(tmp_path, dataclasses.replace(base, title=title, pens=pens), snapshots=False)
    text = path.read_text()
    assert text.count("<script") == 1 and "owned" not in text.split("<script>")[1]
    assert kit.esc(title) in text and kit.esc(HOSTILE_PEN) in text and kit.esc(HOSTILE_COLOR) in text
    assert HOSTILE_COLOR not in text and "<b>not bold</b>" not in text
    # colours reach markup only as hex numbers
    assert all(re.fullmatch(r"#[0-9a-f]{3,8}|none", v) for v in re.findall(r'(?:stroke|fill)="([^"]*)"', text))
    assert all(re.fullmatch(r"background:#[0-9a-f]{6}(;opacity:[0-9.]+)?", v) for v in re.findall(r'class="swatch" style="([^"]*)"', text))


def test_kit_escapes_and_formats():
    assert kit.esc('<a href="x">&\'') == "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;"
    assert kit.hex_color((1.0, 0.5, -1)) == "#ff8000"
    assert kit.num(-0.001) == "0.00"
    assert kit.nice_ticks(0, 1) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert len(kit.thin([(i, i) for i in range(1000)], 100)) <= 101 and kit.thin([(0, 0)], 5) == [(0, 0)]


def test_line_chart_has_one_series_each_and_survives_empty_input():
    chart = kit.line_chart([kit.Series("a", ((0, 1), (1, 2))), kit.Series("<b>", ())], chart_id="c")
    assert chart.count('class="series"') == 2 and 'data-series="&lt;b&gt;"' in chart
    assert "no values recorded" in kit.line_chart([], chart_id="e")


# ------------------------------------------------------------------------------------ in a browser


@needs_chromium
def test_browser_shows_one_layer_group_per_pen_in_its_colour_and_one_series_per_stage(page):
    plan, path, _ = page
    loaded = load(path)
    assert loaded.console == []
    root = loaded.elements("html")[0]
    assert root.attrs.get("data-ready") == "1" and "data-errors" not in root.attrs
    groups = loaded.elements("g", class_="pen")
    assert [(g.attrs["data-pen"], g.attrs["stroke"]) for g in groups] == [(p.id, kit.hex_color(p.rgb)) for p in plan.pens]
    assert all("off" not in g.classes for g in groups)
    assert [g.attrs["data-label"] for g in loaded.elements("g", class_="layer")] == ["1+H30+S25 black", "!2+H30+S25 blue"]
    series = loaded.elements("g", class_="series")
    chart = loaded.by_id("objective-chart")
    assert chart.tag == "svg"
    objective_series = loaded.dom.split('id="objective-chart"')[1].split("</svg>")[0].count('class="series"')
    assert objective_series == 2 and [s.attrs["data-series"] for s in series[:2]] == ["0-optimize", "1-finetune"]
    assert "off" in loaded.by_id("travel").classes  # travel is hidden until asked for
    timeline = loaded.by_id("timeline")
    assert timeline.attrs["data-frame"] == "2"


@needs_chromium
def test_browser_toggles_follow_the_url_fragment(page):
    _, path, _ = page
    loaded = load(path, "hide=pen-1&show=travel&frame=0")
    assert loaded.console == [] and loaded.elements("html")[0].attrs.get("data-ready") == "1"
    assert "off" in loaded.by_id("pen-1").classes and loaded.by_id("pen-1").attrs["data-shown"] == "0"
    assert "off" not in loaded.by_id("pen-2").classes
    travel = loaded.by_id("travel")
    assert "off" not in travel.classes and int(travel.attrs["data-moves"]) > 0
    boxes = {b.attrs["data-toggle"]: "checked" in b.attrs for b in loaded.elements("input") if "data-toggle" in b.attrs}
    assert boxes == {"pen-1": False, "pen-2": True, "travel": True}
    assert loaded.by_id("timeline").attrs["data-frame"] == "0"
    frames = loaded.elements("figure", class_="frame")
    assert ["off" in f.classes for f in frames] == [False, True, True]
    assert loaded.by_id("timeline-label").text == "0-optimize, step 2 of 4"


@needs_chromium
def test_browser_keeps_hostile_text_as_text(tmp_path):
    base = two_stage_plan()
    title = HOSTILE[3] + '<img src=x onerror="document.title=1">'
    pens = (dataclasses.replace(base.pens[0], id=HOSTILE_PEN, color=HOSTILE_COLOR), base.pens[1])
    _, path, _ = emit_page(tmp_path, dataclasses.replace(base, title=title, pens=pens), snapshots=False)
    loaded = load(path)
    assert loaded.console == [] and loaded.elements("html")[0].attrs.get("data-ready") == "1"
    assert loaded.elements("title")[0].text == title and loaded.elements("h1")[0].text == title
    assert len(loaded.elements("script")) == 1 and not [i for i in loaded.elements("img") if i.attrs.get("src") == "x"]
    assert loaded.by_id("pen-1").attrs["data-pen"] == HOSTILE_PEN
    assert loaded.by_id("spec").text == SPEC_TEXT


@needs_chromium
def test_browser_screenshot_is_not_blank(page, tmp_path):
    shot = screenshot(page[1], tmp_path / "page.png")
    with Image.open(shot) as image:
        colors = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colors is not None and len(colors) > 50  # text, swatches, lines: far from one flat colour
    dark = sum(n for n, (r, g, b) in colors if r + g + b < 200)
    assert dark > 500
