"""Golden files per emitter: the exact text each one writes for a fixed plan and scene.

The other emitter tests check properties (vpype re-reads the SVGs, lengths add up, hostile
strings are escaped); these catch any other change in what a target writes: a moved attribute,
a reworded report line, a new field in plot.py's data. ``pytest --update-golden`` rewrites them;
review the diff. Fixed provenance, no dates or paths; preview.png is left to the render goldens
(report.html here has no snapshots and no preview, so it holds no images).
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from penspec.runtime.emit import emit_all
from tests.support.emit_scenes import PROVENANCE, scatter_scene
from tests.support.factories import make_plan
from tests.support.golden import check_golden

GOLDENS = Path(__file__).resolve().parent / "goldens"


def two_pen_plan():
    """Two pens, the second translucent with a pause before it and a short max draw length (split layers)."""
    plan = make_plan(canvas=256)
    blue = dataclasses.replace(plan.pens[1], opacity=0.7, delay_ms=250, max_draw_length_mm=400.0)
    return dataclasses.replace(plan, title="golden <piece> & co", pens=(plan.pens[0], blue))


@pytest.fixture(scope="module")
def emitted(tmp_path_factory):
    out = tmp_path_factory.mktemp("goldens")
    emit_all(two_pen_plan(), scatter_scene(canvas=256, count=60), out, stem="piece", provenance=PROVENANCE, preview=False)
    return out


def plot_data(text: str) -> str:
    """plot.py is the plot flow's source (checked against the module elsewhere) and this data."""
    literal = re.search(r"^PIECE_JSON = (.*)$", text, flags=re.M).group(1)
    return json.dumps(json.loads(eval(literal)), indent=1, sort_keys=True) + "\n"  # a plain str literal


@pytest.mark.parametrize("name", ["piece.svg", "pens/1-black.svg", "pens/2-blue.svg", "report.md", "report.json", "report.html", "plot.py"])
def test_each_emitter_writes_its_golden(emitted, name, request):
    text = (emitted / name).read_text(encoding="utf-8")
    if name == "plot.py":
        text, name = plot_data(text), "plot-data.json"
    check_golden(request, GOLDENS / name.replace("/", "-"), text, name)


def test_every_emitted_file_has_a_golden(emitted):
    written = sorted(p.relative_to(emitted).as_posix().replace("/", "-") for p in emitted.rglob("*") if p.is_file())
    goldens = sorted(p.name for p in GOLDENS.iterdir())
    assert {g.replace("plot-data.json", "plot.py") for g in goldens} == set(written)
