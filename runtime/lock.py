"""build.lock: what made a build, and whether a folder already holds the build of a plan.

The lock records the spec and plan hashes, the seed, package versions, the device, the nets'
precision and memory formats, the renderer, the look, per stage its fingerprint, result hash, whether it was reused (and under
which look it was optimised, when another), timings, the objective before and after, and the
sha256 of every output. :func:`up_to_date` reads it before torch is imported: a folder whose
lock matches the plan, versions, device type, precision and renderer, and whose stage results and outputs
are all unchanged on disk, needs no work at all.
"""

from __future__ import annotations

import json
import os
from importlib import metadata
from pathlib import Path

from penspec.compiler.fingerprint import file_sha256
from penspec.compiler.plan import Plan
from penspec.runtime.checkpoint import StageOutcome, StageStore
from penspec.runtime.look import plan_look
from penspec.spec.atomic import atomic_write

LOCK_FILE = "build.lock"
LOCK_VERSION = 2
VERSIONED = ("penspec", "torch", "torchvision", "vpype", "numpy")
_GPU_DRIVER_NODES = ("/dev/nvidiactl", "/dev/nvidia0", "/proc/driver/nvidia/version", "/dev/kfd", "/dev/dxg")


def versions() -> dict[str, str]:
    out = {}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def write_lock(out_dir: Path, plan: Plan, plan_hash: str, device, renderer: str, outcomes: tuple[StageOutcome, ...],
               seconds: float, metrics: dict | None = None, outputs: list[Path] = (), numerics: dict | None = None) -> Path:
    """Write build.lock for a finished build (its timings make it differ run to run)."""
    from penspec.runtime.device import describe_device

    stores = {stage.name: StageStore(out_dir, stage, device.type, renderer) for stage in plan.stages}
    lock = {
        "lock_version": LOCK_VERSION,
        "spec": plan.source,
        "spec_sha256": plan.spec_sha256,
        "plan_sha256": plan_hash,
        "seed": plan.seed,
        "versions": versions(),
        "device": str(describe_device(device)),
        "device_type": device.type,
        "renderer": renderer,
        **(numerics or {}),  # the nets' resolved precision and memory formats
        "look": plan_look(plan),
        "stages": [
            {
                "name": o.name,
                "kind": o.kind,
                "fingerprint": o.fingerprint,
                "result_sha256": file_sha256(stores[o.name].result_path),
                "reused": o.reused,
                "optimised_under": o.optimised_look,
                "resumed_at": o.resumed_at,
                "steps_run": o.steps_run,
                "seconds": round(o.seconds, 3),
            }
            for o in outcomes
        ],
        "seconds": round(seconds, 3),
        "outputs": {p.relative_to(out_dir).as_posix(): file_sha256(p) for p in outputs},
    }
    if metrics and "objective" in metrics:
        lock["objective"] = {k: metrics["objective"][k] for k in ("before", "after")}
    return atomic_write(out_dir / LOCK_FILE, json.dumps(lock, indent=2) + "\n")


def device_type_without_torch(choice: str) -> str | None:
    """The device type ``--device choice`` resolves to, when that is known without importing
    torch: ``cpu`` asked for, or ``auto`` on a machine with no GPU driver at all (no NVIDIA or
    ROCm device nodes). None when only torch can tell."""
    choice = (choice or "auto").strip().lower()
    if choice == "cpu":
        return "cpu"
    if choice == "auto" and not any(os.path.exists(p) for p in _GPU_DRIVER_NODES):
        return "cpu"
    return None


def up_to_date(out_dir: Path, plan: Plan, plan_hash: str, *, device: str, renderer: str, exact: bool) -> dict | None:
    """The lock of the build ``out_dir`` already holds, when it was made from the same plan with
    the same versions, device type and renderer, and every stage result and output it lists is
    still on disk unchanged; else None. Reads files only: torch is imported only on a machine
    with a GPU driver, to tell whether ``auto`` means CUDA. With ``exact``, a build that re-inked
    stages is not up to date."""
    try:
        lock = json.loads((out_dir / LOCK_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    same = (
        lock.get("lock_version") == LOCK_VERSION
        and lock.get("plan_sha256") == plan_hash
        and lock.get("renderer") == renderer
        and lock.get("versions") == versions()
        and not (exact and any(s.get("optimised_under") for s in lock.get("stages", [])))
        and [s.get("fingerprint") for s in lock.get("stages", [])] == [s.fingerprint for s in plan.stages]
    )
    if not same:
        return None
    device_type = device_type_without_torch(device)
    if device_type is None:  # a GPU driver is present: only torch can say whether CUDA is usable
        from penspec.runtime.device import resolve_device

        device_type = resolve_device(device).type
    if lock.get("device_type") != device_type:
        return None
    from penspec.runtime.precision import expected_identity

    numerics = expected_identity(plan, device_type, device)
    if {k: lock.get(k) for k in numerics} != numerics:
        return None
    for stage, entry in zip(plan.stages, lock["stages"], strict=True):
        store = StageStore(out_dir, stage, device_type, renderer, None, numerics)
        if not store.complete() or store.damage() is not None or file_sha256(store.result_path) != entry.get("result_sha256"):
            return None
    for rel, digest in (lock.get("outputs") or {}).items():
        path = out_dir / rel
        if not path.is_file() or file_sha256(path) != digest:
            return None
    return lock


def outcomes_of(lock: dict) -> tuple[StageOutcome, ...]:
    """The stages of a build as its lock recorded them, all reused."""
    return tuple(
        StageOutcome(s["name"], s["kind"], s["fingerprint"], True, 0, 0, float(s.get("seconds", 0.0)), s.get("optimised_under"))
        for s in lock["stages"]
    )
