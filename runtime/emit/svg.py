"""The SVG targets: one layered SVG that the AxiDraw obeys, and one SVG per pen.

Both are written by vpype's own writer (page size in cm over a px viewBox, one Inkscape layer
per plot layer with stroke colour and width on the group), then given penspec's provenance in
the RDF metadata: the title, the spec hash, the seed, the penspec version and the command that
rebuilds the piece (in ``dc:source``, as vsketch does). No date is written: a rebuild of the same
spec gives the same bytes.

Each layer group's ``id`` names its layer number and pen (``layer-1-marker``, see
:func:`penspec.runtime.emit.labels.group_id`), the same in the layered SVG and the pen's own
file: saxi lists a file's groups by id and ignores the AxiDraw labels.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import vpype as vp

from penspec.compiler.plan import Plan

from .document import PlotLayer, layers_document, page_size_px
from .labels import group_id, parse
from .saxi import layer_digits

NS = {
    "": "http://www.w3.org/2000/svg",
    "inkscape": "http://www.inkscape.org/namespaces/inkscape",
    "sodipodi": "http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd",
    "dc": "http://purl.org/dc/elements/1.1/",
    "cc": "http://creativecommons.org/ns",  # as vpype writes it
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns",  # as vpype writes it
    "xlink": "http://www.w3.org/1999/xlink",
    "ev": "http://www.w3.org/2001/xml-events",
    "penspec": "urn:penspec:provenance:1",
}
PENUP_LABEL = "% pen up trajectories"
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class SvgOutput:
    text: str
    warnings: tuple[str, ...] = ()


def layered_svg(plan: Plan, layers: Sequence[PlotLayer], provenance: Mapping[str, object]) -> SvgOutput:
    """The SVG to plot: every layer in plotting order, page size = paper."""
    document = layers_document(plan, layers)
    text = _write(plan, document, provenance, penup=plan.plot.penup_layer, digits=layer_digits(layers))
    return SvgOutput(text=text, warnings=tuple(_warnings(plan, layers)))


def pen_svgs(plan: Plan, layers: Sequence[PlotLayer], provenance: Mapping[str, object]) -> dict[str, str]:
    """One SVG per pen (pen id -> text), same page and positions as the layered SVG, no ``!`` marks."""
    out: dict[str, str] = {}
    digits = layer_digits(layers)
    for pen in sorted(plan.pens, key=lambda p: p.index):
        own = [layer for layer in layers if layer.pen.id == pen.id]
        if own:
            out[pen.id] = _write(plan, layers_document(plan, own, pauses=False), provenance, penup=False, digits=digits)
    return out


def _warnings(plan: Plan, layers: Sequence[PlotLayer]) -> list[str]:
    warnings = []
    for pen in sorted({layer.pen for layer in layers}, key=lambda p: p.index):
        if pen.opacity < 1.0:
            warnings.append(
                f"svg: pen {pen.id!r} has opacity {pen.opacity:g}: a plotter lays down the pen's real ink, so the SVG "
                "draws it at full strength (only preview.png models the opacity)"
            )
    return warnings


def _write(plan: Plan, document: vp.Document, provenance: Mapping[str, object], *, penup: bool, digits: int) -> str:
    buffer = io.StringIO()
    vp.write_svg(
        buffer,
        document,
        page_size=page_size_px(plan),
        source_string=_xml_text(str(provenance.get("command", ""))),
        show_pen_up=penup,
        set_date=False,
    )
    return _finish(buffer.getvalue(), plan, provenance, digits)


def _finish(text: str, plan: Plan, provenance: Mapping[str, object], digits: int) -> str:
    """Add penspec's provenance to the metadata; name each layer group; put the pen-up layer last.

    The pen-up layer goes last so that vpype, which numbers a label without digits by its
    position, reads it as a layer of its own instead of mixing it into layer 1.
    """
    for prefix, uri in NS.items():
        ET.register_namespace(prefix, uri)
    root = ET.fromstring(text)
    work = root.find(f"{{{NS['']}}}metadata/{{{NS['rdf']}}}RDF/{{{NS['cc']}}}Work")
    if work is None:  # vpype always writes it; keep going with a fresh block if not
        metadata = ET.SubElement(root, f"{{{NS['']}}}metadata")
        work = ET.SubElement(ET.SubElement(metadata, f"{{{NS['rdf']}}}RDF"), f"{{{NS['cc']}}}Work")
    ET.SubElement(work, f"{{{NS['dc']}}}title").text = _xml_text(plan.title)
    spec_hash = provenance.get("spec_sha256") or plan.spec_sha256
    ET.SubElement(work, f"{{{NS['dc']}}}identifier").text = f"sha256:{spec_hash}"
    record = ET.SubElement(work, f"{{{NS['penspec']}}}provenance")
    for key, value in sorted(provenance.items()):
        record.set(_xml_name(key), _xml_text(str(value)))
    for group in list(root):
        name = group.get(f"{{{NS['inkscape']}}}label")
        if name == PENUP_LABEL:
            root.remove(group)
            root.append(group)
        elif name is not None and group.tag == f"{{{NS['']}}}g":
            label = parse(name)
            if label.number is not None and not label.documentation:
                group.set("id", group_id(label, digits))
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _xml_text(text: str) -> str:
    """Drop the characters XML 1.0 cannot hold (control characters other than tab and newlines)."""
    return _XML_INVALID.sub("", text)


def _xml_name(key: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", str(key))
    return name if re.match(r"[A-Za-z_]", name) else f"_{name}"
