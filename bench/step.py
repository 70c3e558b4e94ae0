"""Optimisation step benchmark: where one step's time goes, at the seed's scale and at the
1024 px finetune.

    python bench/step.py [--device auto|cpu|cuda] [--repeat 5] [--warmup 2] [--threads N]
                         [--stat median|min] [--cpu-time] [--precision fp32,auto,bf16,fp16]
                         [--scenes seed,finetune] [--quality-steps 20]

Scenes are compiled from a real spec (VGG16 conv3_3 channel 37, random weights, 0.3 mm pen on
A3): ``seed 256px`` is the first optimize stage (256 px region, 200 strokes, 8 views of
224 px), ``finetune 1024px`` the finetune after a 4x4 tile (3200 strokes, 16 views of 224 px).
For each, one step is split into phases: view sampling, render forward, net forward, net
backward, render backward, optimiser (Adam). ``net only`` is the same net's forward +
backward on a fixed batch of rendered views of the same shape; ``overhead`` is everything in the
step that is not the net's own forward + backward, as a share of the step. ``runner step`` times
``StageRun.step`` itself (the code a build runs); ``overhead vs net only`` compares it with the
separately timed net. Times are medians in ms (``--stat min``: best of the runs;
``--cpu-time``: the process's CPU time instead of the wall clock; both are steadier on a busy
machine, and so is OMP_WAIT_POLICY=PASSIVE, which stops idle OpenMP threads from spinning).

``--precision`` takes a comma-separated list (default ``fp32,auto``): every scene is measured
in each, the nets running as a build would run them (runtime/precision.py: autocast, memory
format). Then, per precision, the seed stage runs ``--quality-steps`` optimisation steps from
the same initial strokes and the objective is measured on the held-out views in fp32, so the
precisions are compared on the same ruler; the last table gives each precision's step time and
held-out objective against the first precision listed.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from collections.abc import Callable

import torch
from penspec.compiler import compile_spec
from penspec.runtime.augment import TRAIN
from penspec.runtime.device import describe_device, make_deterministic, resolve_device
from penspec.runtime.metrics import held_out_scores
from penspec.runtime.nets import load_net
from penspec.runtime.objectives import build_objective
from penspec.runtime.precision import FP32, PRECISIONS, numerics_for
from penspec.runtime.stages import Engine, StageRun, apply_tile, initial_strokes, lr_at
from penspec.spec import load_text

SPEC = """\
penspec: 1
title: bench
seed: 0
paper: {size: a3, landscape: true, margin: 20mm}
canvas: 1024
pens: [{id: black, color: "#111", width: 0.3mm}]
strokes: {count: 200, segments: [1, 3], extent: 0.1}
network: {weights: random}
objective: "channel(vgg16:conv3_3, 37)"
augment: {views: 8, crop: 224, rotate: 5deg, translate: 0.05, perspective: 0.3, jitter: 8}
stages:
  - optimize: {size: 256, steps: 500, lr: 1.0}
  - tile: {repeat: 4}
  - finetune: {steps: 1500, lr: 0.5, views: 16}
