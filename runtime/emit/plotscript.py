"""plot.py: a standalone pyaxidraw script that plots the piece one pen layer at a time.

The script is the source of :mod:`penspec.runtime.emit.plotflow` (the plot flow that
``penspec plot`` runs in-process), byte for byte, followed by the piece as JSON data written as
a Python string literal (``repr`` of ``json.dumps``) and decoded at run time. Titles, pen ids and
file names are never spliced into code, so quotes, backslashes or newlines in them cannot change
what the script does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from penspec.compiler.plan import Plan
from penspec.spec.errors import UsageError

from . import plotflow
from .labels import LayerLabel

SHEBANG = "#!/usr/bin/env python3\n"
DATA_HEADER = "\n\n# The piece, written by penspec build: JSON data, decoded when the script runs.\n"


def flow_source() -> str:
    """The plot flow module's source, as plot.py embeds it."""
    return Path(plotflow.__file__).read_text(encoding="utf-8")


def layer_jobs(plan: Plan, labels: Sequence[LayerLabel]) -> list[dict]:
    """What to plot, layer by layer: the pen to load and the pyaxidraw options for it."""
    jobs = []
    for label in labels:
        if label.documentation or label.number is None:
            continue
        try:
            pen = plan.pen(label.pen)
        except KeyError:
            known = ", ".join(p.id for p in plan.pens)
            raise UsageError(f"layer {label.number} names pen {label.pen!r}, which the plan does not have (pens: {known})") from None
        jobs.append(
            {
                "number": label.number,
                "pen": pen.id,
                "color": pen.color,
                "width_mm": pen.width_mm,
                "part": list(label.part) if label.part else None,
                "pause": label.pause,
                "options": {
                    "speed_pendown": pen.speed_pendown,
                    "speed_penup": pen.speed_penup,
                    "pen_pos_down": pen.pen_pos_down,
                    "pen_pos_up": pen.pen_pos_up,
                },
            }
        )
    return jobs


def piece_data(plan: Plan, labels: Sequence[LayerLabel], svg_name: str) -> dict:
    """Everything the plot flow needs to know about the piece, as JSON-ready data."""
    return {
        "title": plan.title,
        "svg": svg_name,
        "model": plan.plot.model,
        "model_name": plan.plot.model_name,
        "accel": plan.plot.accel,
        "layers": layer_jobs(plan, labels),
    }


def plot_script(plan: Plan, labels: Sequence[LayerLabel], svg_name: str) -> str:
    """The text of plot.py for this piece: the plot flow's source, then the piece's data."""
    literal = repr(json.dumps(piece_data(plan, labels, svg_name), ensure_ascii=True, sort_keys=True))
    return (
        SHEBANG
        + flow_source()
        + DATA_HEADER
        + f"PIECE_JSON = {literal}\n\n\n"
        + 'if __name__ == "__main__":\n'
        + "    sys.exit(main(json.loads(PIECE_JSON), Path(__file__).resolve().parent))\n"
    )
