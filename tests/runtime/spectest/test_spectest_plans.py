"""`penspec test` over spec folders: goldens pass, altered goldens fail with a readable diff."""

import json
import shutil
from pathlib import Path

import pytest
from tests.support.clirun import run_cli


GALLERY = Path(__file__).resolve().parents[3] / "gallery"




@pytest.fixture
def repo(tmp_path):
    """An artist's spec repository: two gallery pieces, one as spec.yaml in a folder, one as a named file."""
    shutil.copytree(GALLERY / "hello", tmp_path / "hello")
    shutil.copy(GALLERY / "bw-lines" / "spec.yaml", tmp_path / "lines.yaml")
    (tmp_path / "notes.yaml").write_text("just: some other yaml\n")
    return tmp_path


def test_gallery_passes(capsys):
    code, text = run_cli(["test", str(GALLERY)], capsys)
    assert code == 0, text
    assert text.count("ok       plan") == len([p for p in GALLERY.iterdir() if (p / "spec.yaml").exists()])


def test_update_creates_then_compare_passes(repo, capsys):
    code, text = run_cli(["test", str(repo)], capsys)
    assert code == 1 and "missing" in text and "lines.plan.json" in text
    code, text = run_cli(["test", "--update", str(repo)], capsys)
    assert code == 0 and "updated  plan" in text
    assert (repo / "lines.plan.json").exists()
    assert not (repo / "notes.plan.json").exists()  # not a spec: skipped
    code, text = run_cli(["test", str(repo)], capsys)
    assert code == 0, text
    assert "2 ok" in text


def test_altered_golden_fails_with_diff(repo, capsys):
    golden = repo / "hello" / "plan.json"
    data = json.loads(golden.read_text())
    data["strokes"]["count"] += 1
    golden.write_text(json.dumps(data, indent=2) + "\n")
    code, text = run_cli(["test", str(repo / "hello")], capsys)
    assert code == 1
    assert "mismatch plan" in text
    assert "(golden)" in text and "(now)" in text
    assert f'-    "count": {data["strokes"]["count"]},' in text
    assert f'+    "count": {data["strokes"]["count"] - 1},' in text


def test_changed_spec_fails_until_updated(repo, capsys):
    spec = repo / "hello" / "spec.yaml"
    spec.write_text(spec.read_text().replace("seed: 7", "seed: 8"))
    code, text = run_cli(["test", str(repo / "hello")], capsys)
    assert code == 1 and '"seed": 8' in text
    assert run_cli(["test", "--update", str(repo / "hello")], capsys)[0] == 0
    assert run_cli(["test", str(repo / "hello")], capsys)[0] == 0


def test_invalid_spec_exits_2_with_location(repo, capsys):
    spec = repo / "hello" / "spec.yaml"
    spec.write_text(spec.read_text().replace("canvas: 192", "canvas: -5"))
    code, text = run_cli(["test", str(repo / "hello")], capsys)
    assert code == 2
    assert "spec.yaml:" in text and "$.canvas" in text
    assert "Traceback" not in text


def test_missing_path_exits_2(tmp_path, capsys):
    code, text = run_cli(["test", str(tmp_path / "nope")], capsys)
    assert code == 2 and "no such file or folder" in text
