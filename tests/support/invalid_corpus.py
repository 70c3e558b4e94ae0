"""The invalid-spec corpus in tests/invalid: where it lives and what each case expects.

Each case states its first problem on its first line, ``# expect: LINE:COL message substring``;
a case whose bytes are not text keeps that line in a sidecar ``NN-name.expect`` file.
"""

from __future__ import annotations

import re
from pathlib import Path

INVALID = Path(__file__).resolve().parents[1] / "invalid"
EXPECT_RE = re.compile(r"^#?\s*expect:\s*(\d+):(\d+)\s+(.+?)\s*$")


def expectation(path: Path) -> tuple[int, int, str]:
    """The case's expected first diagnostic: (line, column, message substring)."""
    sidecar = path.with_suffix(".expect")
    first = sidecar.read_text(encoding="utf-8") if sidecar.exists() else path.read_bytes().split(b"\n", 1)[0].decode("utf-8")
    match = EXPECT_RE.match(first.splitlines()[0])
    assert match, f"{path.name}: first line must be '# expect: LINE:COL message'"
    return int(match.group(1)), int(match.group(2)), match.group(3)
