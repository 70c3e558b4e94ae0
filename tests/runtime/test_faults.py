"""Faults injected into real `penspec build` processes: a damaged stage result, a damaged
checkpoint resumed, two builds into one folder, SIGKILL during the emit step, a full disk and a
read-only file. Each fault: the exit code, one line that says what happened, and afterwards the
folder holds the outputs of a clean build, byte for byte.

Faults are injected by the child process itself, deterministically: ``os.fsync`` (every
penspec write is temp file + fsync + rename) and ``tempfile.mkstemp`` are wrapped to fail,
pause or kill the process when a given file is written.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.support.build_fixtures import output_files, write_tiny

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/fd and sends SIGKILL")

TIMEOUT_S = 300

PRELUDE = r"""
import errno, os, re, signal, sys, tempfile, time

def when_written(pattern, action):
    '''Call action(n) before the n-th fsync of a temp file whose name matches pattern.'''
    real, seen = os.fsync, [0]
    def fsync(fd):
        if re.match(pattern, os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))):
            seen[0] += 1
            action(seen[0])
        return real(fd)
    os.fsync = fsync

def no_space(n):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

def kill_at(k):
    def action(n):
        if n == k:
            os.kill(os.getpid(), signal.SIGKILL)
    return action

def pause_at_first(ready, go):
    def action(n):
        if n == 1:
            open(ready, "w").close()
            while not os.path.exists(go):
                time.sleep(0.05)
    return action

def refuse_to_create(prefix):
    real = tempfile.mkstemp
    def mkstemp(*args, **kw):
        if kw.get("prefix", "").startswith(prefix):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        return real(*args, **kw)
    tempfile.mkstemp = mkstemp
