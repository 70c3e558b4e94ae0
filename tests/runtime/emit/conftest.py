"""Fixtures for the emitter tests."""

from __future__ import annotations

import importlib

import pytest
from tests.support.emit_scenes import FAKE_PYAXIDRAW


@pytest.fixture
def fake_pyaxidraw(monkeypatch):
    """The fake pyaxidraw importable in-process, its call record cleared."""
    monkeypatch.syspath_prepend(str(FAKE_PYAXIDRAW))
    import pyaxidraw.axidraw as axidraw

    axidraw = importlib.reload(axidraw)
    axidraw.CALLS.clear()
    yield axidraw
    axidraw.CALLS.clear()
