"""`penspec sweep` as a library call: one spec, a grid of ``--set``\\ s, one ordinary build per point.

Order of work: load the spec and read its axes (the ``sweep:`` section, then each ``--vary``),
expand the grid, and load and compile *every* point before anything runs: one point that does
not compile (channel 600 of a 112-channel layer) is a SpecError at the sweep line that made it,
and nothing is built. Then the sweep folder is opened with the same rule as a build folder (a
folder of other files is refused unless ``into_existing``), every point's folder is checked the
same way, and the points whose folder already holds their build (build.lock's up-to-date check,
no torch) are done. The others are handed to an executor (:mod:`penspec.runtime.sweep_exec`:
local processes or Ray); each is a normal build into ``DIR/<point>/`` with the stage cache, so
a sweep that was killed continues where it stopped. A failing point is recorded with its error
and the others go on. ``sweep.json`` is rewritten after every point; ``index.html`` and
``contact.png`` at the end (:mod:`penspec.runtime.emit.sweep_page`).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from penspec.compiler import compile_spec
from penspec.compiler.fingerprint import sha256_text
from penspec.compiler.plan import Plan
from penspec.runtime.build import METRICS_FILE, piece_name
from penspec.runtime.lock import up_to_date
from penspec.runtime.ownership import Ownership
from penspec.runtime.progress import SilentSweepReporter, SweepReporter
from penspec.spec import load
from penspec.spec.atomic import atomic_write
from penspec.spec.errors import Diagnostic, Location, SpecError
from penspec.spec.sweep import Axis, merge_axes, points, set_text, vary_axis

SWEEP_FILE = "sweep.json"
SWEEP_VERSION = 1
BUILT, UP_TO_DATE, FAILED, PENDING = "built", "up to date", "failed", "pending"
_UNSAFE = re.compile(r"[^A-Za-z0-9.+-]+")


@dataclass(frozen=True)
class SweepOptions:
    out_dir: str | None = None  # None: build/<piece>-sweep
    vary: tuple[str, ...] = ()  # "--vary KEY=VALUES" strings
    overrides: tuple[str, ...] = ()  # "--set key=value" strings, applied to every point
    zipped: bool = False  # the i-th values of every axis together instead of the product
    jobs: int = 1  # local: builds at once, each in its own process with its share of the CPU threads
    ray: str | None = None  # None: local; "local": start a local Ray runtime; else a Ray cluster address
    device: str = "auto"
    renderer: str = "torch"
    force: bool = False  # rerun every stage of every point
    into_existing: bool = False  # the sweep folder and point folders may hold other files (never touched)


@dataclass(frozen=True)
class Point:
    """One point of the grid: its folder name, the varied values and what builds it."""

    name: str
    values: tuple[tuple[str, Any], ...]  # (key path, value) per axis
    sets: tuple[str, ...]  # the axes' "key=value" (what the point's full-settings command adds)
    overrides: tuple[str, ...]  # the sweep's --sets, then the axes': what the point's build gets
    plan: Plan = field(repr=False, compare=False)

    @property
    def plan_hash(self) -> str:
        return sha256_text(self.plan.to_json())


@dataclass
class PointResult:
    status: str = PENDING
    seconds: float = 0.0
    objective: dict | None = None  # held-out objective {"before", "after"}
    error: str | None = None


@dataclass(frozen=True)
class SweepPlan:
    spec_path: str
    axes: tuple[Axis, ...]
    points: tuple[Point, ...]
    out_dir: Path
    options: SweepOptions

    def command(self, point: Point, *, full: bool) -> str:
        """The `penspec build` command for a point: ``full`` with the point's own values only (the
        spec's settings otherwise: the piece at full size), else exactly as the sweep built it."""
        parts = ["penspec", "build", self.spec_path]
        for item in point.sets if full else point.overrides:
            parts += ["--set", item]
        if not full:
            parts += ["-o", str(self.out_dir / point.name)]
        if self.options.renderer != "torch":
            parts += ["--renderer", self.options.renderer]
        return shlex.join(parts)


@dataclass
class SweepResult:
    plan: SweepPlan
    results: dict[str, PointResult]
    seconds: float
    files: tuple[Path, ...] = ()

    @property
    def ok(self) -> bool:
        return all(r.status in (BUILT, UP_TO_DATE) for r in self.results.values())

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results.values())


def _short(key: str, axes: tuple[Axis, ...]) -> str:
    """An axis's name in folder names: its last name (``vars.channel`` -> ``channel``), or the
    whole path when another axis ends the same way."""
    def last(k: str) -> str:
        names = [p for p in k.split(".") if not p.isdigit()]
        return names[-1] if names else k

    clash = sum(last(a.key) == last(key) for a in axes) > 1
    return key.replace(".", "-") if clash else last(key)


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("_.") or "_"


