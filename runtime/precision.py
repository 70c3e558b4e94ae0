"""The nets' numerical precision and memory format: chosen per device, recorded, applied.

The spec's ``network.precision`` (or ``penspec build --precision``) is a plan value, one of
``auto | fp32 | bf16 | fp16``; it is part of the drawing's fingerprint. What it resolves to
depends on the device the build runs on, known only at run time:

- ``auto`` is ``bf16`` on a CUDA device that supports bf16 and on a CPU with AMX or
  AVX512-BF16 (what torch's CPU kernels use for bf16 matmuls and convolutions), else ``fp32``;
- ``fp32``, ``bf16`` and ``fp16`` are taken as written (bf16 on a CUDA device without it is a
  :class:`MissingResourceError` before any work).

Only the nets run in the resolved precision, under :func:`torch.autocast`; their activations
are cast back to fp32 before the objective reads them, so the renderer, the augmentation
geometry, the optimiser state and the objective's reduction stay fp32. Each net also gets a
memory format (``channels_last`` or ``contiguous``) from :data:`CHANNELS_LAST`, a table measured
per device type, precision and net with ``bench/nets.py`` (docs/precision.md has the figures).

The resolved precision and the memory formats (:meth:`Numerics.identity`) are recorded in each
stored stage and in build.lock beside the device type, so a stage made in bf16 is never reused
by an fp32 build: determinism holds per (device type, precision).

Torch is imported inside the functions that need it: the up-to-date check of a build reads
:func:`numerics_without_torch` and stays free of torch on a CPU-only machine.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from penspec.spec.errors import MissingResourceError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
CONTIGUOUS = "contiguous"
CHANNELS_LAST_FORMAT = "channels_last"

# (device type, resolved precision) -> the nets that run channels_last there; every other net
# stays contiguous. CPU rows: channels_last where bench/nets.py measured it at least 10 % faster
# (AMD EPYC with AVX512-BF16, docs/precision.md); fp16 on a CPU is for checking, not speed, and
# stays contiguous. CUDA rows: the tensor-core layout for the half precisions, not yet measured.
CHANNELS_LAST: dict[tuple[str, str], frozenset[str]] = {
    ("cpu", "fp32"): frozenset({"vgg16", "vgg19", "resnet50", "efficientnet_lite0"}),
    ("cpu", "bf16"): frozenset({"vgg16", "vgg19", "resnet18", "resnet50", "alexnet", "efficientnet_lite0"}),
    ("cpu", "fp16"): frozenset(),
    ("cuda", "fp32"): frozenset(),
    ("cuda", "bf16"): frozenset({"vgg16", "vgg19", "resnet18", "resnet50", "alexnet", "efficientnet_lite0"}),
    ("cuda", "fp16"): frozenset({"vgg16", "vgg19", "resnet18", "resnet50", "alexnet", "efficientnet_lite0"}),
}


@dataclass(frozen=True)
class Numerics:
    """How the nets of one build compute: the resolved precision and each net's memory format."""

    precision: str  # fp32 | bf16 | fp16
    memory_formats: tuple[tuple[str, str], ...] = ()  # (net name, contiguous | channels_last)
    reason: str = field(default="", compare=False)  # why, in words: "auto: the CPU has AVX512-BF16"

    def __post_init__(self):
        if self.precision not in PRECISIONS or self.precision == "auto":
            raise ValueError(f"unresolved or unknown precision {self.precision!r}")

    @property
    def dtype(self):
        import torch

        return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[self.precision]

    def memory_format(self, net: str) -> str:
        return dict(self.memory_formats).get(net, CONTIGUOUS)

    def channels_last(self, net: str) -> bool:
        return self.memory_format(net) == CHANNELS_LAST_FORMAT

    def autocast(self, device_type: str):
        """The context the nets run in: autocast to the precision, nothing at all for fp32."""
        if self.precision == "fp32":
            return contextlib.nullcontext()
        import torch

        return torch.autocast(device_type=device_type, dtype=self.dtype)

    def prepare(self, net):
        """Put a loaded net in its memory format (in place); returns it."""
        if self.channels_last(net.name):
            import torch

            net.to(memory_format=torch.channels_last)
        return net

    def net_input(self, net: str, images):
        """The views as net ``net`` wants them laid out in memory."""
        if self.channels_last(net):
            import torch

            return images.contiguous(memory_format=torch.channels_last)
        return images

    def identity(self) -> dict:
        """What a stored stage and build.lock record: part of what a result depends on."""
        return {"precision": self.precision, "memory_format": {net: fmt for net, fmt in self.memory_formats}}

    def describe(self) -> str:
        """``bf16 (auto: the CPU has AVX512-BF16); channels_last: vgg16``."""
        text = self.precision + (f" ({self.reason})" if self.reason else "")
        last = [net for net, fmt in self.memory_formats if fmt == CHANNELS_LAST_FORMAT]
        return text + (f"; channels_last: {', '.join(last)}" if last else "")


