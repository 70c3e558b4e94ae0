"""A real headless browser for the page tests: Debian's chromium, driven from the command line.

``--dump-dom`` prints the DOM after the page's scripts ran; ``--screenshot`` writes a PNG. The
console (script errors, refused loads) goes to stderr with ``--enable-logging=stderr``. Tests that
need it are marked ``needs_chromium`` and skip when no chromium is installed (.ci/run installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest


def chromium() -> str | None:
    """The Chromium to drive: ``$PENSPEC_CHROMIUM``, else the first of the usual names on PATH."""
    for name in (os.environ.get("PENSPEC_CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


CHROMIUM = chromium()
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium here (.ci/run installs Debian's chromium)")
_CONSOLE = re.compile(r":CONSOLE(?::|\()")


@dataclass(frozen=True)
class Element:
    tag: str
    attrs: dict[str, str]
    text: str  # the text directly inside it, before the first child element

    @property
    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()


@dataclass(frozen=True)
class Loaded:
    dom: str
    console: list[str]  # the page's console messages (errors, refused loads, logs)

    def elements(self, tag: str | None = None, **attrs: str) -> list[Element]:
        """Elements in document order, filtered by tag and exact attribute values
        (``class_`` matches one class)."""
        klass = attrs.pop("class_", None)
        out = []
        for e in _parse(self.dom):
            if tag and e.tag != tag:
                continue
            if klass and klass not in e.classes:
                continue
            if all(e.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items()):
                out.append(e)
        return out

    def by_id(self, element_id: str) -> Element:
        (found,) = [e for e in _parse(self.dom) if e.attrs.get("id") == element_id]
        return found


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[list] = []
        self.open: list[list] = []

    def handle_starttag(self, tag, attrs):
        entry = [tag, {k: v or "" for k, v in attrs}, []]
        if self.open:
            self.open[-1][2].append(None)  # a child started: later text is not "directly inside before it"
        self.found.append(entry)
        if tag not in ("meta", "input", "img", "br", "rect", "path", "line", "circle", "polyline"):
            self.open.append(entry)

    def handle_endtag(self, tag):
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i][0] == tag:
                del self.open[i:]
                break

    def handle_data(self, data):
        if self.open and None not in self.open[-1][2]:
            self.open[-1][2].append(data)


def _parse(dom: str) -> list[Element]:
    collector = _Collector()
    collector.feed(dom)
    return [Element(tag, attrs, "".join(t for t in parts if t is not None)) for tag, attrs, parts in collector.found]


def _run(args: list[str], timeout: int = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="penspec-chromium-") as profile:
        cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
               "--hide-scrollbars", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def load(page: Path, fragment: str = "") -> Loaded:
    """The DOM of ``page`` after its script ran (``fragment`` without the ``#``)."""
    url = Path(page).resolve().as_uri() + (f"#{fragment}" if fragment else "")
    proc = _run(["--dump-dom", url])
    assert proc.returncode == 0 and "<html" in proc.stdout, proc.stderr[-2000:]
    return Loaded(proc.stdout, [line for line in proc.stderr.splitlines() if _CONSOLE.search(line)])


def screenshot(page: Path, png: Path, size: tuple[int, int] = (1200, 1600)) -> Path:
    proc = _run([f"--screenshot={png}", f"--window-size={size[0]},{size[1]}", Path(page).resolve().as_uri()])
    assert png.is_file(), proc.stderr[-2000:]
    return png
