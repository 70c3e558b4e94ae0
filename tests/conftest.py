"""Shared test setup. Test helpers are the package tests.support (pytest puts the repository
root on sys.path: see pythonpath in pyproject.toml)."""

import os

# Same thread policy as the CLI (see penspec.runtime.cli): idle OpenMP threads sleep, so tests
# sharing a busy machine do not spin against each other. Set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False, help="rewrite golden files instead of comparing")
