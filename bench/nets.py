"""Per-net speed of the forward + backward to the input in each precision and memory format:
the measurement behind the channels_last table in runtime/precision.py (docs/precision.md).

    python bench/nets.py [--device auto|cpu|cuda] [--nets vgg16,resnet18] [--views 8] [--crop 224]
                         [--precisions fp32,bf16,fp16] [--repeat 3] [--warmup 1] [--threads N]

Each net is loaded as a build loads it (random weights, truncated after the layer the gallery
reads most: vgg16/vgg19 conv3_3, resnet18/resnet50 layer3, alexnet conv5, efficientnet_lite0
block8), then ``views`` images of ``crop`` px go forward under autocast and backward to the input.
Times are medians in ms of ``repeat`` runs after ``warmup``; the two memory formats run in turn
(contiguous, channels_last, contiguous, ...) so that a busy machine's drift hits both alike.
``cl/contig`` is channels_last's time over the contiguous one (< 1: channels_last is faster).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from penspec.compiler.plan import NetPlan
from penspec.runtime.device import describe_device, resolve_device
from penspec.runtime.nets import load_net
from penspec.runtime.precision import PRECISIONS, Numerics

LAYERS = {
    "vgg16": "features.14",
    "vgg19": "features.14",
    "resnet18": "layer3",
    "resnet50": "layer3",
    "alexnet": "features.10",
    "efficientnet_lite0": "_blocks.8",
}
FORMATS = ("contiguous", "channels_last")


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timer(net, numerics: Numerics, device: torch.device, views: int, crop: int):
    """A function that runs one forward + backward of ``net`` and returns its time in ms."""
    gen = torch.Generator().manual_seed(0)
    images = torch.rand(views, 3, crop, crop, generator=gen).to(device)

    def once() -> float:
        x = images.clone().requires_grad_(True)
        sync(device)
        t0 = time.perf_counter()
        with numerics.autocast(device.type):
            acts = net(numerics.net_input(net.name, x))
        loss = -sum(a.float().mean() for a in acts.values())
        loss.backward()
        sync(device)
        if not torch.isfinite(x.grad).all():
            raise FloatingPointError(f"{net.name} {numerics.precision}: non-finite gradient")
        return (time.perf_counter() - t0) * 1000.0

    return once


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--nets", default=",".join(LAYERS))
    parser.add_argument("--precisions", default="fp32,bf16,fp16")
    parser.add_argument("--views", type=int, default=8)
    parser.add_argument("--crop", type=int, default=224)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    precisions = [p for p in args.precisions.split(",") if p]
    for p in precisions:
        if p not in PRECISIONS or p == "auto":
            parser.error(f"unknown precision {p!r}")
    print(f"device: {describe_device(device)}; torch {torch.__version__}; {args.views} views x {args.crop} px; "
          f"median of {args.repeat} runs, ms (forward + backward to the input)")
    print(f"{'net':20} {'precision':9} {'contiguous':>11} {'channels_last':>14} {'cl/contig':>10}")
    for name in args.nets.split(","):
        plan = NetPlan(name=name, weights="random", leaky_relu=None, modules=(LAYERS[name],), deepest=LAYERS[name])
        for precision in precisions:
            runs = {}
            for fmt in FORMATS:
                numerics = Numerics(precision, ((name, fmt),))
                runs[fmt] = timer(numerics.prepare(load_net(plan, ".", seed=0, device=device)), numerics, device, args.views, args.crop)
            times = {fmt: [] for fmt in FORMATS}
            for i in range(args.warmup + args.repeat):
                for fmt in FORMATS:
                    ms = runs[fmt]()
                    if i >= args.warmup:
                        times[fmt].append(ms)
            row = {fmt: statistics.median(t) for fmt, t in times.items()}
            ratio = row["channels_last"] / row["contiguous"]
            print(f"{name:20} {precision:9} {row['contiguous']:11.1f} {row['channels_last']:14.1f} {ratio:10.2f}", flush=True)


if __name__ == "__main__":
    main()
