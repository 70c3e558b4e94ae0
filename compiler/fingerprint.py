"""Pass 6, fingerprint: a chained hash per stage so a rebuild reruns only what changed.

The inputs of the optimisation fall in two groups:

- the *drawing*: the seed, the stroke initialisation, the pens' ids in order and each one's
  share of the strokes, the resolved
  objective terms (with a style image's content hash), the networks (with the precision the
  spec asks for; what it resolves to on a device is recorded by the stage store), the
  augmentation, the canvas size in px and the stages' own parameters. They decide which strokes exist and what
  they are pushed towards.
- the *look*: how the renderer inks the strokes for the net: each pen's nib width in canvas px,
  colour and opacity, and the paper colour. :func:`look_sha256` hashes them into
  ``plan.look_sha256``.

Stage ``i``'s fingerprint is the sha256 of a canonical JSON (sorted keys, no spaces) of its own
parameters and the fingerprint of stage ``i - 1``; the first stage also hashes the drawing
inputs. A change to the drawing reruns its stage and everything after it, and nothing before it.

A change to the look alone keeps every fingerprint: the stored strokes are still the piece, and
a rebuild re-inks them (pen swapped for another colour, another paper or paper size) instead of
optimising a new drawing. Each stored stage records the look it was optimised under, the build
records in build.lock and the report when it differs, and ``penspec build --exact`` reruns such
stages so the result equals a clean build.

Settings only the emitters read (AxiDraw speeds, heights, delay, max draw length, plot options,
title, output, the smoke-test section) are in neither group.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import replace
from typing import Any

from .context import Context
from .plan import StagePlan

FINGERPRINT_VERSION = 3  # bump when what the runtime does for the same inputs changes


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def sha256_text(text: str) -> str:
    """The hex sha256 of the text's UTF-8 bytes (plans, canonical JSON)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    """The hex sha256 of a file's bytes, read in 1 MiB blocks (weights files are large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def spec_sha256(spec) -> str:
    """Hash of the resolved spec (every value after defaults and overrides), independent of the
    file's formatting, comments and location on disk (source positions are left out)."""
    kept = [f.name for f in dataclasses.fields(spec) if f.compare and f.name not in ("source", "base_dir")]
    data = {name: _plain(getattr(spec, name)) for name in kept}
    return sha256_text(canonical_json(data))


def _plain(value: Any) -> Any:
    """Dataclasses -> dicts (with the class name, so two stage kinds never hash alike)."""
    if dataclasses.is_dataclass(value):
        return {"_type": type(value).__name__, **{f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.compare}}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def drawing_inputs(ctx: Context) -> dict[str, Any]:
    """Everything the first stage's strokes depend on except the look (see the module text)."""
    spec = ctx.spec
    objective = ctx.need("objective")
    canvas = ctx.need("canvas")
    terms = []
    for term in objective.terms:
        entry = {k: v for k, v in dataclasses.asdict(term).items() if k != "text"}
        if term.image is not None:
            entry["image_sha256"] = file_sha256(os.path.join(spec.base_dir, term.image))
        terms.append(entry)
    return {
        "version": FINGERPRINT_VERSION,
        "seed": spec.seed,
        "strokes": dataclasses.asdict(ctx.need("strokes")),
        # ids in order: strokes belong to a pen by its place, so renaming or reordering pens
        # (whose colours move with them) is a new drawing, not a re-ink
        "pens": [{"id": p.id, "strokes": p.strokes} for p in ctx.need("pens")],
        "terms": terms,
        "nets": [_net_entry(spec.base_dir, n) for n in objective.nets],
        "augment": dataclasses.asdict(ctx.need("augment")),
        "canvas": [canvas.width_px, canvas.height_px],
    }


def look_inputs(pens, paper) -> dict[str, Any]:
    """How the renderer inks the strokes: per pen nib width in canvas px, colour, opacity; the
    paper colour. Takes plan pens and paper, so the runtime can describe a stored look too."""
    return {
        "pens": [{"width_px": p.width_px, "rgb": list(p.rgb), "opacity": p.opacity} for p in pens],
        "paper_rgb": list(paper.rgb),
    }


def look_sha256(pens, paper) -> str:
    return sha256_text(canonical_json(look_inputs(pens, paper)))


def _net_entry(base_dir: str, net) -> dict[str, Any]:
    """A net's settings; a weights file also by content, so replacing the file reruns."""
    entry = dataclasses.asdict(net)
    path = os.path.join(base_dir, net.weights)
    if net.weights not in ("imagenet", "random") and os.path.isfile(path):
        entry["weights_sha256"] = file_sha256(path)
    return entry


# Version 3 hashed one flat record with every kind's settings; a field a kind does not have
# hashes as that record's blank, so the same values keep the same fingerprints (and stored
# stages stay reusable). Which fields are hashed is the stage class's business, never this list.
V3_BLANKS: dict[str, Any] = {"steps": 0, "lr": 0.0, "views": 0, "repeat": None, "temperature": None}


def stage_parameters(stage: StagePlan) -> dict[str, Any]:
    """A stage's own settings: every field of its class except the bookkeeping ones (index, name,
    spec line, fingerprint: moving a stage in the file without changing it must not rerun it)."""
    own = {f.name: getattr(stage, f.name) for f in dataclasses.fields(stage) if f.metadata.get("fingerprint", True)}
    return {**V3_BLANKS, **own}


def fingerprint(ctx: Context) -> Context:
    inputs = drawing_inputs(ctx)
    previous = ""
    stages = []
    for stage in ctx.need("stages"):
        payload = {"previous": previous, "stage": stage_parameters(stage)}
        if not previous:
            payload["inputs"] = inputs
        previous = sha256_text(canonical_json(payload))
        stages.append(replace(stage, fingerprint=previous))
    return replace(ctx, stages=tuple(stages), look=look_sha256(ctx.need("pens"), ctx.need("paper")))
