"""Quality benchmark: how good a seed-scale piece is, judged apart from the optimiser.

    python bench/quality.py [--quick] [--out DIR] [--label NAME] [--set key.path=value ...] [--terms '- 0.1 * crowding']
                            [--targets block9:17,block3:21] [--seeds 0,1,2] [--steps 100,300]
    python bench/quality.py --compare BEFORE.json AFTER.json
    python bench/quality.py --jobs 2 [...]                    # the targets split over 2 processes, then merged
    python bench/quality.py --merge DIR DIR ... --out DIR     # one table from a matrix split over processes

Each run builds one seed-scale piece (224 px square canvas, 200 strokes, one black 1 px pen,
8 views, one ``optimize`` stage; everything else at the spec's defaults, changed only by
``--set``) maximising one channel of EfficientNet-Lite0 (ImageNet weights, shipped offline),
for every target x seed x step count. The optimiser is penspec's own (``StageRun``, the code a
build runs); the judge is not:

- **activation**: the final strokes are rasterised with cairo (not penspec's renderer) at canvas
  size, warped by 16 held-out views drawn once from a fixed seed (rotation, zoom, shift, a crop
  of 80-100 % of the canvas, perspective; none of penspec's augment code), the area outside the
  canvas filled paper-white (``act white``) or black (``act black``); the score is the target
  channel's mean activation over its map and the 16 views.
- **knots**: cells of 3 px crossed by >= 4 distinct strokes (``knot cells``) and their
  8-connected clusters (``knots``, one blot of ink each).
- **edge**: share of control points within 2 px of the canvas edge.
- **length**: median stroke length (px along the curve) and share of strokes shorter than 3 % of
  the canvas side.
- **ink top 10 %**: share of the ink (1 - luminance of the cairo raster) in the inkiest 10 % of
  8 px cells (0.1 = even; higher = piled up).

Writes ``quality.md`` (table + medians), ``quality.json`` (every run, and the settings),
``contact.png`` (every run's raster, rows target x steps, columns seeds, knots outlined in red)
and ``scenes/`` (each run's final strokes as a penspec scene, so the judge can be rerun).
``--compare`` prints the per-run ratios (after / before) and their medians. Times are wall
clock; on a shared CPU they are noisy (the JSON records the CPU and the load average).

Cost: one step of a piece is about 0.7 s of CPU time with one torch thread on an AMD EPYC
(avx512), so the full matrix (18 runs of 100 + 300 steps, 7200 steps) is about 85 CPU minutes,
and ``--quick`` (200 steps) about 2.5. On a 2-core machine shared with other jobs (load average
13-16) a step took 7-9 s of wall clock: the full matrix would take about 16 hours there.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from penspec.compiler import compile_spec
from penspec.runtime.nets import load_net  # penspec before torch: it sets OpenMP's wait policy first
from penspec.runtime.objectives import build_objective
from penspec.runtime.precision import numerics_for
from penspec.runtime.scene import Scene
from penspec.runtime.stages import Engine, StageRun, initial_strokes
from penspec.spec import load_text

import torch

SPEC = """\
penspec: 1
title: quality
seed: {seed}
paper: {{size: 100x100mm, margin: 0mm}}
canvas: 224
pens: [{{id: black, color: "#000", width: 0.446429mm}}]
strokes: {{count: 200}}
network: {{weights: imagenet}}
objective: "channel(efficientnet_lite0:{layer}, {channel}){terms}"
augment: {{views: 8}}
stages:
  - optimize: {{size: 224, steps: {steps}}}
