"""The exit-code table, and every user mistake driven through the `penspec` CLI to exit 2.

The README's table must be the one in penspec.runtime.cli.exits, word for word. Each mistake
runs in process through the real entry point (tests/support/clirun.py) and must exit 2 with a message
that says what is wrong and no Python traceback.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from tests.support.clirun import run_cli
from tests.support.emit_scenes import FAKE_PYAXIDRAW, PROVENANCE, lines_scene
from tests.support.factories import make_plan

from penspec.runtime.cli.exits import INPUT_ERRORS, MEANINGS, Exit, exit_for, markdown_table
from penspec.spec.errors import (
    CompileError,
    EmitError,
    MissingResourceError,
    NotEnoughMemoryError,
    OutputFolderError,
    PenspecError,
    SpecError,
    StageError,
    UsageError,
)

ROOT = Path(__file__).resolve().parents[1]
HELLO = ROOT / "gallery" / "hello" / "spec.yaml"


# ---------------------------------------------------------------------------- the table


def test_the_readme_table_is_the_one_in_code():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme, "README.md's exit-code table differs from penspec.runtime.cli.exits.markdown_table()"
    codes = [int(line.split("|")[1]) for line in readme.splitlines() if line.startswith("| ") and line.split("|")[1].strip().isdigit()]
    assert codes == [int(code) for code in Exit], "the README lists exit codes the code does not have (or misses some)"


def test_every_code_has_a_meaning_and_every_category_its_code():
    assert set(MEANINGS) == set(Exit)
    for category in (SpecError, CompileError, UsageError, MissingResourceError, OutputFolderError, NotEnoughMemoryError):
        assert exit_for(category.__new__(category)) == Exit.INPUT
    assert set(INPUT_ERRORS) == {SpecError, UsageError, MissingResourceError, OutputFolderError, NotEnoughMemoryError}
    for failure in (StageError("optimize", None, ValueError("x")), EmitError("x"), PenspecError("x"), ValueError("x")):
        assert exit_for(failure) == Exit.FAILED
    assert exit_for(KeyboardInterrupt()) == Exit.INTERRUPTED


CLI = ROOT / "runtime" / "cli"


def _calls(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            names.append(ast.unparse(node.func))
        elif isinstance(node, ast.Raise) and node.exc is not None:
            names.append("raise " + ast.unparse(node.exc).split("(")[0])
    return names


def test_the_standalone_plot_flow_exits_by_the_same_table():
    """plot.py embeds the plot flow, which cannot import the table: its numbers must be the table's."""
    from penspec.runtime.emit import plotflow

    assert (plotflow.EXIT_OK, plotflow.EXIT_INPUT, plotflow.EXIT_STOPPED, plotflow.EXIT_NO_PLOTTER, plotflow.EXIT_ABORTED) == (
        Exit.OK, Exit.INPUT, Exit.PLOT_STOPPED, Exit.NO_PLOTTER, Exit.INTERRUPTED)


def test_commands_exit_one_way():
    """Commands return an Exit or raise penspec errors; only main() calls sys.exit."""
    for path in sorted(CLI.glob("*.py")):
        calls = _calls(path)
        exits = [c for c in calls if c in ("sys.exit", "exit", "click.exceptions.Exit", "raise click.exceptions.Exit", "raise click.Abort")]
        if path.name == "__init__.py":
            assert exits == ["sys.exit"], exits
        else:
            assert not exits, f"{path.name} exits by itself: {exits}"


