"""Check a build's files in saxi's own page, as its report says to plot them.

saxi/drive.mjs opens saxi's web page (npm package ``saxi``, served by its own server) in headless
Chromium, drags each pen's file onto it, types the report's ``saxi`` settings into saxi's inputs
and reads back what saxi shows and the plan its planner made. This module compares that with
the report and with the file's own geometry (read with vpype).

    python -m tests.support.saxi_check BUILD_DIR [BUILD_DIR ...] [--shots DIR]

prints one line per pen and per layer of the layered SVG, and exits 1 when a check fails.
Needs node, Chromium and ``npm ci`` in tests/support/saxi.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import vpype as vp

from tests.support.browser import chromium

SAXI_DIR = Path(__file__).resolve().parent / "saxi"  # drive.mjs, package.json; npm ci puts node_modules there
MM_PER_PX = 25.4 / 96.0
POSITION_MM = 0.5  # saxi's plot must lie within this of the file's paths
INK_REL = 0.001  # pen-down length within 0.1 % of the report
TIME_REL = 0.05  # saxi's duration within 5 % of the report's time


def missing_tools() -> str | None:
    """Why saxi cannot be driven here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed (apt-get install nodejs npm)"
    if chromium() is None:
        return "Chromium is not installed (apt-get install chromium)"
    for package in ("saxi", "puppeteer-core"):
        if not (SAXI_DIR / "node_modules" / package / "package.json").is_file():
            return f"{package} is not installed: npm ci in {SAXI_DIR} (.ci/run does it)"
    return None


def drive(runs: list[dict], *, timeout: float = 600) -> list[dict]:
    """Run drive.mjs on these runs (file, settings, layers, screenshot); its JSON result per run."""
    with tempfile.TemporaryDirectory() as tmp:
        job = Path(tmp) / "job.json"
        job.write_text(json.dumps({"chromium": chromium(), "runs": runs}))
        proc = subprocess.run(["node", str(SAXI_DIR / "drive.mjs"), str(job)], capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"driving saxi failed:\n{proc.stderr}")
    return json.loads(proc.stdout)


def file_paths_mm(path: Path, layer: int | None = None) -> list[list[tuple[float, float]]]:
    """The file's paths (one layer, or all in file order) in mm on the page, as vpype reads them."""
    doc = vp.read_multilayer_svg(str(path), 0.01)
    numbers = [layer] if layer is not None else sorted(doc.layers)
    return [[(p.real * MM_PER_PX, p.imag * MM_PER_PX) for p in line] for n in numbers for line in doc.layers[n]]


@dataclass
class Row:
    what: str
    pen: str
    shown: dict
    saxi_ink_mm: float
    report_ink_mm: float
    saxi_time_s: float
    report_time_s: float
    lifts: tuple[int, int]  # saxi's, the file's
    position_mm: float  # largest distance between a saxi path end and the file's
    problems: list[str] = field(default_factory=list)

    @property
    def ink_rel(self) -> float:
        return self.saxi_ink_mm / self.report_ink_mm - 1.0

    @property
    def time_rel(self) -> float:
        return self.saxi_time_s / self.report_time_s - 1.0

    def line(self) -> str:
        return (f"{self.what:<28} {self.pen:<8} paper {self.shown['paper']} {self.shown['width (mm)']:g}x{self.shown['height (mm)']:g} "
                f"fit page {'on' if self.shown['fit page'] else 'off'} layers {self.shown['layer_list'] or '-'} "
                f"| ink {self.saxi_ink_mm:.2f} / {self.report_ink_mm:.2f} mm ({100 * self.ink_rel:+.3f} %) "
                f"| time {self.shown['duration_text']} = {self.saxi_time_s:.1f} / {self.report_time_s:.1f} s ({100 * self.time_rel:+.2f} %) "
                f"| lifts {self.lifts[0]}/{self.lifts[1]} | ends within {self.position_mm:.4f} mm"
                + ("" if not self.problems else " | FAIL: " + "; ".join(self.problems)))