"""

TARGETS = (("block3", 7), ("block3", 21), ("block9", 17), ("block9", 60), ("block12", 30), ("block12", 100))
SEEDS = (0, 1, 2)
STEPS = (100, 300)
QUICK = {"targets": (("block3", 21), ("block9", 17)), "seeds": (0,), "steps": (100,)}

JUDGE_SEED = 20261201
JUDGE_VIEWS = 16
JUDGE_CROP = 224
KNOT_CELL, KNOT_STROKES = 3, 4
EDGE_PX = 2.0
SHORT = 0.03
INK_CELL, INK_TOP = 8, 0.10
FILLS = {"white": 1.0, "black": 0.0}


# ---------------------------------------------------------------------------- the judge


def rasterise(scene: Scene, rgb: list[tuple[float, float, float]], width_px: list[float]) -> np.ndarray:
    """``[H, W, 3]`` float in [0, 1]: the strokes drawn by cairo on white, round caps and joins."""
    import cairocffi as cairo

    w, h = scene.size
    surface = cairo.ImageSurface(cairo.FORMAT_RGB24, w, h)
    ctx = cairo.Context(surface)
    ctx.set_source_rgb(1, 1, 1)
    ctx.paint()
    ctx.set_line_cap(cairo.LINE_CAP_ROUND)
    ctx.set_line_join(cairo.LINE_JOIN_ROUND)
    cps = scene.control_points
    for s in range(scene.stroke_count):
        segs = np.flatnonzero(scene.segment_stroke == s)
        if len(segs) == 0:
            continue
        pen = int(scene.stroke_pen[s])
        ctx.set_source_rgb(*rgb[pen])
        ctx.set_line_width(width_px[pen])
        ctx.move_to(*cps[segs[0], 0])
        for seg in segs:
            p = cps[seg]
            ctx.curve_to(p[1, 0], p[1, 1], p[2, 0], p[2, 1], p[3, 0], p[3, 1])
        ctx.stroke()
    surface.flush()
    buf = np.frombuffer(surface.get_data(), dtype=np.uint8).reshape(h, surface.get_stride() // 4, 4)[:, :w]
    return buf[..., [2, 1, 0]].astype(np.float32) / 255.0  # BGRx -> RGB


def _homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    a, b = np.zeros((8, 8)), np.zeros(8)
    for i, ((x, y), (u, v)) in enumerate(zip(src, dst)):
        a[2 * i] = [x, y, 1, 0, 0, 0, -u * x, -u * y]
        a[2 * i + 1] = [0, 0, 0, x, y, 1, -v * x, -v * y]
        b[2 * i], b[2 * i + 1] = u, v
    return np.append(np.linalg.solve(a, b), 1.0).reshape(3, 3)


def judge_views(size: tuple[int, int], count: int = JUDGE_VIEWS, crop: int = JUDGE_CROP, seed: int = JUDGE_SEED) -> np.ndarray:
    """``[count, 3, 3]`` homographies from view px to canvas px, drawn once from ``seed``: a
    square window of 80-100 % of the canvas side, zoomed 0.9-1.1x, rotated up to 15 degrees,
    shifted up to 8 % of the side, each corner moved up to 10 % of the side (perspective)."""
    rng = np.random.default_rng(seed)
    w, h = size
    side = min(w, h)
    square = np.array([[0.0, 0.0], [crop, 0.0], [crop, crop], [0.0, crop]])
    out = []
    for _ in range(count):
        window = side * rng.uniform(0.8, 1.0) / rng.uniform(0.9, 1.1)
        angle = math.radians(rng.uniform(-15.0, 15.0))
        cx = w / 2 + rng.uniform(-0.08, 0.08) * side
        cy = h / 2 + rng.uniform(-0.08, 0.08) * side
        half = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64) * window / 2
        rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
        corners = half @ rot.T + [cx, cy] + rng.uniform(-0.1, 0.1, size=(4, 2)) * side
        out.append(_homography(square, corners))
    return np.stack(out)


def warp(image: np.ndarray, homographies: np.ndarray, crop: int, fill: float) -> torch.Tensor:
    """``[V, 3, crop, crop]``: the image seen through each view, outside filled with ``fill``."""
    h, w = image.shape[:2]
    ys, xs = np.meshgrid(np.arange(crop) + 0.5, np.arange(crop) + 0.5, indexing="ij")
    pix = np.stack([xs, ys, np.ones_like(xs)], axis=-1).reshape(-1, 3)
    grids = []
    for hom in homographies:
        q = pix @ hom.T
        q = q[:, :2] / q[:, 2:3]
        gx = q[:, 0] / w * 2 - 1
        gy = q[:, 1] / h * 2 - 1
        grids.append(np.stack([gx, gy], axis=-1).reshape(crop, crop, 2))
    grid = torch.tensor(np.stack(grids), dtype=torch.float32)
    src = torch.from_numpy(image).permute(2, 0, 1).unsqueeze(0).expand(len(homographies), -1, -1, -1) - fill
    out = torch.nn.functional.grid_sample(src, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return (out + fill).clamp(0, 1)


def sample_curves(scene: Scene, spacing: float = 0.25) -> list[np.ndarray]:
    """Per stroke, points along its curve at most ``spacing`` px apart (by the control polygon)."""
    cps = scene.control_points
    out = []
    for s in range(scene.stroke_count):
        parts = []
        for seg in np.flatnonzero(scene.segment_stroke == s):
            p = cps[seg]
            poly = np.linalg.norm(np.diff(p, axis=0), axis=1).sum()
            n = max(2, int(math.ceil(poly / spacing)) + 1)
            t = np.linspace(0.0, 1.0, n)[:, None]
            parts.append(((1 - t) ** 3) * p[0] + 3 * ((1 - t) ** 2) * t * p[1] + 3 * (1 - t) * t * t * p[2] + t ** 3 * p[3])
        out.append(np.vstack(parts) if parts else np.zeros((0, 2)))
    return out


def knot_cells(scene: Scene, curves: list[np.ndarray], cell: int = KNOT_CELL, strokes: int = KNOT_STROKES) -> np.ndarray:
    """``[rows, cols]`` bool: the cells crossed by at least ``strokes`` distinct strokes."""
    w, h = scene.size
    cols, rows = math.ceil(w / cell), math.ceil(h / cell)
    count = np.zeros(rows * cols, dtype=np.int64)
    for pts in curves:
        cx = np.clip((pts[:, 0] // cell).astype(np.int64), 0, cols - 1)
        cy = np.clip((pts[:, 1] // cell).astype(np.int64), 0, rows - 1)
        count[np.unique(cy * cols + cx)] += 1
    return (count >= strokes).reshape(rows, cols)


def measure(scene: Scene, raster: np.ndarray, curves: list[np.ndarray] | None = None) -> dict[str, float]:
    """The plot-quality measures of one scene (no network)."""
    from scipy import ndimage

    curves = sample_curves(scene) if curves is None else curves
    knots = knot_cells(scene, curves)
    clusters = int(ndimage.label(knots, structure=np.ones((3, 3)))[1])
    w, h = scene.size
    pts = scene.control_points.reshape(-1, 2)
    edge = np.minimum.reduce([pts[:, 0], pts[:, 1], w - pts[:, 0], h - pts[:, 1]]) < EDGE_PX
    lengths = np.array([np.linalg.norm(np.diff(c, axis=0), axis=1).sum() for c in curves])
    ink = 1.0 - raster.mean(axis=2)
    rows, cols = h // INK_CELL, w // INK_CELL
    cells = ink[: rows * INK_CELL, : cols * INK_CELL].reshape(rows, INK_CELL, cols, INK_CELL).sum(axis=(1, 3)).ravel()
    top = np.sort(cells)[::-1][: max(1, int(round(INK_TOP * cells.size)))]
    return {
        "knots": clusters,
        "knot cells": int(knots.sum()),
        "edge": float(edge.mean()),
        "length median": float(np.median(lengths)),
        "short": float((lengths < SHORT * min(w, h)).mean()),
        "ink top 10%": float(top.sum() / max(cells.sum(), 1e-9)),
    }


@dataclass
class Judge:
    """Cached nets and the fixed held-out views."""

    views: np.ndarray
    nets: dict
    optimiser_nets: dict = field(default_factory=dict)  # (net, deepest module, numerics) -> net in its memory format

    def activation(self, plan, raster: np.ndarray) -> dict[str, float]:
        term = plan.objective.terms[0]
        net = self.net(plan)
        out = {}
        with torch.no_grad():
            for name, fill in FILLS.items():
                act = net(warp(raster, self.views, JUDGE_CROP, fill))[term.module][:, int(term.channel)]
                out[f"act {name}"] = float(act.mean())
        return out

    def net(self, plan):
        spec = plan.objective.nets[0]
        key = (spec.name, spec.deepest)
        if key not in self.nets:
            self.nets[key] = load_net(spec, ".", seed=plan.seed)
        return self.nets[key]

    def optimiser_net(self, spec, seed: int, numerics):
        """The optimiser's copy of a net, loaded once per numerics: ``prepare`` may change its
        memory format, so it is never the judge's own fp32 net."""
        key = (spec.name, spec.deepest, numerics)
        if key not in self.optimiser_nets:
            self.optimiser_nets[key] = numerics.prepare(load_net(spec, ".", seed=seed))
        return self.optimiser_nets[key]

    def optimiser_numerics(self) -> list[str]:
        return sorted({key[2].describe() for key in self.optimiser_nets})


