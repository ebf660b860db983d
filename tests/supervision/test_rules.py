"""The pure supervision rules: which cases are listed and why, in which order; decisions; compliance."""

import datetime as dt

import pytest

from common.standards import DEFAULTS
from supervision import rules
from supervision.rules import Case, Contact, OpenFlag

TODAY = dt.date(2025, 6, 30)
PARAMS = DEFAULTS["supervision"]


def flag(rule, recommendation="review", severity="amber", explanation=""):
    return OpenFlag(
        id=f"{rule}-1",
        rule=rule,
        rule_label=rule.replace("_", " ").capitalize(),
        recommendation=recommendation,
        recommendation_label=recommendation.replace("_", " ").capitalize(),
        severity=severity,
        explanation=explanation,
    )


def case(**kw):
    kw.setdefault("received_on", TODAY - dt.timedelta(days=10))
    return Case(**kw)


def kinds(c, last_session_on=None, params=PARAMS):
    return [r.kind for r in rules.case_reasons(c, today=TODAY, last_session_on=last_session_on, params=params)]


def days(n):
    return TODAY - dt.timedelta(days=n)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({}, []),
        ({"flags": (flag("risk", "risk", "red"),)}, ["risk"]),
        ({"flags": (flag("deterioration", "step_up", "red"),)}, ["deterioration"]),
        ({"flags": (flag("not_improving", "step_up"),)}, ["not_improving"]),
        ({"flags": (flag("recovered", "step_out", "green"),)}, ["proposed"]),
        ({"flags": (flag("review_overdue"),)}, ["flag"]),
        # PHQ-9 item 9 above 0 since the case was last discussed, with no risk flag yet.
        ({"phq9_latest_item9": 1, "last_scored_on": days(2)}, ["risk"]),
        ({"phq9_latest_item9": 1, "last_scored_on": days(9), "last_discussed_on": days(2)}, []),
        ({"phq9_latest_item9": 0, "last_scored_on": days(2)}, []),
        # Reliable deterioration from the summary, when no flag says so.
        (
            {"reliable_deterioration": True, "last_scored_on": days(3), "phq9_first": 10, "phq9_last": 17},
            ["deterioration"],
        ),
        (
            {
                "reliable_deterioration": True,
                "last_scored_on": days(3),
                "flags": (flag("deterioration", "step_up", "red"),),
            },
            ["deterioration"],
        ),
        # Assessed since the last CMS session and not discussed since.
        ({"contacts": (Contact(days(3), "01", "5"),)}, ["new_assessment"]),
        ({"contacts": (Contact(days(3), "01", "3"),)}, ["dna"]),
        ({"contacts": (Contact(days(3), "01", "5"),), "last_discussed_on": days(1)}, []),
        ({"contacts": (Contact(days(3), "02", "5"),)}, []),
        # DNAs since last discussed.
        ({"contacts": (Contact(days(5), "02", "3"),), "last_discussed_on": days(7)}, ["dna"]),
        ({"contacts": (Contact(days(9), "02", "3"),), "last_discussed_on": days(7)}, []),
        # Not discussed for four weeks (never discussed: since the referral was received).
        ({"received_on": days(40)}, ["not_discussed"]),
        ({"received_on": days(40), "last_discussed_on": days(28)}, ["not_discussed"]),
        ({"received_on": days(40), "last_discussed_on": days(27)}, []),
    ],
)
def test_why_a_case_is_listed(facts, expected):
    assert kinds(case(**facts)) == expected


def test_new_assessment_counts_from_the_last_session():
    c = case(received_on=days(60), contacts=(Contact(days(20), "01", "5"),), last_discussed_on=None)
    assert "new_assessment" in kinds(c, last_session_on=days(21))
    assert "new_assessment" not in kinds(c, last_session_on=days(7))
    # With no session ever, "new" means within the not-discussed window.
    assert "new_assessment" in kinds(c)


