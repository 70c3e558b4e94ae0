"""What every SVG and the report record about how a build was made: no paths, dates or timings."""

from __future__ import annotations

import shlex
from pathlib import Path

from penspec.compiler.plan import Plan
from penspec.runtime.look import reink_summary
from penspec.runtime.lock import versions


def command_line(spec_path: str, overrides: tuple[str, ...], renderer: str) -> str:
    """The command that rebuilds this piece (no absolute paths: it goes into the SVGs)."""
    parts = ["penspec", "build", Path(spec_path).name]
    for item in overrides:
        parts += ["--set", item]
    if renderer != "torch":
        parts += ["--renderer", renderer]
    return shlex.join(parts)


def provenance(spec_path: str, plan: Plan, plan_hash: str, device_type: str, overrides: tuple[str, ...], renderer: str,
               reinked: list[dict] = ()) -> dict:
    out = {
        "spec": Path(spec_path).name,
        "spec_sha256": plan.spec_sha256,
        "plan_sha256": plan_hash,
        "seed": plan.seed,
        "penspec": versions()["penspec"],
        "command": command_line(spec_path, overrides, renderer),
        "renderer": renderer,
        "device": device_type,
    }
    if reinked:
        # the strokes were optimised for another look and are drawn re-inked
        out["optimised_under_another_look"] = reink_summary(reinked)
    return out