# ---------------------------------------------------------------------------- runs


def compile_run(layer: str, channel: int, seed: int, steps: int, overrides: list[str], terms: str = ""):
    text = SPEC.format(seed=seed, layer=layer, channel=channel, steps=steps, terms=f" {terms}" if terms else "")
    return compile_spec(load_text(text, source="quality.yaml", overrides=overrides))


def optimise(plan, judge: Judge) -> tuple[Scene, Scene, float]:
    """Build the piece's single stage with StageRun; the initial and final scenes and seconds."""
    cpu = torch.device("cpu")
    numerics = numerics_for(plan, cpu)  # what a build on this CPU runs the nets in (precision: auto -> bf16 on AVX512-BF16)
    nets = {spec.name: judge.optimiser_net(spec, plan.seed, numerics) for spec in plan.objective.nets}
    engine = Engine.loaded(plan, nets, build_objective(plan.objective, nets=nets), cpu, numerics=numerics)
    first = initial_strokes(plan)
    run = StageRun(engine, plan.stages[0], first)
    t0 = time.perf_counter()
    while not run.done:
        run.step()
    return first.to_scene(), run.result().to_scene(), time.perf_counter() - t0


def pen_style(plan) -> tuple[list, list]:
    return [tuple(p.rgb) for p in plan.pens], [float(p.width_px) for p in plan.pens]


