"""A sweep's contact sheet: ``index.html`` (a self-contained page) and ``contact.png``.

Both are made from sweep.json's document (the sweep's axes and, per point, its values, folder,
status, held-out objective and commands) and each point's ``preview.png``. The page holds
everything it shows: the thumbnails are embedded as PNG data, the script and style are inline,
nothing is fetched. Every tile shows the point's values, its objective before and after, and
the ``penspec build`` command that builds that point at the spec's full settings; the page sorts
by objective and filters by the value of each axis. Every text is escaped; the same document and
previews give the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import math
from pathlib import Path
from typing import Any

from penspec.spec.atomic import atomic_write

INDEX_FILE = "index.html"
CONTACT_FILE = "contact.png"
PREVIEW_FILE = "preview.png"
THUMB = 240  # px, the longer side of a thumbnail
CONTACT_COLUMNS = 8
LABEL_HEIGHT = 34
PAGE_VERSION = 1  # part of the pages' key: bump when what they show changes, so reruns remake them


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


def _png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _objective(point: dict, arrow: str = "\u2192") -> str:
    objective = point.get("objective")
    if not objective:
        return ""
    return f"{objective['before']:.4g} {arrow} {objective['after']:.4g}"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;background:#f6f5f2;color:#222}
h1{font-size:1.3em;margin:0 0 .3em}
.controls{display:flex;flex-wrap:wrap;gap:1em;align-items:center;margin:.8em 0 1.2em}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:14px}
.tile{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px}
.tile[hidden]{display:none}
.tile img{display:block;margin:0 auto 6px;max-width:100%;border:1px solid #eee}
.tile.failed{border-color:#c33}
.values{font-weight:600}
.objective,.status{color:#555}
.error{color:#a00;white-space:pre-wrap;font-size:12px}
code{display:block;font-size:11px;background:#f0efe9;padding:4px;margin-top:6px;word-break:break-all;user-select:all}
"""

_SCRIPT = """
(function(){
  var grid=document.getElementById('grid');
  var tiles=Array.prototype.slice.call(grid.children);
  var sort=document.getElementById('sort');
  var filters=Array.prototype.slice.call(document.querySelectorAll('select[data-axis]'));
  function value(t){var v=t.getAttribute('data-objective');return v===''?null:parseFloat(v);}
  function apply(){
    var order=tiles.slice();
    if(sort.value!=='grid'){
      var sign=sort.value==='best'?-1:1;
      order.sort(function(a,b){
        var x=value(a),y=value(b);
        if(x===null&&y===null)return a.getAttribute('data-index')-b.getAttribute('data-index');
        if(x===null)return 1; if(y===null)return -1;
        return sign*(x-y)||a.getAttribute('data-index')-b.getAttribute('data-index');
      });
    }
    var shown=0;
    order.forEach(function(t){
      var keep=filters.every(function(f){return f.value===''||t.getAttribute('data-axis-'+f.getAttribute('data-axis'))===f.value;});
      t.hidden=!keep; if(keep)shown++;
      grid.appendChild(t);
    });
    document.getElementById('shown').textContent=shown+' of '+tiles.length+' points';
  }
  sort.addEventListener('change',apply);
  filters.forEach(function(f){f.addEventListener('change',apply);});
  apply();
})();
"""


def page_document(document: dict) -> dict:
    """What the pages show of a sweep document: a point built now and one found up to date read
    the same (both are built) and build times are left out, so an unchanged rerun changes nothing."""
    points = [{**{k: v for k, v in p.items() if k != "seconds"}, "status": "built" if p["status"] == "up to date" else p["status"]}
              for p in document["points"]]
    return {**document, "points": points}


def render_index(document: dict, thumbs: dict[str, bytes], key: str = "") -> str:
    """The page's HTML for a sweep document and the points' thumbnails (PNG bytes by name)."""
    axes = document["axes"]
    points = document["points"]
    title = f"sweep of {document['spec']}"
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">",
           f'<meta name="penspec-sweep" content="{_e(key)}">' if key else "",
           f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
           f"<h1>{_e(title)}</h1>"]
    shown_axes = ", ".join(f"{a['key']} ({len(a['values'])})" for a in axes)
    extra = f"; every point with {' '.join('--set ' + o for o in document['overrides'])}" if document["overrides"] else ""
    out.append(f'<p id="summary">{len(points)} points over {_e(shown_axes)}{_e(extra)}. '
               "The objective is the held-out value before \u2192 after optimising (higher is better).</p>")
    out.append('<div class="controls"><label>sort <select id="sort">'
               '<option value="grid">grid order</option><option value="best">objective, best first</option>'
               '<option value="worst">objective, worst first</option></select></label>')
    for index, axis in enumerate(axes):
        options = "".join(f'<option value="{_e(_value(v))}">{_e(_value(v))}</option>' for v in axis["values"])
        out.append(f'<label>{_e(axis["key"])} <select data-axis="{index}"><option value="">all</option>{options}</select></label>')
    out.append('<span id="shown"></span></div><div class="grid" id="grid">')
    for index, point in enumerate(points):
        objective = point.get("objective")
        after = "" if not objective else repr(float(objective["after"]))
        attrs = "".join(f' data-axis-{i}="{_e(_value(point["values"][a["key"]]))}"' for i, a in enumerate(axes))
        status = point["status"]
        css = "tile failed" if status == "failed" else "tile"
        out.append(f'<div class="{css}" data-index="{index}" data-name="{_e(point["name"])}" data-objective="{_e(after)}"{attrs}>')
        thumb = thumbs.get(point["name"])
        if thumb is not None:
            data = base64.b64encode(thumb).decode("ascii")
            out.append(f'<img alt="preview of {_e(point["name"])}" src="data:image/png;base64,{data}">')
        values = ", ".join(f"{k} = {_value(v)}" for k, v in point["values"].items())
        out.append(f'<div class="values">{_e(values)}</div>')
        out.append(f'<div class="objective">{_e(_objective(point))}</div>' if objective else "")
        out.append(f'<div class="status">{_e(status)} \u00b7 {_e(point["folder"])}/</div>')
        if point.get("error"):
            out.append(f'<div class="error">{_e(point["error"])}</div>')
        out.append(f'<code title="builds this point at the spec\'s full settings">{_e(point["command"])}</code></div>')
    out.append(f"</div><script>{_SCRIPT}</script></body></html>")
    return "\n".join(line for line in out if line) + "\n"


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
        if contact.is_file() and f'<meta name="penspec-sweep" content="{key}">' in index.read_text(encoding="utf-8"):
            return [index, contact]
    except OSError:
        pass
    images = {name: image for name, path in previews.items() if (image := _thumbnail(path)) is not None}
    thumbs = {name: _png(image) for name, image in images.items()}
    return [atomic_write(index, render_index(document, thumbs, key)), atomic_write(contact, render_contact(document, images))]
