"""AxiDraw models: the names pyaxidraw's ``options.model`` numbers stand for and their travel.

Travel limits (x, y) in mm from the AxiDraw documentation; x is the long axis, and the page's
width runs along x.
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


def fits(model: AxiDrawModel, width_mm: float, height_mm: float, tolerance_mm: float = 0.05) -> bool:
    """True when a page of this size lies inside the model's travel as placed (width along x)."""
    return width_mm <= model.travel_mm[0] + tolerance_mm and height_mm <= model.travel_mm[1] + tolerance_mm
