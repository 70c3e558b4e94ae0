"""Where a build keeps each stage's result and its in-progress checkpoint.

``DIR/stages/<index>-<kind>-<fingerprint[:12]>/`` holds

- ``checkpoint.pt``: the stage in progress (strokes, optimiser, step, RNG state), rewritten
  every ``checkpoint_every`` steps and on Ctrl-C;
- ``result.pt`` and ``scene.npz``: the strokes after the stage;
- ``history.json`` (optimising stages): the objective and each term's score at every step, as
  the optimiser computed them (a resumed stage carries its earlier steps in the checkpoint);
- ``stage.json``: written last, it marks the stage complete and says what made it (full
  fingerprint, device type, renderer, the nets' precision and memory formats, the look it was
  optimised under, seconds);
- ``metrics.json`` (last stage only): the held-out objective measured after it, with the look
  it was measured under.

A rebuild reuses a complete stage whose fingerprint, device type, renderer and precision match; whether a
stage optimised under another look (pen colours, nib px widths, opacity, paper colour) is reused
is the runner's choice. A checkpoint resumes only under the look it was made with. Every file is
written atomically (temp file + rename), so a killed build leaves either the old or the new
file, never half of one. Torch is imported only to read or write tensors, so checking what is
stored stays cheap.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from penspec.compiler.plan import NetStagePlan, Plan, StagePlan
from penspec.runtime.precision import FP32
from penspec.spec.atomic import atomic_write

if TYPE_CHECKING:
    from penspec.runtime.ownership import Ownership
    from penspec.runtime.strokes import Strokes

STAGES_DIR = "stages"
SNAPSHOTS_DIR = "snapshots"
STAGE_FILES = ("checkpoint.pt", "result.pt", "scene.npz", "stage.json", "metrics.json", "history.json")


def save_torch(path: Path, value: dict) -> None:
    import torch

    buf = io.BytesIO()
    torch.save(value, buf)
    atomic_write(path, buf.getvalue())


def load_torch(path: Path) -> dict:
    import torch

    return torch.load(path, map_location="cpu", weights_only=True)


@dataclass(frozen=True)
class StageOutcome:
    """What happened to one stage in a build (build.lock records it)."""

    name: str
    kind: str
    fingerprint: str
    reused: bool
    resumed_at: int  # step the stage resumed from (0 = from the start)
    steps_run: int
    seconds: float
    optimised_look: dict | None = None  # a reused result's look, when it differs from the plan's


@dataclass(frozen=True)
class StageStore:
    """The files of one stage of one build."""

    root: Path  # the build dir
    stage: StagePlan
    device_type: str
    backend: str
    look: dict | None = None  # plan_look() of the build writing this stage
    numerics: dict | None = None  # Numerics.identity(): the nets' resolved precision and memory formats (None: fp32)

    @property
    def dir(self) -> Path:
        return self.root / STAGES_DIR / stage_dir_name(self.stage)

    @property
    def checkpoint_path(self) -> Path:
        return self.dir / STAGE_FILES[0]

    @property
    def result_path(self) -> Path:
        return self.dir / STAGE_FILES[1]

    @property
    def scene_path(self) -> Path:
        return self.dir / STAGE_FILES[2]

    @property
    def meta_path(self) -> Path:
        return self.dir / STAGE_FILES[3]

    @property
    def metrics_path(self) -> Path:
        """The held-out objective measured after this stage (kept for the last stage)."""
        return self.dir / STAGE_FILES[4]

    @property
    def history_path(self) -> Path:
        """The objective and term scores of every step (optimising stages)."""
        return self.dir / STAGE_FILES[5]

    def files(self) -> list[Path]:
        """Every file this stage may write."""
        return [self.dir / name for name in STAGE_FILES]

    def _identity(self) -> dict:
        return {
            "name": self.stage.name,
            "kind": self.stage.kind,
            "fingerprint": self.stage.fingerprint,
            "device": self.device_type,
            "renderer": self.backend,
            **(self.numerics if self.numerics is not None else FP32.identity()),
        }

    def meta(self) -> dict | None:
        try:
            return json.loads(self.meta_path.read_text())
        except (OSError, ValueError):
            return None

    def complete(self) -> bool:
        """A finished result made from the same drawing on the same kind of device and renderer
        (under any look: see :meth:`stored_look`)."""
        meta = self.meta()
        if not meta or not self.result_path.is_file():
            return False
        return all(meta.get(k) == v for k, v in self._identity().items())

    def stored_look(self) -> dict | None:
        """The look the stored result was optimised under."""
        return (self.meta() or {}).get("look")

    def same_look(self) -> bool:
        stored = self.stored_look() or {}
        return self.look is not None and stored.get("sha256") == self.look["sha256"]

    def load_result(self) -> Strokes:
        from penspec.runtime.strokes import Strokes

        return Strokes.from_state_dict(load_torch(self.result_path)["strokes"])

    def save_result(self, strokes: Strokes, seconds: float, final_state: dict | None = None, history: dict | None = None) -> None:
        """Result (with the stage's final optimiser state, if any), scene, the per-step history of
        an optimising stage, then the completion marker, in that order: a kill in between leaves
        the stage incomplete, never wrong."""
        payload = {"fingerprint": self.stage.fingerprint, "strokes": strokes.state_dict()}
        if final_state is not None:
            payload["final_state"] = final_state
        save_torch(self.result_path, payload)
        strokes.to_scene().save(self.scene_path)
        if history is not None:
            atomic_write(self.history_path, json.dumps({"stage": self.stage.name, **history}) + "\n")
        meta = {**self._identity(), "look": self.look, "seconds": round(seconds, 3), "complete": True}
        atomic_write(self.meta_path, json.dumps(meta, indent=2) + "\n")
        self.checkpoint_path.unlink(missing_ok=True)

    def load_history(self) -> dict | None:
        """``{"stage", "first_step", "steps": [[score, term, ...], ...]}`` as the stage recorded it;
        None for a stage that does not optimise or was stored before histories were kept."""
        try:
            return json.loads(self.history_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _checkpoint_identity(self) -> dict:
        return {**self._identity(), "look": (self.look or {}).get("sha256")}

    def save_checkpoint(self, state: dict) -> None:
        save_torch(self.checkpoint_path, {**self._checkpoint_identity(), "state": state})

    def load_checkpoint(self) -> dict | None:
        """The in-progress state, when one exists for exactly this stage under this look."""
        if not self.checkpoint_path.is_file():
            return None
        data = load_torch(self.checkpoint_path)
        if any(data.get(k) != v for k, v in self._checkpoint_identity().items()):
            return None
        return data["state"]


def stage_dir_name(stage: StagePlan) -> str:
    return f"{stage.name}-{stage.fingerprint[:12]}"


def snapshot_path(out_dir: Path, stage: StagePlan, step: int) -> Path:
    return out_dir / SNAPSHOTS_DIR / f"{stage.name}-{step:05d}.png"


def snapshot_paths(out_dir: Path, stage: StagePlan, every: int) -> list[Path]:
    """Every snapshot a run of ``stage`` writes every ``every`` steps (none for a tile)."""
    if not every or not isinstance(stage, NetStagePlan):
        return []
    return [snapshot_path(out_dir, stage, k) for k in range(every, stage.steps + 1, every)]


def prune_stale(owned: Ownership, plan: Plan) -> list[str]:
    """Delete the stored stages no stage of ``plan`` uses any more, file by file and only what
    a build recorded writing (see :mod:`penspec.runtime.ownership`); returns what was deleted."""
    keep = {f"{STAGES_DIR}/{stage_dir_name(s)}/" for s in plan.stages}
    stale = [owned.root / r for r in owned.files if r.startswith(f"{STAGES_DIR}/") and not any(r.startswith(k) for k in keep)]
    return owned.remove(stale)
