"""Renderer benchmark: forward and backward time and peak memory on fixed scenes.

    python bench/render.py [--device cpu|cuda] [--repeat 7] [--threads N] [--cpu-time] [--scene NAME]

Scenes (random smooth strokes of 1-3 cubics about 25 px long, widths 0.5-4 px, 3 pens):
224 px / 200 strokes, 512 px / 800, 1024 px / 2400 (the tiled finetune), and 16 views of 224 px
from the 1024 px canvas (zoomed, rotated, perspective crops). Times are medians over
``--repeat`` runs after warm-up; backward is the time of ``loss.backward()`` alone. Peak memory
is measured in a fresh process per scene: CUDA's allocator peak, or on CPU the growth of the
resident set over one forward + backward. When pydiffvg imports, diffvg runs the same scenes
in the same run and the ratio is printed.

On a machine shared with other jobs, OpenMP's spinning threads can make every small op wait
for a time slice (seconds per step): run with ``OMP_WAIT_POLICY=PASSIVE`` or ``--threads 1``.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from penspec.runtime.render import available_backends, render

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for the test scenes
from tests.support.scenes import random_scene  # noqa: E402

SCENES = {
    "224px/200": dict(size=224, strokes=200),
    "512px/800": dict(size=512, strokes=800),
    "1024px/2400": dict(size=1024, strokes=2400),
    "16x224 views of 1024px/2400": dict(size=1024, strokes=2400, views=16, crop=224),
}


def random_views(count: int, canvas: int, crop: int, seed: int = 0, dtype=torch.float32) -> torch.Tensor:
    """Homographies canvas px -> crop px: a square region of 224-448 canvas px, rotated up to
    15 degrees, with mild perspective, mapped onto the crop."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(count):
        side = crop * (1 + torch.rand(1, generator=g).item())
        cx, cy = (side / 2 + (canvas - side) * torch.rand(2, generator=g)).tolist()
        angle = math.radians(15 * (2 * torch.rand(1, generator=g).item() - 1))
        s = crop / side
        c, si = math.cos(angle) * s, math.sin(angle) * s
        h = crop / 2
        affine = torch.tensor([[c, -si, h - c * cx + si * cy], [si, c, h - si * cx - c * cy], [0, 0, 1]], dtype=torch.float64)
        px, py = ((2 * torch.rand(2, generator=g) - 1) * 0.3 / crop).tolist()
        centre = torch.tensor([[1, 0, h], [0, 1, h], [0, 0, 1]], dtype=torch.float64)
        tilt = torch.tensor([[1, 0, 0], [0, 1, 0], [px, py, 1]], dtype=torch.float64)
        out.append(centre @ tilt @ torch.linalg.inv(centre) @ affine)
    return torch.stack(out).to(dtype)


def make_inputs(name: str, device: str):
    spec = SCENES[name]
    scene = random_scene(spec["size"], spec["strokes"], pens=3, extent=25.0, width=(0.5, 4.0), seed=0, device=device)
    kwargs = {}
    if "views" in spec:
        kwargs = dict(views=random_views(spec["views"], spec["size"], spec["crop"]).to(device), view_size=(spec["crop"], spec["crop"]))
    leaves = dict(
        control_points=scene.control_points.clone().requires_grad_(),
        stroke_width=scene.stroke_width.clone().requires_grad_(),
        pen_rgb=scene.pen_rgb.clone().requires_grad_(),
    )
    args = (leaves["control_points"], scene.segment_stroke, leaves["stroke_width"], scene.stroke_pen, leaves["pen_rgb"], scene.size)
    return args, kwargs


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def step(args, kwargs, backend: str, device: str, clock=time.perf_counter) -> tuple[float, float]:
    _sync(device)
    t0 = clock()
    image = render(*args, backend=backend, **kwargs)
    _sync(device)
    t1 = clock()
    image.mean().backward()
    _sync(device)
    t2 = clock()
    return t1 - t0, t2 - t1


def timings(name: str, backend: str, device: str, repeat: int, clock=time.perf_counter) -> tuple[float, float]:
    args, kwargs = make_inputs(name, device)
    warm = 2 if backend == "torch" else 1
    for _ in range(warm):
        step(args, kwargs, backend, device)
    runs = [step(args, kwargs, backend, device, clock) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs) * 1e3, statistics.median(r[1] for r in runs) * 1e3


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def peak_memory(name: str, backend: str, device: str) -> int:
    """Bytes one forward + backward needs beyond its inputs (run this in a fresh process)."""
    args, kwargs = make_inputs(name, device)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        step(args, kwargs, backend, device)
        return torch.cuda.max_memory_allocated() - base
    base = _rss_bytes()
    step(args, kwargs, backend, device)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base


def peak_in_child(name: str, backend: str, device: str) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--peak", name, "--backend", backend, "--device", device, "--threads", str(torch.get_num_threads())],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.split()[-1]) / 2**20


def device_name(device: str) -> str:
    if device == "cuda":
        return f"cuda: {torch.cuda.get_device_name()}"
    model = "cpu"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"cpu: {model}, {torch.get_num_threads()} threads"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice)")
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time with this process's CPU time instead of the wall clock (CPU only; steadier when "
        "other jobs share the machine, but it adds up all threads)",
    )
    parser.add_argument("--backend", default="torch")
    parser.add_argument("--scene", action="append", choices=list(SCENES))
    parser.add_argument("--peak", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.threads:
        torch.set_num_threads(opts.threads)
    if opts.peak:
        print(peak_memory(opts.peak, opts.backend, opts.device))
        return

    backends = [opts.backend]
    if "diffvg" in available_backends() and "diffvg" not in backends:
        backends.append("diffvg")
    clock = time.process_time if opts.cpu_time and opts.device == "cpu" else time.perf_counter
    load = ", load average %.1f" % os.getloadavg()[0] if hasattr(os, "getloadavg") else ""
    print(f"device {device_name(opts.device)}{load}; torch {torch.__version__}; backends {', '.join(backends)}")
    policy = os.environ.get("OMP_WAIT_POLICY", "unset")
    print(f"timing: {'process CPU time' if clock is time.process_time else 'wall clock'}, median of {opts.repeat} after warm-up; OMP_WAIT_POLICY {policy}")
    busy = hasattr(os, "getloadavg") and os.getloadavg()[0] > (os.cpu_count() or 1) - 0.5
    if opts.device == "cpu" and busy and policy.upper() != "PASSIVE" and torch.get_num_threads() > 1:
        print("note: other jobs hold the cores and OpenMP threads spin: expect very slow small ops; try OMP_WAIT_POLICY=PASSIVE or --threads 1")
    print(f"{'scene':<30} {'backend':<8} {'fwd ms':>9} {'bwd ms':>9} {'total ms':>9} {'peak MiB':>9}")
    for name in opts.scene or SCENES:
        totals = {}
        for backend in backends:
            fwd, bwd = timings(name, backend, opts.device, opts.repeat, clock)
            peak = peak_in_child(name, backend, opts.device)
            totals[backend] = fwd + bwd
            print(f"{name:<30} {backend:<8} {fwd:9.1f} {bwd:9.1f} {fwd + bwd:9.1f} {peak:9.1f}")
        if "diffvg" in totals and opts.backend != "diffvg":
            print(f"{'':<30} diffvg / {opts.backend}: {totals['diffvg'] / totals[opts.backend]:.1f}x")


if __name__ == "__main__":
    main()
