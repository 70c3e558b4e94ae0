"""How much of a build's drawing sits on the canvas border.

    python bench/edges.py BUILD_DIR [BUILD_DIR ...] [--points-px 1] [--length-px 2]

For each build dir (written by ``penspec build -o BUILD_DIR``) and each stage it stored, reads
the stage's ``stages/<stage>/scene.npz`` (canvas px of that stage's region) and prints:

- ``points <=1px``: the share of control points within ``--points-px`` of the region's border
  (a stroke's shared joints counted once);
- ``pen-down <=2px``: the share of pen-down length running within ``--length-px`` of the border
  (each cubic sampled at 64 points, a piece counted when its midpoint is that close);
- ``outside``: control points outside the region (should be 0);

then the held-out objective the build printed (``metrics.json``: before -> after). The last
stage's region is the canvas; an optimize stage before a tile has the tile as its region, so its
border figures say how much would line up along the tile seams.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from penspec.runtime.scene import Scene
from penspec.spec.model import Size

SAMPLES = 64


def chain_points(scene: Scene) -> np.ndarray:
    """``[M, 2]`` control points with each stroke's shared joints counted once."""
    cp = scene.control_points
    if len(cp) == 0:
        return np.zeros((0, 2))
    last = np.append(scene.segment_stroke[1:] != scene.segment_stroke[:-1], True)
    return np.concatenate([cp[:, :3].reshape(-1, 2), cp[last, 3]])


def border_distance(points: np.ndarray, size: Size) -> np.ndarray:
    """Distance of each point to the nearest side of the region (negative outside)."""
    x, y = points[..., 0], points[..., 1]
    return np.minimum(np.minimum(x, size.width - x), np.minimum(y, size.height - y))


def sample_curves(cp: np.ndarray, samples: int = SAMPLES) -> np.ndarray:
    """``[N, samples, 2]`` points along each cubic Bezier ``[N, 4, 2]``."""
    t = np.linspace(0.0, 1.0, samples)[None, :, None]
    p0, p1, p2, p3 = (cp[:, None, i] for i in range(4))
    u = 1.0 - t
    return u**3 * p0 + 3 * u**2 * t * p1 + 3 * u * t**2 * p2 + t**3 * p3


def edge_figures(scene: Scene, points_px: float = 1.0, length_px: float = 2.0) -> dict:
    pts = chain_points(scene)
    d = border_distance(pts, scene.size)
    curves = sample_curves(scene.control_points)
    pieces = np.linalg.norm(np.diff(curves, axis=1), axis=-1)
    mids = (curves[:, 1:] + curves[:, :-1]) / 2
    near = border_distance(mids, scene.size) <= length_px
    total = float(pieces.sum())
    return {
        "size": scene.size,
        "points": len(pts),
        "points_near": float(np.mean(d <= points_px)) if len(pts) else 0.0,
        "outside": int(np.sum(d < 0)),
        "length": total,
        "length_near": float(pieces[near].sum() / total) if total > 0 else 0.0,
    }


def stage_scenes(build_dir: Path) -> list[tuple[str, Scene]]:
    """Every stored stage scene of a build, in stage order."""
    dirs = sorted((build_dir / "stages").glob("*/scene.npz"), key=lambda p: int(p.parent.name.split("-")[0]))
    return [(p.parent.name.rsplit("-", 1)[0], Scene.load(p)) for p in dirs]


def objective(build_dir: Path) -> str:
    path = build_dir / "metrics.json"
    if not path.exists():
        return "objective: no metrics.json"
    obj = json.loads(path.read_text())["objective"]
    return f"held-out objective: before {obj['before']:.5g}, after {obj['after']:.5g}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build_dirs", nargs="+", type=Path)
    parser.add_argument("--points-px", type=float, default=1.0)
    parser.add_argument("--length-px", type=float, default=2.0)
    args = parser.parse_args(argv)
    for build_dir in args.build_dirs:
        print(f"{build_dir}")
        scenes = stage_scenes(build_dir)
        if not scenes:
            print("  no stage scenes under stages/")
        for name, scene in scenes:
            f = edge_figures(scene, args.points_px, args.length_px)
            print(f"  {name:<14} {f['size'].width}x{f['size'].height}px  points <={args.points_px:g}px {100 * f['points_near']:5.1f} % of {f['points']}"
                  f"  pen-down <={args.length_px:g}px {100 * f['length_near']:5.1f} % of {f['length']:.0f} px"
                  f"  outside {f['outside']}")
        print(f"  {objective(build_dir)}")


if __name__ == "__main__":
    main()
