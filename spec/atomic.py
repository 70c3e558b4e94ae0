"""Atomic file writes: a temp file in the target's folder, fsync, then rename.

Every file penspec writes goes through here, so an interrupted build never leaves a half
written output behind, and a write that fails (a full disk, a read-only folder) leaves the
file it would replace as it was and raises :class:`~penspec.spec.errors.WriteError` naming it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from penspec.spec.errors import WriteError


def _default_mode() -> int:
    """What a plain open() would give a new file: 0o666 less the process umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: str | os.PathLike, data: bytes | str, mode: int | None = None) -> Path:
    """Write ``data`` to ``path`` atomically and return the path.

    The file gets ``mode`` if given, else the permissions a plain open() would give it
    (mkstemp's private 0600 is not what a build output should have).
    """
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise WriteError(path, exc) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), _default_mode() if mode is None else mode)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):  # on a read-only disk even this can fail
            Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, WriteError):
            raise WriteError(path, exc) from exc
        raise
    return path
