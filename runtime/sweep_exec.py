"""Where a sweep's points are built: local processes, or Ray tasks past one machine.

Every executor builds a point with :func:`build_point` (an ordinary
:func:`penspec.runtime.build.build` into the point's folder, its own progress kept quiet) and
yields ``(point, PointResult)`` as points finish; a point that fails is a result with its error,
never an exception that stops the others.

- :class:`LocalExecutor`: ``--jobs 1`` builds in this process, one point after another;
  ``--jobs N`` runs N worker processes, each with its share of the CPU threads (N x threads <=
  cores), which die with the sweep (a killed sweep leaves no build running). On a CUDA device
  the points run one after another: one GPU holds one build at a time.
- :class:`RayExecutor`: each point is a Ray task (one GPU requested when the build runs on
  CUDA; retried when its worker is lost). The task gets the spec's files and the point folder's
  files as they are, builds in a temporary folder and returns the folder's files; the driver
  writes them into the sweep folder, so workers need no shared disk.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from penspec.runtime.ownership import MANIFEST
from penspec.runtime.sweep import (
    BUILT,
    FAILED,
    UP_TO_DATE,
    Point,
    PointResult,
    SweepPlan,
    env_threads,
    point_folder_files,
    spec_files,
)
from penspec.spec.atomic import atomic_write
from penspec.spec.errors import MissingResourceError, PenspecError

RAY_INSTALL = "pip install 'penspec[ray]' (or: pip install ray)"
RAY_RETRIES = 3  # a task whose worker dies (a node lost, a process killed) runs again this often


@dataclass(frozen=True)
class PointJob:
    """Everything a worker needs to build one point (picklable, no paths but its own)."""

    spec_path: str
    overrides: tuple[str, ...]
    out_dir: str
    device: str
    renderer: str
    force: bool
    into_existing: bool
    threads: int = 0  # torch CPU threads; 0 leaves torch's default


def job_for(plan: SweepPlan, point: Point, threads: int = 0) -> PointJob:
    o = plan.options
    return PointJob(plan.spec_path, point.overrides, str(plan.out_dir / point.name), o.device, o.renderer, o.force,
                    o.into_existing, threads)


def build_point(job: PointJob) -> PointResult:
    """Build one point; its failure comes back as the result's error."""
    from penspec.runtime.build import BuildOptions, build
    from penspec.runtime.progress import SilentReporter

    if job.threads:
        import torch

        torch.set_num_threads(job.threads)
    started = time.perf_counter()
    options = BuildOptions(out_dir=job.out_dir, overrides=job.overrides, device=job.device, renderer=job.renderer,
                           force=job.force, into_existing=job.into_existing)
    try:
        result = build(job.spec_path, options, SilentReporter())
    except PenspecError as exc:
        return PointResult(FAILED, time.perf_counter() - started, None, str(exc))
    except Exception as exc:  # noqa: BLE001 - one point's crash must not stop the sweep; it is recorded
        return PointResult(FAILED, time.perf_counter() - started, None, f"{type(exc).__name__}: {exc}")
    objective = {k: result.metrics["objective"][k] for k in ("before", "after")}
    return PointResult(UP_TO_DATE if result.up_to_date else BUILT, time.perf_counter() - started, objective)


def _cuda(plan: SweepPlan) -> bool:
    from penspec.runtime.lock import device_type_without_torch

    known = device_type_without_torch(plan.options.device)
    if known is not None:
        return known == "cuda"
    from penspec.runtime.device import resolve_device

    return resolve_device(plan.options.device).type == "cuda"


# -- local ---------------------------------------------------------------------------------