def point_name(values: tuple[tuple[str, Any], ...], axes: tuple[Axis, ...]) -> str:
    """A readable, filesystem-safe folder name: ``channel-17_seed-1``."""
    return "_".join(f"{_safe(_short(key, axes))}-{_safe(value if isinstance(value, str) else json.dumps(value))}"
                    for key, value in values)


def default_out_dir(spec_path: str) -> Path:
    return Path("build") / f"{piece_name(spec_path)}-sweep"


def plan_sweep(spec_path: str, options: SweepOptions = SweepOptions()) -> SweepPlan:
    """Read the axes and compile every point. Raises SpecError (every point's problems, each at
    the sweep line or --vary that made the point) before anything is built."""
    spec = load(spec_path, overrides=options.overrides)
    axes = tuple(merge_axes(spec.sweep, [vary_axis(text) for text in options.vary]))
    if not axes:
        raise SpecError(Diagnostic(spec.where("$") or Location(spec_path), "",
                                   "nothing to sweep: add a sweep: section (e.g. sweep: {vars.channel: [17, 20, 33]}) or --vary KEY=VALUES"))
    grid = points(axes, zipped=options.zipped)
    built: list[Point] = []
    problems: dict[tuple, Diagnostic] = {}
    for indices in grid:
        located = [axis.override(i) for axis, i in zip(axes, indices, strict=True)]
        values = tuple((axis.key, axis.values[i]) for axis, i in zip(axes, indices, strict=True))
        try:
            plan = compile_spec(load(spec_path, overrides=(*options.overrides, *located)))
        except SpecError as exc:
            shown = ", ".join(f"{k}={set_text(v)}" for k, v in values)
            for d in exc.diagnostics:  # one report per problem, naming the first point that has it
                problems.setdefault((d.location, d.path, d.message), replace(d, message=f"{d.message} (sweep point {shown})"))
            continue
        sets = tuple(o.text for o in located)
        built.append(Point(point_name(values, axes), values, sets, (*options.overrides, *sets), plan))
    if problems:
        raise SpecError(list(problems.values()))
    _unique_names(built)
    out_dir = Path(options.out_dir) if options.out_dir else default_out_dir(spec_path)
    return SweepPlan(spec_path, axes, tuple(built), out_dir, options)


def _unique_names(built: list[Point]) -> None:
    """Two points whose values read alike once made filesystem-safe get a short hash each."""
    seen: dict[str, int] = {}
    for p in built:
        seen[p.name] = seen.get(p.name, 0) + 1
    for index, p in enumerate(built):
        if seen[p.name] > 1:
            digest = sha256_text(json.dumps(p.values, default=str))[:6]
            built[index] = replace(p, name=f"{p.name}_{digest}")


def _up_to_date(plan: SweepPlan, point: Point) -> PointResult | None:
    folder = plan.out_dir / point.name
    device_type = None
    if plan.options.ray is not None and plan.options.device == "auto":  # built where Ray placed it: CPU or GPU
        try:
            device_type = json.loads((folder / "build.lock").read_text(encoding="utf-8")).get("device_type")
        except (OSError, ValueError, AttributeError):
            return None
    lock = up_to_date(folder, point.plan, point.plan_hash, device=plan.options.device, renderer=plan.options.renderer, exact=False,
                      device_type=device_type if device_type in ("cpu", "cuda") else None)
    if lock is None or METRICS_FILE not in lock.get("outputs", {}):
        return None
    return PointResult(UP_TO_DATE, float(lock.get("seconds", 0.0)), lock.get("objective"))  # the seconds its build took


def sweep_document(plan: SweepPlan, results: dict[str, PointResult]) -> dict:
    """sweep.json: the axes, and per point its values, folder, status, seconds, held-out objective,
    error and the commands that build it."""
    return {
        "penspec_sweep": SWEEP_VERSION,
        "spec": plan.spec_path,
        "overrides": list(plan.options.overrides),
        "zip": plan.options.zipped,
        "axes": [{"key": a.key, "values": list(a.values)} for a in plan.axes],
        "points": [
            {
                "name": p.name,
                "values": dict(p.values),
                "folder": p.name,
                "status": results[p.name].status,
                "seconds": round(results[p.name].seconds, 3),  # the point's build, also when found up to date
                "objective": results[p.name].objective,
                "error": results[p.name].error,
                "command": plan.command(p, full=True),
                "sweep_command": plan.command(p, full=False),
            }
            for p in plan.points
        ],
    }


