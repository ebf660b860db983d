"""Expected recovery curves, fitted and judged on synthetic populations whose curves are known exactly."""

import datetime as dt
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outcomes import trajectories as t
from outcomes.scoring import GAD7, PHQ9, SPIN

D = dt.date(2026, 1, 5)


def known_population(intake=17, courses=101, sessions=6, measure=PHQ9):
    """Course i (0..100) scores ``intake - 2*s + i/10`` at session s: at each session the scores are
    an evenly spaced ladder, so its p-th percentile is exactly ``intake - 2*s + p/10``."""
    return [
        t.Course(measure, (intake, *(intake - 2 * s + i / 10 for s in range(2, sessions + 1)))) for i in range(courses)
    ]


def curves_of(courses, **kwargs):
    name = kwargs.pop("method_name", t.DEFAULT_METHOD)
    return t.Curves.of(name, t.fit(courses, method_name=name, **kwargs))


def test_a_population_with_known_curves_is_fitted_exactly():
    cells = t.fit(known_population())
    assert [(c.measure, c.band, c.session) for c in cells] == [(PHQ9, 3, s) for s in range(2, 7)]
    for cell in cells:
        assert cell.n == 101
        for pct in t.PERCENTILES:
            assert cell.at(pct) == pytest.approx(17 - 2 * cell.session + pct / 10)


@pytest.mark.parametrize(
    "measure, intake, band",
    [
        (PHQ9, 0, "0–4"),
        (PHQ9, 4, "0–4"),
        (PHQ9, 10, "10–14"),
        (PHQ9, 15, "15–19"),
        (PHQ9, 27, "20–27"),
        (GAD7, 21, "15–21"),
        (SPIN, 18, "0–18"),  # below caseness (19)
        (SPIN, 43, "19–43"),  # caseness to the middle of the rest (19..68)
        (SPIN, 44, "44–68"),
    ],
)
def test_intake_bands(measure, intake, band):
    assert str(t.band_of(measure, intake)) == band


def test_cells_below_the_minimum_n_are_left_out():
    few = known_population(courses=29)
    assert t.fit(few, min_n=30) == []
    assert len(t.fit(few, min_n=29)) == 5
    # a band with enough courses keeps its cells while a thin band's are left out
    mixed = known_population(intake=17, courses=40) + known_population(intake=12, courses=10)
    assert {c.band for c in t.fit(mixed, min_n=30)} == {3}


def test_sessions_beyond_the_maximum_are_not_fitted_and_later_sessions_use_the_last_curve():
    curves = curves_of(known_population(sessions=8), max_session=5)
    assert max(s for (_, _, s) in curves.cells) == 5
    later = [(D, 17), *[(D, 3)] * 9]  # session 10
    found = t.judge(curves, PHQ9, later)
    assert found.session == 10 and found.compared_session == 5
    assert "compared with session 5, the last fitted" in found.words()


@pytest.mark.parametrize(
    "score, status",
    [
        (9.0, t.ON_TRACK),  # the median at session 4 is 17 - 8 + 5 = 14; below it
        (14.0, t.ON_TRACK),
        (16.5, t.ON_TRACK),  # exactly the 75th percentile (9 + 7.5): not above it
        (16.6, t.AMBER),
        (18.0, t.AMBER),  # exactly the 90th
        (18.1, t.RED),
        (27.0, t.RED),
    ],
)
def test_judging_against_the_known_band(score, status):
    curves = curves_of(known_population())
    found = t.judge(curves, PHQ9, [(D, 17), (D, 15), (D, 14), (D, score)])
    assert found.status == status
    assert (found.median, found.upper, found.outer) == pytest.approx((14, 16.5, 18))
    assert found.n == 101 and str(found.band) == "15–19"


def test_the_words_say_what_was_compared():
    curves = curves_of(known_population())
    found = t.judge(curves, PHQ9, [(D, 17), (D, 15), (D, 16), (D + dt.timedelta(days=21), 17)])
    assert found.words() == "PHQ-9 17 at session 4; expected 14–16.50 for intake 15–19, N = 101"
    assert found.evidence()["scored_on"] == "2026-01-26"
    assert found.evidence()["expected_outer"] == 18


def test_nothing_to_judge_without_a_second_score_or_a_fitted_band():
    curves = curves_of(known_population())
    assert t.judge(curves, PHQ9, [(D, 17)]) is None
    assert t.judge(curves, PHQ9, [(D, 8), (D, 30)]) is None  # intake band 5-9 was never fitted
    assert t.judge(curves, GAD7, [(D, 17), (D, 17)]) is None


