"""The gallery's pieces as the gallery tests see them: where they live, their plans, their weights."""

from __future__ import annotations

from pathlib import Path

from penspec.compiler import Plan, compile_spec
from penspec.spec import load

GALLERY = Path(__file__).resolve().parents[2] / "gallery"


def plan_of(piece: str) -> Plan:
    return compile_spec(load(GALLERY / piece / "spec.yaml"))


def needs_download(plan: Plan) -> bool:
    """True when the piece's weights are not on disk offline (only EfficientNet-Lite0's ImageNet weights ship)."""
    return any(not (net.name == "efficientnet_lite0" and net.weights == "imagenet") for net in plan.objective.nets)
