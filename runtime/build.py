"""`penspec build` as a library call: spec file in, plotter files out.

Order of work: load and validate the spec, compile the plan; if build.lock shows that the
folder already holds this exact build (same plan hash, versions, device type, precision and
renderer, every stage result and output file unchanged on disk) stop there, without importing torch. Otherwise
write ``plan.json``, make sure every resource exists (device, renderer, weights, style images)
before anything slow starts, run the stages (reusing and resuming through the stage store),
measure the objective on held-out views, hand the scene to the emitters, then write
``metrics.json`` and ``build.lock``. The nets are loaded only when a stage runs or the held-out
objective must be measured again.

A change to the look only (a pen's colour, nib width or opacity, the paper colour or a paper
size that changes mm per px) reuses the stored strokes and re-inks them: the drawing stays the
one that was optimised. build.lock, metrics.json and the report record the look the strokes were
optimised under; ``exact`` reruns those stages so the result equals a clean build.

Everything written is deterministic on CPU except ``build.lock`` (it records timings) and the
stage store under ``stages/`` (checkpoints hold zip timestamps); two builds of one spec give
byte-identical plan, metrics, snapshots and emitted files.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shlex
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from penspec.compiler import compile_spec
from penspec.compiler.plan import Plan
from penspec.runtime.checkpoint import (
    STAGES_DIR,
    StageOutcome,
    StageStore,
    look_changes,
    plan_look,
    prune_stale,
    reink_summary,
    stage_dir_name,
)
from penspec.runtime.progress import Reporter, SilentReporter
from penspec.runtime.scene import Scene
from penspec.spec import expression_location, load
from penspec.spec.atomic import atomic_write
from penspec.spec.errors import Location, MissingResourceError
from penspec.spec.model import Spec

PLAN_FILE = "plan.json"
METRICS_FILE = "metrics.json"
LOCK_FILE = "build.lock"
VERSIONED = ("penspec", "torch", "torchvision", "vpype", "numpy")
LOCK_VERSION = 2


@dataclass(frozen=True)
class BuildOptions:
    out_dir: str | None = None  # None: the spec's output.dir, else build/<piece name>
    overrides: tuple[str, ...] = ()  # "--set key.path=value" strings
    device: str = "auto"
    renderer: str = "torch"
    precision: str | None = None  # auto | fp32 | bf16 | fp16: overrides the spec's network.precision
    resume: bool = False
    force: bool = False
    exact: bool = False  # rerun stages optimised under another look, so the result equals a clean build


@dataclass(frozen=True)
class BuildResult:
    out_dir: Path
    plan: Plan
    scene: Scene
    metrics: dict
    files: tuple[Path, ...]
    outcomes: tuple[StageOutcome, ...] = field(default=())
    up_to_date: bool = False  # the folder already held this build: nothing was run or written

    @property
    def reused(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.outcomes if o.reused)

    @property
    def reinked(self) -> tuple[str, ...]:
        """Reused stages whose strokes were optimised under another look."""
        return tuple(o.name for o in self.outcomes if o.reused and o.optimised_look is not None)


def piece_name(spec_path: str | os.PathLike) -> str:
    """The file stem, or the folder's name for a spec called ``spec.yaml`` (gallery layout)."""
    path = Path(spec_path)
    if path.stem == "spec" and path.resolve().parent.name:
        return path.resolve().parent.name
    return path.stem


def output_dir(spec: Spec, plan: Plan, chosen: str | None) -> Path:
    """``-o DIR``, else the spec's ``output.dir`` (relative to the spec's folder), else
    ``build/<piece name>`` in the current directory."""
    if chosen:
        return Path(chosen)
    if plan.output_dir:
        out = Path(plan.output_dir)
        return out if out.is_absolute() else Path(spec.base_dir) / out
    return Path("build") / piece_name(spec.source)


def command_line(spec_path: str | os.PathLike, options: BuildOptions) -> str:
    """The command that rebuilds this piece (no absolute paths: it goes into the SVGs)."""
    parts = ["penspec", "build", Path(spec_path).name]
    for item in options.overrides:
        parts += ["--set", item]
    if options.precision:
        parts += ["--precision", options.precision]
    if options.renderer != "torch":
        parts += ["--renderer", options.renderer]
    return shlex.join(parts)