"""

PHASES = ("views", "render fwd", "net fwd", "net bwd", "render bwd", "optimiser")


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


CLOCK = {"clock": time.perf_counter}  # set once from --cpu-time in main()


def timed(device: torch.device, fn: Callable[[], object]) -> tuple[float, object]:
    clock = CLOCK["clock"]
    sync(device)
    t0 = clock()
    out = fn()
    sync(device)
    return (clock() - t0) * 1000.0, out


def phase_step(engine: Engine, run: StageRun) -> dict[str, float]:
    """One step of ``run`` with every phase timed apart (same maths as StageRun.step)."""
    device = engine.device
    stage, k = run.stage, run.next_step
    times: dict[str, float] = {}
    times["views"], h = timed(device, lambda: engine.homographies(TRAIN, stage.index, k, stage.views, run.strokes.region))
    run.optimizer.zero_grad(set_to_none=True)
    times["render fwd"], images = timed(device, lambda: engine.view_images(run.strokes, run.points(), run.look(k), h))
    cut = images.detach().requires_grad_(True)
    times["net fwd"], loss = timed(device, lambda: engine.objective.loss(engine.features(cut)))
    times["net bwd"], _ = timed(device, lambda: loss.backward())
    times["render bwd"], _ = timed(device, lambda: images.backward(cut.grad))

    def update():
        for group in run.optimizer.param_groups:
            group["lr"] = lr_at(stage, k)
        run.optimizer.step()

    times["optimiser"], _ = timed(device, update)
    run.next_step = k + 1
    return times


def net_only(engine: Engine, images: torch.Tensor) -> float:
    """The net's own forward + backward on a fixed batch of rendered views."""
    x = images.detach().clone().requires_grad_(True)

    def go():
        engine.objective.loss(engine.features(x)).backward()

    return timed(engine.device, go)[0]


STATS = {"median": statistics.median, "min": min}


def bench_scene(engine: Engine, stage, strokes, repeat: int, warmup: int, stat: str = "median") -> dict[str, float]:
    summarise = STATS[stat]
    run = StageRun(engine, stage, strokes)
    h = engine.homographies(TRAIN, stage.index, 0, stage.views, strokes.region)
    with torch.no_grad():
        images = engine.view_images(strokes, strokes.points, run.look(0), h)
    for _ in range(warmup):
        phase_step(engine, run)
        net_only(engine, images)
    rows = [phase_step(engine, run) for _ in range(repeat)]
    out = {p: summarise([r[p] for r in rows]) for p in PHASES}
    out["step"] = summarise([sum(r.values()) for r in rows])
    out["net only"] = summarise([net_only(engine, images) for _ in range(repeat)])
    out["runner step"] = summarise([timed(engine.device, run.step)[0] for _ in range(repeat)])
    net = out["net fwd"] + out["net bwd"]
    out["overhead %"] = 100.0 * (out["step"] - net) / out["step"]
    out["overhead vs net only %"] = 100.0 * (out["runner step"] - out["net only"]) / out["runner step"]
    out["strokes"] = strokes.stroke_count
    out["views x crop"] = f"{stage.views} x {engine.plan.augment.crop}px"
    return out


def in_format(nets: dict, numerics) -> dict:
    """The same nets, laid out in memory as ``numerics`` wants them (in place)."""
    for net in nets.values():
        net.to(memory_format=torch.contiguous_format)
        numerics.prepare(net)
    return nets


def quality(engine: Engine, stage, strokes, steps: int, judge: Engine) -> float:
    """The objective on held-out views (measured by ``judge``, in fp32) after ``steps`` steps."""
    run = StageRun(engine, stage, strokes)
    for _ in range(steps):
        run.step()
    in_format(judge.nets, judge.numerics)
    scores = held_out_scores(judge, run.current())
    return float(sum(w * s for (w, _), s in zip(judge.objective.terms, scores)))


def with_precision(plan, precision: str):
    nets = tuple(dataclasses.replace(n, precision=precision) for n in plan.objective.nets)
    return dataclasses.replace(plan, objective=dataclasses.replace(plan.objective, nets=nets))


