"""Where a build keeps each stage's result and its in-progress checkpoint.

``DIR/stages/<index>-<kind>-<fingerprint[:12]>/`` holds

- ``checkpoint.pt``: the stage in progress (strokes, optimiser, step, RNG state), rewritten
  every ``checkpoint_every`` steps and on Ctrl-C;
- ``result.pt`` and ``scene.npz``: the strokes after the stage;
- ``history.json`` (optimising stages): the objective and each term's score at every step, as
  the optimiser computed them (a resumed stage carries its earlier steps in the checkpoint);
- ``stage.json``: written last, it marks the stage complete and says what made it (full
  fingerprint, device type, renderer, the nets' precision and memory formats, the look it was
  optimised under, seconds) and the size
  and sha256 of ``result.pt`` and ``scene.npz``;
- ``checkpoint.json``: the size and sha256 of ``checkpoint.pt`` (of the one being written and
  of the one it replaces, so a kill between the two writes leaves a checkpoint that verifies);
- ``metrics.json`` (last stage only): the held-out objective measured after it, with the look
  it was measured under.

Stored files are verified on read (:meth:`StageStore.damage`, :meth:`StageStore.checkpoint_damage`):
one that is missing, truncated or no longer matches its recorded sha256 (a disk error, an
interrupted copy) is set aside as ``<name>.damaged-<n>`` (renamed and recorded as penspec's,
never deleted, see :func:`set_aside`) and the stage runs again.

A rebuild reuses a complete stage whose fingerprint, device type, renderer and precision match; whether a
stage optimised under another look (pen colours, nib px widths, opacity, paper colour) is reused
is the runner's choice. A checkpoint resumes only under the look it was made with. Every file is
written atomically (temp file + rename), so a killed build leaves either the old or the new
file, never half of one. Torch is imported only to read or write tensors, so checking what is
stored stays cheap.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
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
STAGE_FILES = ("checkpoint.pt", "result.pt", "scene.npz", "stage.json", "metrics.json", "history.json", "checkpoint.json")
DAMAGED = ".damaged-"  # a set-aside file is named <name>.damaged-<n>


def digest_of(data: bytes) -> dict:
    """What the store records about a file it writes: size and sha256."""
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def save_torch(path: Path, value: dict) -> dict:
    """Write ``value`` atomically; returns the written file's :func:`digest_of`."""
    import torch

    buf = io.BytesIO()
    torch.save(value, buf)
    data = buf.getvalue()
    atomic_write(path, data)
    return digest_of(data)


def load_torch(path: Path) -> dict:
    import torch

    return torch.load(path, map_location="cpu", weights_only=True)


def file_damage(path: Path, recorded: list[dict]) -> str | None:
    """Why ``path`` is not one of the files ``recorded`` (each a :func:`digest_of`): missing,
    truncated, or another sha256. None when it is one of them."""
    if not path.is_file():
        return "is missing"
    from penspec.compiler.fingerprint import file_sha256

    size = path.stat().st_size
    if any(r.get("bytes") == size for r in recorded):
        digest = file_sha256(path)
        if any(r.get("bytes") == size and r.get("sha256") == digest for r in recorded):
            return None
    expected = max((r.get("bytes", 0) for r in recorded), default=0)
    if size < expected and all(r.get("bytes") != size for r in recorded):
        return f"is truncated ({size} of {expected} bytes)"
    return "does not match the sha256 recorded when it was written"