def versions() -> dict[str, str]:
    out = {}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def remove_partial_writes(out_dir: Path) -> list[Path]:
    """Delete temp files that a killed build left mid-write (atomic_write's ``.<name>.*.tmp``)."""
    if not out_dir.is_dir():
        return []
    stale = [p for p in out_dir.rglob(".*.tmp") if p.is_file()]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def _check_renderer(name: str) -> None:
    from penspec.runtime.render import BackendUnavailableError, RenderError, get_backend

    try:
        get_backend(name).load()
    except (BackendUnavailableError, RenderError) as exc:
        raise MissingResourceError(f"--renderer {name}: {exc}") from exc


def _term_origins(spec: Spec) -> list[Location | None]:
    return [expression_location(spec, t.column) for t in spec.objective.terms]


def make_engine(spec: Spec, plan: Plan, device, backend: str, numerics=None):
    """Load the nets (checking every weights file first) and build the objective; the nets run
    with ``numerics`` (default fp32)."""
    from penspec.runtime.precision import FP32
    from penspec.runtime.nets import load_net, resolve_weights
    from penspec.runtime.objectives import build_objective
    from penspec.runtime.stages import Engine

    weights_origin = spec.where("$.network.weights")
    for net in plan.objective.nets:
        resolve_weights(net, spec.base_dir, origin=weights_origin)
    nets = {n.name: load_net(n, spec.base_dir, seed=plan.seed, device=device, origin=weights_origin) for n in plan.objective.nets}
    objective = build_objective(plan.objective, nets=nets, base_dir=spec.base_dir, crop=plan.augment.crop, origins=_term_origins(spec))
    numerics = numerics or FP32
    for net in nets.values():
        numerics.prepare(net)
    return Engine(plan=plan, nets=nets, objective=objective, device=device, backend=backend, numerics=numerics)


def emit(plan: Plan, scene: Scene, out_dir: Path, *, stem: str, provenance: dict, metrics: dict) -> list[Path]:
    """Hand the scene to the emitters; a plain SVG of the cubic paths when they are absent."""
    from penspec.runtime import emit as emitters

    emit_all = getattr(emitters, "emit_all", None)
    if emit_all is not None:
        return list(emit_all(plan, scene, out_dir, stem=stem, provenance=provenance, metrics=metrics))
    return [atomic_write(out_dir / f"{stem}.svg", plain_svg(plan, scene))]


def plain_svg(plan: Plan, scene: Scene) -> str:
    """The scene as cubic paths in canvas px, one group per pen (the fallback output)."""
    h, w = scene.size
    groups = []
    for pen in plan.pens:
        paths = []
        for cps in scene.strokes_of_pen(pen.index):
            d = "M{:.3f},{:.3f}".format(*cps[0, 0]) + "".join(
                " C{:.3f},{:.3f} {:.3f},{:.3f} {:.3f},{:.3f}".format(*cp[1], *cp[2], *cp[3]) for cp in cps
            )
            paths.append(f'    <path d="{d}"/>')
        groups.append(
            f'  <g id="{pen.id}" stroke="{pen.color}" stroke-width="{pen.width_px:.4f}" fill="none" '
            f'stroke-linecap="round" stroke-linejoin="round">\n' + "\n".join(paths) + "\n  </g>"
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">\n'
        + "\n".join(groups)
        + "\n</svg>\n"
    )


def build(spec_path: str | os.PathLike, options: BuildOptions = BuildOptions(), reporter: Reporter | None = None) -> BuildResult:
    """Build one piece. Raises SpecError / MissingResourceError before any work on bad input,
    StageError for a failure inside a stage, KeyboardInterrupt after checkpointing on Ctrl-C."""
    reporter = reporter or SilentReporter()
    started = time.perf_counter()
    spec = load(spec_path, overrides=options.overrides + ((f"network.precision={options.precision}",) if options.precision else ()))
    plan = compile_spec(spec)
    out_dir = output_dir(spec, plan, options.out_dir)
    plan_json = plan.to_json()
    current = already_built(out_dir, plan, sha256_text(plan_json), options)
    if current is not None:
        for stage in plan.stages:
            reporter.stage_reused(stage)
        reporter.note(f"reused stages: {', '.join(current.reused)}; every output is up to date")
        return current

    from penspec.runtime.device import make_deterministic, resolve_device
    from penspec.runtime.precision import numerics_for

    device = resolve_device(options.device)
    numerics = numerics_for(plan, device)
    reporter.note(f"nets in {numerics.describe()}")
    _check_renderer(options.renderer)
    remove_partial_writes(out_dir)
    atomic_write(out_dir / PLAN_FILE, plan_json)

    with make_deterministic(device):
        return _build(spec, plan, device, out_dir, plan_json, options, reporter, started, numerics)


