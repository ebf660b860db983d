"""Geometry of the outcome charts: numbers in, SVG coordinates out. Pure (no ORM, no clock).

The referral page draws these as server-rendered inline SVG, so there is no chart library, no CDN and
no JavaScript; the same numbers are shown in a table beside the chart for screen readers and print.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .scoring import GAD7, INSTRUMENTS, PHQ9


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: int
    on: dt.date


@dataclass(frozen=True)
class Series:
    code: str
    name: str
    points: tuple[Point, ...]

    @property
    def polyline(self) -> str:
        """The ``points`` attribute of an SVG polyline."""
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class Threshold:
    code: str
    y: float
    value: int
    label: str


@dataclass(frozen=True)
class ExpectedBand:
    """The expected band of one measure at the patient's scored sessions: the area from the median to
    the tolerance percentile (amber above it) and the outer line (red above it)."""

    code: str
    name: str
    area: str  # SVG polygon points: the upper edge forwards, the median backwards
    outer: str  # SVG polyline points
    median: str  # SVG polyline points
    sessions: tuple  # (session, date, median, upper, outer, n), for the table beside the chart


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    series: tuple[Series, ...]
    thresholds: tuple[Threshold, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    bands: tuple[ExpectedBand, ...] = ()

    @property
    def empty(self) -> bool:
        return not any(s.points for s in self.series)


def _date_label(on: dt.date) -> str:
    return f"{on.day} {on:%b %y}"


def _spread(items, limit):
    """At most ``limit`` items, evenly spread, always keeping the first and the last."""
    if len(items) <= limit:
        return list(items)
    step = (len(items) - 1) / (limit - 1)
    return [items[round(i * step)] for i in range(limit)]


def line_chart(
    series: dict[str, list[tuple[dt.date, int]]],
    *,
    names: dict[str, str],
    y_max: int,
    thresholds: dict[str, tuple[int, str]] | None = None,
    width: int = 640,
    height: int = 260,
    margin: tuple[int, int, int, int] = (12, 36, 34, 36),  # top, right, bottom, left
    y_step: int = 5,
    max_x_ticks: int = 7,
    bands: dict[str, list[tuple]] | None = None,
) -> Chart:
    """Place dated values on a shared time axis (x proportional to the date) and a 0..y_max axis.

    ``series`` maps a code to (date, value) pairs; ``thresholds`` maps a code to (value, label) for a
    horizontal reference line such as a caseness cut-off; ``bands`` maps a code to its expected band
    at the patient's sessions, (session, date, median, upper, outer, n) each (``trajectories.band_path``
    placed on the dates of the patient's own sessions).
    """
    top, right_margin, bottom_margin, left = margin
    right, bottom = width - right_margin, height - bottom_margin
    dates = sorted({on for points in series.values() for on, _ in points})
    first = dates[0] if dates else None
    span = (dates[-1] - first).days if dates else 0

    def x_of(on: dt.date) -> float:
        if not span:
            return (left + right) / 2
        return left + (on - first).days / span * (right - left)

    def y_of(value) -> float:
        clamped = min(max(float(value), 0.0), float(y_max))
        return bottom - clamped / float(y_max) * (bottom - top)

    placed = tuple(
        Series(
            code=code,
            name=names.get(code, code),
            points=tuple(Point(x_of(on), y_of(value), value, on) for on, value in sorted(points, key=lambda p: p[0])),
        )
        for code, points in series.items()
    )
    lines = tuple(
        Threshold(code=code, y=y_of(value), value=value, label=label)
        for code, (value, label) in (thresholds or {}).items()
    )
    y_values = list(range(0, int(y_max) + 1, y_step))
    if y_max - y_values[-1] >= y_step / 2:  # label the top too, unless it would crowd the last tick
        y_values.append(y_max)
    y_ticks = tuple(Tick(y_of(v), str(v)) for v in y_values)
    x_ticks = tuple(Tick(x_of(on), _date_label(on)) for on in _spread(dates, max_x_ticks))

    def points(pairs):
        return " ".join(f"{x_of(on):.1f},{y_of(v):.1f}" for on, v in pairs)

    expected = tuple(
        ExpectedBand(
            code=code,
            name=names.get(code, code),
            area=points([(b[1], b[3]) for b in path] + [(b[1], b[2]) for b in reversed(path)]),
            outer=points([(b[1], b[4]) for b in path]),
            median=points([(b[1], b[2]) for b in path]),
            sessions=tuple(path),
        )
        for code, path in (bands or {}).items()
        if path
    )
    return Chart(width, height, left, top, right, bottom, placed, lines, y_ticks, x_ticks, expected)


def questionnaire_chart(points: dict[str, list[tuple[dt.date, int]]], **kwargs) -> Chart:
    """PHQ-9 and GAD-7 totals on one 0-27 axis with their caseness lines (PHQ-9 10, GAD-7 8)."""
    codes = (PHQ9, GAD7)
    return line_chart(
        {code: points.get(code, []) for code in codes},
        names={code: INSTRUMENTS[code].name for code in codes},
        y_max=max(INSTRUMENTS[code].max_total for code in codes),
        thresholds={
            code: (INSTRUMENTS[code].caseness, f"{INSTRUMENTS[code].name} caseness ({INSTRUMENTS[code].caseness})")
            for code in codes
        },
        **kwargs,
    )


def _nice_step(top) -> int:
    """A round tick interval giving about five to eight ticks on a 0..top axis."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100):
        if top / step <= 8:
            return step
    return 100


def measure_chart(code: str, points: list[tuple[dt.date, object]], **kwargs) -> Chart:
    """One measure on its own 0..maximum axis (SPIN 0-68, PCL-5 0-80, the Mobility Inventory 1-5 ...),
    with its caseness line where one is published."""
    inst = INSTRUMENTS[code]
    top = inst.total_max
    thresholds = {}
    if inst.caseness_threshold:
        thresholds[code] = (inst.caseness, f"{inst.name} caseness ({inst.caseness_threshold})")
    return line_chart(
        {code: points},
        names={code: inst.name},
        y_max=top,
        thresholds=thresholds,
        y_step=_nice_step(top),
        **kwargs,
    )


def sparkline(values: list[int], *, y_max: int, width: int = 72, height: int = 20, pad: float = 2.0) -> str:
    """SVG polyline points for a tiny trend line: values evenly spaced, 0 at the bottom."""
    if not values:
        return ""
    usable_w, usable_h = width - 2 * pad, height - 2 * pad
    step = usable_w / (len(values) - 1) if len(values) > 1 else 0
    xs = [pad + i * step for i in range(len(values))] if step else [width / 2]
    ys = [pad + usable_h - min(max(v, 0), y_max) / y_max * usable_h for v in values]
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
