"""Kill a build with SIGKILL in the middle of a stage, resume it: the outputs equal those of a
build that was never interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.support.build_fixtures import output_files, write_tiny
from penspec.runtime.build import BuildOptions, build

KILL_TIMEOUT_S = 120


def start_build(spec: Path, out: Path) -> subprocess.Popen:
    code = "import sys; from penspec.runtime.cli import main; main(sys.argv[1:])"
    cmd = [sys.executable, "-c", code, "build", str(spec), "-o", str(out), "--device", "cpu"]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "PYTHONHASHSEED": "0"})


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_sigkill_mid_stage_then_resume_equals_uninterrupted(tmp_path):
    spec = write_tiny(tmp_path, steps=12, finetune=2, checkpoint_every=2)
    out = tmp_path / "killed"
    proc = start_build(spec, out)
    deadline = time.monotonic() + KILL_TIMEOUT_S
    try:
        while not list(out.glob("stages/0-optimize-*/checkpoint.pt")):
            assert proc.poll() is None, f"build ended before its first checkpoint: {proc.stderr.read().decode()}"
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    stage_dir = next(out.glob("stages/0-optimize-*"))
    assert not (stage_dir / "stage.json").exists(), "the stage finished before the kill"

    resumed = build(spec, BuildOptions(out_dir=str(out), device="cpu", resume=True))
    first = resumed.outcomes[0]
    assert first.name == "0-optimize" and 0 < first.resumed_at < 12 and first.resumed_at % 2 == 0
    lock = json.loads((out / "build.lock").read_text())
    assert lock["stages"][0]["resumed_at"] == first.resumed_at

    straight = build(spec, BuildOptions(out_dir=str(tmp_path / "straight"), device="cpu"))
    a, b = output_files(out), output_files(straight.out_dir)
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []
