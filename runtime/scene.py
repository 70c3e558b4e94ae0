"""The optimised drawing handed from the stage runner to the emitters.

A scene is plain numpy (no torch): cubic Bezier segments in canvas px, the stroke each segment
belongs to (a stroke's segments are consecutive) and the pen of each stroke (an index into
``plan.pens``). It saves to and loads from a single ``.npz`` file, whose ``size`` array is
(height, width) like an image array's shape (files stored by earlier builds read the same).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

import numpy as np

from penspec.spec.atomic import atomic_write
from penspec.spec.model import Size


@dataclass(frozen=True)
class Scene:
    control_points: np.ndarray  # float64 [N, 4, 2], canvas px, x right, y down
    segment_stroke: np.ndarray  # int64 [N]
    stroke_pen: np.ndarray  # int64 [S]
    size: Size  # canvas px

    def __post_init__(self):
        object.__setattr__(self, "size", Size(*(int(v) for v in self.size)))

    @property
    def stroke_count(self) -> int:
        return int(self.stroke_pen.shape[0])

    def strokes_of_pen(self, pen_index: int) -> list[np.ndarray]:
        """Control points of every stroke drawn by one pen, each as [segments, 4, 2]."""
        out = []
        for s in np.flatnonzero(self.stroke_pen == pen_index):
            out.append(self.control_points[self.segment_stroke == s])
        return out

    def save(self, path: str | os.PathLike) -> bytes:
        """Write atomically (temp file in the same folder, then rename); returns the bytes written."""
        buf = io.BytesIO()
        np.savez(
            buf,
            control_points=np.asarray(self.control_points, dtype=np.float64),
            segment_stroke=np.asarray(self.segment_stroke, dtype=np.int64),
            stroke_pen=np.asarray(self.stroke_pen, dtype=np.int64),
            size=np.asarray((self.size.height, self.size.width), dtype=np.int64),
        )
        data = buf.getvalue()
        atomic_write(path, data)
        return data

    @classmethod
    def load(cls, path: str | os.PathLike) -> Scene:
        with np.load(path) as data:
            return cls(
                control_points=data["control_points"].astype(np.float64),
                segment_stroke=data["segment_stroke"].astype(np.int64),
                stroke_pen=data["stroke_pen"].astype(np.int64),
                size=Size(width=int(data["size"][1]), height=int(data["size"][0])),
            )
