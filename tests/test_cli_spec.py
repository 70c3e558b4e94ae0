"""`penspec validate` and `penspec plan`, run in process through the real entry point."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from penspec.compiler import Plan, compile_spec
from penspec.runtime.cli import main
from penspec.spec import load

HELLO = Path(__file__).resolve().parents[1] / "gallery" / "hello" / "spec.yaml"
FRAME = Path(__file__).resolve().parents[1] / "gallery" / "large-frame" / "spec.yaml"


def run(argv, capsys):
    with pytest.raises(SystemExit) as done:
        main([str(a) for a in argv])
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return done.value.code, out.out, out.err


def test_validate_ok(capsys):
    code, out, _ = run(["validate", HELLO, FRAME], capsys)
    assert code == 0
    assert out.splitlines() == [f"ok {HELLO}", f"ok {FRAME}"]


def test_plan_prints_the_compiled_plan_as_json(capsys):
    code, out, err = run(["plan", HELLO], capsys)
    assert code == 0
    assert Plan.from_json(out) == compile_spec(load(HELLO))
    assert json.loads(out)["source"] == "spec.yaml"
    # the human summary goes to stderr: stages, pens and the estimates
    assert "0-optimize" in err and "black" in err and "ink" in err and "plot ~" in err


def test_plan_writes_the_file_with_minus_o(tmp_path, capsys):
    target = tmp_path / "out" / "plan.json"
    code, out, err = run(["plan", FRAME, "-o", target], capsys)
    assert code == 0 and out == ""
    plan = Plan.from_json(target.read_text())
    assert [s.kind for s in plan.stages] == ["optimize", "tile", "finetune"]
    assert f"plan written to {target}" in err
    assert [p.name for p in target.parent.iterdir()] == ["plan.json"]  # no temp file left behind


def test_set_overrides_reach_the_plan(capsys):
    code, out, _ = run(["plan", HELLO, "--set", "strokes.count=10", "--set", "seed=3"], capsys)
    assert code == 0
    plan = Plan.from_json(out)
    assert (plan.strokes.count, plan.seed, plan.pens[0].strokes) == (10, 3, 10)


def test_set_works_on_validate_and_can_make_a_spec_invalid(capsys):
    code, _, err = run(["validate", HELLO, "--set", "canvas=1024"], capsys)  # crop fine, 0.4 mm pen = 4 px: ok
    assert code == 0
    code, _, err = run(["validate", HELLO, "--set", "objective=channel(efficientnet_lite0:block9, 5000)"], capsys)
    assert code == 2 and "channel 5000 is out of range" in err and "--set objective=" in err


def test_bad_override_syntax_is_input_error(capsys):
    code, _, err = run(["validate", HELLO, "--set", "nonsense"], capsys)
    assert code == 2 and err


@pytest.mark.parametrize("argv", [["validate"], ["plan"]])
def test_missing_argument_is_input_error(argv, capsys):
    code, _, err = run(argv, capsys)
    assert code == 2 and "Missing argument" in err


def test_missing_file_and_directory_say_where(tmp_path, capsys):
    code, _, err = run(["validate", tmp_path / "absent.yaml"], capsys)
    assert code == 2 and f"{tmp_path / 'absent.yaml'}: no such spec file" in err
    code, _, err = run(["plan", tmp_path], capsys)
    assert code == 2 and f"{tmp_path}: is a folder" in err
    (tmp_path / "file").write_text("x")
    code, _, err = run(["validate", tmp_path / "file" / "spec.yaml"], capsys)  # a file used as a folder
    assert code == 2 and f"{tmp_path / 'file' / 'spec.yaml'}: " in err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(HELLO.read_text())
    spec.chmod(0)
    code, _, err = run(["validate", spec], capsys)
    assert code == 2 and str(spec) in err


def test_unwritable_output_is_input_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, out, err = run(["plan", HELLO, "-o", blocker / "plan.json"], capsys)
    assert code == 2 and "cannot write" in err and out == ""


def test_compile_errors_exit_2_with_location(tmp_path, capsys):
    spec = tmp_path / "piece.yaml"
    spec.write_text("penspec: 1\npens: [{id: black}]\nobjective: channel(vgg16:conv9_9, 1)\n")
    code, out, err = run(["plan", spec], capsys)
    assert code == 2 and out == ""
    assert f"{spec}:3:" in err and "vgg16 has no layer 'conv9_9'" in err


def test_internal_errors_exit_1_without_traceback(monkeypatch, capsys):
    import penspec.runtime.cli.spec as cli_spec

    def broken(spec):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(cli_spec, "compile_spec", broken)
    code, _, err = run(["plan", HELLO], capsys)
    assert code == 1 and "internal error: ZeroDivisionError: boom" in err
