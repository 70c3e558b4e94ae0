"""A sweep's index.html and contact.png: made from a sweep document and the points' previews,
escaped, deterministic, and working in a real headless browser (Debian's chromium)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from penspec.runtime.emit.sweep_page import CONTACT_FILE, INDEX_FILE, write_pages
from tests.support import browser
from tests.support.browser import needs_chromium



def document(names_objectives, axes=None) -> dict:
    points = []
    for index, (channel, seed, after, status) in enumerate(names_objectives):
        name = f"channel-{channel}_seed-{seed}"
        points.append({
            "name": name, "values": {"vars.channel": channel, "seed": seed}, "folder": name, "status": status,
            "seconds": 1.5 + index, "objective": None if after is None else {"before": -1.0, "after": after},
            "error": "StageError: <b>boom</b> & more" if status == "failed" else None,
            "command": f"penspec build spec.yaml --set vars.channel={channel} --set seed={seed}",
            "sweep_command": f"penspec build spec.yaml --set vars.channel={channel} --set seed={seed} -o out/{name}",
        })
    return {"penspec_sweep": 1, "spec": "gallery/<x>/spec.yaml", "overrides": ["stages.0.optimize.steps=30"], "zip": False,
            "axes": axes or [{"key": "vars.channel", "values": [17, 20, 33]}, {"key": "seed", "values": [1, 2]}], "points": points}


POINTS = [(17, 1, 0.5, "built"), (17, 2, 2.5, "up to date"), (20, 1, -1.5, "built"), (20, 2, None, "failed"),
          (33, 1, 4.0, "built"), (33, 2, 1.0, "built")]


def make_sweep(folder: Path) -> dict:
    doc = document(POINTS)
    for index, point in enumerate(doc["points"]):
        if point["status"] != "failed":
            (folder / point["folder"]).mkdir(parents=True)
            shade = 40 * index
            Image.new("RGB", (300, 420), (255, 255 - shade, shade)).save(folder / point["folder"] / "preview.png")
    write_pages(folder, doc)
    return doc


def test_pages_are_self_contained_escaped_and_deterministic(tmp_path):
    make_sweep(tmp_path)
    page = (tmp_path / INDEX_FILE).read_text()
    assert "<b>boom</b>" not in page and "StageError: &lt;b&gt;boom&lt;/b&gt; &amp; more" in page
    assert "gallery/&lt;x&gt;/spec.yaml" in page
    assert not re.search(r"""(src|href)=["'](?!data:)""", page)  # nothing is fetched: images are data
    assert page.count('src="data:image/webp;base64,') == 5
    assert "penspec build spec.yaml --set vars.channel=33 --set seed=2" in page
    contact = Image.open(tmp_path / CONTACT_FILE)
    assert contact.size == (3 * 256, 2 * (240 + 34 + 16))
    first = {n: (tmp_path / n).read_bytes() for n in (INDEX_FILE, CONTACT_FILE)}
    other = tmp_path / "again"
    make_sweep(other)
    assert {n: (other / n).read_bytes() for n in (INDEX_FILE, CONTACT_FILE)} == first


def test_pages_are_not_rewritten_when_nothing_changed(tmp_path):
    doc = make_sweep(tmp_path)
    before = (tmp_path / INDEX_FILE).stat().st_mtime_ns
    write_pages(tmp_path, {**doc, "points": [{**p, "seconds": 0.0, "status": "up to date" if p["status"] == "built" else p["status"]}
                                             for p in doc["points"]]})
    assert (tmp_path / INDEX_FILE).stat().st_mtime_ns == before
    Image.new("RGB", (300, 420), "black").save(tmp_path / "channel-17_seed-1" / "preview.png")
    write_pages(tmp_path, doc)
    assert (tmp_path / INDEX_FILE).stat().st_mtime_ns != before


# -- in a real browser ------------------------------------------------------------------------

PROBE = """
<script>
(function () {
  function visible() {
    return Array.prototype.filter.call(document.querySelectorAll('#tiles > .tile'), function (t) { return !t.classList.contains('off'); })
      .map(function (t) { return t.getAttribute('data-name'); });
  }
  function choose(select, value) { select.value = value; select.dispatchEvent(new Event('change')); }
  var out = {initial: visible(), shown: document.getElementById('tiles-count').textContent};
  var sort = document.querySelector('select[data-sort="tiles"]');
  choose(sort, '-objective'); out.best = visible();
  choose(sort, '+objective'); out.worst = visible();
  choose(document.querySelector('select[data-attr="axis-1"]'), '2'); out.seed2 = visible();
  out.shownSeed2 = document.getElementById('tiles-count').textContent;
  choose(document.querySelector('select[data-attr="axis-0"]'), '17'); out.both = visible();
  var images = document.querySelectorAll('#tiles img');
  out.images = images.length;
  out.loaded = Array.prototype.every.call(images, function (i) { return i.complete && i.naturalWidth > 0; });
  var pre = document.createElement('pre'); pre.id = 'probe'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


@needs_chromium
def test_index_sorts_and_filters_in_a_real_browser(tmp_path):
    make_sweep(tmp_path)
    plain = browser.load(tmp_path / INDEX_FILE)
    root = plain.elements("html")[0]
    assert root.attrs.get("data-ready") == "1" and "data-errors" not in root.attrs, plain.console
    assert not [line for line in plain.console if "rror" in line or "Refused" in line], plain.console
    assert plain.by_id("tiles-count").text == "6 of 6 points"  # the page's own script ran
    probe = tmp_path / "probe.html"  # the page with a probe that works its controls, last
    probe.write_text((tmp_path / INDEX_FILE).read_text().replace("</body>", PROBE + "</body>", 1))
    loaded = browser.load(probe)
    result = json.loads(loaded.by_id("probe").text)
    assert loaded.elements("html")[0].attrs.get("data-errors") is None, loaded.console
    names = [f"channel-{c}_seed-{s}" for c, s, _, _ in POINTS]
    assert result["initial"] == names and result["shown"] == "6 of 6 points"
    assert result["best"] == ["channel-33_seed-1", "channel-17_seed-2", "channel-33_seed-2", "channel-17_seed-1",
                              "channel-20_seed-1", "channel-20_seed-2"]  # no objective (failed) last
    assert result["worst"][:2] == ["channel-20_seed-1", "channel-17_seed-1"] and result["worst"][-1] == "channel-20_seed-2"
    assert result["seed2"] == ["channel-33_seed-2", "channel-17_seed-2", "channel-20_seed-2"]
    assert result["shownSeed2"] == "3 of 6 points"
    assert result["both"] == ["channel-17_seed-2"]
    assert result["images"] == 5 and result["loaded"] is True


@needs_chromium
def test_index_renders_in_a_real_browser(tmp_path):
    make_sweep(tmp_path)
    shot = browser.screenshot(tmp_path / INDEX_FILE, tmp_path / "shot.png", size=(1200, 900))
    image = Image.open(shot).convert("RGB")
    assert image.size == (1200, 900)
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # text, tiles and thumbnails, not a blank page
    # the first tile's thumbnail (a preview of pure (255, 255, 0)) is painted near the top left
    region = np.asarray(image.crop((0, 100, 600, 500)))
    assert ((region[..., 0] > 235) & (region[..., 1] > 235) & (region[..., 2] < 30)).any()
