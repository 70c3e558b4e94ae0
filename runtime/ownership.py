"""What penspec wrote in a build folder, so that it only ever deletes that.

A build folder may hold other people's files: an artist points ``-o`` at a folder with notes,
sketches or a thesis in it, or at the home folder by mistake. penspec records every file it is
about to write, and every folder it creates for them, in ``penspec-files.json`` *before* it
writes them (so a build killed at any moment has claimed whatever it left), and the only
deletions a build makes go through :class:`Ownership`:

- a stage folder no stage uses any more, a pen file of a pen that is gone, a snapshot of an
  older run: removed only when a build recorded it, file by file; a folder only when penspec
  created it and it is empty afterwards;
- a partial write of a killed build: only the exact temp names ``atomic_write`` makes for a
  recorded file (``.<name>.<8 random chars>.tmp``), only in that file's own folder;
- never through a symbolic link: a recorded path that is a link now, or that leads through a
  linked folder, is left alone.

A folder that exists, is not empty and holds no penspec build is refused unless the user says
``--into-existing``; either way a build never overwrites a file it did not write.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from penspec.spec.atomic import atomic_write
from penspec.spec.errors import OutputFolderError

MANIFEST = "penspec-files.json"
MANIFEST_VERSION = 1
LEGACY_LOCK = "build.lock"  # a folder built before the manifest existed holds one
_TEMP_SUFFIX = r"\.[a-z0-9_]{8}\.tmp"  # tempfile.mkstemp's 8 random characters, then atomic_write's suffix
_SHOWN = 6
_FIRST_MANIFEST_TEMP = re.compile(rf"\.{re.escape(MANIFEST)}{_TEMP_SUFFIX}")


@dataclass
class Ownership:
    """The files and folders of ``root`` that penspec wrote (paths relative to ``root``)."""

    root: Path
    files: set[str] = field(default_factory=set)
    dirs: set[str] = field(default_factory=set)  # folders penspec created (removed only when empty)

    # -- opening a folder ------------------------------------------------------------------

    @classmethod
    def open(cls, root: str | os.PathLike, *, into_existing: bool = False) -> Ownership:
        """What penspec owns in ``root``. Reads only; raises OutputFolderError for a folder
        with other files and no penspec build in it, unless ``into_existing``."""
        root = Path(root)
        manifest = root / MANIFEST
        if manifest.is_file() and not manifest.is_symlink():
            try:
                data = json.loads(manifest.read_text(encoding="utf-8"))
                return cls(root, set(data.get("files", [])), set(data.get("dirs", [])))
            except (OSError, ValueError, AttributeError) as exc:
                raise OutputFolderError(f"{manifest}: not a readable penspec file list ({exc}); penspec will not guess "
                                        "which files in this folder are its own: move it aside or build into another folder") from exc
        legacy = _legacy_build(root)
        if legacy is not None:
            return legacy
        if not root.exists() or into_existing:
            return cls(root)
        if not root.is_dir():
            raise OutputFolderError(f"{root}: is not a folder; choose another output folder with -o")
        # a build killed while it wrote its first file list leaves only that write's temp file:
        # the folder is penspec's, as empty as it was (the next build removes the temp file)
        entries = [e for e in sorted(os.listdir(root)) if not _FIRST_MANIFEST_TEMP.fullmatch(e)]
        if entries:
            shown = ", ".join(e + ("/" if (root / e).is_dir() else "") for e in entries[:_SHOWN])
            more = f" and {len(entries) - _SHOWN} more" if len(entries) > _SHOWN else ""
            raise OutputFolderError(
                f"{root}: this folder is not empty and holds no penspec build ({shown}{more}); build into an empty "
                "or new folder with -o, or pass --into-existing to build beside these files (penspec never changes "
                "or deletes a file it did not write)"
            )
        return cls(root)

    # -- recording -------------------------------------------------------------------------

    def rel(self, path: str | os.PathLike) -> str:
        """``path`` (the root joined with something, as a build names its files) relative to the root."""
        return Path(path).relative_to(self.root).as_posix()

    def owns(self, path: str | os.PathLike) -> bool:
        return self.rel(path) in self.files

    def under(self, prefix: str) -> list[Path]:
        """The recorded files whose relative path starts with ``prefix`` (``"pens/"``), as paths."""
        return [self.root / r for r in sorted(self.files) if r.startswith(prefix)]

    def claim(self, paths: Iterable[str | os.PathLike]) -> None:
        """Record ``paths`` (and the folders they need that do not exist yet) as penspec's,
        before they are written. Raises OutputFolderError, writing nothing, when one of them
        exists already and penspec did not write it."""
        new = [r for r in dict.fromkeys(self.rel(p) for p in paths) if r not in self.files]
        if not new:
            return
        foreign = [r for r in new if os.path.lexists(self.root / r)]
        if foreign:
            shown = ", ".join(foreign[:_SHOWN]) + (f" and {len(foreign) - _SHOWN} more" if len(foreign) > _SHOWN else "")
            raise OutputFolderError(f"{self.root}: the build would overwrite {shown}, which penspec did not write; "
                                    "move them or build into another folder with -o")
        for r in new:
            parent = Path(r).parent
            while parent != Path(".") and not (self.root / parent).exists():
                self.dirs.add(parent.as_posix())
                parent = parent.parent
        self.files.update(new)
        self.save()

    def save(self) -> None:
        data = {"penspec_files": MANIFEST_VERSION, "files": sorted(self.files), "dirs": sorted(self.dirs)}
        atomic_write(self.root / MANIFEST, json.dumps(data, indent=1) + "\n")

    # -- deleting what penspec wrote -------------------------------------------------------

    def remove(self, paths: Iterable[str | os.PathLike]) -> list[str]:
        """Delete the recorded files among ``paths`` and forget them; then the folders penspec
        created that are left empty. Returns what was deleted (relative paths)."""
        removed = []
        for r in sorted({self.rel(p) for p in paths} & self.files):
            path = self.root / r
            if not self._safe(path):
                continue  # a link or a linked folder now stands where penspec wrote: not followed
            if path.is_file():
                path.unlink()
                removed.append(r)
            if not path.exists():
                self.files.discard(r)
        self._remove_empty_dirs()
        if removed:
            self.save()
        return removed

    def remove_partial_writes(self) -> list[str]:
        """Delete the temp files a killed build left mid-write: exactly the names atomic_write
        makes for a recorded file (the manifest included), in that file's own folder."""
        by_folder: dict[Path, set[str]] = {}
        for r in self.files | {MANIFEST}:
            by_folder.setdefault(Path(r).parent, set()).add(Path(r).name)
        removed = []
        for folder, names in sorted(by_folder.items()):
            here = self.root / folder
            if not here.is_dir() or not self._real_folder(here):
                continue
            pattern = re.compile("|".join(rf"\.{re.escape(n)}{_TEMP_SUFFIX}" for n in sorted(names)))
            for entry in sorted(os.listdir(here)):
                path = here / entry
                if pattern.fullmatch(entry) and path.is_file() and not path.is_symlink():
                    path.unlink()
                    removed.append((folder / entry).as_posix())
        return removed

    def _remove_empty_dirs(self) -> None:
        for d in sorted(self.dirs, key=lambda r: r.count("/"), reverse=True):
            path = self.root / d
            if any(f.startswith(d + "/") for f in self.files):
                continue
            if path.is_dir() and not path.is_symlink() and self._safe(path) and not any(path.iterdir()):
                path.rmdir()
            if not os.path.lexists(path):
                self.dirs.discard(d)

    def _safe(self, path: Path) -> bool:
        """``path`` is no link, and is reached from the root through real folders only."""
        return not path.is_symlink() and self._real_folder(path.parent)

    def _real_folder(self, folder: Path) -> bool:
        expected = os.path.normpath(os.path.join(os.path.realpath(self.root), os.path.relpath(folder, self.root)))
        return os.path.realpath(folder) == expected


def _legacy_build(root: Path) -> Ownership | None:
    """A folder built before penspec recorded its files: what its build.lock lists (outputs and
    stage results) is penspec's, with the stage folders it names and the files its stage store
    and snapshots are named after."""
    lock_path = root / LEGACY_LOCK
    if not lock_path.is_file() or lock_path.is_symlink():
        return None
    try:
        lock = json.loads(lock_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(lock, dict) or "lock_version" not in lock:
        return None
    from penspec.runtime.checkpoint import SNAPSHOTS_DIR, STAGE_FILES, STAGES_DIR

    files, dirs = {LEGACY_LOCK, "plan.json", *lock.get("outputs", {})}, set()
    for stage in lock.get("stages", []):
        folder = f"{STAGES_DIR}/{stage['name']}-{stage['fingerprint'][:12]}"
        dirs.add(folder)
        files.update(f"{folder}/{name}" for name in STAGE_FILES)
        snapshots = root / SNAPSHOTS_DIR
        if snapshots.is_dir():
            step = re.compile(rf"{re.escape(stage['name'])}-\d{{5}}\.png")
            files.update(f"{SNAPSHOTS_DIR}/{e}" for e in os.listdir(snapshots) if step.fullmatch(e))
    return Ownership(root, files, dirs)
