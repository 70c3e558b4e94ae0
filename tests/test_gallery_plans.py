"""The gallery is a test suite: every piece compiles to exactly its golden plan.json.

A mismatch shows a unified diff; `pytest --update-golden` rewrites the goldens (review the diff
before committing). Goldens hold no absolute paths, dates or versions.
"""

from __future__ import annotations

import re

import pytest
from tests.support.gallery_pieces import GALLERY, needs_download, plan_of
from penspec.compiler import Plan
from tests.support.golden import check_golden

PIECES = sorted(p.name for p in GALLERY.iterdir() if (p / "spec.yaml").is_file())


def test_the_gallery_has_its_pieces():
    assert {"hello", "vgg16-conv3_3-37", "vgg16-conv3_3-7", "bw-lines", "large-frame", "highlighter", "resnet18-layer3"} <= set(PIECES)


@pytest.mark.parametrize("piece", PIECES)
def test_plan_matches_golden(piece, request):
    check_golden(request, GALLERY / piece / "plan.json", plan_of(piece).to_json(), f"{piece}/plan.json")


@pytest.mark.parametrize("piece", PIECES)
def test_golden_round_trips_and_holds_no_paths(piece):
    text = (GALLERY / piece / "plan.json").read_text(encoding="utf-8")
    plan = Plan.from_json(text)
    assert plan.to_json() == text
    assert plan.source == "spec.yaml"
    assert str(GALLERY.parent) not in text
    assert not re.search(r'"(/|[A-Za-z]:\\\\)', text), "absolute path in a golden"
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), "a date in a golden"


@pytest.mark.parametrize("piece", PIECES)
def test_piece_runs_offline_in_tests(piece):
    """Every piece builds on ImageNet weights; its smoke build (the `test:` section) must run
    offline, so a piece whose weights are downloaded switches to random ones there.
    EfficientNet-Lite0's weights ship in a package and need no switch. (README contents are
    checked by test_gallery_index.py.)"""
    plan = plan_of(piece)
    assert all(net.weights == "imagenet" for net in plan.objective.nets)
    if needs_download(plan):
        assert plan.test.weights == "random", f"{piece}: its smoke build would download weights"
    if piece == "hello":
        assert [n.name for n in plan.objective.nets] == ["efficientnet_lite0"] and plan.test.weights == "imagenet"
        assert len(plan.pens) == 1 and plan.paper.name == "a6" and len(plan.stages) == 1


def test_large_frame_tiles_onto_the_canvas():
    plan = plan_of("large-frame")
    assert [s.kind for s in plan.stages] == ["optimize", "tile", "finetune"]
    assert plan.stages[0].size == (256, 256) and plan.stages[-1].size == (1024, 1024)
    assert plan.paper.landscape and plan.paper.name == "a3"


def test_highlighter_has_a_wide_translucent_nib():
    marker = plan_of("highlighter").pen("marker")
    assert marker.width_mm == 5.0 and marker.opacity == 0.35 and marker.width_px > 5
