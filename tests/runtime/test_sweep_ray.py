"""`penspec sweep --ray`: a local Ray runtime builds the same files as local processes, each
point's folder coming back to the driver as files (no shared disk is assumed)."""

from __future__ import annotations

import json
import os

import pytest

from penspec.runtime.sweep import BUILT, UP_TO_DATE, SweepOptions, run_sweep
from tests.runtime.test_sweep import svgs, write_spec

pytestmark = pytest.mark.slow


def test_ray_builds_the_same_svgs_as_local_processes(tmp_path):
    ray = pytest.importorskip("ray")
    spec = str(write_spec(tmp_path))
    local, remote = tmp_path / "local", tmp_path / "ray"
    # one torch thread per build on both sides: a Ray task gets one CPU, and so does each of
    # cpu_count local workers
    run_sweep(spec, SweepOptions(out_dir=str(local), jobs=max(2, os.cpu_count() or 1), device="cpu"))
    ray.init(num_cpus=2, include_dashboard=False)
    try:
        result = run_sweep(spec, SweepOptions(out_dir=str(remote), ray="local", device="cpu"))
        assert {r.status for r in result.results.values()} == {BUILT}
        again = run_sweep(spec, SweepOptions(out_dir=str(remote), ray="local", device="cpu"))
        assert {r.status for r in again.results.values()} == {UP_TO_DATE}
    finally:
        ray.shutdown()
    points = json.loads((remote / "sweep.json").read_text())["points"]
    assert len(points) == 6
    for point in points:
        assert svgs(remote / point["folder"]), point["name"]
        assert svgs(remote / point["folder"]) == svgs(local / point["folder"]), point["name"]
        # the driver records what the worker's build recorded, as a local build does
        manifest = "penspec-files.json"
        assert (remote / point["folder"] / manifest).read_bytes() == (local / point["folder"] / manifest).read_bytes()
