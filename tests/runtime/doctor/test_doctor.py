import sys

import pytest
from tests.support.clirun import run_cli

from penspec.runtime import doctor




def test_doctor_reports_every_part(capsys):
    code, text = run_cli(["doctor"], capsys)
    assert code == 0, text
    for part in ("python", "torch", "renderer torch", "renderer diffvg", "weights efficientnet_lite0", "weights vgg16", "vpype", "pyaxidraw"):
        assert part in text


def test_shipped_weights_found():
    by_part = {f.part: f for f in doctor.diagnose()}
    assert by_part["weights efficientnet_lite0"].ok
    assert by_part["renderer torch"].ok


def test_missing_pyaxidraw_gives_install_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyaxidraw", None)
    (finding,) = doctor.check_pyaxidraw()
    assert not finding.ok and not finding.required
    assert "not on PyPI" in finding.fix


def test_missing_required_part_fails(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.setattr(doctor, "CHECKS", (doctor.check_torch,))
    code, text = run_cli(["doctor"], capsys)
    assert code == 1
    assert "pip install" in text


def test_a_crashing_check_is_a_finding(monkeypatch):
    def check_boom():
        raise RuntimeError("boom")

    monkeypatch.setattr(doctor, "CHECKS", (check_boom,))
    findings = doctor.diagnose()
    assert any(f.part == "boom" and not f.ok and "boom" in f.detail for f in findings)
