"""Every load-level case in tests/invalid (numbers below 60) fails with the expected first
diagnostic: its line:column and a substring of its message.

Each case's first line is ``# expect: LINE:COL message substring``; a case whose bytes are not
text keeps that line in a sidecar ``NN-name.expect`` file. Compile-level cases (60 and up)
belong to the compiler's own runner.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.support.invalid_corpus import INVALID, expectation
from penspec.spec import load
from penspec.spec.errors import SpecError

LOAD_LEVEL_BELOW = 60


def load_level_cases() -> list[Path]:
    cases = []
    for path in sorted(INVALID.glob("*.yaml")):
        number = re.match(r"^(\d+)-", path.name)
        if number and int(number.group(1)) < LOAD_LEVEL_BELOW:
            cases.append(path)
    return cases


def test_corpus_is_large_enough():
    assert len(load_level_cases()) >= 30


@pytest.mark.parametrize("path", load_level_cases(), ids=lambda p: p.stem)
def test_invalid_spec(path: Path):
    line, column, message = expectation(path)
    with pytest.raises(SpecError) as caught:
        load(path)
    first = caught.value.diagnostics[0]
    assert first.location.file == str(path)
    assert (first.location.line, first.location.column, message in first.message) == (line, column, True), first.render()
    rendered = caught.value.render()
    assert rendered.startswith(f"{path}:{line}:{column}: ")
