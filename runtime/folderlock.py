"""One writer per build folder: an exclusive OS lock held while a build or a plot writes there.

Two builds into one folder (an editor's save hook and a manual run) would otherwise mix their
files. A command that is about to write takes an exclusive ``flock`` on the folder itself (the
kernel drops it when the process ends, however it ends, so a crashed build never leaves the
folder stuck) and, while it holds it, writes ``penspec-running.json`` (recorded in
``penspec-files.json`` first) naming itself: pid, host, start time and command line. A second
command finds the lock taken and stops at once naming that holder
(:class:`~penspec.spec.errors.FolderBusyError`, exit 2), or waits for it with ``wait`` seconds
(``math.inf``: as long as it takes). The holder deletes its note before it lets go.
"""

from __future__ import annotations

import errno
import fcntl
import json
import math
import os
import socket
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from penspec.runtime.ownership import Ownership
from penspec.spec.atomic import atomic_write
from penspec.spec.errors import FolderBusyError, WriteError

RUNNING_FILE = "penspec-running.json"
POLL_S = 0.1


def holder(root: Path) -> str:
    """Who holds ``root``, as its note says ("pid 123 on host, since ...: penspec build x.yaml")."""
    for _ in range(10):  # the holder writes its note just after taking the lock
        try:
            note = json.loads((root / RUNNING_FILE).read_text(encoding="utf-8"))
            return f"pid {note['pid']} on {note['host']}, since {note['started']}: {note['command']}"
        except (OSError, ValueError, KeyError, TypeError):
            time.sleep(POLL_S)
    return "a process that has not said who it is"


@contextmanager
def hold_folder(root: str | os.PathLike, *, wait: float | None = None, into_existing: bool = False,
                claim: Iterable[str | os.PathLike] = ()) -> Iterator[Ownership]:
    """Hold ``root`` (created if needed) for writing; yields what penspec owns there, read under
    the lock, with ``claim`` (the files the command will write) recorded together with the
    holder's note. ``wait``: None stops at once when another command holds it, else seconds to
    wait (``math.inf``: no limit). Raises FolderBusyError, or OutputFolderError when a claimed
    file is not penspec's, having written nothing."""
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:
        raise WriteError(root, exc) from exc
    try:
        _lock(fd, root, wait)
        owned = Ownership.open(root, into_existing=into_existing)  # again: another build may have written since
        note = root / RUNNING_FILE
        owned.claim([note, *claim])  # all or nothing: a file penspec did not write refuses the lot
        started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        command = " ".join(["penspec", *sys.argv[1:]]) if Path(sys.argv[0]).name == "penspec" else " ".join(sys.argv) or "python"
        atomic_write(note, json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": started, "command": command}) + "\n")
        try:
            yield owned
        finally:
            note.unlink(missing_ok=True)
    finally:
        os.close(fd)  # lets go of the lock


def _lock(fd: int, root: Path, wait: float | None) -> None:
    deadline = time.monotonic() + (wait if wait is not None else 0.0)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
        if wait is None:
            raise FolderBusyError(f"{root}: another penspec command is writing here ({holder(root)}); "
                                  "let it finish, or pass --wait [SECONDS] to wait for it")
        if time.monotonic() >= deadline:
            raise FolderBusyError(f"{root}: still held after waiting {wait:g} s ({holder(root)})")
        time.sleep(POLL_S if math.isinf(wait) else min(POLL_S, max(0.0, deadline - time.monotonic())))
