"""Hand-built scenes for the emitter tests: straight lines of known length, and a gallery-like
scatter of smooth strokes (what a piece looks like before the optimiser has tidied anything)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from penspec.runtime.scene import Scene

FAKE_PYAXIDRAW = Path(__file__).resolve().parent / "fake_pyaxidraw"
PROVENANCE = {
    "spec_sha256": "ab" * 32,
    "seed": 7,
    "penspec": "0.1.0",
    "command": "penspec build gallery/test.yaml",
    "plan_sha256": "cd" * 32,
}

# Titles and a pen id that try to break out of every quoting the emitters write into
HOSTILE = [
    'quote " and \' and """ and \'\'\' ',
    "back\\slash \\n \\x41 \\",
    "new\nline\nimport os; os._exit(3)\n",
    '"); import os; os._exit(3); ("',
    "__PENSPEC_PIECE_JSON__ {json} %s",
]
HOSTILE_PEN_ID = "x\"'\\\n#"


def line_cubic(a, b) -> np.ndarray:
    """A straight cubic from a to b (control points on the chord)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.stack([a, a + (b - a) / 3, a + 2 * (b - a) / 3, b])


def scene_from_strokes(strokes: list[tuple[int, list[np.ndarray]]], size: tuple[int, int]) -> Scene:
    """strokes: (pen index, [cubic [4, 2], ...]) in scene order."""
    cps, seg_stroke, stroke_pen = [], [], []
    for s, (pen, cubics) in enumerate(strokes):
        for cubic in cubics:
            cps.append(cubic)
            seg_stroke.append(s)
        stroke_pen.append(pen)
    return Scene(
        control_points=np.asarray(cps, dtype=np.float64).reshape(-1, 4, 2),
        segment_stroke=np.asarray(seg_stroke, dtype=np.int64),
        stroke_pen=np.asarray(stroke_pen, dtype=np.int64),
        size=size,
    )


def lines_scene(canvas: int = 64, per_pen: int = 3, pens: int = 2) -> Scene:
    """Horizontal lines, pen by pen, each 40 px long, one row apart; stroke order interleaves pens."""
    strokes = []
    for i in range(per_pen):
        for pen in range(pens):
            y = 8 + 4 * (i * pens + pen)
            strokes.append((pen, [line_cubic((12, y), (52, y))]))
    return scene_from_strokes(strokes, (canvas, canvas))


def scatter_scene(canvas: int = 256, count: int = 300, pens: int = 2, seed: int = 0) -> Scene:
    """Smooth 1-3 segment strokes of about a tenth of the canvas, scattered in random order."""
    rng = np.random.default_rng(seed)
    strokes = []
    for _ in range(count):
        segments = int(rng.integers(1, 4))
        start = rng.uniform(0.05, 0.95, 2) * canvas
        cubics = []
        for _ in range(segments):
            pts = [start]
            for _ in range(3):
                pts.append(np.clip(pts[-1] + rng.normal(0, canvas * 0.03, 2), 0, canvas))
            cubics.append(np.stack(pts))
            start = pts[-1]
        strokes.append((int(rng.integers(0, pens)), cubics))
    return scene_from_strokes(strokes, (canvas, canvas))
