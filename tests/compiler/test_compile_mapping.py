import dataclasses

import pytest
from tests.support.compile_fixtures import line_of, make_spec, optimize, paper, pen

from penspec.compiler import compile_spec
from penspec.compiler.axidraw import MODELS, home_on_page, plotted_size
from penspec.compiler.mapping import MIN_PEN_PX
from penspec.spec.errors import CompileError
from penspec.spec.model import Size


def test_square_canvas_on_a6_is_centred_vertically():
    canvas = compile_spec(make_spec(canvas=256)).canvas
    # drawing area 85 x 128 mm: width limits, 85 / 256 mm per px, centred in the height
    assert canvas.mm_per_px == pytest.approx(85 / 256)
    assert canvas.origin_mm == pytest.approx((10.0, 10.0 + (128 - 85) / 2))


def test_wide_canvas_on_landscape_a3_is_centred_horizontally():
    canvas = compile_spec(make_spec(canvas=(1024, 512), paper=paper("a3", landscape=True, margin_mm=20))).canvas
    # area 380 x 257 mm; 380/1024 = 0.371, 257/512 = 0.502 -> width limits
    assert canvas.mm_per_px == pytest.approx(380 / 1024)
    assert canvas.origin_mm[0] == pytest.approx(20.0)
    assert canvas.origin_mm[1] == pytest.approx(20 + (257 - 512 * 380 / 1024) / 2)
    # the canvas ends inside the area on both axes
    assert canvas.origin_mm[1] + 512 * canvas.mm_per_px <= 297 - 20 + 1e-9


def test_pen_widths_in_canvas_px_and_layers_in_spec_order():
    pens = (pen("black", width_mm=0.3), pen("marker", "#ffff00", width_mm=5.0, opacity=0.35))
    plan = compile_spec(make_spec(pens=pens, strokes=dataclasses.replace(make_spec().strokes, pens=(("black", 1), ("marker", 1)))))
    mpp = plan.canvas.mm_per_px
    assert [p.layer for p in plan.pens] == [1, 2]
    assert [p.width_px for p in plan.pens] == pytest.approx([0.3 / mpp, 5.0 / mpp])
    assert plan.pens[1].opacity == 0.35 and plan.pens[1].color == "#ffff00"


def test_pen_max_draw_length_falls_back_to_the_plot_default():
    spec = make_spec()
    spec = dataclasses.replace(spec, plot=dataclasses.replace(spec.plot, max_draw_length_mm=20000.0))
    assert compile_spec(spec).pens[0].max_draw_length_mm == 20000.0
    spec = dataclasses.replace(spec, pens=(pen(max_draw_length_mm=5000.0),))
    assert compile_spec(spec).pens[0].max_draw_length_mm == 5000.0


def test_too_thin_pen_says_which_pen_and_how_to_fix():
    # landscape a3 (380 x 257 mm area) on a 64 px canvas: 5.9 mm per px, a 0.3 mm pen is 0.05 px
    spec = make_spec(canvas=64, paper=paper("a3", landscape=True), augment=dataclasses.replace(make_spec().augment, crop=32),
                     test=dataclasses.replace(make_spec().test, crop=32))
    with pytest.raises(CompileError) as err:
        compile_spec(spec)
    (d,) = err.value.diagnostics
    assert d.path == "$.pens[0].width" and d.location.line == line_of("$.pens[0].width")
    assert "pen black" in d.message and f"{MIN_PEN_PX} px" in d.message
    assert "larger canvas" in d.message and "mm wide" in d.message
    # the suggested canvas really is enough, and so is the suggested pen
    side = int(d.message.split("at least ")[1].split("x")[0])
    assert compile_spec(dataclasses.replace(spec, canvas=Size(side, side), stages=(optimize(),))).pens[0].width_px >= MIN_PEN_PX
    width = float(d.message.split("a pen at least ")[1].split("mm")[0])
    assert compile_spec(dataclasses.replace(spec, pens=(pen(width_mm=width),))).pens[0].width_px >= MIN_PEN_PX


def test_margins_that_leave_no_area():
    with pytest.raises(CompileError) as err:
        compile_spec(make_spec(paper=paper("a6", margin_mm=60)))
    d = err.value.diagnostics[0]
    assert d.path == "$.paper.margin" and "no drawing area" in d.message and "below 52.5mm" in d.message


def test_page_too_big_for_the_model_names_model_and_limits():
    spec = make_spec(paper=paper("a2"))  # portrait a2 420 x 594, turned 594 x 420, on an A3 model (430 x 297)
    with pytest.raises(CompileError) as err:
        compile_spec(spec)
    (d,) = [d for d in err.value.diagnostics if d.path == "$.plot.model"]
    assert d.path == "$.plot.model" and d.location.line == line_of("$.plot.model")
    assert "AxiDraw V3/A3, SE/A3" in d.message and "430mm x 297mm" in d.message
    assert "plot.model: 6 (AxiDraw SE/A2)" in d.message


def test_a_portrait_page_fits_as_axidraw_turns_it():
    # AxiDraw's auto_rotate turns a portrait page: a3 portrait (297 x 420) plots as 420 x 297 on an A3 model
    compile_spec(make_spec(paper=paper("a3")))
    assert plotted_size(297, 420) == (420, 297) and plotted_size(420, 297) == (420, 297)
    assert home_on_page(297, 420) == (297, 0) and home_on_page(420, 297) == (0, 0)


def test_plot_plan_from_the_model_table():
    spec = make_spec()
    for number, model in MODELS.items():
        if model.travel_mm[0] < 105 or model.travel_mm[1] < 148:
            continue
        plot = compile_spec(dataclasses.replace(spec, plot=dataclasses.replace(spec.plot, model=number))).plot
        assert (plot.model_name, plot.travel_mm) == (model.name, model.travel_mm)


def test_minikit_is_too_small_for_a6_portrait():
    spec = make_spec()
    spec = dataclasses.replace(spec, plot=dataclasses.replace(spec.plot, model=4))
    with pytest.raises(CompileError, match="MiniKit"):
        compile_spec(spec)
