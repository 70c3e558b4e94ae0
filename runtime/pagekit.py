"""The page kit: small templates and helpers for penspec's self-contained HTML pages.

A page is one file that opens from disk in any browser, with no network and no server: styles,
the script, charts (SVG) and images (data URIs) are all inline, and a Content-Security-Policy
forbids the page from loading anything else. Every piece of user text goes through :func:`esc`;
colours reach attributes only as ``#rrggbb`` built from numbers (:func:`hex_color`). The one
script is a fixed string: it reads the page's own DOM, never data spliced into code.

The script gives every page the same controls:

- a checkbox ``<input data-toggle="ID">`` shows or hides the element ``#ID`` (the class ``off``);
- a slider ``<input type="range" data-frames="ID">`` shows one child ``.frame`` of ``#ID``;
- the URL fragment drives both on load: ``page.html#hide=pen-1,pen-2&show=travel&frame=3``;
- when it has run, ``<html>`` carries ``data-ready="1"``; script errors count up in
  ``data-errors`` (the headless-browser tests read both).

Output is deterministic: the same input gives the same bytes (no dates, no random ids; images
are re-encoded with fixed settings). Nothing here imports torch or vpype.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# distinct, readable on white; series colours of charts (stages), in order
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"

STYLE = """
:root{--ink:#222;--faint:#777;--line:#ddd;--bg:#fafafa}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
main{max-width:1100px;margin:0 auto;padding:16px 20px 48px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:14px;margin:14px 0 4px}
.sub{color:var(--faint);margin:0 0 12px}
table{border-collapse:collapse;margin:6px 0;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}
th{font-weight:600;background:#f0f0f0}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:#fff;border:1px solid var(--line);padding:8px 10px;overflow:auto;max-height:480px;white-space:pre}
.swatch{display:inline-block;width:14px;height:14px;border:1px solid #0003;border-radius:3px;vertical-align:-2px;margin-right:4px}
.controls{display:flex;flex-wrap:wrap;gap:6px 16px;margin:6px 0}
.controls label{cursor:pointer;user-select:none}
.sheet{background:#fff;border:1px solid var(--line);padding:12px;text-align:center}
.sheet svg{max-width:100%;height:auto;max-height:78vh;box-shadow:0 1px 4px #0003}
.chart svg{max-width:100%;height:auto;background:#fff;border:1px solid var(--line)}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;color:#444}
.frames{background:#fff;border:1px solid var(--line);padding:10px;text-align:center}
.frames img{width:480px;max-width:100%;height:auto;border:1px solid var(--line)}
.frames input[type=range]{width:100%;max-width:640px}
.off{display:none}
.warn{color:#8a4b00}
.grid{display:flex;flex-wrap:wrap;gap:12px}
"""

SCRIPT = r"""
(function () {
  var root = document.documentElement;
  var errors = 0;
  window.addEventListener('error', function () { errors += 1; root.setAttribute('data-errors', String(errors)); });
  function boxesFor(id) {
    var out = [], all = document.querySelectorAll('input[data-toggle]');
    for (var i = 0; i < all.length; i++) { if (all[i].getAttribute('data-toggle') === id) { out.push(all[i]); } }
    return out;
  }
  function setShown(id, on) {
    var el = document.getElementById(id);
    if (!el) { return; }
    if (on) { el.classList.remove('off'); } else { el.classList.add('off'); }
    el.setAttribute('data-shown', on ? '1' : '0');
    var boxes = boxesFor(id);
    for (var i = 0; i < boxes.length; i++) {
      boxes[i].checked = on;
      if (on) { boxes[i].setAttribute('checked', ''); } else { boxes[i].removeAttribute('checked'); }
    }
  }
  function showFrame(slider, index) {
    var holder = document.getElementById(slider.getAttribute('data-frames'));
    if (!holder) { return; }
    var frames = holder.querySelectorAll('.frame');
    if (!frames.length) { return; }
    index = Math.max(0, Math.min(frames.length - 1, index | 0));
    for (var i = 0; i < frames.length; i++) {
      if (i === index) { frames[i].classList.remove('off'); } else { frames[i].classList.add('off'); }
    }
    slider.value = String(index);
    holder.setAttribute('data-frame', String(index));
    var label = document.getElementById(slider.getAttribute('data-frames') + '-label');
    if (label) { label.textContent = frames[index].getAttribute('data-label') || ''; }
  }
  function sliders() { return document.querySelectorAll('input[data-frames]'); }
  function applyFragment() {
    var hash = decodeURIComponent((window.location.hash || '').replace(/^#/, ''));
    var parts = hash ? hash.split('&') : [];
    for (var i = 0; i < parts.length; i++) {
      var kv = parts[i].split('=');
      var key = kv[0], values = (kv[1] || '').split(',');
      for (var j = 0; j < values.length; j++) {
        if (!values[j]) { continue; }
        if (key === 'hide') { setShown(values[j], false); }
        if (key === 'show') { setShown(values[j], true); }
      }
      if (key === 'frame') {
        var s = sliders();
        for (var k = 0; k < s.length; k++) { showFrame(s[k], parseInt(values[0], 10) || 0); }
      }
    }
  }
  var boxes = document.querySelectorAll('input[data-toggle]');
  for (var i = 0; i < boxes.length; i++) {
    boxes[i].addEventListener('change', function (e) { setShown(e.target.getAttribute('data-toggle'), e.target.checked); });
    var el = document.getElementById(boxes[i].getAttribute('data-toggle'));
    if (el) { setShown(el.id, boxes[i].checked); }
  }
  var s = sliders();
  for (var n = 0; n < s.length; n++) {
    s[n].addEventListener('input', function (e) { showFrame(e.target, parseInt(e.target.value, 10)); });
    showFrame(s[n], parseInt(s[n].value, 10));
  }
  applyFragment();
  window.addEventListener('hashchange', applyFragment);
  root.setAttribute('data-ready', '1');
})();
"""


def esc(text: object) -> str:
    """Text for HTML element content and quoted attribute values."""
    return html.escape(str(text), quote=True)


def hex_color(rgb: Sequence[float]) -> str:
    """``#rrggbb`` from an (r, g, b) in 0..1: the only form a colour takes in markup."""
    return "#" + "".join(f"{max(0, min(255, round(float(c) * 255))):02x}" for c in rgb[:3])


def num(value: float, digits: int = 2) -> str:
    """A fixed-point number for markup, without ``-0``."""
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


@dataclass(frozen=True)
class Raw:
    """Markup that is already safe (built by this kit or from escaped parts)."""

    html: str

    def __str__(self) -> str:
        return self.html


def cell(value: object) -> str:
    return value.html if isinstance(value, Raw) else esc(value)


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], *, numeric: Sequence[int] = (), attrs: str = "") -> str:
    """An HTML table; cells are escaped unless :class:`Raw`; columns in ``numeric`` align right."""
    def td(tag: str, i: int, value: object) -> str:
        klass = ' class="num"' if i in numeric else ""
        return f"<{tag}{klass}>{cell(value)}</{tag}>"

    head = "".join(td("th", i, h) for i, h in enumerate(headers))
    body = "\n".join("<tr>" + "".join(td("td", i, v) for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table{(' ' + attrs) if attrs else ''}>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def definition_table(items: Iterable[tuple[str, object]]) -> str:
    rows = "\n".join(f"<tr><th>{esc(k)}</th><td>{cell(v)}</td></tr>" for k, v in items)
    return f"<table>\n{rows}\n</table>"


def swatch(rgb: Sequence[float], opacity: float = 1.0) -> str:
    style = f"background:{hex_color(rgb)}" + (f";opacity:{num(opacity, 3)}" if opacity < 1 else "")
    return f'<span class="swatch" style="{style}"></span>'


def toggle(target_id: str, label_html: str, *, checked: bool = True) -> str:
    """A checkbox that shows or hides ``#target_id`` (``label_html`` must be safe markup)."""
    on = " checked" if checked else ""
    return f'<label><input type="checkbox" data-toggle="{esc(target_id)}"{on}> {label_html}</label>'


def data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def compact_image(data: bytes, *, max_side: int, quality: int = 82) -> tuple[bytes, str, tuple[int, int]]:
    """An image scaled down to at most ``max_side`` px and re-encoded as lossy WebP with fixed
    settings (same input, same bytes); returns (bytes, mime type, (w, h))."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image = image.convert("RGB")
        scale = min(1.0, max_side / max(image.size))
        if scale < 1.0:
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            image = image.resize(size, Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        image.save(buf, format="WEBP", quality=quality, method=4, exact=False)
        return buf.getvalue(), "image/webp", image.size


@dataclass(frozen=True)
class Frame:
    label: str
    image: bytes  # encoded image
    mime: str
    size: tuple[int, int]


def timeline(frames: Sequence[Frame], holder_id: str = "timeline") -> str:
    """The frames one at a time with a slider; the last one shows first."""
    if not frames:
        return '<p class="sub">No snapshots were recorded (output.snapshot_every is 0).</p>'
    last = len(frames) - 1
    figures = "\n".join(
        f'<figure class="frame{"" if i == last else " off"}" data-label="{esc(f.label)}">'
        f'<img alt="{esc(f.label)}" width="{f.size[0]}" height="{f.size[1]}" src="{data_uri(f.mime, f.image)}"></figure>'
        for i, f in enumerate(frames)
    )
    return (
        f'<div class="frames"><div id="{esc(holder_id)}" data-frame="{last}">\n{figures}\n</div>\n'
        f'<input type="range" min="0" max="{last}" step="1" value="{last}" data-frames="{esc(holder_id)}" '
        f'aria-label="snapshot">\n<div id="{esc(holder_id)}-label">{esc(frames[last].label)}</div></div>'
    )


# ------------------------------------------------------------------------------------ charts


@dataclass(frozen=True)
class Series:
    name: str
    points: tuple[tuple[float, float], ...]  # (x, y) in data units
    color: str = ""  # #rrggbb; empty: the palette's next


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values spanning [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, count - 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step - 1e-9) * step
    ticks = []
    value = start
    while value <= hi + step * 1e-9:
        ticks.append(0.0 if abs(value) < step * 1e-9 else value)
        value += step
    return ticks


def thin(points: Sequence[tuple[float, float]], limit: int) -> list[tuple[float, float]]:
    """At most ``limit`` points, evenly strided, the last always kept."""
    if len(points) <= limit:
        return list(points)
    stride = math.ceil(len(points) / limit)
    out = list(points[::stride])
    if out[-1] != points[-1]:
        out.append(points[-1])
    return out


def line_chart(
    series: Sequence[Series],
    *,
    chart_id: str,
    title: str = "",
    x_label: str = "step",
    width: int = 640,
    height: int = 220,
    max_points: int = 400,
    x_marks: Sequence[tuple[float, str]] = (),
) -> str:
    """An SVG line chart, one ``<g class="series">`` per series (its name in ``data-series``),
    with y ticks, x ticks and vertical marks at ``x_marks`` (e.g. stage boundaries)."""
    left, right, top, bottom = 64, 12, 22 if title else 10, 28
    pw, ph = width - left - right, height - top - bottom
    xs = [x for s in series for x, _ in s.points]
    ys = [y for s in series for _, y in s.points if math.isfinite(y)]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" id="{esc(chart_id)}" class="line-chart" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="system-ui,sans-serif" font-size="11">']
    if title:
        parts.append(f'<text x="{left}" y="14" font-weight="600">{esc(title)}</text>')
    if not xs or not ys:
        parts.append(f'<text x="{left + 8}" y="{top + ph / 2:.0f}" fill="#777">no values recorded</text></svg>')
        return "\n".join(parts)
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        pad = abs(y0) * 0.05 or 1.0
        y0, y1 = y0 - pad, y1 + pad
    else:
        pad = (y1 - y0) * 0.04
        y0, y1 = y0 - pad, y1 + pad

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    def sy(y: float) -> float:
        return top + (1 - (y - y0) / (y1 - y0)) * ph

    parts.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#ccc"/>')
    for t in nice_ticks(y0, y1):
        y = sy(t)
        parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{num(y, 1)}" y2="{num(y, 1)}" stroke="#eee"/>'
                     f'<text x="{left - 4}" y="{num(y + 3.5, 1)}" text-anchor="end" fill="#555">{esc(f"{t:.4g}")}</text>')
    for t in nice_ticks(x0, x1, 6):
        x = sx(t)
        parts.append(f'<text x="{num(x, 1)}" y="{top + ph + 14}" text-anchor="middle" fill="#555">{esc(f"{t:g}")}</text>')
    for x, label in x_marks:
        if x0 < x < x1:
            parts.append(f'<line x1="{num(sx(x), 1)}" x2="{num(sx(x), 1)}" y1="{top}" y2="{top + ph}" stroke="#999" '
                         f'stroke-dasharray="3 3"/><text x="{num(sx(x) + 3, 1)}" y="{top + 10}" fill="#777">{esc(label)}</text>')
    parts.append(f'<text x="{left + pw}" y="{height - 2}" text-anchor="end" fill="#555">{esc(x_label)}</text>')
    for i, s in enumerate(series):
        color = esc(s.color or PALETTE[i % len(PALETTE)])
        pts = thin([(x, y) for x, y in s.points if math.isfinite(y)], max_points)
        coords = " ".join(f"{num(sx(x), 1)},{num(sy(y), 1)}" for x, y in pts)
        if len(pts) > 1:
            shape = f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="1.5" stroke-linejoin="round"/>'
        elif pts:
            shape = f'<circle cx="{num(sx(pts[0][0]), 1)}" cy="{num(sy(pts[0][1]), 1)}" r="2.5" fill="{color}"/>'
        else:
            shape = ""  # a stage without recorded values keeps its (empty) series
        parts.append(f'<g class="series" data-series="{esc(s.name)}" data-color="{esc(color)}" data-points="{len(s.points)}">{shape}</g>')
    parts.append("</svg>")
    return "\n".join(parts)


def legend(series: Sequence[Series]) -> str:
    items = []
    for i, s in enumerate(series):
        color = esc(s.color or PALETTE[i % len(PALETTE)])
        items.append(f'<span><span class="swatch" style="background:{color}"></span>{esc(s.name)}</span>')
    return f'<div class="legend">{"".join(items)}</div>'


# ------------------------------------------------------------------------------------ the page


def page(title: str, body: str, *, lang: str = "en") -> str:
    """A complete, self-contained HTML document around ``body`` (safe markup)."""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{esc(lang)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
        f"{body}\n</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )
