"""Chart geometry is pure: dates and totals in, coordinates out."""

import datetime as dt

import pytest

from outcomes.charts import line_chart, questionnaire_chart, sparkline

D = dt.date(2026, 1, 5)


def chart(points, **kwargs):
    return questionnaire_chart(points, width=640, height=260, margin=(10, 20, 30, 40), **kwargs)


def test_x_is_proportional_to_the_date_and_y_to_the_score():
    c = chart({"PHQ9": [(D, 27), (D + dt.timedelta(days=10), 0), (D + dt.timedelta(days=40), 27)]})
    phq = c.series[0]
    assert phq.code == "PHQ9" and phq.name == "PHQ-9"
    xs = [p.x for p in phq.points]
    ys = [p.y for p in phq.points]
    assert xs[0] == 40 and xs[-1] == 620  # left and right edges of the plot
    assert xs[1] == pytest.approx(40 + 10 / 40 * 580)
    assert ys == [10, 230, 10]  # 27 at the top, 0 at the bottom
    assert phq.polyline == "40.0,10.0 185.0,230.0 620.0,10.0"


def test_caseness_lines_sit_at_phq9_10_and_gad7_8():
    c = chart({"PHQ9": [(D, 12)], "GAD7": [(D, 9)]})
    lines = {t.code: t for t in c.thresholds}
    plot_h = 230 - 10
    assert lines["PHQ9"].value == 10 and lines["PHQ9"].y == pytest.approx(230 - 10 / 27 * plot_h)
    assert lines["GAD7"].value == 8 and lines["GAD7"].y == pytest.approx(230 - 8 / 27 * plot_h)
    assert lines["PHQ9"].label == "PHQ-9 caseness (10)"


def test_a_single_date_is_centred_and_series_are_sorted_by_date():
    c = chart({"GAD7": [(D + dt.timedelta(days=7), 3), (D, 15)]})
    gad = next(s for s in c.series if s.code == "GAD7")
    assert [p.value for p in gad.points] == [15, 3]
    single = chart({"PHQ9": [(D, 5)]})
    assert single.series[0].points[0].x == pytest.approx((40 + 620) / 2)


def test_y_ticks_include_zero_and_the_maximum_and_x_ticks_are_thinned():
    dates = [D + dt.timedelta(days=7 * n) for n in range(20)]
    c = chart({"PHQ9": [(on, 10) for on in dates]})
    assert [t.label for t in c.y_ticks] == ["0", "5", "10", "15", "20", "25"]  # 27 would crowd 25
    assert [t.label for t in line_chart({}, names={}, y_max=40, y_step=15).y_ticks] == ["0", "15", "30", "40"]
    assert len(c.x_ticks) == 7
    assert c.x_ticks[0].label == "5 Jan 26" and c.x_ticks[-1].position == 620


def test_no_scores_is_an_empty_chart():
    c = chart({})
    assert c.empty
    assert not c.x_ticks
    assert {s.code for s in c.series} == {"PHQ9", "GAD7"}


def test_values_outside_the_axis_are_clamped():
    c = line_chart({"X": [(D, 50), (D + dt.timedelta(days=1), -3)]}, names={}, y_max=10, margin=(0, 0, 0, 0))
    assert [p.y for p in c.series[0].points] == [0, 260]


def test_sparkline():
    assert sparkline([], y_max=27) == ""
    assert sparkline([27], y_max=27, width=72, height=20, pad=2) == "36.0,2.0"
    assert sparkline([0, 27], y_max=27, width=72, height=20, pad=2) == "2.0,18.0 70.0,2.0"