def test_the_change_method_adds_the_patients_own_intake():
    # Change from intake is the same ladder for every intake: -2s + i/10 (15 and 19 share a band).
    population = known_population(intake=15) + known_population(intake=19)
    curves = curves_of(population, method_name=t.CHANGE.name)
    for intake in (15, 19):
        found = t.judge(curves, PHQ9, [(D, intake), (D, intake), (D, intake), (D, intake - 8 + 5)])
        assert found.median == pytest.approx(intake - 8 + 5)
        assert found.status == t.ON_TRACK
    # the empirical method pools the two intakes' scores: a patient at 15 is judged against both
    empirical = curves_of(population)
    found = t.judge(empirical, PHQ9, [(D, 15), (D, 15), (D, 15), (D, 15 - 8 + 7.6)])
    assert found.status == t.ON_TRACK
    assert t.judge(curves, PHQ9, [(D, 15), (D, 15), (D, 15), (D, 15 - 8 + 7.6)]).status == t.AMBER


def test_unknown_method_and_bad_percentiles_are_refused():
    with pytest.raises(ValueError, match="Unknown trajectory method"):
        t.fit([], method_name="nearest-neighbours")
    with pytest.raises(ValueError, match="outer higher"):
        t.judge(curves_of(known_population()), PHQ9, [(D, 17), (D, 1)], tolerance=90, outer=75)


def test_band_path_for_the_chart():
    path = t.band_path(curves_of(known_population()), PHQ9, 17, 6)
    assert [p[0] for p in path] == [2, 3, 4, 5, 6]
    assert path[0][1:4] == pytest.approx((18, 20.5, 22))


def test_validation_counts_against_non_recovery():
    curves = curves_of(known_population())
    on_track = {PHQ9: [(D, 17), (D, 13), (D, 11)]}  # medians 18 and 16
    off_track = {PHQ9: [(D, 17), (D, 27), (D, 27)]}
    held_out = [
        t.HeldOut(off_track, False),  # true positive
        t.HeldOut(off_track, False),  # true positive
        t.HeldOut(off_track, True),  # false positive
        t.HeldOut(on_track, True),  # true negative
        t.HeldOut(on_track, False),  # false negative
        t.HeldOut(on_track, None),  # not at caseness: no recovery outcome, not counted
    ]
    result = t.validate(curves, held_out, by_session=4)
    assert (result.courses, result.flagged) == (5, 3)
    assert (result.true_positive, result.false_positive, result.true_negative, result.false_negative) == (2, 1, 1, 1)
    assert result.sensitivity == pytest.approx(2 / 3)
    assert result.specificity == pytest.approx(1 / 2)
    assert result.ppv == pytest.approx(2 / 3)
    assert result.flagged_share == pytest.approx(3 / 5)


def test_a_flag_after_the_validation_session_does_not_count():
    curves = curves_of(known_population())
    late = {PHQ9: [(D, 17), (D, 13), (D, 11), (D, 9), (D, 27)]}  # off track only at session 5
    assert not t.flagged_by(curves, late, 4)
    assert t.flagged_by(curves, late, 5)


def test_tuning_picks_the_percentile_that_flags_the_chosen_share():
    curves = curves_of(known_population())
    # 100 active cases at session 4, scores spread over the known band: case k scores 9 + k/10, so it
    # is above the p-th percentile exactly when k > p: the share flagged at percentile p is (99 - p)/100.
    active = [{PHQ9: [(D, 17), (D, 15), (D, 14), (D, 9 + k / 10)]} for k in range(100)]
    rows = t.tune(curves, active, target=0.20)
    by_pct = {pct: share for pct, share, _ in rows}
    assert by_pct[75] == pytest.approx(0.24) and by_pct[80] == pytest.approx(0.19)
    assert [pct for pct, _, best in rows if best] == [80]
    assert [pct for pct, _, _ in rows] == [50, 55, 60, 65, 70, 75, 80, 85]


@given(st.lists(st.floats(-100, 100, allow_nan=False), min_size=2, max_size=60), st.sampled_from(t.PERCENTILES))
def test_percentile_is_percentile_cont(values, pct):
    ordered = sorted(values)
    expected = statistics.quantiles(ordered, n=100, method="inclusive")[pct - 1]
    assert t.percentile(ordered, pct) == pytest.approx(expected, abs=1e-9)


@given(st.lists(st.integers(0, 27), min_size=3, max_size=8), st.integers(0, 27), st.integers(0, 27))
def test_a_higher_latest_score_is_never_judged_better(scores, a, b):
    curves = curves_of(known_population(sessions=9))
    rank = {t.ON_TRACK: 0, t.AMBER: 1, t.RED: 2}
    low, high = sorted((a, b))
    series = [(D, 17), *[(D, s) for s in scores]]
    first = t.judge(curves, PHQ9, [*series, (D, low)])
    second = t.judge(curves, PHQ9, [*series, (D, high)])
    assert rank[first.status] <= rank[second.status]
