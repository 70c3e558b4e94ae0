"""Golden files per compiler pass: what each pass adds to the context, for a few specs.

The gallery's plan goldens show the compiler's end result; these show which pass produced each
part of it, so a change to one pass shows up in that pass's file even when a later pass hides
it (or when no gallery piece reaches it, as the learned-pens spec's assign_pens stage).
``pytest --update-golden`` rewrites them.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from penspec.compiler.context import Context
from penspec.compiler.passes import PASSES, run_passes
from penspec.compiler.plan import _to_jsonable
from penspec.spec import load
from tests.support.gallery_pieces import GALLERY
from tests.support.golden import check_golden

GOLDENS = Path(__file__).resolve().parent / "goldens"
SPECS = {
    "highlighter": GALLERY / "highlighter" / "spec.yaml",
    "large-frame": GALLERY / "large-frame" / "spec.yaml",
    "learned-pens": GOLDENS / "learned-pens.yaml",
}
FIELDS = [f.name for f in dataclasses.fields(Context) if f.name not in ("spec", "failed")]


def what_each_pass_adds(spec_path: Path) -> list[tuple[str, dict]]:
    ctx = Context(spec=load(spec_path))
    out = []
    for step in PASSES:
        after = run_passes(ctx, (step,))
        added = {name: _to_jsonable(getattr(after, name)) for name in FIELDS if getattr(after, name) != getattr(ctx, name)}
        out.append((step.__name__, added))
        ctx = after
    return out


@pytest.mark.parametrize("name", sorted(SPECS))
def test_each_pass_adds_what_its_golden_says(name, request):
    for number, (pass_name, added) in enumerate(what_each_pass_adds(SPECS[name]), 1):
        assert added, f"{pass_name} added nothing for {name}"
        text = json.dumps(added, indent=1) + "\n"
        check_golden(request, GOLDENS / name / f"{number}-{pass_name}.json", text, f"{name}/{number}-{pass_name}.json")


def test_the_goldens_cover_every_pass_and_nothing_else():
    for name in SPECS:
        files = sorted(p.name for p in (GOLDENS / name).glob("*.json"))
        assert files == sorted(f"{n}-{step.__name__}.json" for n, step in enumerate(PASSES, 1)), name
