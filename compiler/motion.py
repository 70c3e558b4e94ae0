"""AxiDraw's motion model: how long a plot takes.

Uses the AxiDraw software's own constants: pen-down speed = speed_pendown / 110 * 8.6979 in/s
(pen-up likewise with speed_penup), acceleration = accel / 100 * 40 in/s^2 pen-down and
* 60 in/s^2 pen-up, and the servo move time
``((2.69*D + 45)^4 + (200*D/rate)^4)^(1/4) ms + delay`` with D = |up - down| %.
Each run between sharp corners is a trapezoidal velocity profile from rest to rest.

Pure numpy-free Python on purpose: the compiler uses it for estimates and must stay light;
emitters call the same functions on real paths.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from penspec.spec.units import MM_PER_IN

MAX_SPEED_IN_S = 8.6979
ACCEL_DOWN_IN_S2 = 40.0
ACCEL_UP_IN_S2 = 60.0
CORNER_STOP_DEG = 30.0  # turns sharper than this come to a stop

Point = tuple[float, float]


@dataclass(frozen=True)
class MotionSettings:
    speed_pendown: int = 25
    speed_penup: int = 75
    accel: int = 75
    pen_pos_down: int = 30
    pen_pos_up: int = 60
    pen_rate_lower: int = 50
    pen_rate_raise: int = 75
    delay_ms: int = 0  # extra delay at each pen lift and drop


@dataclass(frozen=True)
class PlotTime:
    draw_s: float
    travel_s: float
    servo_s: float
    ink_mm: float
    travel_mm: float
    lifts: int

    @property
    def total_s(self) -> float:
        return self.draw_s + self.travel_s + self.servo_s


def speed_mm_s(speed_pct: float) -> float:
    """Top speed in mm/s for an AxiDraw speed percentage (25 % is about 50 mm/s)."""
    return speed_pct / 110.0 * MAX_SPEED_IN_S * MM_PER_IN


def accel_mm_s2(accel_pct: float, pen_down: bool) -> float:
    base = ACCEL_DOWN_IN_S2 if pen_down else ACCEL_UP_IN_S2
    return accel_pct / 100.0 * base * MM_PER_IN


def move_time(length_mm: float, v_max: float, accel: float) -> float:
    """Seconds to move length_mm from rest to rest with a trapezoidal (or triangular) profile."""
    if length_mm <= 0:
        return 0.0
    ramp = v_max * v_max / accel  # distance spent accelerating plus decelerating
    if length_mm >= ramp:
        return length_mm / v_max + v_max / accel
    return 2.0 * math.sqrt(length_mm / accel)


def servo_time(settings: MotionSettings, lowering: bool) -> float:
    """Seconds for one pen drop (lowering) or lift."""
    dist = abs(settings.pen_pos_up - settings.pen_pos_down)
    rate = settings.pen_rate_lower if lowering else settings.pen_rate_raise
    ms = ((2.69 * dist + 45.0) ** 4 + (200.0 * dist / rate) ** 4) ** 0.25
    return (ms + settings.delay_ms) / 1000.0


def _turn_deg(a: Point, b: Point, c: Point) -> float:
    ux, uy = b[0] - a[0], b[1] - a[1]
    vx, vy = c[0] - b[0], c[1] - b[1]
    nu, nv = math.hypot(ux, uy), math.hypot(vx, vy)
    if nu == 0 or nv == 0:
        return 0.0
    cos = max(-1.0, min(1.0, (ux * vx + uy * vy) / (nu * nv)))
    return math.degrees(math.acos(cos))


def polyline_length(points: Sequence[Point]) -> float:
    return sum(math.dist(points[i], points[i + 1]) for i in range(len(points) - 1))


def polyline_time(points: Sequence[Point], v_max: float, accel: float, corner_deg: float = CORNER_STOP_DEG) -> float:
    """Seconds to draw a polyline: a rest-to-rest run between each pair of sharp corners."""
    total, run = 0.0, 0.0
    for i in range(len(points) - 1):
        run += math.dist(points[i], points[i + 1])
        if i + 2 < len(points) and _turn_deg(points[i], points[i + 1], points[i + 2]) > corner_deg:
            total += move_time(run, v_max, accel)
            run = 0.0
    return total + move_time(run, v_max, accel)


def plot_time(paths: Iterable[Sequence[Point]], settings: MotionSettings, home: Point = (0.0, 0.0)) -> PlotTime:
    """Time to plot pen-down paths (mm, in plotting order), starting and ending at home."""
    v_down, v_up = speed_mm_s(settings.speed_pendown), speed_mm_s(settings.speed_penup)
    a_down, a_up = accel_mm_s2(settings.accel, True), accel_mm_s2(settings.accel, False)
    draw = travel = ink = travel_len = 0.0
    lifts = 0
    pos = home
    for path in paths:
        if len(path) < 2:
            continue
        hop = math.dist(pos, path[0])
        travel += move_time(hop, v_up, a_up)
        travel_len += hop
        draw += polyline_time(path, v_down, a_down)
        ink += polyline_length(path)
        lifts += 1
        pos = path[-1]
    hop = math.dist(pos, home)
    travel += move_time(hop, v_up, a_up)
    travel_len += hop
    servo = lifts * (servo_time(settings, True) + servo_time(settings, False))
    return PlotTime(draw_s=draw, travel_s=travel, servo_s=servo, ink_mm=ink, travel_mm=travel_len, lifts=lifts)
