"""Library users get the CLI's OpenMP thread policy: importing penspec.runtime sets it before
torch loads, keeps the user's own choice, and warns once when torch came first."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    return subprocess.run([sys.executable, "-W", "default", "-c", code], env={**clean, **env}, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("module", ["penspec.runtime.render", "penspec.runtime.build"])
def test_importing_the_library_sets_a_passive_policy_before_torch(module):
    out = run_python(f"import {module}, os; print(os.environ['OMP_WAIT_POLICY'])")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "PASSIVE" and "RuntimeWarning" not in out.stderr


def test_the_users_choice_is_kept():
    out = run_python("import penspec.runtime.render, os; print(os.environ['OMP_WAIT_POLICY'])", OMP_WAIT_POLICY="ACTIVE")
    assert out.stdout.strip() == "ACTIVE" and "RuntimeWarning" not in out.stderr


def test_torch_first_warns_once_and_leaves_the_environment_alone():
    code = ("import torch, os\nimport penspec.runtime.render\nimport penspec.runtime.build\n"
            "from penspec.runtime.threads import calm_openmp_threads\ncalm_openmp_threads()\n"
            "print(os.environ.get('OMP_WAIT_POLICY'))")
    out = run_python(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "None"
    assert out.stderr.count("RuntimeWarning") == 1 and "OMP_WAIT_POLICY=PASSIVE" in out.stderr