FP32 = Numerics("fp32")


def plan_precision(plan) -> str:
    """The precision the plan asks for (every net of a plan shares the spec's ``network``)."""
    choices = {getattr(net, "precision", "auto") for net in plan.objective.nets}
    if len(choices) > 1:
        raise ValueError(f"the plan's nets ask for different precisions: {sorted(choices)}")
    return choices.pop() if choices else "auto"


def resolve(choice: str, device_type: str, nets, bf16_support: str | None, device_name: str = "") -> Numerics:
    """Resolve ``choice`` for a device of ``device_type`` whose bf16 support is ``bf16_support``
    (what provides it, e.g. ``AMX``, or None), and give each of ``nets`` its memory format. Pure:
    the detection is :func:`bf16_support` (torch) or :func:`cpu_bf16_from_cpuinfo` (no torch)."""
    where = "the CPU" if device_type == "cpu" else (device_name or device_type)
    if choice == "auto":
        if bf16_support:
            precision, reason = "bf16", f"auto: {where} has {bf16_support}"
        else:
            precision, reason = "fp32", f"auto: {where} has no bf16 support"
    elif choice in PRECISIONS:
        if choice == "bf16" and device_type == "cuda" and not bf16_support:
            raise MissingResourceError(f"precision bf16: {where} does not support bf16; use fp16 or fp32 (or auto)")
        precision, reason = choice, "as asked"
    else:
        raise MissingResourceError(f"unknown precision {choice!r}; choose one of {', '.join(PRECISIONS)}")
    last = CHANNELS_LAST.get((device_type, precision), frozenset())
    formats = tuple((net, CHANNELS_LAST_FORMAT if net in last else CONTIGUOUS) for net in nets)
    return Numerics(precision, formats, reason)


def bf16_support(device) -> str | None:
    """What gives ``device`` fast bf16, in words, or None: CUDA's own report; on the CPU, AMX
    tiles or AVX512-BF16, as torch's CPU feature detection (cpuinfo) sees them."""
    import torch

    if device.type == "cuda":
        return "bf16 support" if torch.cuda.is_bf16_supported(including_emulation=False) else None
    cpu = getattr(torch, "cpu", None)
    if getattr(cpu, "_is_amx_tile_supported", lambda: False)():
        return "AMX"
    if getattr(cpu, "_is_avx512_bf16_supported", lambda: False)():
        return "AVX512-BF16"
    return None


CPUINFO = "/proc/cpuinfo"


def cpu_bf16_from_cpuinfo(path: str = CPUINFO) -> tuple[bool, str | None]:
    """``(known, support)`` from the kernel's CPU flags, without torch: the same CPUID bits
    torch's detection reads. ``known`` is False where the file cannot be read (not Linux)."""
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    if {"amx_tile", "amx_bf16"} <= flags:
                        return True, "AMX"
                    if "avx512_bf16" in flags:
                        return True, "AVX512-BF16"
                    return True, None
    except OSError:
        pass
    return False, None


def net_names(plan) -> tuple[str, ...]:
    return tuple(net.name for net in plan.objective.nets)


def numerics_for(plan, device) -> Numerics:
    """The plan's numerics on ``device`` (a torch device), detecting bf16 support with torch."""
    import torch

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else ""
    return resolve(plan_precision(plan), device.type, net_names(plan), bf16_support(device), name)


def numerics_without_torch(plan, device_type: str) -> Numerics | None:
    """The plan's numerics on a device of ``device_type`` when that is known without torch
    (a CPU whose flags the kernel lists, or a precision asked for by name); else None."""
    choice = plan_precision(plan)
    if choice != "auto":
        if choice == "bf16" and device_type == "cuda":
            return None  # only torch can tell whether the GPU has bf16
        return resolve(choice, device_type, net_names(plan), None)
    if device_type != "cpu":
        return None
    known, support = cpu_bf16_from_cpuinfo()
    return resolve(choice, device_type, net_names(plan), support) if known else None


def expected_identity(plan, device_type: str, device_choice: str) -> dict:
    """:meth:`Numerics.identity` of the plan on the device ``device_choice`` resolves to (of
    type ``device_type``): without torch where the flags tell, else with it."""
    known = numerics_without_torch(plan, device_type)
    if known is not None:
        return known.identity()
    from penspec.runtime.device import resolve_device

    return numerics_for(plan, resolve_device(device_choice)).identity()
