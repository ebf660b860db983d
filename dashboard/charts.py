"""Geometry of the dashboard's charts: numbers in, SVG coordinates out (pure; no ORM, no clock).

Templates draw these as inline SVG with presentation attributes only (no script, no inline style,
no chart library); every chart sits beside a table holding the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

# Colour-blind-safe palette (Okabe–Ito), one colour per series key.
COLOURS = {
    "recovery_rate": "#0072B2",
    "reliable_improvement_rate": "#009E73",
    "reliable_recovery_rate": "#CC79A7",
    "reliable_deterioration_rate": "#D55E00",
    "within_6_weeks": "#009E73",
    "6_to_18_weeks": "#E69F00",
    "over_18_weeks": "#D55E00",
    "awaiting_assessment": "#56B4E9",
    "awaiting_treatment": "#E69F00",
}
DEFAULT_COLOUR = "#555555"
# Lines are told apart without colour too: each series of a chart has its own dash pattern and marker
# shape (in this order), drawn the same in the legend. Target lines are thin, grey-dashed and labelled.
LINE_STYLES = (("", "circle"), ("9 4", "square"), ("2 3", "triangle"), ("9 3 2 3", "diamond"))
TARGET_DASH = "4 4"


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


class LegendEntry(NamedTuple):
    name: str
    colour: str
    dash: str = ""  # SVG stroke-dasharray of a line series ("" solid)
    marker: str = "square"  # circle, square, triangle, diamond; a bar series is a square


@dataclass(frozen=True)
class Line:
    key: str
    name: str
    colour: str
    points: tuple[tuple[float, float, str], ...]  # x, y, label of the value
    dash: str = ""
    marker: str = "circle"

    @property
    def polyline(self):
        return " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in self.points)


@dataclass(frozen=True)
class Target:
    key: str
    name: str
    colour: str
    y: float
    label: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str


@dataclass(frozen=True)
class Chart:
    title: str
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    lines: tuple[Line, ...] = ()
    targets: tuple[Target, ...] = ()
    bars: tuple[Bar, ...] = ()
    legend: tuple[LegendEntry, ...] = ()

    @property
    def plot_width(self):
        return self.right - self.left

    @property
    def plot_height(self):
        return self.bottom - self.top


def percent(value):
    return "–" if value is None else f"{value * 100:.1f}%"


def _frame(width, height, left=48, top=12, right_pad=12, bottom_pad=40):
    return left, top, width - right_pad, height - bottom_pad


def rate_trend(title, x_labels, series, targets=(), *, width=720, height=260):
    """Monthly rates (0–1, ``None`` for a month with no referrals) as lines, targets as dashed lines.

    ``series``: [(key, name, [value per x label])]; ``targets``: [(key, name, value)].
    """
    left, top, right, bottom = _frame(width, height)
    n = max(len(x_labels), 1)
    step = (right - left) / max(n - 1, 1)

    def x_at(i):
        return round(left + (step * i if n > 1 else (right - left) / 2), 1)

    def y_at(v):
        return round(bottom - (bottom - top) * max(0.0, min(1.0, v)), 1)

    lines = []
    for n_series, (key, name, values) in enumerate(series):
        points = tuple((x_at(i), y_at(v), percent(v)) for i, v in enumerate(values) if v is not None)
        dash, marker = LINE_STYLES[n_series % len(LINE_STYLES)]
        lines.append(Line(key, name, COLOURS.get(key, DEFAULT_COLOUR), points, dash, marker))
    every = max(1, (n + 11) // 12)
    x_ticks = tuple(Tick(x_at(i), label) for i, label in enumerate(x_labels) if i % every == 0)
    y_ticks = tuple(Tick(y_at(v / 100), f"{v}%") for v in range(0, 101, 25))
    target_lines = tuple(
        Target(key, name, COLOURS.get(key, DEFAULT_COLOUR), y_at(v), f"{name} target {percent(v)}")
        for key, name, v in targets
        if v is not None
    )
    legend = tuple(LegendEntry(line.name, line.colour, line.dash, line.marker) for line in lines)
    return Chart(
        title, width, height, left, top, right, bottom, y_ticks, x_ticks, tuple(lines), target_lines, (), legend
    )


def grouped_bars(title, categories, series, *, as_rate=True, width=720, height=240):
    """Grouped bars: ``categories`` along x; ``series`` [(key, name, [value per category])].

    Rates are drawn on 0–100%; counts on 0–the largest value.
    """
    left, top, right, bottom = _frame(width, height)
    values = [v for _, _, vs in series for v in vs if v is not None]
    top_value = 1.0 if as_rate else float(max(values or [0]) or 1)
    group = (right - left) / max(len(categories), 1)
    bar_width = group * 0.8 / max(len(series), 1)
    bars = []
    for si, (key, name, vs) in enumerate(series):
        colour = COLOURS.get(key, DEFAULT_COLOUR)
        for ci, v in enumerate(vs):
            if v is None:
                continue
            h = (bottom - top) * min(1.0, v / top_value)
            label = f"{categories[ci]}, {name}: " + (percent(v) if as_rate else f"{v:g}")
            x = left + ci * group + group * 0.1 + si * bar_width
            bars.append(Bar(round(x, 1), round(bottom - h, 1), round(bar_width, 1), round(h, 1), colour, label))
    x_ticks = tuple(Tick(round(left + (ci + 0.5) * group, 1), str(c)) for ci, c in enumerate(categories))
    if as_rate:
        y_ticks = tuple(Tick(round(bottom - (bottom - top) * v / 100, 1), f"{v}%") for v in range(0, 101, 25))
    else:
        y_ticks = tuple(
            Tick(round(bottom - (bottom - top) * f, 1), f"{top_value * f:.0f}") for f in (0, 0.25, 0.5, 0.75, 1.0)
        )
    legend = tuple(LegendEntry(name, COLOURS.get(key, DEFAULT_COLOUR)) for key, name, _ in series)
    return Chart(title, width, height, left, top, right, bottom, y_ticks, x_ticks, (), (), tuple(bars), legend)