def _write_document(plan: SweepPlan, results: dict[str, PointResult]) -> Path:
    return atomic_write(plan.out_dir / SWEEP_FILE, json.dumps(sweep_document(plan, results), indent=2, ensure_ascii=False) + "\n")


def check_folders(plan: SweepPlan) -> None:
    """The sweep folder and every point's, under the build folder rule, before anything is
    written: a folder holding files penspec did not write is refused (OutputFolderError) unless
    ``into_existing``. Reads only."""
    Ownership.open(plan.out_dir, into_existing=plan.options.into_existing)
    for point in plan.points:
        Ownership.open(plan.out_dir / point.name, into_existing=plan.options.into_existing)


@contextmanager
def hold_sweep_folder(plan: SweepPlan, wait: float | None = None) -> Iterator[Ownership]:
    """One sweep per folder: the sweep folder held like a build folder (another sweep there
    stops with FolderBusyError naming it), with the sweep's own files claimed."""
    from penspec.runtime.emit.sweep_page import page_files
    from penspec.runtime.folderlock import hold_folder

    check_folders(plan)
    claim = [plan.out_dir / SWEEP_FILE, *(plan.out_dir / name for name in page_files())]
    with hold_folder(plan.out_dir, wait=wait, into_existing=plan.options.into_existing, claim=claim) as owned:
        owned.remove_partial_writes()  # a sweep killed while it wrote sweep.json or a page left a temp file
        yield owned


def run_sweep(spec_path: str, options: SweepOptions = SweepOptions(), reporter: SweepReporter | None = None,
              executor_factory: Callable[..., Any] | None = None) -> SweepResult:
    """Plan the sweep (every point compiled), then build the points that are missing or changed.
    KeyboardInterrupt stops it after writing sweep.json and the pages for what is done."""
    reporter = reporter or SilentSweepReporter()
    started = time.perf_counter()
    plan = plan_sweep(spec_path, options)
    with hold_sweep_folder(plan):
        return _run(plan, reporter, executor_factory, started)


def _run(plan: SweepPlan, reporter: SweepReporter, executor_factory, started: float) -> SweepResult:
    from penspec.runtime.emit.sweep_page import write_pages
    from penspec.runtime.sweep_exec import executor_for

    options = plan.options
    results = {p.name: PointResult() for p in plan.points}
    todo = []
    for point in plan.points:
        done = None if options.force else _up_to_date(plan, point)
        if done is None:
            todo.append(point)
        else:
            results[point.name] = done
    reporter.sweep_started(len(plan.points), len(todo))
    _write_document(plan, results)
    try:
        if todo:
            executor = (executor_factory or executor_for)(plan)
            for point, result in executor.run(todo):
                results[point.name] = result
                reporter.point_done(point.name, result.status, result.seconds, result.error)
                _write_document(plan, results)
    finally:
        reporter.sweep_done()
        files = [_write_document(plan, results), *write_pages(plan.out_dir, sweep_document(plan, results))]
    return SweepResult(plan, results, time.perf_counter() - started, tuple(files))


def spec_files(plan: SweepPlan) -> dict[str, bytes]:
    """The spec file and the relative files it reads (style images, a weights file), by their
    path relative to the spec's folder: what a worker without the driver's disk needs."""
    spec_path = Path(plan.spec_path)
    files = {spec_path.name: spec_path.read_bytes()}
    spec = load(plan.spec_path, overrides=plan.options.overrides)
    wanted = [t.image for t in spec.objective.terms if getattr(t, "image", None)]
    if str(spec.network.weights).lower().endswith((".pth", ".pt")):
        wanted.append(spec.network.weights)
    for rel in wanted:
        path = Path(rel)
        if not path.is_absolute() and (spec_path.parent / path).is_file() and ".." not in path.parts:
            files[path.as_posix()] = (spec_path.parent / path).read_bytes()
    return files


def point_folder_files(folder: Path) -> dict[str, bytes]:
    """The files penspec wrote in a point's folder (its manifest's list), for a remote worker
    to continue from; empty for a folder that holds no build yet."""
    if not folder.is_dir():
        return {}
    owned = Ownership.open(folder, into_existing=True)
    out = {}
    for rel in sorted(owned.files):
        path = folder / rel
        if path.is_file() and not path.is_symlink():
            out[rel] = path.read_bytes()
    manifest = folder / "penspec-files.json"
    if manifest.is_file():
        out["penspec-files.json"] = manifest.read_bytes()
    return out


def env_threads(jobs: int) -> int:
    """Each of ``jobs`` local builds' share of the CPU threads (at least one)."""
    return max(1, (os.cpu_count() or 1) // max(jobs, 1))
