"""A sweep's contact sheet: ``index.html`` (a self-contained page) and ``contact.png``.

Both are made from sweep.json's document (the sweep's axes and, per point, its values, folder,
status, held-out objective and commands) and each point's ``preview.png``. The page is built with
the page kit (:mod:`penspec.runtime.pagekit`) and holds everything it shows: the thumbnails are
embedded (WebP data), the script and style are inline, nothing is fetched. Every tile shows the point's values, its objective before and after, and
the ``penspec build`` command that builds that point at the spec's full settings; the page sorts
by objective and filters by the value of each axis. Every text is escaped; the same document and
previews give the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from pathlib import Path
from typing import Any

from penspec.runtime.pagekit import compact_image, data_uri, esc, page
from penspec.spec.atomic import atomic_write

INDEX_FILE = "index.html"
CONTACT_FILE = "contact.png"
PREVIEW_FILE = "preview.png"
THUMB = 240  # px, the longer side of a thumbnail
CONTACT_COLUMNS = 8
LABEL_HEIGHT = 34
PAGE_VERSION = 2  # part of the pages' key: bump when what they show changes, so reruns remake them


def page_files() -> tuple[str, ...]:
    """The files the contact sheet writes into the sweep folder."""
    return INDEX_FILE, CONTACT_FILE


def _thumbnail(path: Path):
    from PIL import Image

    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
            image.thumbnail((THUMB, THUMB), Image.Resampling.LANCZOS, reducing_gap=3.0)
            return image
    except (OSError, ValueError):
        return None


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _objective(point: dict, arrow: str = "\u2192") -> str:
    objective = point.get("objective")
    if not objective:
        return ""
    return f"{objective['before']:.4g} {arrow} {objective['after']:.4g}"


STYLE = """
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:14px}
.tile{background:#fff;border:1px solid var(--line);border-radius:6px;padding:10px}
.tile img{display:block;margin:0 auto 6px;max-width:100%;border:1px solid #eee}
.tile.failed{border-color:#c33}
.tile .values{font-weight:600}
.tile .objective,.tile .status{color:var(--faint)}
.tile .error{color:#a00;white-space:pre-wrap;font-size:12px}
.tile code{display:block;font-size:11px;background:#f0efe9;padding:4px;margin-top:6px;word-break:break-all;user-select:all}
"""

# The sweep page's own controls, run after the kit's script; like it, a fixed string that reads
# the page's DOM. <select data-sort="ID"> orders the children of #ID: "index" by data-index,
# "-NAME" / "+NAME" by the number in data-NAME, largest / smallest first, tiles without one last.
# <select data-filter="ID" data-attr="NAME"> shows only the children whose data-NAME is the
# chosen value ("" shows all); filters combine. #ID-count says how many are shown.
SCRIPT = r"""
(function () {
  function controls(kind, id) {
    var out = [], all = document.querySelectorAll('select[data-' + kind + ']');
    for (var i = 0; i < all.length; i++) { if (all[i].getAttribute('data-' + kind) === id) { out.push(all[i]); } }
    return out;
  }
  function number(el, name) {
    var v = el.getAttribute('data-' + name);
    return v === null || v === '' ? null : parseFloat(v);
  }
  function arrange(id) {
    var holder = document.getElementById(id);
    if (!holder) { return; }
    var items = Array.prototype.slice.call(holder.children);
    var sorts = controls('sort', id), order = sorts.length ? sorts[0].value : 'index';
    var sign = order.charAt(0) === '-' ? -1 : 1, key = order.replace(/^[-+]/, '');
    items.sort(function (a, b) {
      var ia = number(a, 'index'), ib = number(b, 'index');
      if (order === 'index') { return ia - ib; }
      var x = number(a, key), y = number(b, key);
      if (x === null && y === null) { return ia - ib; }
      if (x === null) { return 1; }
      if (y === null) { return -1; }
      return sign * (x - y) || ia - ib;
    });
    var filters = controls('filter', id), shown = 0;
    for (var i = 0; i < items.length; i++) {
      var keep = true;
      for (var f = 0; f < filters.length; f++) {
        var want = filters[f].value;
        if (want !== '' && items[i].getAttribute('data-' + filters[f].getAttribute('data-attr')) !== want) { keep = false; }
      }
      if (keep) { items[i].classList.remove('off'); shown += 1; } else { items[i].classList.add('off'); }
      holder.appendChild(items[i]);
    }
    var count = document.getElementById(id + '-count');
    if (count) { count.textContent = shown + ' of ' + items.length + ' points'; }
  }
  var selects = document.querySelectorAll('select[data-sort], select[data-filter]');
  for (var s = 0; s < selects.length; s++) {
    selects[s].addEventListener('change', function (e) {
      arrange(e.target.getAttribute('data-sort') || e.target.getAttribute('data-filter'));
    });
    arrange(selects[s].getAttribute('data-sort') || selects[s].getAttribute('data-filter'));
  }
})();
"""


def page_document(document: dict) -> dict:
    """What the pages show of a sweep document: a point built now and one found up to date read
    the same (both are built) and build times are left out, so an unchanged rerun changes nothing."""
    points = [{**{k: v for k, v in p.items() if k != "seconds"}, "status": "built" if p["status"] == "up to date" else p["status"]}
              for p in document["points"]]
    return {**document, "points": points}


def _tile(index: int, point: dict, axes: list[dict], thumb: tuple[bytes, str] | None) -> str:
    objective = point.get("objective")
    after = "" if not objective else repr(float(objective["after"]))
    attrs = "".join(f' data-axis-{i}="{esc(_value(point["values"][a["key"]]))}"' for i, a in enumerate(axes))
    klass = "tile failed" if point["status"] == "failed" else "tile"
    out = [f'<div class="{klass}" data-index="{index}" data-name="{esc(point["name"])}" data-objective="{esc(after)}"{attrs}>']
    if thumb is not None:
        out.append(f'<img alt="preview of {esc(point["name"])}" src="{data_uri(thumb[1], thumb[0])}">')
    values = ", ".join(f"{k} = {_value(v)}" for k, v in point["values"].items())
    out.append(f'<div class="values">{esc(values)}</div>')
    if objective:
        out.append(f'<div class="objective">{esc(_objective(point))}</div>')
    out.append(f'<div class="status">{esc(point["status"])} \u00b7 {esc(point["folder"])}/</div>')
    if point.get("error"):
        out.append(f'<div class="error">{esc(point["error"])}</div>')
    out.append(f'<code title="builds this point at the spec\'s full settings">{esc(point["command"])}</code></div>')
    return "\n".join(out)


def render_index(document: dict, thumbs: dict[str, tuple[bytes, str]], key: str = "") -> str:
    """The page's HTML for a sweep document and the points' thumbnails ((bytes, mime) by name)."""
    axes, points = document["axes"], document["points"]
    title = f"sweep of {document['spec']}"
    shown_axes = ", ".join(f"{a['key']} ({len(a['values'])})" for a in axes)
    extra = f"; every point with {' '.join('--set ' + o for o in document['overrides'])}" if document["overrides"] else ""
    body = [f"<h1>{esc(title)}</h1>",
            f'<p class="sub" id="summary" data-key="{esc(key)}">{len(points)} points over {esc(shown_axes)}{esc(extra)}. '
            "The objective is the held-out value before \u2192 after optimising (higher is better).</p>",
            '<div class="controls"><label>sort <select data-sort="tiles">'
            '<option value="index">grid order</option><option value="-objective">objective, best first</option>'
            '<option value="+objective">objective, worst first</option></select></label>']
    for index, axis in enumerate(axes):
        options = "".join(f'<option value="{esc(_value(v))}">{esc(_value(v))}</option>' for v in axis["values"])
        body.append(f'<label>{esc(axis["key"])} <select data-filter="tiles" data-attr="axis-{index}">'
                    f'<option value="">all</option>{options}</select></label>')
    body.append(f'<span id="tiles-count">{len(points)} points</span></div>')
    body.append('<div class="tiles" id="tiles">')
    body += [_tile(i, p, axes, thumbs.get(p["name"])) for i, p in enumerate(points)]
    body.append("</div>")
    return page(title, "\n".join(body), style=STYLE, script=SCRIPT)


def render_contact(document: dict, images: dict[str, Any]) -> bytes:
    """contact.png: every point's thumbnail in grid order, labelled with its values and objective."""
    from PIL import Image, ImageDraw, ImageFont

    points = document["points"]
    columns = max(1, min(CONTACT_COLUMNS, math.ceil(math.sqrt(len(points)))))
    rows = max(1, math.ceil(len(points) / columns))
    cell_w, cell_h = THUMB + 16, THUMB + LABEL_HEIGHT + 16
    sheet = Image.new("RGB", (columns * cell_w, rows * cell_h), "#f6f5f2")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for index, point in enumerate(points):
        x, y = (index % columns) * cell_w + 8, (index // columns) * cell_h + 8
        image = images.get(point["name"])
        if image is not None:
            sheet.paste(image, (x + (THUMB - image.width) // 2, y + (THUMB - image.height) // 2))
        else:
            draw.rectangle((x, y, x + THUMB - 1, y + THUMB - 1), outline="#c33" if point["status"] == "failed" else "#bbb")
            draw.text((x + 8, y + 8), point["status"], fill="#a00" if point["status"] == "failed" else "#666", font=font)
        label = ", ".join(f"{k.split('.')[-1]}={_value(v)}" for k, v in point["values"].items())
        draw.text((x, y + THUMB + 4), label[:44], fill="#222", font=font)
        draw.text((x, y + THUMB + 18), _objective(point, "->")[:44], fill="#555", font=font)  # the bitmap font has no arrow
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    return buffer.getvalue()


def _previews(out_dir: Path, document: dict) -> dict[str, Path]:
    found = {}
    for point in document["points"]:
        preview = out_dir / point["folder"] / PREVIEW_FILE
        if point["status"] == "built" and preview.is_file():
            found[point["name"]] = preview
    return found


def _key(document: dict, previews: dict[str, Path]) -> str:
    """A digest of everything the pages are made from (the document and each preview's bytes)."""
    digest = hashlib.sha256(json.dumps([PAGE_VERSION, document], sort_keys=True, default=str).encode("utf-8"))
    for name, path in sorted(previews.items()):
        digest.update(name.encode("utf-8") + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def write_pages(out_dir: Path, document: dict) -> list[Path]:
    """Write index.html and contact.png for a sweep document into ``out_dir`` (left as they are
    when they were made from the same document and previews)."""
    document = page_document(document)
    previews = _previews(out_dir, document)
    key = _key(document, previews)
    index, contact = out_dir / INDEX_FILE, out_dir / CONTACT_FILE
    try:
        if contact.is_file() and f'data-key="{key}"' in index.read_text(encoding="utf-8"):
            return [index, contact]
    except OSError:
        pass
    images = {name: image for name, path in previews.items() if (image := _thumbnail(path)) is not None}
    thumbs = {name: compact_image(previews[name].read_bytes(), max_side=THUMB)[:2] for name in images}
    return [atomic_write(index, render_index(document, thumbs, key)), atomic_write(contact, render_contact(document, images))]
