"""bench/quality.py's judge on hand-made scenes: knots, edge points, short strokes, ink
concentration and the held-out views, without a network."""

from __future__ import annotations

import numpy as np
import pytest
from bench import quality
from penspec.runtime.scene import Scene
from penspec.spec.model import Size


def straight(a: tuple[float, float], b: tuple[float, float]) -> np.ndarray:
    a_, b_ = np.asarray(a, float), np.asarray(b, float)
    return np.stack([a_, a_ + (b_ - a_) / 3, a_ + 2 * (b_ - a_) / 3, b_])


def scene_of(segments: list[np.ndarray], size: int = 112) -> Scene:
    n = len(segments)
    return Scene(np.stack(segments), np.arange(n, dtype=np.int64), np.zeros(n, dtype=np.int64), Size(size, size))


def star(centre=(50.0, 50.0), count=5, half=20.0) -> list[np.ndarray]:
    out = []
    for k in range(count):
        d = np.array([np.cos(np.pi * k / count), np.sin(np.pi * k / count)]) * half
        out.append(straight(tuple(np.asarray(centre) - d), tuple(np.asarray(centre) + d)))
    return out


def measures(scene: Scene) -> dict:
    return quality.measure(scene, quality.rasterise(scene, [(0.0, 0.0, 0.0)], [1.0]))


def test_a_star_of_five_strokes_is_one_knot_and_three_are_none():
    five = measures(scene_of(star(count=5)))
    assert five["knots"] == 1 and five["knot cells"] >= 1
    assert measures(scene_of(star(count=3)))["knots"] == 0
    apart = [straight((10.0, 10.0 + 20 * i), (100.0, 10.0 + 20 * i)) for i in range(5)]
    assert measures(scene_of(apart))["knots"] == 0


def test_edge_points_short_strokes_and_ink_concentration():
    segs = [straight((1.0, 30.0), (1.0, 90.0)), straight((40.0, 40.0), (43.0, 40.0)), straight((20.0, 60.0), (90.0, 60.0))]
    m = measures(scene_of(segs))
    assert m["edge"] == pytest.approx(4 / 12)  # the four points of the stroke along x = 1
    assert m["short"] == pytest.approx(1 / 3)  # 3 px < 3 % of 112 px
    assert m["length median"] == pytest.approx(60.0, abs=0.5)
    spread = measures(scene_of([straight((5.0, 5.0 + 7 * i), (107.0, 5.0 + 7 * i)) for i in range(15)]))
    piled = measures(scene_of([straight((50.0, 50.0 + 0.2 * i), (60.0, 50.0 + 0.2 * i)) for i in range(15)]))
    assert piled["ink top 10%"] > 0.9 > 0.3 > spread["ink top 10%"]


def test_held_out_views_are_fixed_and_fill_outside():
    a, b = quality.judge_views((224, 224)), quality.judge_views((224, 224))
    assert a.shape == (16, 3, 3) and np.array_equal(a, b)
    blank = np.ones((224, 224, 3), dtype=np.float32)
    white = quality.warp(blank, a, 224, 1.0)
    black = quality.warp(blank, a, 224, 0.0)
    assert float(white.min()) == pytest.approx(1.0)
    assert float(black.min()) == 0.0 and float(black.mean()) > 0.5  # the canvas is most of each view


def test_merge_joins_split_runs_in_matrix_order(tmp_path):
    """A matrix split over two processes merges into one table: runs ordered target, steps, seed,
    medians over all runs, a contact image redrawn from the saved scenes."""
    import json

    size = 224
    parts = []
    for part, (seed, knots) in enumerate(((1, 4), (0, 2))):
        out = tmp_path / f"part{part}"
        (out / "scenes").mkdir(parents=True)
        scene = scene_of(star(count=5) + [straight((10.0, 200.0), (200.0, 200.0))], size=size)
        scene.save(out / "scenes" / f"block9-17-s{seed}-100.npz")
        row = {"target": "block9:17", "seed": seed, "steps": 100, "knots": knots, "act white": 1.0 + seed, "act black": 2.0}
        result = {"label": f"part {part}", "overrides": [], "terms": "", "cpu": "test CPU", "torch": "2", "total seconds": 10.0, "load": 0.5, "runs": [row],
                  "medians": quality.summary([row])}
        (out / "quality.json").write_text(json.dumps(result))
        parts.append(out)
    merged = quality.merge(parts, tmp_path / "all", "both")
    assert [(r["seed"], r["knots"]) for r in merged["runs"]] == [(0, 2), (1, 4)]
    assert merged["medians"]["100"]["knots"] == 3 and merged["medians"]["100"]["act white"] == 1.5
    assert merged["total seconds"] == 20.0 and merged["label"] == "both"
    assert (tmp_path / "all" / "contact.png").stat().st_size > 0
    assert json.loads((tmp_path / "all" / "quality.json").read_text())["merged from"] == [str(p) for p in parts]
    other = json.loads((parts[1] / "quality.json").read_text())
    (parts[1] / "quality.json").write_text(json.dumps({**other, "terms": "- 1 * crowding"}))
    with pytest.raises(SystemExit, match="other settings"):
        quality.merge(parts, tmp_path / "bad", "")
