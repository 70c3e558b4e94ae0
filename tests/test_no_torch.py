"""`penspec validate` and `penspec plan` never import torch (they must stay instant).

A fresh interpreter with torch made unimportable (``sys.modules['torch'] = None`` before
anything else) imports the spec and compiler packages and runs both commands on the hello piece.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HELLO = ROOT / "gallery" / "hello" / "spec.yaml"

SCRIPT = textwrap.dedent(
    """
    import sys
    for name in ("torch", "torchvision", "efficientnet_lite_pytorch"):
        sys.modules[name] = None  # any import of them now raises ImportError

    import penspec.spec
    import penspec.compiler
    from penspec.runtime.cli import main

    spec, out = sys.argv[1], sys.argv[2]
    codes = []
    for argv in (["validate", spec], ["plan", spec, "-o", out]):
        try:
            main(argv)
        except SystemExit as done:
            codes.append(done.code)
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "torchvision") and sys.modules[m] is not None)
    print("RESULT", codes, loaded)
    """
)


def test_validate_and_plan_without_torch(tmp_path):
    out = tmp_path / "plan.json"
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(HELLO), str(out)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    result = [line for line in done.stdout.splitlines() if line.startswith("RESULT")]
    assert result == ["RESULT [0, 0] []"], done.stdout + done.stderr
    assert f"ok {HELLO}" in done.stdout
    assert json.loads(out.read_text())["objective"]["nets"][0]["name"] == "efficientnet_lite0"
