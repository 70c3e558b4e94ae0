"""`penspec test`: golden-file tests over a folder of specs, for artists' own CI.

Every spec under the given paths must compile to its golden plan, kept beside it
(``plan.json`` next to ``spec.yaml``, else ``<stem>.plan.json``). With ``render=True`` a short
smoke build (the spec's ``test:`` section: few steps, few small views, optionally random
weights) must also match a golden summary (``render.json`` / ``<stem>.render.json``): strokes
per pen, path counts per pen and a hash of the rounded geometry. ``update=True`` rewrites the
goldens instead of comparing.
"""

from __future__ import annotations

import difflib
import json
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from penspec.compiler import compile_spec
from penspec.spec import load
from penspec.spec.atomic import atomic_write
from penspec.spec.errors import Diagnostic, SpecError, UsageError

SPEC_SUFFIXES = (".yaml", ".yml")
_SPEC_MARK = re.compile(rb"^penspec\s*:", re.MULTILINE)
SKIP_DIRS = {".git", "build", "node_modules", "__pycache__", ".venv"}


@dataclass
class Outcome:
    spec: Path
    kind: str  # "plan" | "render"
    status: str  # "ok" | "updated" | "mismatch" | "missing"
    golden: Path
    diff: str = ""


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status in ("mismatch", "missing")]


def discover(paths: Sequence[str | Path]) -> list[Path]:
    """Spec files under the paths: YAML files whose top level has a ``penspec:`` key."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            found.append(path)
            continue
        if not path.is_dir():
            raise UsageError(f"{path}: no such file or folder")
        for candidate in sorted(path.rglob("*")):
            if candidate.suffix not in SPEC_SUFFIXES or not candidate.is_file():
                continue
            if SKIP_DIRS.intersection(candidate.relative_to(path).parts[:-1]):
                continue
            if _SPEC_MARK.search(candidate.read_bytes()[:65536]):
                found.append(candidate)
    return found


def golden_path(spec: Path, kind: str) -> Path:
    if spec.stem == "spec":
        return spec.with_name(f"{kind}.json")
    return spec.with_name(f"{spec.stem}.{kind}.json")


def _compare(spec: Path, kind: str, actual: str, update: bool) -> Outcome:
    golden = golden_path(spec, kind)
    if update:
        if not golden.exists() or golden.read_text(encoding="utf-8") != actual:
            atomic_write(golden, actual)
            return Outcome(spec, kind, "updated", golden)
        return Outcome(spec, kind, "ok", golden)
    if not golden.exists():
        return Outcome(spec, kind, "missing", golden, f"no golden {golden}; run `penspec test --update` to create it")
    expected = golden.read_text(encoding="utf-8")
    if expected == actual:
        return Outcome(spec, kind, "ok", golden)
    diff = "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True), actual.splitlines(keepends=True), fromfile=f"{golden} (golden)", tofile=f"{spec} (now)"
        )
    )
    return Outcome(spec, kind, "mismatch", golden, diff)


def plan_text(spec_path: Path) -> str:
    return compile_spec(load(spec_path)).to_json()


def run_tests(paths: Sequence[str | Path], *, update: bool = False, render: bool = False, device: str = "cpu") -> Report:
    """Compile (and with render, smoke-build) every spec under paths against its goldens.

    Invalid specs raise SpecError with every spec's diagnostics gathered.
    """
    specs = discover(paths)
    report = Report()
    problems: list[Diagnostic] = []
    for spec_path in specs:
        try:
            report.outcomes.append(_compare(spec_path, "plan", plan_text(spec_path), update))
        except SpecError as exc:
            problems.extend(exc.diagnostics)
            continue
        if render:
            report.outcomes.append(_compare(spec_path, "render", render_summary_text(spec_path, device=device), update))
    if problems:
        raise SpecError(problems)
    return report


def render_summary_text(spec_path: Path, *, device: str = "cpu") -> str:
    """A smoke build of the spec's ``test:`` settings, summarised as stable JSON."""
    from penspec.runtime.smoke import smoke_summary

    with tempfile.TemporaryDirectory(prefix="penspec-test-") as tmp:
        summary = smoke_summary(spec_path, Path(tmp), device=device)
    return json.dumps(summary, indent=2, sort_keys=True) + "\n"


def format_report(report: Report) -> Iterable[str]:
    for outcome in report.outcomes:
        yield f"{outcome.status:8} {outcome.kind:6} {outcome.spec}"
        if outcome.diff:
            yield outcome.diff.rstrip("\n")
    counts = {s: sum(o.status == s for o in report.outcomes) for s in ("ok", "updated", "mismatch", "missing")}
    yield ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no specs found"
