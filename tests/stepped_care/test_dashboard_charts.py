"""The dashboard's chart geometry (pure): rates on 0–100%, missing months left out, targets drawn."""

import dataclasses

import pytest
from django.template.loader import render_to_string

from dashboard import charts, tables


def test_rate_trend_places_values_between_the_axes_and_skips_missing_months():
    chart = charts.rate_trend(
        "Trend", ["Jan", "Feb", "Mar"], [("recovery_rate", "Recovery", [0.0, None, 1.0])], [("recovery_rate", "R", 0.5)]
    )
    (line,) = chart.lines
    assert [(x, y) for x, y, _ in line.points] == [(chart.left, chart.bottom), (chart.right, chart.top)]
    assert [label for *_, label in line.points] == ["0.0%", "100.0%"]
    (target,) = chart.targets
    assert target.y == round((chart.top + chart.bottom) / 2, 1) and "50.0%" in target.label
    assert [t.label for t in chart.y_ticks] == ["0%", "25%", "50%", "75%", "100%"]
    assert chart.legend == (charts.LegendEntry("Recovery", charts.COLOURS["recovery_rate"], "", "circle"),)


def test_a_single_month_is_centred_and_long_periods_thin_their_labels():
    one = charts.rate_trend("One", ["Jan"], [("x", "X", [0.5])])
    assert one.lines[0].points[0][0] == round((one.left + one.right) / 2, 1)
    many = charts.rate_trend("Many", [str(i) for i in range(36)], [("x", "X", [0.1] * 36)])
    assert len(many.x_ticks) == 12


def test_grouped_bars_for_rates_and_for_counts():
    rates = charts.grouped_bars("Rates", ["Step 2", "Step 3"], [("a", "A", [0.5, None]), ("b", "B", [1.0, 0.25])])
    assert len(rates.bars) == 3
    full = rates.bottom - rates.top
    assert sorted(b.height for b in rates.bars) == [round(full * 0.25, 1), round(full * 0.5, 1), round(full, 1)]
    assert "Step 2, A: 50.0%" in [b.label for b in rates.bars]
    counts = charts.grouped_bars("Counts", ["Up to 6 weeks"], [("w", "Waiting", [40])], as_rate=False)
    assert counts.bars[0].height == round(counts.bottom - counts.top, 1)
    assert counts.y_ticks[-1].label == "40" and counts.bars[0].label.endswith(": 40")
    empty = charts.grouped_bars("None", ["x"], [("w", "W", [0])], as_rate=False)
    assert empty.bars[0].height == 0


def test_percent_formats_missing_values_as_a_dash():
    assert charts.percent(None) == "–" and charts.percent(0.4567) == "45.7%"


def test_trend_lines_differ_by_dash_and_marker_not_only_colour():
    chart = charts.rate_trend(
        "Trend", ["Jan", "Feb"], [(f"s{n}", f"S{n}", [0.2, 0.4]) for n in range(4)], [("s0", "S0", 0.5)]
    )
    styles = [(line.dash, line.marker) for line in chart.lines]
    assert len(set(styles)) == 4
    assert [(e.dash, e.marker) for e in chart.legend] == styles  # the legend draws the same
    assert chart.targets[0].label.startswith("S0 target")


CHARTS = [
    charts.rate_trend(
        "Trend <of> \"rates\" & 'targets'",
        ["Jan", "Feb", "Mar"],
        [("recovery_rate", "Recovery", [0.0, None, 1.0]), ("x", "X & <y>", [0.123, 0.5, None])],
        [("recovery_rate", "R", 0.5), ("x", "None", None)],
    ),
    charts.rate_trend("One", ["Jan"], [("x", "X", [0.5])]),
    charts.rate_trend(
        "Many", [str(i) for i in range(36)], [(f"s{n}", f"S{n}", [0.1 * (n + 1)] * 36) for n in range(5)]
    ),
    charts.rate_trend("Empty", [], []),
    charts.grouped_bars("Rates", ["Step 2", "Step <3>"], [("a", "A", [0.5, None]), ("b", "B", [1.0, 0.25])]),
    charts.grouped_bars("Counts", ["Up to 6 weeks", "Over 18"], [("w", "Waiting", [40, 3])], as_rate=False),
    charts.grouped_bars("Nothing", ["x"], [("w", "W", [0])], as_rate=False),
]


@pytest.mark.parametrize("chart", CHARTS, ids=[c.title[:10] for c in CHARTS])
def test_the_one_pass_chart_is_the_template_byte_for_byte(chart):
    """``tables.chart_html`` builds the dashboard's charts without a template include per marker; it
    must stay the markup of templates/dashboard/_chart.html (and _marker.html) exactly."""
    expected = render_to_string("dashboard/_chart.html", {"chart": chart, "key": "trend"})
    assert str(tables.chart_html(chart, "trend")) == expected


def test_every_marker_shape_is_drawn_as_the_template_draws_it():
    base = charts.rate_trend("M", ["a", "b"], [("x", "X", [0.2, 0.4])])
    for marker in ("circle", "square", "triangle", "diamond", "unknown"):
        line = dataclasses.replace(base.lines[0], marker=marker, dash="" if marker == "circle" else "6 3")
        entry = base.legend[0]._replace(marker=marker, dash=line.dash)
        chart = dataclasses.replace(base, lines=(line,), legend=(entry,))
        expected = render_to_string("dashboard/_chart.html", {"chart": chart, "key": "k"})
        assert str(tables.chart_html(chart, "k")) == expected, marker