def _compare(what: str, pen: dict, result: dict, expected: list[list[tuple[float, float]]], settings: dict,
             groups: list[str], ink_mm: float, time_s: float) -> Row:
    shown, plan = result["shown"], result["plan"]
    paths = plan["paths"]
    position = 0.0
    if len(paths) == len(expected):
        for got, want in zip(paths, expected, strict=True):
            for a, b in ((got[0], want[0]), (got[-1], want[-1])):
                position = max(position, ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5)
    row = Row(what, pen["id"], shown, plan["pendown_mm"], ink_mm, plan["duration_s"], time_s, (plan["lifts"], len(expected)), position)
    for key, value in settings.items():
        if key in ("paper", "landscape"):
            continue
        if shown.get(key) != value:
            row.problems.append(f"saxi shows {key} = {shown.get(key)!r}, the report says {value!r}")
    if "paper" in settings:
        if shown["paper"] != settings["paper"] or (shown["width (mm)"] > shown["height (mm)"]) != settings["landscape"]:
            row.problems.append(f"saxi's paper is {shown['paper']} {shown['width (mm)']}x{shown['height (mm)']}")
    if len(paths) != len(expected):
        row.problems.append(f"saxi plots {len(paths)} paths, the file has {len(expected)}")
    elif position > POSITION_MM:
        row.problems.append(f"saxi's paths end up to {position:.3f} mm from the file's")
    if abs(row.ink_rel) > INK_REL:
        row.problems.append(f"pen-down length off by {100 * row.ink_rel:+.3f} %")
    if abs(row.time_rel) > TIME_REL:
        row.problems.append(f"duration off by {100 * row.time_rel:+.2f} %")
    if shown["layer_list"] != (groups if len(groups) > 1 else []):
        row.problems.append(f"saxi lists layers {shown['layer_list']}, expected {groups}")
    return row


def check_build(build: Path, shots: Path | None = None) -> list[Row]:
    """Every pen's file as the report says, then the layered SVG one pen's groups at a time."""
    build = Path(build)
    report = json.loads((build / "report.json").read_text())
    pens = [p for p in report["pens"] if p.get("saxi")]
    runs = []
    for p in pens:
        shot = str(shots / f"{build.name}-{Path(p['saxi']['file']).stem}.png") if shots else None
        runs.append({"file": str(build / p["saxi"]["file"]), "settings": p["saxi"]["settings"], "screenshot": shot})
    layered = build / report["files"]["layered_svg"]
    all_groups = [g for p in pens for g in p["saxi"]["groups"]]
    for p in pens:
        shot = str(shots / f"{build.name}-layered-{p['id']}.png") if shots else None
        layers = p["saxi"]["groups"] if len(all_groups) > 1 else None  # saxi lists no layers for a single group
        runs.append({"file": str(layered), "settings": p["saxi"]["settings"], "layers": layers, "screenshot": shot})
    results = drive(runs)
    rows = []
    for p, result in zip(pens, results[: len(pens)], strict=True):
        expected = file_paths_mm(build / p["saxi"]["file"])
        rows.append(_compare(p["saxi"]["file"], p, result, expected, p["saxi"]["settings"], p["saxi"]["groups"], p["ink_mm"], p["time_s"]))
    for p, result in zip(pens, results[len(pens):], strict=True):
        expected = [path for layer in p["layers"] for path in file_paths_mm(layered, layer["number"])]
        row = _compare(f"{layered.name} {'+'.join(p['saxi']['groups'])}", p, result, expected, p["saxi"]["settings"],
                       all_groups, p["ink_mm"], p["time_s"])
        if len(all_groups) > 1 and result["shown"]["layers_selected"] != p["saxi"]["groups"]:
            row.problems.append(f"selected {result['shown']['layers_selected']}")
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("builds", nargs="+", type=Path)
    parser.add_argument("--shots", type=Path, help="folder for a screenshot of saxi's page per run")
    args = parser.parse_args(argv)
    reason = missing_tools()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    if args.shots:
        args.shots.mkdir(parents=True, exist_ok=True)
    failed = False
    for build in args.builds:
        print(build)
        for row in check_build(build, args.shots):
            print("  " + row.line())
            failed |= bool(row.problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
