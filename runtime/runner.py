"""The stage runner: runs the plan's stages in order, reusing, resuming and checkpointing.

First every stored stage is verified (see :meth:`StageStore.damage`): a damaged file is set
aside as ``<name>.damaged-<n>``, one line says which stage and why, and that stage runs again.
Then, for each stage, in order:

1. while every earlier stage was reused (and ``force`` is off), a complete stored result with
   the same fingerprint is loaded instead of recomputed. A result optimised under another look
   (a pen's colour, nib width or opacity, the paper colour) is reused too and re-inked by the
   emitters, unless ``exact`` is on: then it reruns, so the result equals a clean build;
2. otherwise, with ``resume``, an in-progress checkpoint of exactly this stage continues where
   it stopped (a damaged one is set aside and the stage starts over); without it the stage
   starts from step 0;
3. the loop checkpoints every ``checkpoint_every`` steps and writes a PNG snapshot of the
   region every ``snapshot_every`` steps. Ctrl-C is noticed between steps: the runner saves a
   checkpoint, then re-raises KeyboardInterrupt (a second Ctrl-C stops at once).

Any other failure inside a stage becomes a :class:`StageError` naming the stage and its spec line;
running out of memory in a step becomes a :class:`StageOutOfMemoryError` that also names the
step, the checkpoint that is kept and the ``--resume`` command that continues.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from penspec.compiler.plan import NetStagePlan, Plan, StagePlan, TilePlan
from penspec.runtime.checkpoint import SNAPSHOTS_DIR, StageOutcome, StageStore, set_aside, snapshot_path, snapshot_paths
from penspec.runtime.draw import render_region, to_png
from penspec.runtime.look import plan_look
from penspec.runtime.ownership import Ownership
from penspec.runtime.progress import Reporter, SilentReporter
from penspec.runtime.stages import (
    Engine,
    StageRun,
    apply_tile,
    initial_strokes,
)
from penspec.runtime.strokes import Strokes
from penspec.spec.atomic import atomic_write
from penspec.spec.errors import Location, PenspecError, StageError, StageOutOfMemoryError


@dataclass(frozen=True)
class RunOptions:
    out_dir: Path
    resume: bool = False
    force: bool = False
    exact: bool = False  # rerun stages optimised under another look
    checkpoint_every: int = 25
    snapshot_every: int = 0
    spec_file: str = ""  # for StageError origins
    owned: Ownership | None = None  # what penspec wrote in out_dir; None: delete nothing


@dataclass(frozen=True)
class RunResult:
    initial: Strokes  # strokes before the first stage
    final: Strokes
    outcomes: tuple[StageOutcome, ...]
    histories: tuple[dict | None, ...] = ()  # per stage: its per-step scores (StageStore.load_history's shape)


class _Interrupt:
    """Turns the first SIGINT into a flag checked between steps."""

    def __init__(self):
        self.requested = False

    def handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True


@contextmanager
def interrupt_between_steps() -> Iterator[_Interrupt]:
    flag = _Interrupt()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = signal.signal(signal.SIGINT, flag.handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def _origin(stage: StagePlan, options: RunOptions) -> Location | None:
    if not options.spec_file:
        return None
    return Location(options.spec_file, stage.line, 1 if stage.line else 0)


def stage_stores(plan: Plan, out_dir: Path, device_type: str, backend: str, numerics: dict | None = None) -> list[StageStore]:
    look = plan_look(plan)
    return [StageStore(out_dir, stage, device_type, backend, look, numerics) for stage in plan.stages]


def reusable(stores: list[StageStore], options: RunOptions) -> list[bool]:
    """Which stages a run with ``options`` will load instead of run: the leading ones whose
    stored result is complete (and, with ``exact``, made under the same look)."""
    out, reusing = [], not options.force
    for store in stores:
        reusing = reusing and store.complete() and (store.same_look() or not options.exact)
        out.append(reusing)
    return out


def run_stages(engine: Engine, options: RunOptions, reporter: Reporter | None = None) -> RunResult:
    """Run every stage of ``engine.plan``; returns the strokes before and after."""
    reporter = reporter or SilentReporter()
    strokes = initial_strokes(engine.plan, engine.device)
    initial = strokes
    outcomes: list[StageOutcome] = []
    histories: list[dict | None] = []
    stores = stage_stores(engine.plan, options.out_dir, engine.device.type, engine.backend, engine.numerics.identity())
    for store in stores:
        damaged = store.damage()
        if damaged is not None:
            path, why = damaged
            _set_aside(store, path, f"{path.name} {why}", "running the stage again", options, reporter)
    for stage, store, reuse in zip(engine.plan.stages, stores, reusable(stores, options), strict=True):
        if reuse:
            strokes = store.load_result().to(engine.device)
            reporter.stage_reused(stage)
            meta = store.meta() or {}
            other_look = None if store.same_look() else store.stored_look()
            outcomes.append(StageOutcome(stage.name, stage.kind, stage.fingerprint, True, 0, 0, float(meta.get("seconds", 0.0)), other_look))
            histories.append(store.load_history())
            continue
        try:
            strokes, outcome = _run_one(engine, stage, strokes, store, options, reporter)
        except (KeyboardInterrupt, PenspecError):
            raise
        except Exception as exc:
            raise StageError(stage.name, _origin(stage, options), exc) from exc
        outcomes.append(outcome)
        histories.append(store.load_history())
    return RunResult(initial, strokes, tuple(outcomes), tuple(histories))


def _out_of_memory(exc: BaseException) -> bool:
    """torch's allocator refused (CUDA, or CPU: "DefaultCPUAllocator: can't allocate memory")."""
    import torch

    oom = getattr(torch, "OutOfMemoryError", None)
    if isinstance(exc, MemoryError) or (oom is not None and isinstance(exc, oom)):
        return True
    return isinstance(exc, RuntimeError) and ("out of memory" in str(exc) or "can't allocate memory" in str(exc))


