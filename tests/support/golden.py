"""Golden files: compare a text with the file beside the test, or rewrite it under --update-golden."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from penspec.spec.atomic import atomic_write


def check_golden(request, golden: Path, text: str, name: str | None = None) -> None:
    """``text`` must equal ``golden``; ``pytest --update-golden`` rewrites it (review the diff
    before committing). A mismatch fails with a unified diff."""
    name = name or golden.name
    if request.config.getoption("--update-golden"):
        atomic_write(golden, text)
        return
    assert golden.is_file(), f"no golden {golden}: run pytest {request.node.nodeid.split('::')[0]} --update-golden"
    expected = golden.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), f"{name} (golden)", f"{name} (now)"))
        pytest.fail(f"{name} differs from its golden (run with --update-golden if intended):\n{diff}")