def judge_scene(plan, scene: Scene, judge: Judge) -> tuple[dict, np.ndarray, np.ndarray]:
    rgb, width = pen_style(plan)
    raster = rasterise(scene, rgb, width)
    curves = sample_curves(scene)
    row = measure(scene, raster, curves)
    row.update(judge.activation(plan, raster))
    return row, raster, knot_cells(scene, curves)


COLUMNS = ("act white", "act black", "knots", "knot cells", "edge", "length median", "short", "ink top 10%", "seconds")


def fmt(key: str, v) -> str:
    if key in ("knots", "knot cells"):
        return f"{v:g}"
    if key in ("edge", "short", "ink top 10%"):
        return f"{100 * v:.1f} %"
    if key == "seconds":
        return f"{v:.0f}"
    return f"{v:.3f}"


def summary(rows: list[dict]) -> dict:
    """Medians per step count (and for the initial strokes)."""
    out = {}
    for steps in sorted({r["steps"] for r in rows}):
        group = [r for r in rows if r["steps"] == steps]
        out[str(steps)] = {k: statistics.median(r[k] for r in group) for k in COLUMNS if all(k in r for r in group)}
    return out


def markdown(result: dict) -> str:
    settings = " ".join([*(f"--set {o}" for o in result["overrides"]), *([f"--terms '{result['terms']}'"] if result.get("terms") else [])])
    lines = [f"# quality: {result['label']}", "", f"settings: `{settings or '(defaults)'}`; "
             f"{result['cpu']}; torch {result['torch']}; optimiser nets {', '.join(result.get('optimiser numerics', [])) or 'fp32'}; load average at start {result['load']}; "
             f"total {result['total seconds']:.0f} s wall clock", ""]
    head = ("target", "seed", "steps") + COLUMNS
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in result["runs"]:
        cells = [r["target"], str(r["seed"]), str(r["steps"])] + [fmt(k, r[k]) if k in r else "" for k in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Medians over targets x seeds (steps 0: the initial strokes):", "",
              "| steps | " + " | ".join(COLUMNS) + " |", "|---|" + "---|" * len(COLUMNS)]
    for steps, med in result["medians"].items():
        lines.append(f"| {steps} | " + " | ".join(fmt(k, med[k]) if k in med else "" for k in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def contact(entries: list[tuple[str, np.ndarray, np.ndarray]], cols: int, path: Path) -> None:
    """All rasters in a grid, each labelled, knot cells outlined in red."""
    from PIL import Image, ImageDraw

    tile = entries[0][1].shape[0]
    label = 14
    rows = math.ceil(len(entries) / cols)
    sheet = Image.new("RGB", (cols * (tile + 4), rows * (tile + label + 4)), (200, 200, 200))
    draw = ImageDraw.Draw(sheet)
    for i, (text, raster, knots) in enumerate(entries):
        x0, y0 = (i % cols) * (tile + 4), (i // cols) * (tile + label + 4)
        sheet.paste(Image.fromarray((raster * 255).astype(np.uint8)), (x0, y0 + label))
        for cy, cx in zip(*np.nonzero(knots)):
            draw.rectangle([x0 + cx * KNOT_CELL, y0 + label + cy * KNOT_CELL,
                            x0 + cx * KNOT_CELL + KNOT_CELL - 1, y0 + label + cy * KNOT_CELL + KNOT_CELL - 1], outline=(230, 0, 0))
        draw.text((x0 + 2, y0 + 1), text, fill=(0, 0, 0))
    sheet.save(path)


SHOWN_FLAGS = ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_tile")


def cpu_name() -> str:
    """Model, the flags that decide CPU speed and precision here, cores and torch threads."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown CPU"
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")), "unknown CPU")
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    shown = [f for f in SHOWN_FLAGS if f in flags]
    return f"{model} ({' '.join(shown) or 'none of ' + ' '.join(SHOWN_FLAGS)}), {os.cpu_count()} cores, {torch.get_num_threads()} torch threads"


def run_matrix(args) -> dict:
    targets = matrix_targets(args)
    seeds = QUICK["seeds"] if args.quick else SEEDS
    steps_list = QUICK["steps"] if args.quick else STEPS
    if args.seeds:
        seeds = tuple(int(s) for s in args.seeds.split(","))
    if args.steps:
        steps_list = tuple(int(s) for s in args.steps.split(","))
    out = Path(args.out)
    (out / "scenes").mkdir(parents=True, exist_ok=True)
    judge = Judge(judge_views((224, 224)), {})
    rows, tiles = [], []
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    t_all = time.perf_counter()
    for layer, channel in targets:
        for steps in (0, *steps_list):
            for seed in seeds:
                plan = compile_run(layer, channel, seed, max(steps, 1), args.set, args.terms)
                if steps == 0:
                    scene, seconds = initial_strokes(plan).to_scene(), 0.0
                else:
                    _, scene, seconds = optimise(plan, judge)
                row, raster, knots = judge_scene(plan, scene, judge)
                row.update(target=f"{layer}:{channel}", seed=seed, steps=steps, seconds=seconds)
                rows.append(row)
                name = f"{layer}-{channel}-s{seed}-{steps}"
                scene.save(out / "scenes" / f"{name}.npz")
                tiles.append((f"{layer}:{channel} s{seed} {steps}: {row['knots']} knots", raster, knots))
                print(f"{name}: " + ", ".join(f"{k} {fmt(k, row[k])}" for k in COLUMNS), flush=True)
    result = {
        "label": args.label,
        "overrides": list(args.set),
        "terms": args.terms,
        "cpu": cpu_name(),
        "torch": torch.__version__,
        "optimiser numerics": judge.optimiser_numerics(),
        "load": round(load, 1),
        "total seconds": time.perf_counter() - t_all,
        "judge": {"views": JUDGE_VIEWS, "crop": JUDGE_CROP, "seed": JUDGE_SEED, "fills": FILLS,
                  "knot": {"cell px": KNOT_CELL, "strokes": KNOT_STROKES}, "edge px": EDGE_PX,
                  "short": SHORT, "ink": {"cell px": INK_CELL, "top": INK_TOP}},
        "runs": rows,
        "medians": summary(rows),
    }
    write_result(result, tiles, len(seeds), out)
    return result


def write_result(result: dict, tiles: list, cols: int, out: Path) -> None:
    (out / "quality.json").write_text(json.dumps(result, indent=1) + "\n")
    (out / "quality.md").write_text(markdown(result))
    contact(tiles, cols, out / "contact.png")
    print(markdown(result))


def merge(parts: list[Path], out: Path, label: str) -> dict:
    """One result from several ``--out`` folders of the same settings (a matrix split over
    processes or machines): runs in target, steps, seed order, medians recomputed, the contact
    image redrawn from each part's saved scenes."""
    results = [(json.loads((p / "quality.json").read_text()), p) for p in parts]
    first = results[0][0]
    for r, p in results[1:]:
        if (r["overrides"], r["terms"]) != (first["overrides"], first["terms"]):
            raise SystemExit(f"{p}: other settings than {parts[0]} ({r['overrides']} {r['terms']!r}); merge runs of one setting")
    runs, source = {}, {}
    for r, p in results:
        for row in r["runs"]:
            key = (row["target"], row["steps"], row["seed"])
            runs[key], source[key] = row, p
    seen = list(dict.fromkeys(row["target"] for r, _ in results for row in r["runs"]))
    builtin = [f"{layer}:{channel}" for layer, channel in TARGETS]
    seen.sort(key=lambda t: builtin.index(t) if t in builtin else len(builtin))  # the built-in order, others after
    order = {t: i for i, t in enumerate(seen)}
    keys = sorted(runs, key=lambda k: (order[k[0]], k[1], k[2]))
    seeds = sorted({k[2] for k in keys})
    (out / "scenes").mkdir(parents=True, exist_ok=True)
    tiles = []
    for target, steps, seed in keys:
        row = runs[(target, steps, seed)]
        layer, channel = target.split(":")
        name = f"{layer}-{channel}-s{seed}-{steps}"
        scene = Scene.load(source[(target, steps, seed)] / "scenes" / f"{name}.npz")
        scene.save(out / "scenes" / f"{name}.npz")
        plan = compile_run(layer, int(channel), seed, max(steps, 1), first["overrides"], first["terms"])
        rgb, width = pen_style(plan)
        tiles.append((f"{target} s{seed} {steps}: {row['knots']} knots", rasterise(scene, rgb, width), knot_cells(scene, sample_curves(scene))))
    result = {**first, "label": label or first["label"], "runs": [runs[k] for k in keys],
              "total seconds": sum(r["total seconds"] for r, _ in results),
              "load": max(r["load"] for r, _ in results),
              "optimiser numerics": sorted({n for r, _ in results for n in r.get("optimiser numerics", [])}),
              "merged from": [str(p) for p in parts]}
    result["medians"] = summary(result["runs"])
    write_result(result, tiles, len(seeds), out)
    return result


def matrix_targets(args) -> tuple[tuple[str, int], ...]:
    if args.targets:
        return tuple((t.split(":")[0], int(t.split(":")[1])) for t in args.targets.split(","))
    return QUICK["targets"] if args.quick else TARGETS


def run_split(args) -> dict:
    """``--jobs N``: the targets dealt round-robin to N child processes of this script (one torch
    thread each, writing ``--out``/part-K), then :func:`merge` of their folders into ``--out``."""
    import subprocess

    targets = matrix_targets(args)
    jobs = min(args.jobs, len(targets))
    out = Path(args.out)
    common = [*(f"--set={o}" for o in args.set), f"--terms={args.terms}", f"--label={args.label}", "--threads=1",
              *(["--quick"] if args.quick else []), *([f"--seeds={args.seeds}"] if args.seeds else []),
              *([f"--steps={args.steps}"] if args.steps else [])]
    out.mkdir(parents=True, exist_ok=True)
    children, parts = [], []
    for k in range(jobs):
        part = out / f"part-{k}"
        parts.append(part)
        mine = ",".join(f"{layer}:{channel}" for layer, channel in targets[k::jobs])
        log = open(out / f"part-{k}.log", "w")
        children.append((subprocess.Popen([sys.executable, __file__, *common, f"--targets={mine}", f"--out={part}"],
                                          stdout=log, stderr=subprocess.STDOUT), log))
    failed = []
    for k, (child, log) in enumerate(children):
        if child.wait() != 0:
            failed.append(f"part {k} exited {child.returncode} (see {out / f'part-{k}.log'})")
        log.close()
    if failed:
        raise SystemExit("; ".join(failed))
    return merge(parts, out, args.label)


def edge_drift(result: dict, steps: int) -> list[float]:
    """Per run: the share of points on the edge after ``steps`` minus the initial strokes' share
    (same target and seed). The initial share varies by seed (each seed's first strokes are one
    random draw), so this is what the optimiser itself did at the edge."""
    initial = {(r["target"], r["seed"]): r["edge"] for r in result["runs"] if r["steps"] == 0}
    return [r["edge"] - initial[(r["target"], r["seed"])] for r in result["runs"]
            if r["steps"] == steps and (r["target"], r["seed"]) in initial]


def compare(before: dict, after: dict) -> str:
    """Per-run after/before of every measure, paired by (target, seed, steps), and medians."""
    index = {(r["target"], r["seed"], r["steps"]): r for r in before["runs"]}
    lines = [f"# {after['label']} vs {before['label']}", ""]
    for steps in sorted({r["steps"] for r in after["runs"]}):
        pairs = [(index[(r["target"], r["seed"], r["steps"])], r) for r in after["runs"]
                 if r["steps"] == steps and (r["target"], r["seed"], r["steps"]) in index]
        if not pairs:
            continue
        lines.append(f"steps {steps}, {len(pairs)} runs: medians before -> after")
        for k in COLUMNS:
            b = statistics.median(p[0][k] for p in pairs)
            a = statistics.median(p[1][k] for p in pairs)
            lines.append(f"  {k:14} {fmt(k, b):>9} -> {fmt(k, a):>9}")
        for k in ("act white", "act black"):
            ratios = [p[1][k] / p[0][k] for p in pairs if p[0][k] > 0]
            if ratios:
                lines.append(f"  {k} ratio after/before: median {statistics.median(ratios):.3f}, min {min(ratios):.3f}, max {max(ratios):.3f}")
        if steps > 0:
            drift = [statistics.median(d) for d in (edge_drift(result, steps) for result in (before, after)) if d]
            if len(drift) == 2:
                lines.append(f"  edge drift (edge minus the same strokes' initial edge), median: {100 * drift[0]:+.2f} -> {100 * drift[1]:+.2f} points")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 targets x 1 seed x 100 steps (a few minutes on 2 cores)")
    parser.add_argument("--out", default="bench/out/quality")
    parser.add_argument("--label", default="penspec")
    parser.add_argument("--set", action="append", default=[], help="a spec override, as penspec build --set")
    parser.add_argument("--terms", default="", help="terms added to every run's objective, e.g. '- 0.1 * crowding'")
    parser.add_argument("--targets", default="", help="layer:channel,... instead of the built-in set")
    parser.add_argument("--seeds", default="")
    parser.add_argument("--steps", default="")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"))
    parser.add_argument("--merge", nargs="+", metavar="DIR", help="combine the --out folders of one setting into --out")
    parser.add_argument("--jobs", type=int, default=1, help="split the targets over this many processes (one torch thread each), then merge")
    args = parser.parse_args()
    if args.merge:
        merge([Path(p) for p in args.merge], Path(args.out), args.label if args.label != "penspec" else "")
        return
    if args.jobs > 1:
        run_split(args)
        return
    if args.compare:
        before, after = (json.loads(Path(p).read_text()) for p in args.compare)
        print(compare(before, after))
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    run_matrix(args)


if __name__ == "__main__":
    sys.exit(main())