def _set_aside(store: StageStore, path: Path, why: str, then: str, options: RunOptions, reporter: Reporter) -> None:
    if not path.is_file():  # missing: nothing to keep
        reporter.note(f"stage {store.stage.name}: {why}; {then}")
        return
    target = set_aside(path, options.owned)
    reporter.note(f"stage {store.stage.name}: {why}; set aside as {target.relative_to(options.out_dir).as_posix()}, {then}")


def _run_one(engine: Engine, stage: StagePlan, strokes: Strokes, store: StageStore, options: RunOptions, reporter: Reporter):
    handler = HANDLERS.get(stage.kind)
    if handler is None:
        raise ValueError(f"unknown stage kind {stage.kind!r}")
    return handler(engine, stage, strokes, store, options, reporter)


def _run_tile(engine: Engine, stage: TilePlan, strokes: Strokes, store: StageStore, options: RunOptions, reporter: Reporter):
    started = time.perf_counter()
    reporter.stage_started(stage, 0, 0)
    result = apply_tile(stage, strokes)
    seconds = time.perf_counter() - started
    store.save_result(result, seconds)
    reporter.stage_done(stage, seconds)
    return result, StageOutcome(stage.name, stage.kind, stage.fingerprint, False, 0, 0, seconds)


def _run_steps(engine: Engine, stage: NetStagePlan, strokes: Strokes, store: StageStore, options: RunOptions, reporter: Reporter):
    started = time.perf_counter()
    run = StageRun(engine, stage, strokes)
    state = None
    if options.resume:
        why = store.checkpoint_damage()
        if why is None:
            state = store.load_checkpoint()
        else:
            _set_aside(store, store.checkpoint_path, f"checkpoint.pt {why}", "running the stage from the start", options, reporter)
    if state is not None:
        run.load_state_dict(state)
    resumed_at = run.next_step
    if resumed_at == 0 and options.owned is not None:
        # a rerun must not leave snapshots of an older version beside its own
        prefix = f"{SNAPSHOTS_DIR}/{stage.name}-"
        options.owned.remove(options.owned.under(prefix))
        options.owned.claim(snapshot_paths(options.out_dir, stage, options.snapshot_every))  # this run's, again
    reporter.stage_started(stage, resumed_at, stage.steps)
    checkpointed = resumed_at
    with interrupt_between_steps() as interrupt:
        while not run.done:
            try:
                loss = run.step()
            except Exception as exc:
                if not _out_of_memory(exc):
                    raise
                resume = f"penspec build {options.spec_file or '<spec>'} -o {options.out_dir} --resume"
                raise StageOutOfMemoryError(stage.name, _origin(stage, options), exc, step=run.next_step, steps=stage.steps,
                                            checkpoint_step=checkpointed, resume=resume) from exc
            k = run.next_step  # steps completed
            reporter.step(stage, k - 1, loss)
            if options.snapshot_every and k % options.snapshot_every == 0:
                image = render_region(run.current(), run.look(k - 1), backend=engine.backend)
                atomic_write(snapshot_path(options.out_dir, stage, k), to_png(image))
            if interrupt.requested:
                store.save_checkpoint(run.state_dict())
                reporter.note(f"interrupted: checkpoint of {stage.name} at step {k} saved; rerun with --resume")
                raise KeyboardInterrupt
            if options.checkpoint_every and k % options.checkpoint_every == 0 and not run.done:
                store.save_checkpoint(run.state_dict())
                checkpointed = k
    if run.skipped:
        reporter.note(f"{stage.name}: the fp16 loss scaler skipped {len(run.skipped)} steps with a non-finite gradient "
                      f"(steps {', '.join(map(str, run.skipped[:10]))}{' ...' if len(run.skipped) > 10 else ''})")
    result = run.result()
    seconds = time.perf_counter() - started
    store.save_result(result, seconds, final_state=run.state_dict(), history=run.history_record())
    reporter.stage_done(stage, seconds)
    return result, StageOutcome(stage.name, stage.kind, stage.fingerprint, False, resumed_at, stage.steps - resumed_at, seconds)


# What runs a stage of each kind (a new kind in the plan needs its entry here).
HANDLERS = {
    "optimize": _run_steps,
    "tile": _run_tile,
    "finetune": _run_steps,
    "assign_pens": _run_steps,
}
