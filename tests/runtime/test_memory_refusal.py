"""`penspec build` refuses, exit 2 and nothing written, a plan whose memory estimate exceeds the
device's available memory (runtime/memory.py), and builds it anyway with --ignore-memory."""

from pathlib import Path

import pytest
from tests.support.build_fixtures import write_tiny
from tests.support.clirun import run_cli

from penspec.runtime import memory

HUGE = """\
penspec: 1
title: too big
canvas: 8192
pens:
  - {id: black, color: "#111", width: 0.3mm}
strokes: {count: 1000000, segments: [1, 3], extent: 0.05}
network: {weights: random}
objective: "channel(resnet18:layer1, 3)"
augment: {views: 64, crop: 224}
stages:
  - optimize: {steps: 100}
"""


@pytest.fixture
def spec(tmp_path) -> Path:
    return write_tiny(tmp_path / "spec", steps=2, finetune=1)


def test_meminfo_is_read_in_bytes(tmp_path):
    info = tmp_path / "meminfo"
    info.write_text("MemTotal:       24000000 kB\nMemFree:        1000 kB\nMemAvailable:   2048 kB\n")
    assert memory.cpu_available_bytes(info) == 2048 * 1024
    info.write_text("MemTotal:       24000000 kB\n")
    assert memory.cpu_available_bytes(info) is None
    assert memory.cpu_available_bytes(tmp_path / "absent") is None


def test_a_huge_build_is_refused_before_anything_is_loaded_or_written(tmp_path, capsys, monkeypatch):
    import penspec.runtime.nets as nets

    spec = tmp_path / "huge.yaml"
    spec.write_text(HUGE)

    def no_loading(*args, **kw):
        raise AssertionError("a net was loaded")

    monkeypatch.setattr(nets, "load_net", no_loading)
    out = tmp_path / "out"
    code, text = run_cli(["build", str(spec), "-o", str(out), "--device", "cpu"], capsys)
    assert code == 2
    assert "Traceback" not in text
    (line,) = [line for line in text.splitlines() if "needs about" in line]
    assert line.startswith(f"{spec}:11: stage 0-optimize needs about") and "GiB" in line
    assert "available on the CPU" in line and "--ignore-memory" in line
    for what in ("canvas", "views", "strokes", "crop"):
        assert what in line
    assert not out.exists()


def test_a_small_build_is_not_refused(spec, tmp_path, capsys):
    out = tmp_path / "out"
    code, text = run_cli(["build", str(spec), "-o", str(out), "--device", "cpu"], capsys)
    assert code == 0, text
    assert "needs about" not in text and (out / "build.lock").exists()


def test_ignore_memory_skips_the_check(spec, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(memory, "cpu_available_bytes", lambda: 1 << 20)  # 1 MiB: the tiny spec does not fit
    out = tmp_path / "out"
    code, text = run_cli(["build", str(spec), "-o", str(out), "--device", "cpu"], capsys)
    assert code == 2 and "needs about" in text and "1.0 MiB is available" in text
    assert not out.exists()
    code, text = run_cli(["build", str(spec), "-o", str(out), "--device", "cpu", "--ignore-memory"], capsys)
    assert code == 0, text
    assert (out / "build.lock").exists()


def test_the_library_refuses_too(spec, tmp_path, monkeypatch):
    from penspec.runtime.build import BuildOptions, build
    from penspec.spec.errors import NotEnoughMemoryError

    monkeypatch.setattr(memory, "cpu_available_bytes", lambda: 1 << 20)
    with pytest.raises(NotEnoughMemoryError, match=r"tiny.yaml:15: stage 2-finetune needs about"):
        build(spec, BuildOptions(out_dir=str(tmp_path / "out"), device="cpu"))
    assert not (tmp_path / "out").exists()


def test_cuda_takes_the_free_memory_torch_reports(monkeypatch):
    import torch

    asked = []

    def mem_get_info(device):
        asked.append(device)
        return 3 << 30, 80 << 30

    monkeypatch.setattr(torch.cuda, "mem_get_info", mem_get_info)
    monkeypatch.setattr(memory, "cpu_available_bytes", lambda: pytest.fail("the CPU's memory was read for a CUDA device"))
    device = torch.device("cuda", 1)
    assert memory.available_bytes(device) == (3 << 30, "free on cuda:1 (torch.cuda.mem_get_info)")
    assert asked == [device]