def _init_worker(threads: int, parent: int) -> None:
    """A local worker: its share of the threads, and death with the sweep (Linux prctl)."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the sweep died before the line above took effect
        os._exit(1)


class LocalExecutor:
    def __init__(self, plan: SweepPlan):
        self.plan = plan
        self.jobs = max(1, plan.options.jobs)
        if self.jobs > 1 and _cuda(plan):
            self.jobs = 1  # one GPU builds one point at a time

    def run(self, todo: list[Point]) -> Iterator[tuple[Point, PointResult]]:
        if self.jobs == 1 or len(todo) == 1:
            for point in todo:
                yield point, build_point(job_for(self.plan, point))
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed
        from concurrent.futures.process import BrokenProcessPool

        threads = env_threads(self.jobs)
        pool = ProcessPoolExecutor(max_workers=min(self.jobs, len(todo)), mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(threads, os.getpid()))
        try:
            futures = {pool.submit(build_point, job_for(self.plan, p, threads)): p for p in todo}
            for future in as_completed(futures):
                point = futures[future]
                try:
                    result = future.result()
                except BrokenProcessPool as exc:
                    result = PointResult(FAILED, 0.0, None, f"the worker process building it died: {exc}")
                yield point, result
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


# -- Ray -----------------------------------------------------------------------------------


def _files_of(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {rel: (data, (folder / rel).stat().st_mode & 0o777) for rel, data in point_folder_files(folder).items()}


def remote_build(files: dict[str, bytes], spec_dir: str, spec_name: str, folder: dict[str, tuple[bytes, int]],
                 job: PointJob) -> tuple[PointResult, dict[str, tuple[bytes, int]]]:
    """A Ray task's body: the spec's files and the point folder as the driver has them go into a
    temporary folder, the point is built there, and the folder's files come back."""
    with tempfile.TemporaryDirectory(prefix="penspec-point-") as tmp:
        root = Path(tmp) / "spec" / spec_dir  # the spec's folder keeps its name: spec.yaml builds are named after it
        for rel, data in files.items():
            atomic_write(root / rel, data)
        out = Path(tmp) / "out"
        for rel, (data, mode) in folder.items():
            atomic_write(out / rel, data, mode)
        job = PointJob(str(root / spec_name), job.overrides, str(out), job.device, job.renderer, job.force, False, job.threads)
        result = build_point(job)
        return result, _files_of(out)


def write_returned(folder: Path, files: dict[str, tuple[bytes, int]], into_existing: bool) -> None:
    """Write a point folder's files that a worker returned. The folder rule holds: a file penspec
    did not write is never overwritten; files the new build no longer lists are deleted only
    when penspec wrote them. build.lock is written last, so a folder is up to date only whole."""
    if MANIFEST not in files:
        return
    from penspec.runtime.folderlock import RUNNING_FILE, hold_folder

    listed = set(json.loads(files[MANIFEST][0]).get("files", []))
    claim = [folder / rel for rel in sorted(listed | set(files)) if rel != MANIFEST]  # what the worker's build recorded
    with hold_folder(folder, into_existing=into_existing, claim=claim) as owned:  # one writer, as for a build
        owned.remove_partial_writes()
        last = [rel for rel in ("build.lock",) if rel in files]
        for rel in [r for r in sorted(files) if r not in last and r != MANIFEST] + last:
            data, mode = files[rel]
            atomic_write(folder / rel, data, mode)
        owned.remove([folder / rel for rel in owned.files - listed - {MANIFEST, RUNNING_FILE}])


def _ray():
    try:
        import ray
    except ImportError:
        raise MissingResourceError(f"--ray needs Ray, an optional part of penspec: {RAY_INSTALL}") from None
    return ray


class RayExecutor:
    def __init__(self, plan: SweepPlan):
        ray = self.ray = _ray()
        self.plan = plan
        address = plan.options.ray
        if not ray.is_initialized():
            if address in (None, "", "local"):
                jobs = plan.options.jobs if plan.options.jobs > 1 else None
                ray.init(num_cpus=jobs, include_dashboard=False, log_to_driver=False)
            else:
                ray.init(address=address, log_to_driver=False)
        device = plan.options.device
        if device == "auto":
            self.gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
            self.device = "cuda" if self.gpus else "cpu"  # what the worker that gets the task has
        else:
            self.gpus = 1 if device.startswith("cuda") else 0
            self.device = device

    def run(self, todo: list[Point]) -> Iterator[tuple[Point, PointResult]]:
        ray = self.ray
        spec_path = Path(self.plan.spec_path)
        spec_dir = spec_path.resolve().parent.name or "spec"
        files = ray.put(spec_files(self.plan))
        task = ray.remote(max_retries=RAY_RETRIES, retry_exceptions=False)(remote_build)
        pending = {}
        for point in todo:
            job = job_for(self.plan, point, threads=1)
            job = PointJob(job.spec_path, job.overrides, job.out_dir, self.device, job.renderer, job.force, job.into_existing, 1)
            folder = _files_of(self.plan.out_dir / point.name)
            ref = task.options(num_cpus=1, num_gpus=self.gpus).remote(files, spec_dir, spec_path.name, folder, job)
            pending[ref] = point
        try:
            while pending:
                (ref,), _ = ray.wait(list(pending), num_returns=1)
                point = pending.pop(ref)
                try:
                    result, returned = ray.get(ref)
                except ray.exceptions.RayError as exc:  # the worker was lost more often than the retries allow
                    yield point, PointResult(FAILED, 0.0, None, f"Ray task failed: {type(exc).__name__}: {exc}")
                    continue
                write_returned(self.plan.out_dir / point.name, returned, self.plan.options.into_existing)
                yield point, result
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)


def executor_for(plan: SweepPlan):
    """The executor the options ask for."""
    return RayExecutor(plan) if plan.options.ray is not None else LocalExecutor(plan)
