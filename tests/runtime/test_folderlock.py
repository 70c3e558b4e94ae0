"""One writer per build folder: the OS lock, the holder's note, waiting, and the commands that
take it (build, plot)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from tests.support.clirun import run_cli
from penspec.runtime.folderlock import RUNNING_FILE, hold_folder
from penspec.runtime.ownership import MANIFEST
from penspec.spec.errors import FolderBusyError, OutputFolderError


def test_a_held_folder_refuses_a_second_holder_naming_the_first(tmp_path):
    with hold_folder(tmp_path / "out") as owned:
        note = json.loads((tmp_path / "out" / RUNNING_FILE).read_text())
        assert note["pid"] == os.getpid() and note["host"] and note["started"].endswith("UTC")
        assert owned.owns(tmp_path / "out" / RUNNING_FILE)
        with pytest.raises(FolderBusyError, match=rf"another penspec command is writing here \(pid {os.getpid()} on ") as info:
            with hold_folder(tmp_path / "out"):
                pass
        assert isinstance(info.value, OutputFolderError)
    assert not (tmp_path / "out" / RUNNING_FILE).exists()  # the note goes with the holder
    assert RUNNING_FILE in json.loads((tmp_path / "out" / MANIFEST).read_text())["files"]
    with hold_folder(tmp_path / "out"):  # free again
        pass


def test_waiting_for_a_holder(tmp_path):
    out = tmp_path / "out"
    released = threading.Event()

    def hold_briefly():
        with hold_folder(out):
            holding.set()
            time.sleep(0.5)
        released.set()

    holding = threading.Event()
    worker = threading.Thread(target=hold_briefly)
    worker.start()
    holding.wait(10)
    with pytest.raises(FolderBusyError, match=r"still held after waiting 0.1 s \(pid "):
        with hold_folder(out, wait=0.1):
            pass
    with hold_folder(out, wait=30):
        assert released.is_set()
    worker.join()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_killed_holder_leaves_the_folder_free(tmp_path):
    out = tmp_path / "out"
    code = ("import sys, time; from penspec.runtime.folderlock import hold_folder\n"
            "with hold_folder(sys.argv[1]):\n    print('held', flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(FolderBusyError, match=rf"pid {proc.pid} on "):
            with hold_folder(out):
                pass
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert (out / RUNNING_FILE).is_file()  # a stale note: the kernel's lock is what counts
    with hold_folder(out):
        assert json.loads((out / RUNNING_FILE).read_text())["pid"] == os.getpid()


def test_build_and_plot_into_a_held_folder_stop_with_exit_2(tmp_path, capsys):
    from tests.support.build_fixtures import write_tiny

    spec = write_tiny(tmp_path)
    out = tmp_path / "out"
    code, _ = run_cli(["build", str(spec), "-o", str(out), "--device", "cpu"], capsys)
    assert code == 0
    (out / "pens" / "1-black.svg").unlink()  # something to do, so the build must write
    with hold_folder(out):
        code, text = run_cli(["build", str(spec), "-o", str(out), "--device", "cpu"], capsys)
        assert code == 2 and text.count("\n") == 1 and f"pid {os.getpid()} on " in text and "--wait" in text
        assert not (out / "pens" / "1-black.svg").exists()
        code, text = run_cli(["build", str(spec), "-o", str(out), "--device", "cpu", "--wait", "0.2"], capsys)
        assert code == 2 and "still held after waiting 0.2 s" in text
        code, text = run_cli(["plot", str(out), "--yes"], capsys)
        assert code == 2 and "another penspec command is writing here" in text
    code, text = run_cli(["build", str(spec), "-o", str(out), "--device", "cpu", "--wait"], capsys)
    assert code == 0 and (out / "pens" / "1-black.svg").is_file()