"""


def command(spec: Path, out: Path, *extra: str, fault: str = "") -> list[str]:
    code = f"{PRELUDE}\n{fault}\nfrom penspec.runtime.cli import main\nmain(sys.argv[1:])\n"
    return [sys.executable, "-c", code, "build", str(spec), "-o", str(out), "--device", "cpu", *extra]


def penspec(spec: Path, out: Path, *extra: str, fault: str = "") -> tuple[int, str, float]:
    """Run one build to its end: exit code, stderr, seconds."""
    started = time.monotonic()
    proc = subprocess.run(command(spec, out, *extra, fault=fault), capture_output=True, text=True, timeout=TIMEOUT_S,
                          env={**os.environ, "PYTHONHASHSEED": "0", "COLUMNS": "300"})
    return proc.returncode, proc.stderr, time.monotonic() - started


def lines(text: str, *words: str) -> list[str]:
    return [line for line in text.splitlines() if all(w in line for w in words)]


def assert_like_clean(out: Path, clean: Path, set_aside: int = 0) -> None:
    """Every output equals the clean build's; the file list differs at most by the damaged
    files set aside (recorded so that they are penspec's, never deleted)."""
    a, b = output_files(out), output_files(clean)
    manifest_a, manifest_b = (json.loads(d.pop("penspec-files.json")) for d in (a, b))
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []
    extra = sorted(set(manifest_a["files"]) - set(manifest_b["files"]))
    assert len(extra) == set_aside and all(".damaged-" in f for f in extra), extra
    assert set(manifest_b["files"]) <= set(manifest_a["files"])
    assert not [p for p in out.rglob(".*.tmp")], "a partial write was left behind"
    assert not (out / "penspec-running.json").exists()


@pytest.fixture(scope="module")
def spec(tmp_path_factory) -> Path:
    return write_tiny(tmp_path_factory.mktemp("spec"), steps=6, finetune=2, checkpoint_every=2)


@pytest.fixture(scope="module")
def clean(spec, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean") / "out"
    code, err, _ = penspec(spec, out)
    assert code == 0, err
    return out


def copy_of(clean: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(clean, out)
    return out


def test_damaged_result(spec, clean, tmp_path):
    out = copy_of(clean, tmp_path)
    result = next(out.glob("stages/0-optimize-*/result.pt"))
    size = result.stat().st_size
    result.write_bytes(result.read_bytes()[:1000])  # an interrupted copy
    code, err, seconds = penspec(spec, out)
    assert code == 0, err
    (line,) = lines(err, "result.pt")
    assert line == (f"stage 0-optimize: result.pt is truncated (1000 of {size} bytes); set aside as "
                    f"stages/{result.parent.name}/result.pt.damaged-1, running the stage again")
    assert (result.parent / "result.pt.damaged-1").stat().st_size == 1000
    assert_like_clean(out, clean, set_aside=1)
    print(f"\nFAULT | damaged result.pt | {code} | {line} | {seconds:.1f} s | yes")


def test_damaged_checkpoint_then_resume(spec, clean, tmp_path):
    out = tmp_path / "out"
    code, _, _ = penspec(spec, out, fault="when_written(r'\\.checkpoint\\.pt\\.', kill_at(2))")  # killed at step 4 of 6
    assert code == -signal.SIGKILL
    checkpoint = next(out.glob("stages/0-optimize-*/checkpoint.pt"))
    data = bytearray(checkpoint.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte: same size, other content
    checkpoint.write_bytes(bytes(data))
    code, err, seconds = penspec(spec, out, "--resume")
    assert code == 0, err
    (line,) = lines(err, "checkpoint.pt")
    assert line == (f"stage 0-optimize: checkpoint.pt does not match the sha256 recorded when it was written; set aside as "
                    f"stages/{checkpoint.parent.name}/checkpoint.pt.damaged-1, running the stage from the start")
    assert_like_clean(out, clean, set_aside=1)
    print(f"\nFAULT | damaged checkpoint.pt + --resume | {code} | {line} | {seconds:.1f} s | yes")


def test_two_builds_into_one_folder(spec, clean, tmp_path):
    out, ready, go = tmp_path / "out", tmp_path / "ready", tmp_path / "go"
    first = subprocess.Popen(command(spec, out, fault=f"when_written(r'\\.checkpoint\\.pt\\.', pause_at_first({str(ready)!r}, {str(go)!r}))"),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while not ready.exists():
            assert first.poll() is None, first.stderr.read()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        code, err, seconds = penspec(spec, out)  # the first build holds the folder mid-stage
        assert code == 2, err
        (line,) = err.strip().splitlines()
        assert line.startswith(f"{out}: another penspec command is writing here (pid {first.pid} on ")
        assert line.endswith("let it finish, or pass --wait [SECONDS] to wait for it")
        waiting = subprocess.Popen(command(spec, out, "--wait"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        assert waiting.poll() is None
        started = time.monotonic()
        go.touch()
        assert first.wait(TIMEOUT_S) == 0, first.stderr.read()
        stdout, stderr = waiting.communicate(timeout=TIMEOUT_S)
        waited = time.monotonic() - started
    finally:
        go.touch()
        first.kill()
        first.wait()
    assert waiting.returncode == 0, stderr
    assert "is up to date" in stderr  # it waited, then found the first build's work done
    assert_like_clean(out, clean)
    print(f"\nFAULT | two builds into one folder | 2 (second), 0 (--wait) | {line} | {waited:.1f} s | yes")


def test_sigkill_during_emit(spec, clean, tmp_path):
    out = tmp_path / "out"
    code, _, _ = penspec(spec, out, fault="when_written(r'\\.preview\\.png\\.', kill_at(1))")
    assert code == -signal.SIGKILL
    assert list(out.glob(".preview.png.*.tmp")) and not (out / "preview.png").exists()
    assert (out / "penspec-running.json").exists()  # the killed holder's note: the OS lock went with it
    code, err, seconds = penspec(spec, out)
    assert code == 0, err
    assert_like_clean(out, clean)
    print(f"\nFAULT | SIGKILL during emit | -9, then 0 | (killed; next build reuses every stage) | {seconds:.1f} s | yes")


@pytest.mark.parametrize(
    ("fault", "file", "why"),
    [
        ("when_written(r'\\.preview\\.png\\.', no_space)", "preview.png",
         "No space left on device (ENOSPC); free some space and build again: finished stages are kept"),
        ("refuse_to_create('.1-black.svg.')", "pens/1-black.svg",
         "Permission denied (EACCES); make the folder writable, or build into another folder with -o"),
    ],
    ids=["full disk", "read-only"],
)
def test_write_failure_keeps_previous_outputs(spec, clean, tmp_path, fault, file, why):
    out = copy_of(clean, tmp_path)
    previous = (out / file).read_bytes()
    (out / "report.md").unlink()  # something for the next build to write
    code, err, _ = penspec(spec, out, fault=fault)
    assert code == 1, err
    (line,) = err.strip().splitlines()[-1:]
    assert line == f"error: cannot write {out / file}: {why}"
    assert "Traceback" not in err and "internal error" not in err
    assert (out / file).read_bytes() == previous  # intact
    assert not [p for p in out.rglob(".*.tmp")]
    code, err, seconds = penspec(spec, out)  # space freed
    assert code == 0, err
    assert_like_clean(out, clean)
    print(f"\nFAULT | {why.split(';')[0]} writing {file} | 1 | {line} | {seconds:.1f} s | yes")


def test_out_of_memory_names_stage_step_and_the_resume_command(spec, clean, tmp_path, monkeypatch, capsys):
    """In-process: a step that torch's allocator refuses (the CUDA error type; the CPU allocator's
    RuntimeError reads the same) stops the build with one line, the checkpoint kept."""
    import torch
    from tests.support.clirun import run_cli
    from penspec.runtime.stages import StageRun

    out = tmp_path / "out"
    real_step = StageRun.step

    def step(self):
        if self.stage.name == "0-optimize" and self.next_step == 3:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return real_step(self)

    monkeypatch.setattr(StageRun, "step", step)
    code, text = run_cli(["build", str(spec), "-o", str(out), "--device", "cpu"], capsys)
    assert code == 1
    (line,) = lines(text, "ran out of memory")
    resume = f"penspec build {spec} -o {out} --resume"
    assert line == (f"error: stage 0-optimize ({spec}:13:1) ran out of memory at step 4 of 6 (OutOfMemoryError); its checkpoint at "
                    f"step 2 is kept; free memory or lower the canvas, views, strokes or crop, then continue with: {resume}")
    assert "Traceback" not in text
    monkeypatch.setattr(StageRun, "step", real_step)
    started = time.monotonic()
    code, text = run_cli(resume.split()[1:] + ["--device", "cpu"], capsys)
    assert code == 0, text
    assert "resuming 0-optimize at step 2/6" in text
    assert_like_clean(out, clean)
    print(f"\nFAULT | out of memory in a step | 1 | {line} | {time.monotonic() - started:.1f} s | yes")


SMALL_MEMORY = "import penspec.runtime.memory as memory\nmemory.cpu_available_bytes = lambda: 1 << 20"  # 1 MiB available


def test_memory_refusal_writes_nothing_and_ignore_memory_builds(spec, clean, tmp_path):
    out = tmp_path / "out"
    code, err, _ = penspec(spec, out, fault=SMALL_MEMORY)
    assert code == 2, err
    (line,) = lines(err, "needs about")
    assert line.startswith(f"{spec}:15: stage 2-finetune needs about ") and "but 1.0 MiB is available on the CPU" in line
    assert line.endswith("lower the canvas, views, strokes or crop (`penspec plan` prints the estimate), or pass --ignore-memory to build anyway")
    assert "Traceback" not in err and not out.exists()
    code, err, seconds = penspec(spec, out, "--ignore-memory", fault=SMALL_MEMORY)
    assert code == 0, err
    assert_like_clean(out, clean)
    print(f"\nFAULT | estimate over available memory | 2 | {line} | {seconds:.1f} s (--ignore-memory) | yes")
