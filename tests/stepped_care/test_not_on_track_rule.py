"""The not-on-track rule, table-driven against curves known exactly (see tests/outcomes/test_trajectories:
at session s of intake band 15-19 the p-th percentile is 17 - 2s + p/10)."""

import datetime as dt

import pytest

from outcomes import trajectories as t
from outcomes.scoring import GAD7, PHQ9, SPIN
from stepped_care import review
from stepped_care.review import History, evaluate

START = dt.date(2026, 1, 5)


def ladder(measure, intake=17, sessions=8):
    return [t.Course(measure, (intake, *(intake - 2 * s + i / 10 for s in range(2, sessions + 1)))) for i in range(101)]


CURVES = t.Curves.of(t.DEFAULT_METHOD, t.fit(ladder(PHQ9) + ladder(GAD7)), version=3, courses=202)


def history(phq=(), gad=(), curves=CURVES, status="in_treatment"):
    length = max(len(phq), len(gad))
    contacts = []
    for i in range(length):
        p = phq[i] if i < len(phq) else None
        g = gad[i] if i < len(gad) else None
        contacts.append((START + dt.timedelta(days=7 * i), "02", "5", p, 0 if p is not None else None, g))
    return History(status, START, 2, START, contacts, None, curves)


def finding(h, params=None):
    found = {f.rule: f for f in evaluate(h, START + dt.timedelta(days=60), review.parameters(params))}
    return found.get(review.NOT_ON_TRACK)


# Session 4 of the known curves: median 14, 75th percentile 16.5, 90th 18 (both measures).
@pytest.mark.parametrize(
    "phq, gad, params, severity, measure",
    [
        ((17, 15, 14, 14), (), None, None, None),  # at the median
        ((17, 15, 14, 16), (), None, None, None),  # inside the band
        ((17, 15, 14, 17), (), None, "amber", PHQ9),  # above the 75th
        ((17, 15, 14, 18), (), None, "amber", PHQ9),  # at the 90th: still amber
        ((17, 15, 14, 19), (), None, "red", PHQ9),  # above the 90th
        ((17, 15, 14, 14), (17, 15, 14, 19), None, "red", GAD7),  # GAD-7 alone is off track
        ((17, 15, 14, 17), (17, 15, 14, 19), None, "red", GAD7),  # the worst measure leads
        ((17, 15, 14, 19), (17, 15, 14, 19), None, "red", PHQ9),  # a tie: PHQ-9 first
        ((17, 15, 14, 15), (), {"not_on_track_percentile": 50}, "amber", PHQ9),  # tuned: above the median
        ((17, 15, 14, 17.5), (), {"not_on_track_outer": 80}, "red", PHQ9),  # tuned: red above the 80th (17)
        ((17, 15, 14, 19), (), {"rules": ["not_improving"]}, None, None),  # switched off for the team
        ((17,), (), None, None, None),  # the intake alone: nothing to compare
        ((8, 8, 8, 27), (), None, None, None),  # intake band 5-9 was never fitted
    ],
)
def test_not_on_track_table(phq, gad, params, severity, measure):
    found = finding(history(phq, gad), params)
    if severity is None:
        assert found is None
    else:
        assert (found.severity, found.recommendation) == (severity, "review")
        assert found.evidence["trajectories"][0]["measure"] == measure


def test_no_fit_no_finding():
    assert finding(history((17, 15, 14, 27), curves=None)) is None
    assert finding(history((17, 15, 14, 27), curves=t.Curves.of(t.DEFAULT_METHOD, []))) is None
    assert finding(history((17, 15, 14, 27), status="discharged")) is None


def test_the_evidence_says_what_was_compared():
    found = finding(history((17, 15, 14, 17)))
    assert found.explanation.startswith(
        "Not on track: PHQ-9 17 at session 4; expected 14–16.50 for intake 15–19, N = 101 (above the 75th percentile)."
    )
    assert "fit v3, 202 courses" in found.explanation
    evidence = found.evidence["trajectories"][0]
    assert evidence == {
        "measure": PHQ9,
        "status": "amber",
        "session": 4,
        "compared_session": 4,
        "score": 17,
        "scored_on": "2026-01-26",
        "intake": 17,
        "intake_band": "15–19",
        "n": 101,
        "expected_median": 14,
        "expected_upper": 16.5,
        "expected_outer": 18,
        "tolerance_percentile": 75,
        "outer_percentile": 90,
        "method": "empirical-percentiles-v1",
    }
    lines = dict(review.evidence_lines(review.NOT_ON_TRACK, found.evidence))
    assert lines["PHQ-9 at session 4"] == "17 (expected 14–16.5, red above 18; intake 17 in band 15–19, N = 101)"


