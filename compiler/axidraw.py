"""AxiDraw models: the names pyaxidraw's ``options.model`` numbers stand for and their travel.

Travel limits (x, y) in mm from the AxiDraw documentation; x is the long axis.

A page is plotted as AxiDraw's ``auto_rotate`` (on by default in pyaxidraw, axicli and Inkscape)
places it: a landscape page as it is, its width along x and its top-left corner at home; a
portrait page (taller than wide) turned a quarter turn counter-clockwise, its height along x and
its top-right corner at home. penspec's plot.py and ``penspec plot`` set ``auto_rotate`` on.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AxiDrawModel:
    number: int
    name: str
    travel_mm: tuple[float, float]


MODELS: dict[int, AxiDrawModel] = {
    m.number: m
    for m in (
        AxiDrawModel(1, "AxiDraw V2, V3, SE/A4", (300.0, 218.0)),
        AxiDrawModel(2, "AxiDraw V3/A3, SE/A3", (430.0, 297.0)),
        AxiDrawModel(3, "AxiDraw V3 XLX", (595.0, 218.0)),
        AxiDrawModel(4, "AxiDraw MiniKit", (160.0, 101.6)),
        AxiDrawModel(5, "AxiDraw SE/A1", (864.0, 594.0)),
        AxiDrawModel(6, "AxiDraw SE/A2", (594.0, 432.0)),
        AxiDrawModel(7, "AxiDraw V3/B6", (190.0, 140.0)),
    )
}


def rotated(width_mm: float, height_mm: float) -> bool:
    """True when AxiDraw turns the page to plot it: a portrait page (auto_rotate)."""
    return height_mm > width_mm


def plotted_size(width_mm: float, height_mm: float) -> tuple[float, float]:
    """The page's extent along the plotter's (x, y) as AxiDraw places it."""
    return (height_mm, width_mm) if rotated(width_mm, height_mm) else (width_mm, height_mm)


def home_on_page(width_mm: float, height_mm: float) -> tuple[float, float]:
    """Where on the page (mm from its top-left corner, y down) the pen starts and ends a plot.

    AxiDraw's home is its travel's origin; a turned portrait page puts its top-right corner
    there (pyaxidraw's preview maps plotter (x, y) to page (width - y, x)).
    """
    return (width_mm, 0.0) if rotated(width_mm, height_mm) else (0.0, 0.0)


def fits(model: AxiDrawModel, width_mm: float, height_mm: float, tolerance_mm: float = 0.05) -> bool:
    """True when a page of this size lies inside the model's travel as AxiDraw places it."""
    along_x, along_y = plotted_size(width_mm, height_mm)
    return along_x <= model.travel_mm[0] + tolerance_mm and along_y <= model.travel_mm[1] + tolerance_mm