def set_aside(path: Path, owned: Ownership | None = None) -> Path:
    """Rename a damaged ``path`` to ``<name>.damaged-<n>`` (the first free n), recorded as
    penspec's in ``owned`` first; nothing is deleted. Returns the new path."""
    n = 1
    while os.path.lexists(path.with_name(f"{path.name}{DAMAGED}{n}")):
        n += 1
    target = path.with_name(f"{path.name}{DAMAGED}{n}")
    if owned is not None:
        owned.claim([target])
    os.replace(path, target)
    return target


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

    @property
    def checkpoint_meta_path(self) -> Path:
        return self.dir / STAGE_FILES[6]

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
        (under any look: see :meth:`stored_look`). Says nothing of the files' bytes: see
        :meth:`damage`."""
        meta = self.meta()
        if not meta or not self.result_path.is_file() or not self.scene_path.is_file():
            return False
        return all(meta.get(k) == v for k, v in self._identity().items())

    def damage(self) -> tuple[Path, str] | None:
        """The first stored file of a finished stage that is not what was written, and why:
        ``stage.json`` unreadable, ``result.pt`` or ``scene.npz`` missing, truncated or with
        another sha256. A stage stored before sizes and hashes were recorded is checked
        against the CRC-32s in its zip archives instead. None when the stage is sound, or when no finished stage of this identity is
        stored (nothing to verify)."""
        if self.meta_path.is_file() and self.meta() is None:
            return self.meta_path, "is not readable"
        meta = self.meta()
        if not meta or any(meta.get(k) != v for k, v in self._identity().items()):
            return None
        recorded = meta.get("files") or {}
        for path in (self.result_path, self.scene_path):
            if path.name in recorded:
                why = file_damage(path, [recorded[path.name]])
            else:
                why = _unreadable(path)
            if why:
                return path, why
        return None

    def checkpoint_damage(self) -> str | None:
        """Why ``checkpoint.pt`` is not one the stage wrote (missing is not damage: None)."""
        if not self.checkpoint_path.is_file():
            return None
        recorded = self._recorded_checkpoints()
        if recorded is None:
            return _unreadable(self.checkpoint_path)  # a checkpoint from before sizes and hashes were recorded
        return file_damage(self.checkpoint_path, recorded)

    def _recorded_checkpoints(self) -> list[dict] | None:
        try:
            written = json.loads(self.checkpoint_meta_path.read_text())["written"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return [w for w in written if isinstance(w, dict)] if isinstance(written, list) else None

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
        self.meta_path.unlink(missing_ok=True)  # an older marker must not vouch for the new files
        files = {self.result_path.name: save_torch(self.result_path, payload)}
        files[self.scene_path.name] = digest_of(strokes.to_scene().save(self.scene_path))
        if history is not None:
            atomic_write(self.history_path, json.dumps({"stage": self.stage.name, **history}) + "\n")
        meta = {**self._identity(), "look": self.look, "seconds": round(seconds, 3), "complete": True, "files": files}
        atomic_write(self.meta_path, json.dumps(meta, indent=2) + "\n")
        self.checkpoint_path.unlink(missing_ok=True)
        self.checkpoint_meta_path.unlink(missing_ok=True)

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
        """checkpoint.json first (listing the new checkpoint and the one it replaces), then
        checkpoint.pt: a kill between the two leaves a checkpoint that verifies."""
        import torch

        buf = io.BytesIO()
        torch.save({**self._checkpoint_identity(), "state": state}, buf)
        data = buf.getvalue()
        written = [digest_of(data)]
        if self.checkpoint_path.is_file():
            current = digest_of(self.checkpoint_path.read_bytes())
            if current in (self._recorded_checkpoints() or []):  # the one being replaced, while it is sound
                written.append(current)
        atomic_write(self.checkpoint_meta_path, json.dumps({"written": written}, indent=1) + "\n")
        atomic_write(self.checkpoint_path, data)

    def load_checkpoint(self) -> dict | None:
        """The in-progress state, when one exists for exactly this stage under this look."""
        if not self.checkpoint_path.is_file():
            return None
        data = load_torch(self.checkpoint_path)
        if any(data.get(k) != v for k, v in self._checkpoint_identity().items()):
            return None
        return data["state"]


def _unreadable(path: Path) -> str | None:
    """Why a file stored without a recorded hash (by an older penspec) is damaged, None when it
    is sound. ``.pt`` and ``.npz`` files are zip archives whose members carry a CRC-32: every
    member is read and checked, without torch."""
    if not path.is_file():
        return "is missing"
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (OSError, zipfile.BadZipFile, EOFError, ValueError) as exc:
        return f"cannot be read ({exc})"
    return None if bad is None else f"cannot be read (its member {bad} fails its CRC-32)"


def stage_dir_name(stage: StagePlan) -> str:
    return f"{stage.name}-{stage.fingerprint[:12]}"


def snapshot_path(out_dir: Path, stage: StagePlan, step: int) -> Path:
    return out_dir / SNAPSHOTS_DIR / f"{stage.name}-{step:05d}.png"


def snapshot_paths(out_dir: Path, stage: StagePlan, every: int) -> list[Path]:
    """Every snapshot a run of ``stage`` writes every ``every`` steps (none for a tile)."""
    if not every or not isinstance(stage, NetStagePlan):
        return []
    return [snapshot_path(out_dir, stage, k) for k in range(every, stage.steps + 1, every)]


def snapshots_on_disk(plan: Plan, out_dir: Path) -> list[tuple[str, int, Path]]:
    """``(stage name, step, path)`` of every snapshot of this plan's stages that is on disk."""
    out = []
    for stage in plan.stages:
        for path in snapshot_paths(out_dir, stage, plan.snapshot_every):
            if path.is_file():
                out.append((stage.name, int(path.stem.rsplit("-", 1)[1]), path))  # <stage name>-<step:05d>.png
    return out


def prune_stale(owned: Ownership, plan: Plan) -> list[str]:
    """Delete the stored stages no stage of ``plan`` uses any more, file by file and only what
    a build recorded writing (see :mod:`penspec.runtime.ownership`); returns what was deleted."""
    keep = {f"{STAGES_DIR}/{stage_dir_name(s)}/" for s in plan.stages}
    stale = [p for p in owned.under(f"{STAGES_DIR}/")
             if not any(owned.rel(p).startswith(k) for k in keep) and DAMAGED not in p.name]  # set-aside files stay
    return owned.remove(stale)
