"""The verified stage store: sizes and sha256 recorded on write, checked on read; a damaged
file is set aside (renamed, recorded, never deleted) and its stage runs again."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from tests.support.factories import make_plan
from penspec.runtime.checkpoint import StageStore, prune_stale, set_aside
from penspec.runtime.look import plan_look
from penspec.runtime.nets import load_net
from penspec.runtime.objectives import build_objective
from penspec.runtime.ownership import Ownership
from penspec.runtime.progress import SilentReporter
from penspec.runtime.runner import RunOptions, run_stages
from penspec.runtime.stages import Engine, StageRun, initial_strokes


PLAN = make_plan(canvas=64, strokes=12, steps=4)


def stage(steps=4, **kw):
    """The plan's optimize stage with other steps or fingerprint."""
    return dataclasses.replace(PLAN.stages[0], steps=steps, **kw)


@pytest.fixture(scope="module")
def engine():
    nets = {n.name: load_net(n, ".", seed=PLAN.seed) for n in PLAN.objective.nets}
    plan = dataclasses.replace(PLAN, stages=(stage(),))
    return Engine.loaded(plan, nets, build_objective(plan.objective, nets=nets), torch.device("cpu"))


def notes(reporter: SilentReporter) -> list[str]:
    return [e[1] for e in reporter.events if e[0] == "note"]


def finished(engine, root) -> StageStore:
    run_stages(engine, RunOptions(out_dir=root))
    store = StageStore(root, engine.plan.stages[0], "cpu", "torch", plan_look(engine.plan))
    assert store.complete() and store.damage() is None
    return store


def test_stage_json_records_size_and_sha256_of_result_and_scene(engine, tmp_path):
    store = finished(engine, tmp_path)
    files = store.meta()["files"]
    assert files["result.pt"]["bytes"] == store.result_path.stat().st_size
    assert files["scene.npz"]["bytes"] == store.scene_path.stat().st_size
    from penspec.compiler.fingerprint import file_sha256

    assert files["result.pt"]["sha256"] == file_sha256(store.result_path)


@pytest.mark.parametrize(
    ("damage", "file", "why"),
    [
        ("truncate", "result.pt", "is truncated ("),
        ("flip", "result.pt", "does not match the sha256"),
        ("truncate", "scene.npz", "is truncated ("),
        ("delete", "scene.npz", "is missing"),
        ("delete", "result.pt", "is missing"),
        ("garbage", "stage.json", "is not readable"),
    ],
)
def test_damaged_files_are_found(engine, tmp_path, damage, file, why):
    store = finished(engine, tmp_path)
    path = store.dir / file
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        path.write_bytes(data[:-40] + bytes([data[-40] ^ 1]) + data[-39:])
    elif damage == "delete":
        path.unlink()
    else:
        path.write_text("{not json")
    found = store.damage()
    assert found is not None and found[0] == path and found[1].startswith(why), found
    reporter = SilentReporter()
    out = run_stages(engine, RunOptions(out_dir=tmp_path), reporter)
    assert not out.outcomes[0].reused and store.damage() is None
    (note,) = notes(reporter)
    assert note.startswith(f"stage 0-optimize: {file} {why}")
    aside = store.dir / f"{file}.damaged-1"
    assert aside.is_file() != (damage == "delete")


def test_a_damaged_result_is_set_aside_and_the_stage_reruns(engine, tmp_path):
    store = finished(engine, tmp_path / "a")
    clean = store.result_path.read_bytes()
    store.result_path.write_bytes(clean[:100])
    reporter = SilentReporter()
    out = run_stages(engine, RunOptions(out_dir=tmp_path / "a"), reporter)
    assert not out.outcomes[0].reused and out.outcomes[0].steps_run == 4
    aside = store.dir / "result.pt.damaged-1"
    assert aside.read_bytes() == clean[:100]  # kept as it was
    (note,) = notes(reporter)
    assert note == (f"stage 0-optimize: result.pt is truncated (100 of {len(clean)} bytes); set aside as "
                    f"stages/{store.dir.name}/result.pt.damaged-1, running the stage again")
    assert store.damage() is None
    # the same damage again gets the next free name
    store.result_path.write_bytes(b"")
    run_stages(engine, RunOptions(out_dir=tmp_path / "a"), SilentReporter())
    assert (store.dir / "result.pt.damaged-2").read_bytes() == b""


