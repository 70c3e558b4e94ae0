"""Every tests/invalid/*.yaml through `penspec validate`, in process, as a user would run it.

Each case states its first problem on its first line, ``# expect: LINE:COL substring`` (a case
whose bytes are not text keeps that line in a sidecar ``NN-name.expect``). Cases below 60 are
load-level, 60 and up compile-level. Every case must exit 2, print ``<file>:LINE:COL`` with the
substring, and never a Python traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.clirun import run_cli
from tests.support.invalid_corpus import INVALID, expectation

CASES = sorted(INVALID.glob("*.yaml"))


def test_corpus_has_compile_level_cases():
    numbers = [int(p.name.split("-", 1)[0]) for p in CASES]
    assert sum(n >= 60 for n in numbers) >= 12
    assert len(numbers) == len(set(numbers)), "two cases share a number"


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_validate_reports_the_case(path: Path, capsys):
    line, column, substring = expectation(path)
    code, output = run_cli(["validate", str(path)], capsys)
    assert code == 2, output
    assert "Traceback" not in output
    assert f"{path}:{line}:{column}" in output, output
    assert substring in output, output
    assert f"ok {path}" not in output


def test_validate_reports_every_spec_and_exits_2_when_any_is_invalid(capsys):
    good = Path(__file__).resolve().parents[1] / "gallery" / "hello" / "spec.yaml"
    bad = INVALID / "60-channel-out-of-range.yaml"
    code, output = run_cli(["validate", str(good), str(bad)], capsys)
    assert code == 2
    assert f"ok {good}" in output and f"{bad}:4:36" in output and "1 of 2 specs are invalid" in output
