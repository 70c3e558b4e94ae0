"""The gallery shows itself: every piece has its files and a preview made by penspec, and the index shows them all.

A piece folder holds spec.yaml, README.md, plan.json (golden plan), render.json (golden smoke
summary) and preview.png, the ``preview.png`` of a real ``penspec build`` of the piece. The
preview is the whole sheet, so its shape is the paper's (landscape included) and the dpi it
carries is the ``output.preview_dpi`` of the build command recorded in the README. Pieces whose
weights are downloaded on first use are previewed from random weights, and their README says so.
"""

from __future__ import annotations

import re

import pytest
from tests.support.gallery_pieces import GALLERY, needs_download, plan_of
from PIL import Image

from penspec.spec.units import MM_PER_IN

PIECES = sorted(p.name for p in GALLERY.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
PIECE_FILES = ("spec.yaml", "README.md", "plan.json", "render.json", "preview.png")
MAX_LONG_SIDE_PX = 1200
MAX_PREVIEW_BYTES = 300_000

_MADE_BY = re.compile(r"made by:?\s*`(penspec build [^`]+)`", re.IGNORECASE)


def readme_of(piece: str) -> str:
    return (GALLERY / piece / "README.md").read_text(encoding="utf-8")


def made_by(piece: str) -> str:
    """The build command the piece's README records for its preview."""
    found = _MADE_BY.findall(readme_of(piece))
    assert len(found) == 1, f"{piece}/README.md must record exactly one 'made by: `penspec build ...`' command, found {found}"
    return found[0]


def test_the_gallery_is_not_empty():
    assert len(PIECES) >= 7


@pytest.mark.parametrize("piece", PIECES)
def test_piece_has_its_files(piece):
    missing = [name for name in PIECE_FILES if not (GALLERY / piece / name).is_file()]
    assert not missing, f"gallery/{piece} lacks {missing}"


@pytest.mark.parametrize("piece", PIECES)
def test_preview_is_a_small_png_shaped_like_the_paper(piece):
    path = GALLERY / piece / "preview.png"
    assert path.stat().st_size < MAX_PREVIEW_BYTES, f"{piece}/preview.png is {path.stat().st_size} bytes"
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG"
        width, height = image.size
        dpi = image.info.get("dpi")
    paper = plan_of(piece).paper
    assert max(width, height) <= MAX_LONG_SIDE_PX
    assert (width > height) == (paper.width_mm > paper.height_mm), f"{piece}: preview {width}x{height} vs paper {paper.width_mm}x{paper.height_mm} mm"
    assert width / height == pytest.approx(paper.width_mm / paper.height_mm, rel=0.02)
    assert dpi is not None, f"{piece}/preview.png carries no dpi: not penspec's preview"
    assert width == pytest.approx(paper.width_mm / MM_PER_IN * dpi[0], abs=1.5), "the preview is the whole sheet at its dpi"


@pytest.mark.parametrize("piece", PIECES)
def test_preview_is_not_blank(piece):
    with Image.open(GALLERY / piece / "preview.png") as image:
        grey = image.convert("L")
        lo, hi = grey.getextrema()
        inked = sum(grey.point(lambda v: 255 if v < 200 else 0).histogram()[255:])
    assert hi - lo > 100, f"{piece}/preview.png has no contrast"
    assert inked > 0.001 * grey.width * grey.height, f"{piece}/preview.png is almost empty"


@pytest.mark.parametrize("piece", PIECES)
def test_readme_names_the_net_and_shows_the_preview(piece):
    readme = readme_of(piece)
    for net in plan_of(piece).objective.nets:
        assert net.name in readme, f"{piece}/README.md does not name {net.name}"
    assert re.search(r"!\[[^\]]*\]\(preview\.png\)", readme), f"{piece}/README.md does not show preview.png"
    assert "Run time" in readme and "Plot" in readme


@pytest.mark.parametrize("piece", PIECES)
def test_readme_records_how_the_preview_was_made(piece):
    command = made_by(piece)
    assert f"gallery/{piece}/spec.yaml" in command
    dpi = re.search(r"--set output\.preview_dpi=(\d+)", command)
    assert dpi, f"{piece}: the recorded command does not set output.preview_dpi"
    with Image.open(GALLERY / piece / "preview.png") as image:
        assert round(image.info["dpi"][0]) == int(dpi.group(1)), f"{piece}/preview.png was not made at the recorded dpi"
    random_preview = "--set network.weights=random" in command
    plan = plan_of(piece)
    assert random_preview == needs_download(plan), f"{piece}: preview from random weights exactly when its weights must be downloaded"
    if random_preview:
        assert "layout preview from random weights" in readme_of(piece).lower()


def test_index_shows_every_preview():
    index = (GALLERY / "README.md").read_text(encoding="utf-8")
    for piece in PIECES:
        assert re.search(rf"!\[[^\]]*\]\({re.escape(piece)}/preview\.png\)", index), f"gallery/README.md does not show {piece}/preview.png"
        assert f"]({piece}/)" in index, f"gallery/README.md does not link {piece}/"
