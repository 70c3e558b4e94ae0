"""A build never deletes or overwrites what penspec did not write.

Foreign files are planted beside penspec's own, under the names and patterns penspec uses
(stage folders, snapshots, pen files, atomic_write's temp names), in nested folders, and behind
symbolic links that point out of the build folder; they must survive builds, rebuilds with other
pens and other stages, ``--force``, and a build killed mid-way, byte for byte.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.support.build_fixtures import write_tiny
from tests.support.clirun import run_cli

from penspec.runtime.build import BuildOptions, build
from penspec.runtime.ownership import MANIFEST, Ownership
from penspec.spec.errors import OutputFolderError

FOREIGN = {
    "stages/my-thesis-chapters/ch1.tex": b"\\chapter{One}\n",
    "snapshots/holiday.png": b"\x89PNG not really",
    "pens/old-sketch.svg": b"<svg>mine</svg>",
    "notes/.draft.tmp": b"half a thought",
    # penspec's own name patterns, written by someone else
    "stages/0-optimize-0123456789ab/result.pt": b"not penspec's",
    "snapshots/0-optimize-99998.png": b"a snapshot penspec never made",
    "pens/9-black.svg": b"<svg>another pen</svg>",
    ".tiny.svg.tmp": b"no random part",
    "notes/.tiny.svg.abcd1234.tmp": b"right pattern, other folder",
    "deep/er/.plan.json.zzzz9999.tmp": b"nested",
}


def plant(out: Path, files: dict[str, bytes] = FOREIGN) -> None:
    for rel, data in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)


def assert_intact(out: Path, files: dict[str, bytes] = FOREIGN) -> None:
    for rel, data in files.items():
        assert (out / rel).read_bytes() == data, rel


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    return write_tiny(tmp_path_factory.mktemp("owned"), steps=2, finetune=2)


def test_a_folder_of_other_files_is_refused_with_exit_2(spec, tmp_path, capsys):
    out = tmp_path / "piece"
    plant(out, {k: FOREIGN[k] for k in ("stages/my-thesis-chapters/ch1.tex", "snapshots/holiday.png")})
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    code, text = run_cli(["build", str(spec), "-o", str(out), "--device", "cpu"], capsys)
    assert code == 2
    assert str(out) in text and "snapshots/" in text and "stages/" in text
    assert "--into-existing" in text and "Traceback" not in text
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == before  # nothing written


def test_an_empty_or_new_folder_needs_no_flag(spec, tmp_path):
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "empty", tmp_path / "new" / "nested"):
        build(spec, BuildOptions(out_dir=str(out), device="cpu"))
        assert (out / MANIFEST).is_file()


def test_foreign_files_survive_builds_rebuilds_and_force(spec, tmp_path):
    out = tmp_path / "piece"
    plant(out)

    first = build(spec, BuildOptions(out_dir=str(out), device="cpu", into_existing=True))
    assert_intact(out)
    old_stage = first.plan.stages[2]
    old_stage_dir = out / "stages" / f"{old_stage.name}-{old_stage.fingerprint[:12]}"
    assert (old_stage_dir / "result.pt").is_file() and (out / "pens" / "2-red.svg").is_file()

    # other pens (the red pen goes, a blue one comes) and another finetune: penspec's own stale
    # pen file and stage folder go, nothing else does
    other = ("pens.1.id=blue", "strokes.pens={black: 0.5, blue: 0.5}", "stages.2.finetune.steps=3")
    second = build(spec, BuildOptions(out_dir=str(out), device="cpu", overrides=other))
    assert_intact(out)
    assert not (out / "pens" / "2-red.svg").exists() and (out / "pens" / "2-blue.svg").is_file()
    assert not old_stage_dir.exists()
    assert [o.reused for o in second.outcomes] == [False, False, False]  # pen ids are part of the drawing

    build(spec, BuildOptions(out_dir=str(out), device="cpu", overrides=other, force=True))
    assert_intact(out)
    build(spec, BuildOptions(out_dir=str(out), device="cpu", overrides=other, exact=True))
    assert_intact(out)
    manifest = json.loads((out / MANIFEST).read_text())
    assert not any(rel in manifest["files"] for rel in FOREIGN)


def test_a_file_penspec_did_not_write_is_never_overwritten(spec, tmp_path):
    out = tmp_path / "piece"
    plant(out, {"preview.png": b"my own preview"})
    with pytest.raises(OutputFolderError, match="would overwrite preview.png"):
        build(spec, BuildOptions(out_dir=str(out), device="cpu", into_existing=True))
    assert (out / "preview.png").read_bytes() == b"my own preview"
    assert not (out / "plan.json").exists() and not (out / MANIFEST).exists()


def test_partial_writes_are_cleaned_only_by_their_exact_names(spec, tmp_path):
    out = tmp_path / "piece"
    build(spec, BuildOptions(out_dir=str(out), device="cpu"))
    plant(out)
    left = [out / ".tiny.svg.k3j_x9q2.tmp", out / "pens" / ".1-black.svg.abcdefgh.tmp", out / f".{MANIFEST}.00000000.tmp"]
    for path in left:
        path.write_bytes(b"half")
    build(spec, BuildOptions(out_dir=str(out), device="cpu", force=True))
    assert not any(p.exists() for p in left)
    assert_intact(out)


def test_symlinks_out_of_the_folder_are_never_followed_for_deletion(spec, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.svg").write_bytes(b"keep me")
    out = tmp_path / "piece"
    first = build(spec, BuildOptions(out_dir=str(out), device="cpu"))
    (out / "pens" / "link.svg").symlink_to(outside / "precious.svg")

    # penspec's own stage folder and pen file replaced by links to a folder of files with the
    # same names: a rebuild that makes them stale must not delete through the links
    stage = first.plan.stages[2]
    stage_dir = out / "stages" / f"{stage.name}-{stage.fingerprint[:12]}"
    mirror = outside / "mirror"
    mirror.mkdir()
    for entry in stage_dir.iterdir():
        (mirror / entry.name).write_bytes(b"outside " + entry.name.encode())
    for entry in stage_dir.iterdir():
        entry.unlink()
    stage_dir.rmdir()
    stage_dir.symlink_to(mirror, target_is_directory=True)
    (outside / "2-red.svg").write_bytes(b"outside red")
    (out / "pens" / "2-red.svg").unlink()
    (out / "pens" / "2-red.svg").symlink_to(outside / "2-red.svg")
    (out / f".{stage.name}.aaaaaaaa.tmp").symlink_to(outside / "precious.svg")

    mirrored = {p.name: p.read_bytes() for p in mirror.iterdir()}
    build(spec, BuildOptions(out_dir=str(out), device="cpu", overrides=("pens.1.id=blue", "strokes.pens={black: 0.5, blue: 0.5}",
                                                                          "stages.2.finetune.steps=3")))
    assert (outside / "precious.svg").read_bytes() == b"keep me"
    assert (outside / "2-red.svg").read_bytes() == b"outside red"
    assert {p.name: p.read_bytes() for p in mirror.iterdir()} == mirrored
    assert (out / "pens" / "link.svg").is_symlink() and stage_dir.is_symlink()


def test_a_build_killed_mid_way_and_rebuilt_keeps_foreign_files(tmp_path):
    spec = write_tiny(tmp_path, steps=400, finetune=2, checkpoint_every=5)
    out = tmp_path / "piece"
    plant(out)
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    cmd = [sys.executable, "-m", "penspec.runtime.cli", "build", str(spec), "-o", str(out), "--device", "cpu", "--into-existing"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (out / "snapshots" / "0-optimize-00004.png").exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert proc.poll() is None, "the build ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert_intact(out)
    # what the killed build recorded before writing lets the next one clean up after it
    owned = Ownership.open(out)
    assert "plan.json" in owned.files and any(f.startswith("snapshots/0-optimize-") for f in owned.files)
    result = build(spec, BuildOptions(out_dir=str(out), device="cpu", overrides=("stages.0.optimize.steps=2",)))
    assert not result.up_to_date
    assert_intact(out)
    temps = {p.relative_to(out).as_posix() for p in out.rglob(".*.tmp")}
    assert temps == {rel for rel in FOREIGN if rel.endswith(".tmp")}  # only the foreign ones are left
    assert sorted(p.name for p in (out / "snapshots").glob("0-optimize-*.png")) == ["0-optimize-00002.png", "0-optimize-99998.png"]


def test_a_folder_built_before_files_were_recorded_is_adopted_from_its_lock(spec, tmp_path):
    out = tmp_path / "piece"
    first = build(spec, BuildOptions(out_dir=str(out), device="cpu"))
    (out / MANIFEST).unlink()
    plant(out)
    owned = Ownership.open(out)  # build.lock says this is a penspec build: no flag needed
    assert "preview.png" in owned.files and "stages/0-optimize-0123456789ab/result.pt" not in owned.files
    build(spec, BuildOptions(out_dir=str(out), device="cpu", overrides=("stages.2.finetune.steps=3",)))
    assert_intact(out)
    stage = first.plan.stages[2]
    assert not (out / "stages" / f"{stage.name}-{stage.fingerprint[:12]}").exists()


def test_an_unreadable_file_list_stops_the_build(spec, tmp_path, capsys):
    out = tmp_path / "piece"
    build(spec, BuildOptions(out_dir=str(out), device="cpu"))
    (out / MANIFEST).write_text("{not json")
    code, text = run_cli(["build", str(spec), "-o", str(out), "--device", "cpu", "--force"], capsys)
    assert code == 2 and MANIFEST in text and "Traceback" not in text


def test_every_file_a_build_writes_is_recorded(spec, tmp_path):
    out = tmp_path / "piece"
    build(spec, BuildOptions(out_dir=str(out), device="cpu"))
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {MANIFEST}
    owned = Ownership.open(out)
    assert written <= owned.files
    folders = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_dir()}
    assert folders == owned.dirs
