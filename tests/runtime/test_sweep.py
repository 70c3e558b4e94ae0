"""`penspec sweep`: every point compiled first, each an ordinary build, reruns build only what is
missing or changed, a failure is recorded and the others go on, a killed sweep continues."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from penspec.runtime.build import BuildOptions, build
from penspec.runtime.ownership import Ownership
from penspec.runtime.sweep import BUILT, FAILED, UP_TO_DATE, SweepOptions, plan_sweep, run_sweep
from penspec.spec.errors import OutputFolderError, SpecError
from tests.support.clirun import run_cli
from tests.support.build_fixtures import output_files

SPEC = """\
penspec: 1
title: tiny sweep
seed: 3
paper: {size: a6, margin: 10mm}
canvas: 64
pens: [{id: black, color: "#111", width: 0.8mm}]
strokes: {count: 8, segments: [1, 2], extent: 0.2}
network: {weights: random}
vars: {channel: 3}
objective: "channel(resnet18:layer1, $channel) - 1e-4 * tv"
augment: {views: 1, crop: 32, jitter: 2}
stages:
  - optimize: {steps: STEPS}
output: {snapshot_every: 0, checkpoint_every: 1}
sweep:
  vars.channel: [1, 2, 60]
  seed: 1..2
"""


def write_spec(folder: Path, steps: int = 2) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tiny.yaml"
    path.write_text(SPEC.replace("STEPS", str(steps)))
    return path


def svgs(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.svg"))}


def statuses(result) -> dict[str, str]:
    return {name: r.status for name, r in result.results.items()}


def test_points_are_named_from_their_values_and_compiled_first(tmp_path):
    plan = plan_sweep(str(write_spec(tmp_path)), SweepOptions(out_dir=str(tmp_path / "out")))
    assert [p.name for p in plan.points] == [f"channel-{c}_seed-{s}" for c in (1, 2, 60) for s in (1, 2)]
    assert plan.points[0].sets == ("vars.channel=1", "seed=1")
    assert plan.command(plan.points[0], full=True).endswith("tiny.yaml --set vars.channel=1 --set seed=1")


def test_a_point_that_does_not_compile_stops_the_sweep_at_its_line(tmp_path, capsys):
    spec = write_spec(tmp_path)
    spec.write_text(spec.read_text().replace("[1, 2, 60]", "[1, 600, 2]"))
    out = tmp_path / "out"
    code, text = run_cli(["sweep", str(spec), "-o", str(out)], capsys)
    assert code == 2
    assert f"{spec}:16:21: $.objective: channel 600 is out of range" in text and "(sweep point vars.channel=600, seed=1)" in text
    assert text.count("channel 600 is out of range") == 1  # both seeds have it: said once
    assert not out.exists()
    code, text = run_cli(["sweep", str(tmp_path / "tiny.yaml"), "-o", str(out), "--vary", "seed=[1, -4]"], capsys)
    assert code == 2 and "--vary seed=[1, -4]: $.seed: -4 is less than the minimum of 0" in text
    assert not out.exists()


def test_sweep_builds_each_point_as_its_build_command_would_and_reruns_only_what_changed(tmp_path):
    spec = write_spec(tmp_path)
    out = tmp_path / "out"
    first = run_sweep(str(spec), SweepOptions(out_dir=str(out), device="cpu"))
    assert first.ok and set(statuses(first).values()) == {BUILT}
    document = json.loads((out / "sweep.json").read_text())
    assert [p["status"] for p in document["points"]] == [BUILT] * 6
    assert all(p["objective"]["after"] != p["objective"]["before"] for p in document["points"])
    assert (out / "index.html").is_file() and (out / "contact.png").read_bytes()[:4] == b"\x89PNG"

    # one point equals a plain build of the command its tile shows (the sweep's --sets are none here)
    point = first.plan.points[3]
    alone = build(str(spec), BuildOptions(out_dir=str(tmp_path / "alone"), overrides=point.sets, device="cpu"))
    assert output_files(alone.out_dir) == output_files(out / point.name)

    again = run_sweep(str(spec), SweepOptions(out_dir=str(out), device="cpu"))
    assert set(statuses(again).values()) == {UP_TO_DATE}
    assert again.seconds < first.seconds / 5

    shutil.rmtree(out / point.name)
    third = run_sweep(str(spec), SweepOptions(out_dir=str(out), device="cpu"))
    assert [n for n, s in statuses(third).items() if s == BUILT] == [point.name]
    assert output_files(alone.out_dir) == output_files(out / point.name)

    # a changed axis: only the new points build; the old folder stays, unlisted
    fourth = run_sweep(str(spec), SweepOptions(out_dir=str(out), device="cpu", vary=("vars.channel=[1, 5]",)))
    assert sorted(n for n, s in statuses(fourth).items() if s == BUILT) == ["channel-5_seed-1", "channel-5_seed-2"]
    assert (out / "channel-60_seed-1").is_dir()


def test_a_failing_point_is_recorded_and_the_others_go_on(tmp_path, capsys):
    spec = write_spec(tmp_path)
    (tmp_path / "broken.pth").write_bytes(b"not a checkpoint")
    out = tmp_path / "out"
    code, text = run_cli(["sweep", str(spec), "-o", str(out), "--device", "cpu", "--vary", "seed=[1]",
                          "--vary", "network.weights=[random, broken.pth]", "--vary", "vars.channel=[1]"], capsys)
    assert code == 1
    document = json.loads((out / "sweep.json").read_text())
    by_name = {p["name"]: p for p in document["points"]}
    assert by_name["channel-1_seed-1_weights-random"]["status"] == BUILT
    failed = by_name["channel-1_seed-1_weights-broken.pth"]
    assert failed["status"] == FAILED and "broken.pth" in failed["error"] and failed["objective"] is None
    assert "failed" in text and "1 built, 1 failed" in text
    assert "broken.pth" in (out / "index.html").read_text()


def test_folders_of_other_files_are_refused_before_anything_builds(tmp_path, capsys):
    spec = write_spec(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code, text = run_cli(["sweep", str(spec), "-o", str(out)], capsys)
    assert code == 2 and "holds no penspec build" in text and "notes.txt" in text
    assert sorted(os.listdir(out)) == ["notes.txt"]
    (out / "notes.txt").unlink()
    (out / "channel-2_seed-1").mkdir()
    (out / "channel-2_seed-1" / "sketch.png").write_bytes(b"x")
    with pytest.raises(OutputFolderError, match="channel-2_seed-1"):  # the sweep folder holds no sweep yet
        run_sweep(str(spec), SweepOptions(out_dir=str(out)))
    shutil.rmtree(out)
    run_sweep(str(spec), SweepOptions(out_dir=str(out), vary=("vars.channel=[1]", "seed=[1]")))
    (out / "channel-2_seed-1").mkdir()
    (out / "channel-2_seed-1" / "sketch.png").write_bytes(b"x")
    with pytest.raises(OutputFolderError, match="sketch.png"):  # a point's folder holds another file
        run_sweep(str(spec), SweepOptions(out_dir=str(out)))
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["channel-1_seed-1", "channel-2_seed-1"]
    assert os.listdir(out / "channel-2_seed-1") == ["sketch.png"]


def test_nothing_to_sweep(tmp_path):
    spec = write_spec(tmp_path)
    spec.write_text(spec.read_text().split("sweep:")[0])
    with pytest.raises(SpecError, match="nothing to sweep"):
        plan_sweep(str(spec), SweepOptions())


def test_ray_missing_says_how_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails
    out = tmp_path / "out"
    code, text = run_cli(["sweep", str(write_spec(tmp_path)), "-o", str(out), "--ray"], capsys)
    assert code == 2 and "pip install 'penspec[ray]'" in text
    assert not any(p.is_dir() for p in out.iterdir())  # no point was built


def _sweep_command(spec: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "penspec.runtime.cli", "sweep", str(spec), "-o", str(out), "--device", "cpu", *extra]


def _kill_and_rerun(tmp_path: Path, jobs: str, steps: int, *vary: str) -> None:
    """SIGKILL the sweep once points are done and another is building, rerun: every point's SVGs
    equal those of a sweep that was never interrupted."""
    spec = write_spec(tmp_path, steps=steps)
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    extra = ["--jobs", jobs, *(f"--vary={v}" for v in vary)]
    subprocess.run(_sweep_command(spec, whole, *extra), check=True, env=env, capture_output=True)

    process = subprocess.Popen(_sweep_command(spec, killed, *extra), env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    built = 0
    while time.monotonic() < deadline and process.poll() is None:
        try:
            built = sum(p["status"] == BUILT for p in json.loads((killed / "sweep.json").read_text())["points"])
        except (OSError, ValueError):
            built = 0
        if built >= int(jobs):
            break
        time.sleep(0.05)
    assert process.poll() is None, "the sweep ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    total = len(json.loads((whole / "sweep.json").read_text())["points"])
    assert built < total

    rerun = subprocess.run(_sweep_command(spec, killed, *extra), env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    document = json.loads((killed / "sweep.json").read_text())
    assert {p["status"] for p in document["points"]} <= {BUILT, UP_TO_DATE}
    for point in document["points"]:
        assert svgs(killed / point["folder"]) == svgs(whole / point["folder"]), point["name"]
        assert svgs(whole / point["folder"])


def test_a_killed_sweep_continues_to_the_same_files(tmp_path):
    _kill_and_rerun(tmp_path, "1", 3, "seed=[1]")  # 3 points, one process


@pytest.mark.slow
def test_a_killed_sweep_of_worker_processes_continues_to_the_same_files(tmp_path):
    _kill_and_rerun(tmp_path, "2", 6)  # 6 points, two worker processes that die with the sweep


def test_a_remote_worker_builds_from_files_and_the_driver_writes_them_back(tmp_path):
    """What a Ray task does, without Ray: the spec and the point folder go over as bytes, the
    worker builds in its own temporary folder, the driver writes the returned files."""
    from penspec.runtime.sweep import hold_sweep_folder, spec_files
    from penspec.runtime.sweep_exec import _files_of, job_for, remote_build, write_returned

    spec = write_spec(tmp_path / "specs")
    local = run_sweep(str(spec), SweepOptions(out_dir=str(tmp_path / "local"), device="cpu", vary=("vars.channel=[2]", "seed=[1]")))
    plan = plan_sweep(str(spec), SweepOptions(out_dir=str(tmp_path / "remote"), device="cpu", vary=("vars.channel=[2]", "seed=[1]")))
    (point,) = plan.points
    with hold_sweep_folder(plan):
        pass  # the sweep folder now holds a sweep, as run_sweep leaves it
    folder = plan.out_dir / point.name
    result, returned = remote_build(spec_files(plan), "specs", spec.name, _files_of(folder), job_for(plan, point))
    assert result.status == BUILT and "penspec-files.json" in returned
    write_returned(folder, returned, into_existing=False)
    assert output_files(folder) == output_files(local.plan.out_dir / point.name)
    again = run_sweep(str(spec), SweepOptions(out_dir=str(plan.out_dir), device="cpu", vary=("vars.channel=[2]", "seed=[1]")))
    assert statuses(again) == {point.name: UP_TO_DATE}

    # the returned folder goes back as it is: the worker finds its stages and only re-emits
    job = replace(job_for(plan, point), overrides=(*point.overrides, "pens.0.speed_pendown=40"))
    result, returned = remote_build(spec_files(plan), "specs", spec.name, _files_of(folder), job)
    assert result.status == BUILT
    assert all(stage["reused"] for stage in json.loads(returned["build.lock"][0])["stages"])

    # a file penspec did not write is never overwritten by returned files
    victim = folder / "report.md"
    foreign = Ownership.open(folder)
    foreign.files.discard("report.md")
    foreign.save()
    victim.write_text("my notes")
    with pytest.raises(OutputFolderError, match="report.md"):
        write_returned(folder, returned, into_existing=False)
    assert victim.read_text() == "my notes"


def test_one_sweep_per_folder(tmp_path):
    from penspec.runtime.folderlock import hold_folder
    from penspec.spec.errors import FolderBusyError

    spec = write_spec(tmp_path)
    out = tmp_path / "out"
    with hold_folder(out):  # another sweep (or build) is writing there
        with pytest.raises(FolderBusyError):
            run_sweep(str(spec), SweepOptions(out_dir=str(out)))
    assert not any(p.is_dir() for p in out.iterdir())  # no point was built


def test_a_point_killed_while_it_wrote_its_first_file_list_is_built_again(tmp_path):
    """The kill can land between a point folder's creation and its first penspec-files.json:
    the folder then holds only that write's temp file, and is still penspec's."""
    spec = write_spec(tmp_path)
    out = tmp_path / "out"
    run_sweep(str(spec), SweepOptions(out_dir=str(out), device="cpu", vary=("vars.channel=[1]", "seed=[1]")))
    folder = out / "channel-2_seed-1"
    folder.mkdir()
    (folder / ".penspec-files.json.k3j9x_2a.tmp").write_text('{"penspec_files": 1, "fi')
    result = run_sweep(str(spec), SweepOptions(out_dir=str(out), device="cpu", vary=("vars.channel=[1, 2]", "seed=[1]")))
    assert statuses(result) == {"channel-1_seed-1": UP_TO_DATE, "channel-2_seed-1": BUILT}
    assert not (folder / ".penspec-files.json.k3j9x_2a.tmp").exists()
    other = out / "channel-3_seed-1"  # any other file still makes a folder someone else's
    other.mkdir()
    (other / ".penspec-files.json.k3j9x_2a.tmp").write_text("")
    (other / "notes.txt").write_text("mine")
    with pytest.raises(OutputFolderError, match="notes.txt"):
        run_sweep(str(spec), SweepOptions(out_dir=str(out), device="cpu", vary=("vars.channel=[1, 3]", "seed=[1]")))


def test_a_sweep_killed_while_writing_its_own_files_leaves_no_temp_file_behind(tmp_path):
    spec = write_spec(tmp_path)
    out = tmp_path / "out"
    options = SweepOptions(out_dir=str(out), device="cpu", vary=("vars.channel=[1]", "seed=[1]"))
    run_sweep(str(spec), options)
    (out / ".sweep.json.ab12cd34.tmp").write_text('{"penspec_sweep": 1, "po')
    (out / ".notes.txt.ab12cd34.tmp").write_text("not penspec's")
    run_sweep(str(spec), options)
    assert not (out / ".sweep.json.ab12cd34.tmp").exists()
    assert (out / ".notes.txt.ab12cd34.tmp").exists()
