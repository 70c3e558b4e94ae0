"""The device's available memory, and the refusal of a build whose plan does not fit in it.

The plan carries each net stage's peak memory estimate (compiler/estimate.py). Before a build
loads anything, :func:`check_memory` compares the largest with what the device has free now:
on the CPU the kernel's ``MemAvailable`` (/proc/meminfo), on CUDA ``torch.cuda.mem_get_info``.
Where neither can be read the check is skipped.
"""

from __future__ import annotations

from pathlib import Path

from penspec.compiler.plan import Plan
from penspec.compiler.summary import nbytes
from penspec.spec.errors import NotEnoughMemoryError

MEMINFO = Path("/proc/meminfo")


def cpu_available_bytes(meminfo: Path = MEMINFO) -> int | None:
    """MemAvailable from /proc/meminfo in bytes; None where the file or the field is absent."""
    try:
        text = meminfo.read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("MemAvailable:"):
            fields = line.split()
            return int(fields[1]) * 1024  # kB
    return None


def available_bytes(device) -> tuple[int | None, str]:
    """(free bytes, where the figure comes from) on a torch ``device``."""
    if device.type == "cuda":
        import torch

        free, _total = torch.cuda.mem_get_info(device)
        return free, f"free on {device} (torch.cuda.mem_get_info)"
    return cpu_available_bytes(), "available on the CPU (MemAvailable in /proc/meminfo)"


def check_memory(plan: Plan, device, source: str) -> None:
    """Raise NotEnoughMemoryError when a net stage's estimated peak exceeds the device's
    available memory; ``source`` names the spec for the message."""
    free, what = available_bytes(device)
    if free is None or not plan.estimates.stages:
        return
    cost = max(plan.estimates.stages, key=lambda c: c.peak_bytes)
    if cost.peak_bytes <= free:
        return
    stage = next(s for s in plan.stages if s.name == cost.stage)
    where = f"{source}:{stage.line}: " if stage.line else f"{source}: "
    raise NotEnoughMemoryError(
        f"{where}stage {cost.stage} needs about {nbytes(cost.peak_bytes)} per step (renderer {nbytes(cost.renderer_bytes)}, "
        f"images {nbytes(cost.images_bytes)}, nets {nbytes(cost.nets_bytes)}, optimiser {nbytes(cost.optimizer_bytes)}) "
        f"but {nbytes(free)} is {what}; lower the canvas, views, strokes or crop (`penspec plan` prints the estimate), "
        f"or pass --ignore-memory to build anyway"
    )