def test_the_episode_is_the_first_session_of_the_run_above_the_band():
    # session 2: 21 > 20.5 (off); session 3: 19 > 18.5 (off); session 4: 17 > 16.5 (off)
    run = finding(history((17, 21, 19, 17)))
    assert run.episode == "PHQ9 above the expected band from 2026-01-12"
    # back inside at session 3, off again at 4: a new episode
    again = finding(history((17, 21, 12, 17)))
    assert again.episode == "PHQ9 above the expected band from 2026-01-26"
    # a new score keeps the episode (a dismissed flag stays dismissed) but changes the evidence
    later = finding(history((17, 21, 19, 17, 16)))
    assert later.episode == run.episode and later.data != run.data


def test_the_flag_clears_itself_with_the_reason():
    back = history((17, 15, 14, 17, 8))
    assert finding(back) is None
    reason = review.clear_reason(review.NOT_ON_TRACK, back, START)
    assert reason == "Back on track: PHQ-9 8 at session 5; expected 12–14.50 for intake 15–19, N = 101."
    assert review.clear_reason(review.NOT_ON_TRACK, history((17, 15), curves=None), START).startswith("No expected")
    assert review.clear_reason(review.NOT_ON_TRACK, back, START, review.parameters({"rules": ["risk"]})) == (
        "This rule is turned off for the team."
    )


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"not_on_track_percentile": 77}, "not_on_track_percentile"),
        ({"not_on_track_outer": "90"}, "not_on_track_outer"),
        ({"not_on_track_percentile": 90, "not_on_track_outer": 80}, "not_on_track_outer"),
    ],
)
def test_bad_percentiles_name_the_parameter(overrides, field):
    assert field in review.validate_parameters(overrides)
    lenient = review.parameters(overrides, strict=False)
    assert (lenient["not_on_track_percentile"], lenient["not_on_track_outer"]) == (75, 90)


# SPIN (social phobia) on its own curves: intake 40 sits in the band "caseness" (19-43); at session 4
# the known ladder gives median 37, 75th percentile 39.5 and 90th 41.
SPIN_CURVES = t.Curves.of(t.DEFAULT_METHOD, t.fit(ladder(PHQ9) + ladder(SPIN, intake=40)), version=4, courses=202)


def with_spin(spin, phq=(17, 15, 14, 14)):
    h = history(phq, curves=SPIN_CURVES)
    series = [(START + dt.timedelta(days=7 * i), score) for i, score in enumerate(spin)]
    return History(h.status, h.received_on, h.step, h.step_started_on, h.contacts, None, SPIN_CURVES, {SPIN: series})


@pytest.mark.parametrize(
    "spin, severity",
    [
        ((40, 41, 39, 37), None),  # at the median
        ((40, 41, 39, 39.5), None),  # at the 75th: inside
        ((40, 41, 39, 40), "amber"),  # above the 75th
        ((40, 41, 39, 42), "red"),  # above the 90th
        ((40,), None),  # the intake alone
        ((10, 10, 10, 60), None),  # intake below caseness: that band was never fitted
    ],
)
def test_an_adsm_is_judged_on_its_own_curves(spin, severity):
    found = finding(with_spin(spin))
    if severity is None:
        assert found is None
        return
    assert found.severity == severity
    assert found.evidence["trajectories"][0]["measure"] == SPIN
    assert found.episode.startswith("SPIN above the expected band from ")
    score = t.format_number(spin[-1])
    assert f"SPIN {score} at session 4; expected 37–39.50 for intake 19–43, N = 101" in found.explanation


def test_phq9_leads_an_adsm_of_the_same_colour_and_the_worse_leads_otherwise():
    both = finding(with_spin((40, 41, 39, 40), phq=(17, 15, 14, 17)))
    assert [j["measure"] for j in both.evidence["trajectories"]] == [PHQ9, SPIN]
    worse = finding(with_spin((40, 41, 39, 42), phq=(17, 15, 14, 17)))
    assert [j["measure"] for j in worse.evidence["trajectories"]] == [SPIN, PHQ9]


def test_an_adsm_back_inside_its_band_clears_the_flag():
    back = with_spin((40, 41, 39, 40, 30))
    assert finding(back) is None
    assert review.clear_reason(review.NOT_ON_TRACK, back, START).startswith("Back on track: ")
