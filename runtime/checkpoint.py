"""Where a build keeps each stage's result and its in-progress checkpoint.

``DIR/stages/<index>-<kind>-<fingerprint[:12]>/`` holds

- ``checkpoint.pt``: the stage in progress (strokes, optimiser, step, RNG state), rewritten
  every ``checkpoint_every`` steps and on Ctrl-C;
- ``result.pt`` and ``scene.npz``: the strokes after the stage;
- ``stage.json``: written last, it marks the stage complete and says what made it (full
  fingerprint, device type, renderer, seconds).

A rebuild reuses a complete stage whose fingerprint, device type and renderer match. Every
file is written atomically (temp file + rename), so a killed build leaves either the old or the
new file, never half of one.
"""

from __future__ import annotations

import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch
from penspec.compiler.plan import Plan, StagePlan
from penspec.runtime.strokes import Strokes
from penspec.spec.atomic import atomic_write

STAGES_DIR = "stages"


def save_torch(path: Path, value: dict) -> None:
    buf = io.BytesIO()
    torch.save(value, buf)
    atomic_write(path, buf.getvalue())


def load_torch(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


@dataclass(frozen=True)
class StageStore:
    """The files of one stage of one build."""

    root: Path  # the build dir
    stage: StagePlan
    device_type: str
    backend: str

    @property
    def dir(self) -> Path:
        return self.root / STAGES_DIR / stage_dir_name(self.stage)

    @property
    def checkpoint_path(self) -> Path:
        return self.dir / "checkpoint.pt"

    @property
    def result_path(self) -> Path:
        return self.dir / "result.pt"

    @property
    def scene_path(self) -> Path:
        return self.dir / "scene.npz"

    @property
    def meta_path(self) -> Path:
        return self.dir / "stage.json"

    def _identity(self) -> dict:
        return {
            "name": self.stage.name,
            "kind": self.stage.kind,
            "fingerprint": self.stage.fingerprint,
            "device": self.device_type,
            "renderer": self.backend,
        }

    def meta(self) -> dict | None:
        try:
            return json.loads(self.meta_path.read_text())
        except (OSError, ValueError):
            return None

    def complete(self) -> bool:
        """A finished result made from the same inputs on the same kind of device and renderer."""
        meta = self.meta()
        if not meta or not self.result_path.is_file():
            return False
        return all(meta.get(k) == v for k, v in self._identity().items())

    def load_result(self) -> Strokes:
        return Strokes.from_state_dict(load_torch(self.result_path)["strokes"])

    def save_result(self, strokes: Strokes, seconds: float, final_state: dict | None = None) -> None:
        """Result (with the stage's final optimiser state, if any), scene, then the completion
        marker, in that order: a kill in between leaves the stage incomplete, never wrong."""
        payload = {"fingerprint": self.stage.fingerprint, "strokes": strokes.state_dict()}
        if final_state is not None:
            payload["final_state"] = final_state
        save_torch(self.result_path, payload)
        strokes.to_scene().save(self.scene_path)
        meta = {**self._identity(), "seconds": round(seconds, 3), "complete": True}
        atomic_write(self.meta_path, json.dumps(meta, indent=2) + "\n")
        self.checkpoint_path.unlink(missing_ok=True)

    def save_checkpoint(self, state: dict) -> None:
        save_torch(self.checkpoint_path, {**self._identity(), "state": state})

    def load_checkpoint(self) -> dict | None:
        """The in-progress state, when one exists for exactly this stage."""
        if not self.checkpoint_path.is_file():
            return None
        data = load_torch(self.checkpoint_path)
        if any(data.get(k) != v for k, v in self._identity().items()):
            return None
        return data["state"]

    def discard(self) -> None:
        """Forget this stage's files (a forced or changed rebuild)."""
        shutil.rmtree(self.dir, ignore_errors=True)


def stage_dir_name(stage: StagePlan) -> str:
    return f"{stage.index}-{stage.kind}-{stage.fingerprint[:12]}"


def prune_stale(root: Path, plan: Plan) -> list[str]:
    """Remove stage folders that no stage of ``plan`` uses any more; returns their names."""
    folder = root / STAGES_DIR
    if not folder.is_dir():
        return []
    keep = {stage_dir_name(s) for s in plan.stages}
    removed = []
    for entry in sorted(folder.iterdir()):
        if entry.is_dir() and entry.name not in keep:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    return removed