def _build(spec: Spec, plan: Plan, device, out_dir: Path, plan_json: str, options: BuildOptions, reporter: Reporter, started: float,
           numerics) -> BuildResult:
    from penspec.runtime.runner import RunOptions, reusable, run_stages, stage_stores

    run_options = RunOptions(
        out_dir=out_dir,
        resume=options.resume,
        force=options.force,
        exact=options.exact,
        checkpoint_every=plan.checkpoint_every,
        snapshot_every=plan.snapshot_every,
        spec_file=spec.source,
    )
    engine = functools.cache(lambda: make_engine(spec, plan, device, options.renderer, numerics))  # nets loaded on first use

    runs_a_stage = not all(reusable(stage_stores(plan, out_dir, device.type, options.renderer, numerics.identity()), run_options))
    result = run_stages(engine() if runs_a_stage else reuse_only_engine(plan, device, options.renderer, numerics), run_options, reporter)
    reused = [o.name for o in result.outcomes if o.reused]
    if reused:
        reporter.note(f"reused stages: {', '.join(reused)}")
    reinked = reinked_stages(plan, result.outcomes)
    if reinked:
        reporter.note(f"re-inked, not optimised again: {reink_summary(reinked)} (--exact optimises them under the new look)")

    metrics = held_out_metrics(engine, result, out_dir, plan)
    if reinked:
        metrics = {**metrics, "reinked": reinked}
    scene = result.final.to_scene()
    plan_hash = sha256_text(plan_json)
    files = [out_dir / PLAN_FILE]
    files += emit(plan, scene, out_dir, stem=piece_name(spec.source),
                  provenance={**provenance(spec, plan, plan_hash, device, options, reinked), "precision": numerics.precision}, metrics=metrics)
    files.append(atomic_write(out_dir / METRICS_FILE, json.dumps(metrics, indent=2) + "\n"))
    files.append(write_lock(out_dir, plan, plan_hash, device, options.renderer, result, time.perf_counter() - started, metrics, list(files),
                            numerics.identity()))
    prune_stale(out_dir, plan)
    objective = metrics["objective"]
    reporter.note(f"objective on held-out views: before {objective['before']:.6g}, after {objective['after']:.6g}")
    return BuildResult(out_dir, plan, scene, metrics, tuple(files), result.outcomes)


def reuse_only_engine(plan: Plan, device, backend: str, numerics=None):
    """An engine without nets, for a run that loads every stage from the store (no step runs,
    so loading the nets would only cost time)."""
    from penspec.runtime.precision import FP32
    from penspec.runtime.stages import Engine

    return Engine(plan=plan, nets={}, objective=None, device=device, backend=backend, numerics=numerics or FP32)


def reinked_stages(plan: Plan, outcomes) -> list[dict]:
    """Reused stages optimised under another look: which, the look they saw, what changed."""
    now = plan_look(plan)
    return [
        {"stage": o.name, "optimised_under": o.optimised_look, "changes": look_changes(o.optimised_look, now)}
        for o in outcomes
        if o.reused and o.optimised_look is not None
    ]


def _device_type_without_torch(choice: str) -> str | None:
    """The device type ``--device choice`` resolves to, when that is known without importing
    torch: ``cpu`` asked for, or ``auto`` on a machine with no GPU driver at all (no NVIDIA or
    ROCm device nodes). None when only torch can tell."""
    choice = (choice or "auto").strip().lower()
    if choice == "cpu":
        return "cpu"
    gpu_nodes = ("/dev/nvidiactl", "/dev/nvidia0", "/proc/driver/nvidia/version", "/dev/kfd", "/dev/dxg")
    if choice == "auto" and not any(os.path.exists(p) for p in gpu_nodes):
        return "cpu"
    return None