def print_table(results: dict[str, dict], keys) -> None:
    width = max(len(k) for k in keys)
    print(f"{'':{width}}  " + "  ".join(f"{name:>20}" for name in results))
    for key in keys:
        cells = []
        for res in results.values():
            v = res[key]
            cells.append((f"{v:>20.1f}" if abs(v) >= 100 else f"{v:>20.6g}") if isinstance(v, float) else f"{v!s:>20}")
        print(f"{key:{width}}  " + "  ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--cpu-time", action="store_true", help="time with the process's CPU time (CPU only; steadier on a shared machine)")
    parser.add_argument("--stat", choices=sorted(STATS), default="median", help="how repeats are summarised (min: best of, for busy machines)")
    parser.add_argument("--precision", default="fp32,auto", help="comma-separated precisions to compare (auto, fp32, bf16, fp16)")
    parser.add_argument("--scenes", default="seed,finetune", help="which scenes to time: seed, finetune or both")
    parser.add_argument("--quality-steps", type=int, default=20, help="steps of the seed stage before the held-out objective (0: skip)")
    args = parser.parse_args()
    precisions = [p.strip() for p in args.precision.split(",") if p.strip()]
    scenes = {s.strip() for s in args.scenes.split(",") if s.strip()}
    if any(p not in PRECISIONS for p in precisions) or not precisions:
        parser.error(f"--precision takes {', '.join(PRECISIONS)}")
    if not scenes or scenes - {"seed", "finetune"}:
        parser.error("--scenes takes seed, finetune")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    if args.cpu_time and device.type == "cpu":
        CLOCK["clock"] = time.process_time
    clock = "process CPU time" if CLOCK["clock"] is time.process_time else "wall clock"
    print(f"device: {describe_device(device)}; torch {torch.__version__}; {clock}, {args.stat} of {args.repeat} runs, ms")

    base = compile_spec(load_text(SPEC, source="bench.yaml"))
    summary: dict[str, dict] = {}
    nets = {n.name: load_net(n, ".", seed=base.seed, device=device) for n in base.objective.nets}  # shared by every precision
    objective = build_objective(base.objective, nets=nets)
    judge = Engine.loaded(base, nets, objective, device, numerics=FP32)
    for precision in precisions:
        plan = with_precision(base, precision)
        numerics = numerics_for(plan, device)
        engine = Engine.loaded(plan, in_format(nets, numerics), objective, device, numerics=numerics)
        seed_stage, tile_stage, finetune_stage = plan.stages
        first = initial_strokes(plan, device)
        print(f"\nprecision {precision}: nets in {numerics.describe()}")
        results = {}
        with make_deterministic(device):
            if "seed" in scenes:
                results["seed 256px"] = bench_scene(engine, seed_stage, first, args.repeat, args.warmup, args.stat)
            if "finetune" in scenes:
                tiled = apply_tile(tile_stage, first.to("cpu")).to(device)
                results["finetune 1024px"] = bench_scene(engine, finetune_stage, tiled, args.repeat, args.warmup, args.stat)
            keys = ("strokes", "views x crop", *PHASES, "step", "runner step", "net only", "overhead %", "overhead vs net only %")
            print_table(results, keys)
            row = {"nets in": numerics.precision, **{f"{name} step ms": r["runner step"] for name, r in results.items()}}
            if args.quality_steps:
                row[f"held-out after {args.quality_steps}"] = quality(engine, seed_stage, first, args.quality_steps, judge)
                in_format(nets, numerics)
        summary[precision] = row
        if "seed 256px" in results and "finetune 1024px" in results:
            seed, fine = results["seed 256px"], results["finetune 1024px"]
            print(f"overhead beyond the net's fwd+bwd at seed scale: {seed['overhead %']:.1f} % (target <= 5 %)")
            print(f"finetune 1024px step / seed 256px step: {fine['runner step'] / seed['runner step']:.2f}x (target <= 2.5x)")

    reference = precisions[0]
    for precision, row in summary.items():
        for key in [k for k in row if k.endswith("step ms")]:
            row[key.replace("ms", f"/ {reference}")] = f"{row[key] / summary[reference][key]:.3f}x"
        held = [k for k in row if k.startswith("held-out")]
        for key in held:
            ref = summary[reference][key]
            row[f"held-out vs {reference}"] = f"{100.0 * (row[key] - ref) / abs(ref):+.2f} %"
    print(f"\nper precision (runner step: {args.stat} of {args.repeat}; held-out objective measured with fp32 nets)")
    print_table(summary, list(dict.fromkeys(k for row in summary.values() for k in row)))


if __name__ == "__main__":
    main()
