"""Choosing the torch device a build runs on, and describing it.

No module-level device global: the build resolves the device once from the ``--device`` option
and passes it down. ``auto`` picks CUDA when it is usable, else the CPU.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from penspec.spec.errors import MissingResourceError, UsageError

DEVICE_CHOICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class DeviceInfo:
    """The device a build ran on, as recorded in build.lock and printed by bench scripts."""

    type: str  # "cpu" | "cuda"
    name: str  # e.g. "NVIDIA H100 80GB HBM3" or the CPU's processor string
    threads: int  # torch intra-op threads (CPU) or 0

    def __str__(self) -> str:
        if self.type == "cpu":
            return f"cpu ({self.name}, {self.threads} threads)"
        return f"cuda ({self.name})"


def resolve_device(choice: str = "auto") -> torch.device:
    """Turn ``auto|cpu|cuda`` (or ``cuda:N``) into a torch device; CUDA asked for but absent
    is a :class:`MissingResourceError` raised before any work."""
    choice = (choice or "auto").strip().lower()
    if choice == "auto":
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    if choice == "cpu":
        return torch.device("cpu")
    if choice == "cuda" or choice.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise MissingResourceError(
                "--device cuda: no usable CUDA device (torch.cuda.is_available() is False); "
                "use --device cpu or --device auto"
            )
        return torch.device(choice)
    raise UsageError(f"unknown device {choice!r}; choose one of {', '.join(DEVICE_CHOICES)}")


def describe_device(device: torch.device) -> DeviceInfo:
    """Name the device for provenance and benchmarks."""
    if device.type == "cuda":
        return DeviceInfo("cuda", torch.cuda.get_device_name(device), 0)
    return DeviceInfo("cpu", _cpu_name(), torch.get_num_threads())


def _cpu_name() -> str:
    """The processor's model name where the OS tells it (Linux), else the machine type."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown cpu"


@contextmanager
def make_deterministic(device: torch.device) -> Iterator[None]:
    """Ask torch for deterministic kernels while a build runs, so that two CPU builds give the
    same bytes; the previous setting comes back afterwards.

    On CUDA some kernels (scatter with atomics) stay nondeterministic; warn_only keeps them
    usable instead of failing the build.
    """
    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)
