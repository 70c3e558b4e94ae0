import os
import stat

import pytest

from penspec.spec.atomic import atomic_write


def test_writes_whole_file_with_plain_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = atomic_write(tmp_path / "sub" / "out.txt", "hello")
    finally:
        os.umask(old)
    assert path.read_text() == "hello"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert list(path.parent.iterdir()) == [path]


def test_explicit_mode(tmp_path):
    path = atomic_write(tmp_path / "run.py", b"print(1)\n", mode=0o755)
    assert stat.S_IMODE(path.stat().st_mode) == 0o755


def test_failure_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "out.txt"
    target.write_text("old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write(target, "new")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]
