"""Imports point one way: spec <- compiler <- runtime, read from the source with ast.

Besides the package order: the emitters turn a plan and a scene into files, so they never
reach into the stage store (runtime.checkpoint), the runner or the build; and the plot flow
that plot.py embeds imports nothing of penspec at all.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"spec": "penspec.spec", "compiler": "penspec.compiler", "runtime": "penspec.runtime"}
ORDER = ["penspec.spec", "penspec.compiler", "penspec.runtime"]
EMIT_MAY_NOT = ("penspec.runtime.checkpoint", "penspec.runtime.runner", "penspec.runtime.build", "penspec.runtime.lock",
                "penspec.runtime.ownership", "penspec.runtime.stages")


def module_name(path: Path) -> str:
    folder = path.relative_to(ROOT).parts[0]
    rest = path.relative_to(ROOT / folder).with_suffix("").parts
    parts = [PACKAGES[folder], *rest]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, relative ones resolved."""
    return imports_in(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py")


def imports_in(source: str, name: str, is_package: bool = False) -> list[tuple[int, str]]:
    package = name if is_package else name.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
                # "from . import x" names submodules
                out += [(node.lineno, f"{target}.{a.name}") for a in node.names] if not node.module else [(node.lineno, target)]
            else:
                out.append((node.lineno, node.module))
    return out


SOURCES = sorted(p for folder in PACKAGES for p in (ROOT / folder).rglob("*.py"))


def layer_of(module: str) -> int | None:
    for i, package in enumerate(ORDER):
        if module == package or module.startswith(package + "."):
            return i
    return None


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_imports_point_one_way(path):
    own = layer_of(module_name(path))
    wrong = [f"line {line}: {module}" for line, module in imports(path)
             if (layer := layer_of(module)) is not None and layer > own]
    assert not wrong, f"{module_name(path)} imports a later package: {wrong}"


def test_emitters_do_not_reach_into_the_stage_store_or_the_build():
    emit = sorted((ROOT / "runtime" / "emit").rglob("*.py"))
    assert emit
    wrong = [f"{p.relative_to(ROOT)}:{line}: {module}" for p in emit for line, module in imports(p)
             if any(module == m or module.startswith(m + ".") for m in EMIT_MAY_NOT)]
    assert not wrong, wrong


def test_the_checker_sees_a_wrong_import():
    """The tests above can fail: imports written every way resolve to the module they name."""
    source = "import penspec.runtime.render\nfrom penspec.runtime.build import build\nfrom . import errors\nfrom ..runtime import lock\n"
    found = [m for _, m in imports_in(source, "penspec.spec.probe")]
    assert found == ["penspec.runtime.render", "penspec.runtime.build", "penspec.spec.errors", "penspec.runtime"]
    assert [layer_of(m) > layer_of("penspec.spec.probe") for m in found] == [True, True, False, True]