def test_reasons_come_most_urgent_first_and_explain_themselves():
    c = case(
        received_on=days(50),
        flags=(flag("not_improving", "step_up"), flag("risk", "risk", "red", "PHQ-9 item 9 scored 2 on 20 Jun")),
        contacts=(Contact(days(4), "02", "3"), Contact(days(2), "02", "3")),
    )
    reasons = rules.case_reasons(c, today=TODAY, last_session_on=None, params=PARAMS)
    assert [r.kind for r in reasons] == ["risk", "not_improving", "dna", "not_discussed"]
    assert "PHQ-9 item 9 scored 2" in reasons[0].text
    assert reasons[0].flag_id == "risk-1"
    assert reasons[2].text.startswith("2 DNAs so far")
    assert "Never discussed" in reasons[3].text


def test_priority_order_and_thresholds_are_configurable():
    params = rules.merge(
        PARAMS, {"case_list": {"priority": ["dna", "risk"], "not_discussed_days": 10, "dnas_since_discussed": 2}}
    )
    c = case(flags=(flag("risk", "risk", "red"),), contacts=(Contact(days(4), "02", "3"),), received_on=days(12))
    assert kinds(c, params=params) == ["risk", "not_discussed"]  # one DNA is below the threshold of two
    c2 = case(
        flags=(flag("risk", "risk", "red"),),
        contacts=(Contact(days(4), "02", "3"), Contact(days(3), "02", "3")),
        received_on=days(5),
    )
    assert kinds(c2, params=params) == ["dna", "risk"]
    assert PARAMS["case_list"]["not_discussed_days"] == 28  # the merge did not touch the defaults


def test_rows_are_ordered_by_their_most_urgent_reason_then_severity_then_wait():
    risk = rules.case_reasons(
        case(flags=(flag("risk", "risk", "red"),)), today=TODAY, last_session_on=None, params=PARAMS
    )
    amber = rules.case_reasons(case(flags=(flag("review_overdue"),)), today=TODAY, last_session_on=None, params=PARAMS)
    red = rules.case_reasons(
        case(flags=(flag("long_wait", severity="red"),)), today=TODAY, last_session_on=None, params=PARAMS
    )
    keys = [
        ("amber", rules.priority_key(amber, days_since_discussed=5)),
        ("none", rules.priority_key([], days_since_discussed=90)),
        ("red", rules.priority_key(red, days_since_discussed=5)),
        ("risk", rules.priority_key(risk, days_since_discussed=1)),
        ("amber-older", rules.priority_key(amber, days_since_discussed=50)),
    ]
    assert [name for name, _ in sorted(keys, key=lambda k: k[1])] == ["risk", "red", "amber-older", "amber", "none"]


@pytest.mark.parametrize(
    ("measure", "first", "latest", "single", "direction", "sev"),
    [
        ("PHQ9", 18, 11, False, "improved", ("moderately severe", "moderate")),
        ("PHQ9", 12, 7, False, "no_reliable_change", ("moderate", "mild")),
        ("PHQ9", 10, 16, False, "deteriorated", ("moderate", "moderately severe")),
        ("GAD7", 15, 11, False, "improved", ("severe", "moderate")),
        ("GAD7", 9, 12, False, "no_reliable_change", ("mild", "moderate")),
        ("GAD7", 12, 12, True, "single", ("moderate", "moderate")),
        ("GAD7", None, None, False, "none", (None, None)),
    ],
)
def test_trend_uses_reliable_change_and_severity_words(measure, first, latest, single, direction, sev):
    t = rules.trend(measure, first, latest, single=single)
    assert t.direction == direction
    assert (t.first_severity, t.latest_severity) == sev


@pytest.mark.parametrize(
    ("decision", "recommendation", "effect"),
    [
        ("step_up", "step_up", "accept"),
        ("step_up", "step_down", "dismiss"),
        ("step_up", "risk", None),
        ("step_down", "step_down", "accept"),
        ("continue", "step_up", "dismiss"),
        ("continue", "risk", None),
        ("continue", "review", "accept"),
        ("discharge", "step_out", "accept"),
        ("refer_on", "step_out", "accept"),
        ("discharge", "step_up", None),  # closed by the discharge itself
        ("risk_plan", "risk", "accept"),
        ("risk_plan", "step_up", None),
        ("other", "step_up", None),
    ],
)
def test_what_a_decision_does_to_an_open_flag(decision, recommendation, effect):
    assert rules.flag_effect(decision, recommendation) == effect


