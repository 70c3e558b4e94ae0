"""Shared test setup: makes tests/factories.py importable from every test folder."""

import os
import sys
from pathlib import Path

# Same thread policy as the CLI (see penspec.runtime.cli): idle OpenMP threads sleep, so tests
# sharing a busy machine do not spin against each other. Set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False, help="rewrite golden files instead of comparing")