def test_only_the_cli_imports_click():
    """spec/pipeline.py reads plot.pipeline with vpype's own click commands; nothing else may."""
    found = []
    for package in ("spec", "compiler", "runtime"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                if any(n == "click" or n.startswith("click.") for n in names):
                    found.append(path.relative_to(ROOT).as_posix())
    outside = sorted({p for p in found if not p.startswith("runtime/cli/")})
    assert outside == ["spec/pipeline.py"], outside


# ---------------------------------------------------------------------------- user mistakes


@pytest.fixture
def built(tmp_path, monkeypatch):
    """A build folder as `penspec build` leaves it (emitters only), with the fake pyaxidraw."""
    from penspec.runtime.emit import emit_all

    monkeypatch.syspath_prepend(str(FAKE_PYAXIDRAW))
    folder = tmp_path / "build"
    plan = make_plan(canvas=64)
    emit_all(plan, lines_scene(), folder, stem="piece", provenance=PROVENANCE, preview=False)
    (folder / "plan.json").write_text(plan.to_json())
    return folder


def _style_spec(tmp_path: Path) -> Path:
    spec = tmp_path / "styled.yaml"
    spec.write_text('penspec: 1\npens: [{id: black}]\nobjective: style(vgg16:conv2_2, "gone.png") - 1e-5 * tv\n')
    return spec


def _expect_input_error(argv, capsys, *wanted: str) -> str:
    code, output = run_cli([str(a) for a in argv], capsys)
    assert code == Exit.INPUT == 2, output
    assert "Traceback" not in output and "internal error" not in output, output
    for text in wanted:
        assert text in output, output
    return output


def test_plot_no_such_layer_or_pen(built, capsys):
    _expect_input_error(["plot", built, "--layer", "7", "--yes"], capsys, "no layer 7", "this piece has layers 1, 2")
    _expect_input_error(["plot", built, "--pen", "red", "--yes"], capsys, 'no layer plots pen "red"', "pens: black, blue")


def test_plot_nothing_to_resume(built, capsys):
    _expect_input_error(["plot", built, "--resume", "--yes"], capsys, "nothing to resume")


def test_plot_on_a_folder_that_is_not_a_build(tmp_path, built, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    _expect_input_error(["plot", empty], capsys, "plan.json", "not a penspec build")
    _expect_input_error(["plot", tmp_path / "nowhere"], capsys, "no such folder")
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    _expect_input_error(["plot", a_file], capsys, "file.txt")
    (empty / "plan.json").write_text('{"version": 2,\n  "title": }\n')
    _expect_input_error(["plot", empty], capsys, f"{empty / 'plan.json'}:2:12: not a penspec plan")
    (empty / "plan.json").write_text("[1, 2]")
    _expect_input_error(["plot", empty], capsys, "not a penspec plan")
    (built / "piece.svg").write_text("<svg>\n  <g>\n</svg>\n")
    _expect_input_error(["plot", built, "--yes"], capsys, f"{built / 'piece.svg'}:3:", "not valid XML")


@pytest.mark.parametrize("command", ["validate", "plan", "build"])
def test_a_bad_plot_pipeline_is_caught_before_any_work(command, tmp_path, capsys):
    argv = [command, HELLO, "--set", "plot.pipeline=linemerge linesort --two-op"]
    if command == "build":
        argv += ["-o", tmp_path / "out", "--device", "cpu"]
    _expect_input_error(argv, capsys, "$.plot.pipeline", "No such option '--two-op'")
    assert not (tmp_path / "out").exists()


def test_a_bad_plot_pipeline_in_the_file_is_located_in_it(tmp_path, capsys):
    spec = tmp_path / "piece.yaml"
    spec.write_text("penspec: 1\npens: [{id: black}]\nobjective: channel(vgg16:conv3_3, 37)\nplot: {pipeline: linemerge reloopp}\n")
    _expect_input_error(["validate", spec], capsys, f"{spec}:4:28:", "unknown vpype command 'reloopp' (did you mean 'reloop'?)")


@pytest.mark.parametrize("command", ["validate", "build"])
def test_a_missing_style_image(command, tmp_path, capsys):
    spec = _style_spec(tmp_path)
    argv = [command, spec] + (["-o", tmp_path / "out", "--device", "cpu"] if command == "build" else [])
    _expect_input_error(argv, capsys, f"{spec}:3:", "style image 'gone.png' does not exist")
    assert not (tmp_path / "out").exists()


def test_usage_mistakes(tmp_path, capsys):
    _expect_input_error(["build", HELLO, "--device", "tpu"], capsys, "Invalid value for '--device'")
    _expect_input_error(["plan", HELLO, "--no-such-option"], capsys, "No such option")
    _expect_input_error(["frobnicate"], capsys, "No such command")
    _expect_input_error(["test", tmp_path / "nope"], capsys, "no such file or folder")
    _expect_input_error(["validate", tmp_path / "nope.yaml"], capsys, "no such spec file")


def test_plot_exit_codes_for_a_stop(built, capsys, monkeypatch):
    """A stop at the pen prompt is the user's (130); a layer that stopped early resumes (3)."""
    import pyaxidraw.axidraw as axidraw

    monkeypatch.setattr("builtins.input", lambda prompt: (_ for _ in ()).throw(EOFError()))
    code, output = run_cli(["plot", str(built)], capsys)
    assert code == Exit.INTERRUPTED and "aborted" in output

    class Stopping(axidraw.AxiDraw):
        def plot_run(self, output=False):
            out = super().plot_run(output)
            self.errors = type("Errors", (), {"code": 102})()
            return out

    monkeypatch.setattr(axidraw, "AxiDraw", Stopping)
    code, output = run_cli(["plot", str(built), "--yes"], capsys)
    assert code == Exit.PLOT_STOPPED and "--resume" in output
    assert json.loads((built / "plot-progress.json").read_text())["layer"] == 1