def already_built(out_dir: Path, plan: Plan, plan_hash: str, options: BuildOptions) -> BuildResult | None:
    """The result of the build this folder already holds, when build.lock shows it was made from
    the same plan with the same versions, device type and renderer, and every stage result and
    output it lists is still on disk unchanged; else None. Reads files only: torch is imported
    only on a machine with a GPU driver, to tell whether ``auto`` means CUDA."""
    if options.force or options.resume:
        return None
    try:
        lock = json.loads((out_dir / LOCK_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    same = (
        lock.get("lock_version") == LOCK_VERSION
        and lock.get("plan_sha256") == plan_hash
        and lock.get("renderer") == options.renderer
        and lock.get("versions") == versions()
        and not (options.exact and any(s.get("optimised_under") for s in lock.get("stages", [])))
        and [s.get("fingerprint") for s in lock.get("stages", [])] == [s.fingerprint for s in plan.stages]
    )
    if not same:
        return None
    device_type = _device_type_without_torch(options.device)
    if device_type is None:  # a GPU driver is present: only torch can say whether CUDA is usable
        from penspec.runtime.device import resolve_device

        device_type = resolve_device(options.device).type
    if lock.get("device_type") != device_type:
        return None
    from penspec.runtime.precision import expected_identity

    numerics = expected_identity(plan, device_type, options.device)
    if {k: lock.get(k) for k in numerics} != numerics:
        return None
    stores = [StageStore(out_dir, stage, device_type, options.renderer, None, numerics) for stage in plan.stages]
    for store, entry in zip(stores, lock["stages"], strict=True):
        if not store.complete() or file_sha256(store.result_path) != entry.get("result_sha256"):
            return None
    outputs = lock.get("outputs") or {}
    for rel, digest in outputs.items():
        path = out_dir / rel
        if not path.is_file() or file_sha256(path) != digest:
            return None
    if METRICS_FILE not in outputs:
        return None
    metrics = json.loads((out_dir / METRICS_FILE).read_text(encoding="utf-8"))
    outcomes = tuple(
        StageOutcome(s["name"], s["kind"], s["fingerprint"], True, 0, 0, float(s.get("seconds", 0.0)), s.get("optimised_under"))
        for s in lock["stages"]
    )
    scene = Scene.load(stores[-1].scene_path)
    files = tuple(out_dir / rel for rel in outputs) + (out_dir / LOCK_FILE,)
    return BuildResult(out_dir, plan, scene, metrics, files, outcomes, up_to_date=True)


def held_out_metrics(engine, result, out_dir: Path, plan: Plan) -> dict:
    """The objective before and after on held-out views, under the plan's look.

    Kept beside the last stage's stored result with the look it was measured under: a build that
    reuses every stage under the same look reads it back instead of loading and running the nets
    (most of an unchanged rebuild's time otherwise). ``engine`` is called only when needed.
    """
    from penspec.runtime.metrics import objective_metrics

    cache = out_dir / STAGES_DIR / stage_dir_name(plan.stages[-1]) / METRICS_FILE
    if result.outcomes and all(o.reused for o in result.outcomes) and cache.is_file():
        stored = json.loads(cache.read_text(encoding="utf-8"))
        if stored.get("look_sha256") == plan.look_sha256:
            return stored
    metrics = {**objective_metrics(engine(), result.initial, result.final), "look_sha256": plan.look_sha256}
    atomic_write(cache, json.dumps(metrics, indent=2) + "\n")
    return metrics


def provenance(spec: Spec, plan: Plan, plan_hash: str, device, options: BuildOptions, reinked: list[dict] = ()) -> dict:
    """What the emitters record in every SVG and the report: no paths, dates or timings."""
    out = {
        "spec": Path(spec.source).name,
        "spec_sha256": plan.spec_sha256,
        "plan_sha256": plan_hash,
        "seed": plan.seed,
        "penspec": versions()["penspec"],
        "command": command_line(spec.source, options),
        "renderer": options.renderer,
        "device": device.type,
    }
    if reinked:
        # the strokes were optimised for another look and are drawn re-inked
        out["optimised_under_another_look"] = reink_summary(reinked)
    return out


def write_lock(out_dir: Path, plan: Plan, plan_hash: str, device, renderer: str, result, seconds: float,
               metrics: dict | None = None, outputs: list[Path] = (), numerics: dict | None = None) -> Path:
    """build.lock: what made this build (hashes, seed, versions, device, renderer, the look, stage
    fingerprints and result hashes, the look each reused stage was optimised under when it was
    another), how long each stage took, the objective before/after, and the sha256 of every
    output, so the next build can tell the folder is up to date. The timings make it differ run
    to run."""
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
        **(numerics or {}),
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
            for o in result.outcomes
        ],
        "seconds": round(seconds, 3),
        "outputs": {p.relative_to(out_dir).as_posix(): file_sha256(p) for p in outputs},
    }
    if metrics and "objective" in metrics:
        lock["objective"] = {k: metrics["objective"][k] for k in ("before", "after")}
    return atomic_write(out_dir / LOCK_FILE, json.dumps(lock, indent=2) + "\n")