def test_a_stage_stored_before_hashes_were_recorded_is_read_back(engine, tmp_path):
    store = finished(engine, tmp_path)
    meta = store.meta()
    del meta["files"]
    store.meta_path.write_text(json.dumps(meta))
    assert store.damage() is None
    data = store.result_path.read_bytes()
    store.result_path.write_bytes(data[:300])
    path, why = store.damage()
    assert path == store.result_path and why.startswith("cannot be read (")
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF  # inside a stored member: its CRC-32 no longer matches
    store.result_path.write_bytes(bytes(flipped))
    path, why = store.damage()
    assert path == store.result_path and why.startswith("cannot be read ("), why


def test_set_aside_claims_the_new_name_and_prune_keeps_it(engine, tmp_path):
    owned = Ownership.open(tmp_path / "out")
    store = StageStore(tmp_path / "out", engine.plan.stages[0], "cpu", "torch")
    owned.claim(store.files())
    store.dir.mkdir(parents=True)
    store.result_path.write_bytes(b"broken")
    target = set_aside(store.result_path, owned)
    assert target.name == "result.pt.damaged-1" and target.read_bytes() == b"broken"
    assert owned.owns(target) and json.loads((tmp_path / "out" / "penspec-files.json").read_text())["files"].count(
        f"stages/{store.dir.name}/result.pt.damaged-1") == 1
    other = dataclasses.replace(engine.plan, stages=(stage(fingerprint="cd" * 32),))
    prune_stale(owned, other)  # the stage is stale now: its files go, the set-aside one stays
    assert target.is_file()


def test_a_damaged_checkpoint_is_set_aside_and_resume_starts_over(engine, tmp_path):
    plan = dataclasses.replace(engine.plan, stages=(stage(steps=6),))
    eng = dataclasses.replace(engine, plan=plan)
    straight = run_stages(eng, RunOptions(out_dir=tmp_path / "straight"))
    run = StageRun(eng, plan.stages[0], initial_strokes(plan))
    for _ in range(4):
        run.step()
    store = StageStore(tmp_path / "b", plan.stages[0], "cpu", "torch", plan_look(plan))
    store.save_checkpoint(run.state_dict())
    assert store.checkpoint_damage() is None
    data = store.checkpoint_path.read_bytes()
    store.checkpoint_path.write_bytes(data[: len(data) - 10])
    assert store.checkpoint_damage().startswith("is truncated")
    reporter = SilentReporter()
    resumed = run_stages(eng, RunOptions(out_dir=tmp_path / "b", resume=True), reporter)
    assert resumed.outcomes[0].resumed_at == 0
    assert torch.equal(resumed.final.points, straight.final.points)
    (note,) = notes(reporter)
    assert note.startswith("stage 0-optimize: checkpoint.pt is truncated") and note.endswith("running the stage from the start")
    assert (store.dir / "checkpoint.pt.damaged-1").read_bytes() == data[: len(data) - 10]


def test_a_kill_between_the_checkpoint_writes_leaves_one_that_verifies(engine, tmp_path):
    """checkpoint.json lists the checkpoint being written and the one it replaces."""
    plan = dataclasses.replace(engine.plan, stages=(stage(steps=6),))
    eng = dataclasses.replace(engine, plan=plan)
    store = StageStore(tmp_path, plan.stages[0], "cpu", "torch", plan_look(plan))
    run = StageRun(eng, plan.stages[0], initial_strokes(plan))
    run.step()
    store.save_checkpoint(run.state_dict())
    older = store.checkpoint_path.read_bytes()
    run.step()
    store.save_checkpoint(run.state_dict())
    assert store.checkpoint_damage() is None and store.load_checkpoint()["next_step"] == 2
    store.checkpoint_path.write_bytes(older)  # as if killed after checkpoint.json, before checkpoint.pt
    assert store.checkpoint_damage() is None and store.load_checkpoint()["next_step"] == 1
