"""`penspec build` as a library call: spec file in, plotter files out.

Order of work: load and validate the spec, compile the plan, open the output folder (a folder
of other files is refused, see :mod:`penspec.runtime.ownership`); if build.lock shows that the
folder already holds this exact build (:func:`penspec.runtime.lock.up_to_date`) stop there,
without importing torch. Otherwise check the device and renderer, take the folder's lock (one
writer per folder, see :mod:`penspec.runtime.folderlock`), record the files the build will
write, write ``plan.json``, make sure every resource exists (weights, style images) before
anything slow starts, run the stages (reusing and resuming through the verified stage store),
measure the objective on held-out views, hand the scene to the emitters, then write
``metrics.json``, ``history.json`` (the objective at every step of every stage) and
``build.lock`` and delete what the build made stale. The nets are loaded only when a stage runs or the
held-out objective must be measured again.

A change to the look only (a pen's colour, nib width or opacity, the paper colour or a paper
size that changes mm per px) reuses the stored strokes and re-inks them: the drawing stays the
one that was optimised. build.lock, metrics.json and the report record the look the strokes were
optimised under; ``exact`` reruns those stages so the result equals a clean build.

Everything written is deterministic on CPU except ``build.lock`` (it records timings) and the
stage store under ``stages/`` (checkpoints hold zip timestamps); two builds of one spec give
byte-identical plan, metrics, snapshots and emitted files.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from penspec.compiler import compile_spec
from penspec.compiler.fingerprint import sha256_text
from penspec.compiler.plan import Plan
from penspec.runtime.checkpoint import StageOutcome, StageStore, prune_stale, snapshot_paths, snapshots_on_disk
from penspec.runtime.emit import PAGE, PENS_DIR, emit_all, output_names
from penspec.runtime.folderlock import RUNNING_FILE, hold_folder
from penspec.runtime.history import history_json, stage_histories
from penspec.runtime.lock import LOCK_FILE, outcomes_of, up_to_date, write_lock
from penspec.runtime.look import reink_summary, reinked_stages
from penspec.runtime.ownership import Ownership
from penspec.runtime.progress import Reporter, SilentReporter
from penspec.runtime.provenance import provenance
from penspec.runtime.scene import Scene
from penspec.spec import load
from penspec.spec.atomic import atomic_write
from penspec.spec.errors import MissingResourceError
from penspec.spec.model import Spec

PLAN_FILE = "plan.json"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.json"  # the stages' per-step scores (each stage's own copy is in its store)


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
    into_existing: bool = False  # build into a folder that holds other files (they are never touched)
    wait: float | None = None  # another build holds the folder: None stops at once, else seconds to wait (math.inf: no limit)
    ignore_memory: bool = False  # build even when the plan's memory estimate exceeds the device's available memory


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


def build_paths(plan: Plan, out_dir: Path, stem: str) -> list[Path]:
    """Every file a build of ``plan`` into ``out_dir`` may write (claimed before it writes)."""
    paths = [out_dir / name for name in (PLAN_FILE, *output_names(plan, stem), METRICS_FILE, HISTORY_FILE, LOCK_FILE, RUNNING_FILE)]
    for stage in plan.stages:
        paths += StageStore(out_dir, stage, "", "").files()
        paths += snapshot_paths(out_dir, stage, plan.snapshot_every)
    return paths


def build(spec_path: str | os.PathLike, options: BuildOptions = BuildOptions(), reporter: Reporter | None = None) -> BuildResult:
    """Build one piece. Raises SpecError / MissingResourceError / OutputFolderError before any
    work on bad input, NotEnoughMemoryError when the plan's memory estimate exceeds the device's
    available memory (unless ``options.ignore_memory``), FolderBusyError when another build or plot is writing into the folder,
    StageError for a failure inside a stage, KeyboardInterrupt after checkpointing on Ctrl-C.

    A build that finds the folder up to date only reads; one that writes holds the folder
    (:func:`penspec.runtime.folderlock.hold_folder`) from before its first write to its last."""
    reporter = reporter or SilentReporter()
    started = time.perf_counter()
    if options.precision:  # --precision is network.precision set from the command line
        options = replace(options, overrides=options.overrides + (f"network.precision={options.precision}",), precision=None)
    spec = load(spec_path, overrides=options.overrides)
    plan = compile_spec(spec)
    out_dir = output_dir(spec, plan, options.out_dir)
    Ownership.open(out_dir, into_existing=options.into_existing)  # refuses a folder of other files before creating anything
    plan_json = plan.to_json()
    done = _up_to_date(out_dir, plan, plan_json, options, reporter)
    if done is not None:
        return done

    from penspec.runtime.device import make_deterministic, resolve_device
    from penspec.runtime.precision import numerics_for

    device = resolve_device(options.device)
    if not options.ignore_memory:
        from penspec.runtime.memory import check_memory

        check_memory(plan, device, spec.source)  # before any net is loaded or file written
    numerics = numerics_for(plan, device)
    _check_renderer(options.renderer)
    paths = build_paths(plan, out_dir, piece_name(spec.source))  # recorded before anything is written
    with hold_folder(out_dir, wait=options.wait, into_existing=options.into_existing, claim=paths) as owned:
        done = _up_to_date(out_dir, plan, plan_json, options, reporter)  # the build it waited for may have been this one
        if done is not None:
            return done
        reporter.note(f"nets in {numerics.describe()}")
        owned.remove_partial_writes()
        atomic_write(out_dir / PLAN_FILE, plan_json)
        with make_deterministic(device):
            return _build(spec, plan, device, owned, plan_json, options, reporter, started, numerics)


def _up_to_date(out_dir: Path, plan: Plan, plan_json: str, options: BuildOptions, reporter: Reporter) -> BuildResult | None:
    if options.force or options.resume:
        return None
    lock = up_to_date(out_dir, plan, sha256_text(plan_json), device=options.device, renderer=options.renderer, exact=options.exact)
    # a folder built before metrics.json, history.json or the page existed is emitted again (its stages are reused)
    if lock is not None and {METRICS_FILE, HISTORY_FILE, PAGE} <= set(lock.get("outputs", {})):
        return _already_built(out_dir, plan, lock, options, reporter)
    return None


def _already_built(out_dir: Path, plan: Plan, lock: dict, options: BuildOptions, reporter: Reporter) -> BuildResult:
    outcomes = outcomes_of(lock)
    for stage in plan.stages:
        reporter.stage_reused(stage)
    reporter.note(f"reused stages: {', '.join(o.name for o in outcomes)}; every output is up to date")
    metrics = json.loads((out_dir / METRICS_FILE).read_text(encoding="utf-8"))
    scene = Scene.load(StageStore(out_dir, plan.stages[-1], lock["device_type"], options.renderer).scene_path)
    files = tuple(out_dir / rel for rel in lock["outputs"]) + (out_dir / LOCK_FILE,)
    return BuildResult(out_dir, plan, scene, metrics, files, outcomes, up_to_date=True)


def _check_renderer(name: str) -> None:
    from penspec.runtime.render import BackendUnavailableError, RenderError, get_backend

    try:
        get_backend(name).load()
    except (BackendUnavailableError, RenderError) as exc:
        raise MissingResourceError(f"--renderer {name}: {exc}") from exc


def _build(spec: Spec, plan: Plan, device, owned: Ownership, plan_json: str, options: BuildOptions, reporter: Reporter,
           started: float, numerics) -> BuildResult:
    from penspec.runtime.engine import engine_for
    from penspec.runtime.metrics import held_out_metrics
    from penspec.runtime.runner import RunOptions, run_stages

    out_dir = owned.root
    run_options = RunOptions(
        out_dir=out_dir,
        owned=owned,
        resume=options.resume,
        force=options.force,
        exact=options.exact,
        checkpoint_every=plan.checkpoint_every,
        snapshot_every=plan.snapshot_every,
        spec_file=spec.source,
    )
    engine = engine_for(spec, plan, device, options.renderer, numerics)  # the nets load when a step first needs them
    result = run_stages(engine, run_options, reporter)
    reused = [o.name for o in result.outcomes if o.reused]
    if reused:
        reporter.note(f"reused stages: {', '.join(reused)}")
    reinked = reinked_stages(plan, result.outcomes)
    if reinked:
        reporter.note(f"re-inked, not optimised again: {reink_summary(reinked)} (--exact optimises them under the new look)")

    last = StageStore(out_dir, plan.stages[-1], device.type, options.renderer)
    metrics = held_out_metrics(engine, result.initial, result.final, last, all_reused=len(reused) == len(plan.stages))
    if reinked:
        metrics = {**metrics, "reinked": reinked}
    scene = result.final.to_scene()
    plan_hash = sha256_text(plan_json)
    files = [out_dir / PLAN_FILE]
    history = stage_histories(plan, result.histories)
    files += emit_all(plan, scene, out_dir, stem=piece_name(spec.source), metrics=metrics, history=history, spec_text=spec_text(spec),
                      snapshots=snapshots_on_disk(plan, out_dir),
                      provenance={**provenance(spec.source, plan, plan_hash, device.type, options.overrides, options.renderer, reinked),
                                  "precision": numerics.precision})
    files.append(atomic_write(out_dir / METRICS_FILE, json.dumps(metrics, indent=2) + "\n"))
    files.append(atomic_write(out_dir / HISTORY_FILE, history_json(plan, history)))
    files.append(write_lock(out_dir, plan, plan_hash, device, options.renderer, result.outcomes, time.perf_counter() - started, metrics, files,
                            numerics.identity()))
    unclaimed = [p for p in files if not owned.owns(p)]
    if unclaimed:  # build_paths must list every file a build writes, or a later build could not clean it up
        raise RuntimeError(f"wrote files it had not claimed: {', '.join(map(str, unclaimed))}")
    owned.remove(set(owned.under(f"{PENS_DIR}/")) - set(files))  # pens now gone
    prune_stale(owned, plan)
    objective = metrics["objective"]
    reporter.note(f"objective on held-out views: before {objective['before']:.6g}, after {objective['after']:.6g}")
    return BuildResult(out_dir, plan, scene, metrics, tuple(files), result.outcomes)


def spec_text(spec: Spec) -> str | None:
    """The spec file as written (for the build's page); None when it cannot be read again."""
    try:
        return Path(spec.source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None