@pytest.mark.parametrize(
    ("decision", "current", "to_step", "end_code", "fields"),
    [
        ("step_up", 2, 3, "", set()),
        ("step_up", 2, 2, "", {"to_step"}),
        ("step_up", 2, None, "", {"to_step"}),
        ("step_down", 3, 2, "", set()),
        ("step_down", 2, 3, "", {"to_step"}),
        ("step_down", None, 1, "", {"to_step"}),
        ("continue", 2, 3, "", {"to_step"}),
        ("discharge", 2, None, "", {"end_code"}),
        ("discharge", 2, None, "46", set()),
        ("discharge", 2, None, "99", {"end_code"}),
        ("continue", 2, None, "46", {"end_code"}),
        ("refer_on", 2, None, "13", set()),
    ],
)
def test_decision_errors_name_the_field(decision, current, to_step, end_code, fields):
    errors = rules.decision_errors(
        decision, current_step=current, to_step=to_step, end_code=end_code, end_codes={"46", "13"}
    )
    assert set(errors) == fields


def test_default_steps():
    assert rules.default_step("step_up", 2) == 3
    assert rules.default_step("step_up", 5) is None
    assert rules.default_step("step_down", 3) == 2
    assert rules.default_step("step_down", 1) is None
    assert rules.default_step("step_up", None) is None


@pytest.mark.parametrize(
    ("kind", "count", "ok"),
    [
        ("clinical_skills", 12, True),
        ("clinical_skills", 13, False),
        ("case_management", 1, True),
        ("case_management", 2, False),
        ("case_management", 0, False),
        ("high_intensity", 3, True),
    ],
)
def test_group_sizes(kind, count, ok):
    assert (rules.group_size_error(kind, count, PARAMS) is None) == ok


def test_clinical_skills_group_message_names_the_limit():
    assert "at most 12" in rules.group_size_error("clinical_skills", 13, PARAMS)


def test_periods_run_back_from_today_and_cover_the_window():
    weekly = rules.periods(TODAY, weeks=4, every_days=7)
    assert len(weekly) == 4
    assert weekly[-1] == (TODAY - dt.timedelta(days=6), TODAY)
    assert weekly[0][0] == TODAY - dt.timedelta(days=27)
    assert len(rules.periods(TODAY, weeks=8, every_days=14)) == 4
    assert len(rules.periods(TODAY, weeks=5, every_days=14)) == 3


def test_weekly_case_management_needs_an_hour_in_every_week():
    sessions = [(days(1), 60), (days(8), 30), (days(9), 30), (days(15), 45)]
    result = rules.requirement(
        sessions, kind="case_management", today=TODAY, weeks=3, every_days=7, min_minutes=60, applies_from=days(365)
    )
    assert [(p.sessions, p.minutes, p.met) for p in result.periods] == [(1, 45, False), (2, 60, True), (1, 60, True)]
    assert (result.periods_met, len(result.due), result.met) == (2, 3, False)


def test_periods_before_the_relationship_began_are_not_due():
    result = rules.requirement(
        [(days(1), 60)],
        kind="case_management",
        today=TODAY,
        weeks=4,
        every_days=7,
        min_minutes=60,
        applies_from=days(3),
    )
    assert [p.applicable for p in result.periods] == [False, False, False, True]
    assert result.met


def test_without_a_supervisor_nothing_is_met():
    result = rules.requirement(
        [(days(1), 60)], kind="clinical_skills", today=TODAY, weeks=2, every_days=14, min_minutes=0, applies_from=None
    )
    assert not result.supervisor_assigned
    assert not result.met


@pytest.mark.parametrize(
    ("active_since", "discussed", "overdue"),
    [
        (days(10), None, None),
        (days(40), None, 40),
        (days(40), days(20), None),
        (days(90), days(29), 29),
        (days(90), days(28), None),
    ],
)
def test_high_intensity_cases_are_reviewed_within_four_weeks(active_since, discussed, overdue):
    assert (
        rules.hi_case_overdue(active_since=active_since, last_discussed_on=discussed, today=TODAY, days=28) == overdue
    )
