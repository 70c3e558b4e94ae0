"""preview.png: the plotted paths rendered on the sheet with real nib widths, ink and paper."""

import dataclasses

import numpy as np
import pytest
from tests.support.emit_scenes import PROVENANCE, line_cubic, scene_from_strokes
from tests.support.factories import make_plan
from PIL import Image

from penspec.runtime.emit import emit_all
from penspec.runtime.emit.document import pen_drawings, plot_layers
from penspec.runtime.emit.preview import preview_size, render_preview

pytest.importorskip("torch")

DPI = 100


def one_line_plan(width_mm=1.5, opacity=1.0, paper=(1.0, 1.0, 1.0)):
    plan = make_plan(canvas=64)
    pen = dataclasses.replace(plan.pens[0], width_mm=width_mm, width_px=width_mm / plan.canvas.mm_per_px, opacity=opacity)
    return dataclasses.replace(plan, pens=(pen, plan.pens[1]), preview_dpi=DPI, paper=dataclasses.replace(plan.paper, rgb=paper))


def vertical_line_scene():
    return scene_from_strokes([(0, [line_cubic((32, 8), (32, 56))])], (64, 64))


def test_preview_is_the_sheet_at_print_resolution(tmp_path):
    plan = one_line_plan()
    emit_all(plan, vertical_line_scene(), tmp_path, stem="piece", provenance=PROVENANCE)
    image = Image.open(tmp_path / "preview.png")
    assert image.size == (round(105 / 25.4 * DPI), round(148 / 25.4 * DPI))
    assert image.info["dpi"] == pytest.approx((DPI, DPI), abs=0.01)
    assert preview_size(plan, DPI) == (image.size[1], image.size[0])


@pytest.mark.parametrize("width_mm", [0.3, 1.5])
def test_the_nib_width_is_the_drawn_width(width_mm):
    plan = one_line_plan(width_mm=width_mm)
    image = render_preview(plan, plot_layers(plan, pen_drawings(plan, vertical_line_scene()))).astype(float) / 255
    ink = 1 - image[..., 0]  # black-ish pen: coverage * (1 - 17/255)
    c = plan.canvas
    row = round((c.origin_mm[1] + 32 * c.mm_per_px) / 25.4 * DPI)
    x = (c.origin_mm[0] + 32 * c.mm_per_px) / 25.4 * DPI
    width_px = ink[row].sum() / (1 - 17 / 255)
    assert width_px == pytest.approx(width_mm / 25.4 * DPI, rel=0.03)
    centre = (ink[row] * (np.arange(ink.shape[1]) + 0.5)).sum() / ink[row].sum()
    assert centre == pytest.approx(x, abs=0.05)
    length_px = 48 * c.mm_per_px / 25.4 * DPI
    assert ink.sum() / (1 - 17 / 255) == pytest.approx(length_px * width_px + np.pi * (width_px / 2) ** 2, rel=0.03)


def test_ink_opacity_and_paper_colour_show():
    plan = one_line_plan(width_mm=2.0, opacity=0.5, paper=(1.0, 0.95, 0.85))
    image = render_preview(plan, plot_layers(plan, pen_drawings(plan, vertical_line_scene()))).astype(float) / 255
    assert image[2, 2] == pytest.approx([1.0, 0.95, 0.85], abs=1 / 255)
    c = plan.canvas
    row = round((c.origin_mm[1] + 32 * c.mm_per_px) / 25.4 * DPI)
    col = int((c.origin_mm[0] + 32 * c.mm_per_px) / 25.4 * DPI)
    pen = 17 / 255
    expected = np.array([1.0, 0.95, 0.85]) * (1 - 0.5 * (1 - pen))
    assert image[row, col] == pytest.approx(expected, abs=2 / 255)


def test_an_empty_scene_previews_blank_paper():
    plan = one_line_plan(paper=(0.9, 0.9, 0.8))
    image = render_preview(plan, ())
    assert image.shape == (*preview_size(plan, DPI), 3)
    assert (image == np.array([230, 230, 204], dtype=np.uint8)).all()
