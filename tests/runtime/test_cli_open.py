"""`penspec open BUILD_DIR`: the build's page in the browser, or its path when there is none."""

from __future__ import annotations

import webbrowser

from tests.support.clirun import run_cli


def test_opens_the_page_in_the_browser(tmp_path, monkeypatch, capsys):
    (tmp_path / "report.html").write_text("<!DOCTYPE html>")
    opened = []
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: opened.append(url) or True)
    code, out = run_cli(["open", str(tmp_path)], capsys)
    assert code == 0 and opened == [(tmp_path / "report.html").resolve().as_uri()]
    assert f"opened {(tmp_path / 'report.html').resolve()}" in out


def test_prints_the_path_when_there_is_no_browser(tmp_path, monkeypatch, capsys):
    (tmp_path / "report.html").write_text("<!DOCTYPE html>")
    monkeypatch.setattr(webbrowser, "open", lambda *a, **k: False)
    code, out = run_cli(["open", str(tmp_path)], capsys)
    assert code == 0 and out.strip() == f"no browser found; the page is {(tmp_path / 'report.html').resolve()}"

    def broken(*a, **k):
        raise webbrowser.Error("could not locate runnable browser")

    monkeypatch.setattr(webbrowser, "open", broken)
    code, out = run_cli(["open", str(tmp_path)], capsys)
    assert code == 0 and "no browser found" in out


def test_a_folder_without_a_page_is_an_input_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(webbrowser, "open", lambda *a, **k: (_ for _ in ()).throw(AssertionError("must not open")))
    code, out = run_cli(["open", str(tmp_path)], capsys)
    assert code == 2 and "report.html: no build page here" in out and "Traceback" not in out
