"""Calibrate the compiler's memory estimate (compiler/estimate.py) against measured peaks.

    python bench/memory.py [--steps 2]

For each spec below (gallery specs with ``--set`` overrides across canvas, views, crop, strokes
and nets, random weights), a fresh subprocess imports torch, loads the nets and builds the
first stage's strokes, notes its peak RSS (``ru_maxrss``), runs ``--steps`` steps of the first
stage as a build runs them, and notes the peak again. The growth is what the estimate of that
stage predicts; the table gives both and their ratio (estimate / measured). CPU only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HELLO = ROOT / "gallery" / "hello" / "spec.yaml"
RESNET = ROOT / "gallery" / "resnet18-layer3" / "spec.yaml"
R = ("network.weights=random",)
CASES = [
    ("hello", HELLO, R),
    ("hello canvas 320, 8 views crop 256", HELLO, R + ("canvas=320", "augment.views=8", "augment.crop=256")),
    ("hello canvas 768, 2000 strokes", HELLO, R + ("canvas=768", "strokes.count=2000")),
    ("hello 16 views crop 96, 600 strokes", HELLO, R + ("augment.views=16", "augment.crop=96", "strokes.count=600")),
    ("resnet18 layer3", RESNET, R),
    ("resnet18 canvas 1024, 3000 strokes, crop 160", RESNET, R + ("canvas=1024", "strokes.count=3000", "augment.crop=160")),
    ("resnet18 16 views crop 256", RESNET, R + ("augment.views=16", "augment.crop=256")),
    ("resnet18 bf16, 12 views", RESNET, R + ("network.precision=bf16", "augment.views=12")),
]

CHILD = r"""
import json, resource, sys
import torch
from penspec.spec import load
from penspec.compiler import compile_spec
from penspec.compiler.plan import NetStagePlan
from penspec.runtime.engine import engine_for
from penspec.runtime.precision import numerics_for
from penspec.runtime.stages import StageRun, initial_strokes
path, overrides, steps = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
spec = load(path, overrides=tuple(overrides))
plan = compile_spec(spec)
device = torch.device("cpu")
engine = engine_for(spec, plan, device, "torch", numerics_for(plan, device))
engine.nets  # load the nets now: the baseline includes them
stage = next(s for s in plan.stages if isinstance(s, NetStagePlan))
run = StageRun(engine, stage, initial_strokes(plan, device))
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
for _ in range(steps):
    run.step()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
cost = next(c for c in plan.estimates.stages if c.stage == stage.name)
print(json.dumps({"measured": peak - base, "estimate": cost.peak_bytes, "parts": [cost.renderer_bytes, cost.images_bytes, cost.nets_bytes, cost.optimizer_bytes]}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2)
    args = parser.parse_args()
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    mib = 1 << 20
    print(f"| spec | estimate MiB (renderer/images/nets/optimiser) | measured MiB | estimate / measured |")
    print("|---|---|---|---|")
    for name, path, overrides in CASES:
        out = subprocess.run([sys.executable, "-c", CHILD, str(path), json.dumps(overrides), str(args.steps)],
                             capture_output=True, text=True, env=env)
        if out.returncode:
            raise SystemExit(f"{name}: {out.stderr.strip().splitlines()[-1]}")
        r = json.loads(out.stdout.strip().splitlines()[-1])
        parts = "/".join(f"{p / mib:.0f}" for p in r["parts"])
        print(f"| {name} | {r['estimate'] / mib:.0f} ({parts}) | {r['measured'] / mib:.0f} | {r['estimate'] / r['measured']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
