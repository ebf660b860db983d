"""The review rules (stepped_care/review.py), table-driven over each rule's boundaries. Pure: no database."""

import ast
import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepped_care import review
from stepped_care.review import History, evaluate

START = dt.date(2026, 1, 5)


def on(days):
    return START + dt.timedelta(days=days)


def contact(days, kind="02", attendance="5", phq=None, gad=None, item9=0):
    """(date, appointment_type, attendance, PHQ-9, item 9, GAD-7) as the queries hand them over."""
    return (on(days), kind, attendance, phq, item9 if phq is not None else None, gad)


def history(contacts=(), status="in_treatment", step=2, step_days=0, supervised=None, received=0):
    return History(
        status=status,
        received_on=on(received),
        step=step,
        step_started_on=on(step_days) if step is not None else None,
        contacts=list(contacts),
        last_supervision_on=supervised,
    )


def found(h, today_days, params=None, **kw):
    return {f.rule: f for f in evaluate(h, on(today_days), review.parameters(params), **kw)}


def weekly(scores, first_day=7, kind="02"):
    """Attended sessions a week apart with (PHQ-9, GAD-7) pairs."""
    return [contact(first_day + 7 * i, kind, "5", p, g) for i, (p, g) in enumerate(scores)]


# --- risk -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item9s", "threshold", "flagged"),
    [
        ([0], 0, False),
        ([1], 0, True),
        ([3], 0, True),
        ([2, 0], 0, False),  # only the latest PHQ-9 counts
        ([0, 1], 0, True),
        ([1], 1, False),  # a team may set the threshold higher
        ([2], 1, True),
    ],
)
def test_risk_follows_the_latest_phq9_item_9(item9s, threshold, flagged):
    contacts = [contact(7 * (i + 1), phq=12, gad=9, item9=v) for i, v in enumerate(item9s)]
    result = found(history(contacts), 60, {"risk_item9_above": threshold}).get("risk")
    assert bool(result) is flagged
    if flagged:
        assert result.severity == "red" and result.recommendation == "risk"
        assert result.evidence["phq9_item9"] == item9s[-1]
        assert result.evidence["scored_on"] == on(7 * len(item9s)).isoformat()
        assert "item 9" in result.explanation


def test_risk_ignores_contacts_without_a_phq9():
    contacts = [contact(7, phq=12, gad=9, item9=2), contact(14, attendance="3")]
    assert "risk" in found(history(contacts), 20)


# --- deterioration --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "policy", "flagged"),
    [
        ([(10, 8), (16, 8)], "no_reliable_change", True),  # PHQ-9 +6 is reliable
        ([(10, 8), (15, 8)], "no_reliable_change", False),  # +5 is not
        ([(10, 8), (10, 12)], "no_reliable_change", True),  # GAD-7 +4 is reliable
        ([(10, 8), (10, 11)], "no_reliable_change", False),
        ([(10, 12), (16, 8)], "no_reliable_change", False),  # mixed: PHQ-9 worse, GAD-7 better
        ([(10, 12), (16, 8)], "reliable_deterioration", True),  # ... unless the service counts it so
        ([(20, 15)], "no_reliable_change", False),  # one scored session: nothing to compare
        ([(10, 8), (20, 20), (12, 9)], "no_reliable_change", False),  # first to latest, not the peak
    ],
)
def test_deterioration_from_first_to_latest(scores, policy, flagged):
    result = found(history(weekly(scores)), 60, mixed_policy=policy).get("deterioration")
    assert bool(result) is flagged
    if flagged:
        assert result.severity == "red" and result.recommendation == "step_up"
        assert "Reliable deterioration" in result.explanation


def test_deterioration_with_one_measure_only():
    contacts = [contact(7, phq=8), contact(14, phq=15)]
    result = found(history(contacts), 30)["deterioration"]
    assert result.evidence["measures"]["PHQ9"] == {
        "first": 8,
        "first_on": on(7).isoformat(),
        "latest": 15,
        "latest_on": on(14).isoformat(),
        "change": 7,
        "reliable_change": 6,
        "direction": "worse",
    }
    assert "PHQ-9 rose by 7, from 8 (12 Jan 2026) to 15 (19 Jan 2026)" in result.explanation


# --- not improving --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "sessions", "flagged"),
    [(2, 3, False), (2, 4, True), (2, 5, True), (3, 7, False), (3, 8, True), (4, 20, False), (None, 10, False)],
)
def test_not_improving_review_points_by_step(step, sessions, flagged):
    scores = [(15, 12)] * sessions
    result = found(history(weekly(scores), step=step), 200).get("not_improving")
    assert bool(result) is flagged
    if flagged:
        assert result.severity == "amber" and result.recommendation == "step_up"
        assert result.evidence["attended_treatment_contacts"] == sessions


def test_not_improving_clears_with_reliable_improvement():
    assert "not_improving" not in found(history(weekly([(16, 12), (14, 11), (12, 10), (10, 9)])), 60)


def test_not_improving_when_one_measure_better_and_the_other_worse():
    assert "not_improving" in found(history(weekly([(16, 8), (14, 9), (12, 11), (10, 12)])), 60)


def test_not_improving_counts_only_attended_treatment_contacts_at_the_current_step():
    contacts = [
        contact(3, "01", "5", 15, 12),  # assessment: not treatment
        contact(7, phq=15, gad=12),  # before the step began
        contact(14, attendance="3"),  # did not attend
        contact(21, attendance="2"),  # cancelled
        contact(28, phq=15, gad=12),
        contact(35, "05", "6", 15, 12),  # review and treatment, late but seen: counts
        contact(42, "03", "5", 15, 12),
    ]
    assert "not_improving" not in found(history(contacts, step_days=10), 60)
    assert "not_improving" in found(history([*contacts, contact(49, phq=15, gad=12)], step_days=10), 60)


def test_not_improving_without_scores_says_so():
    contacts = [contact(7 * i) for i in range(1, 5)]
    result = found(history(contacts), 60)["not_improving"]
    assert "no PHQ-9 or GAD-7 scored twice" in result.explanation


def test_not_improving_review_points_recur_and_are_configurable():
    params = {"not_improving_contacts": {"2": 3}}
    five = found(history(weekly([(15, 12)] * 5)), 90, params)["not_improving"]
    six = found(history(weekly([(15, 12)] * 6)), 90, params)["not_improving"]
    assert five.episode != six.episode  # review point 1 (3-5 contacts), then 2 (6-8)
    assert found(history(weekly([(15, 12)] * 4)), 90, params)["not_improving"].episode == five.episode


# --- recovered ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "flagged"),
    [
        ([(14, 10), (9, 7), (5, 3)], True),
        ([(14, 10), (10, 7), (5, 3)], False),  # PHQ-9 10 is at caseness
        ([(14, 10), (9, 8), (5, 3)], False),  # GAD-7 8 is at caseness
        ([(9, 7)], False),  # one score is not two
        ([(14, 10), (9, 7), (12, 3)], False),  # the latest is what counts
        ([(9, 7), (9, 7), (5, 3)], False),  # never at caseness: nothing to recover from
        ([(9, 8), (9, 7), (5, 3)], True),  # GAD-7 8 at the start is caseness
    ],
)
def test_recovered_needs_the_latest_two_below_caseness(scores, flagged):
    result = found(history(weekly(scores)), 60).get("recovered")
    assert bool(result) is flagged
    if flagged:
        assert result.severity == "green"


@pytest.mark.parametrize(("step", "recommendation"), [(2, "step_out"), (3, "step_down"), (4, "step_down")])
def test_recovered_recommends_by_step(step, recommendation):
    scores = [(14, 10), (9, 7), (5, 3)]
    assert found(history(weekly(scores), step=step), 60)["recovered"].recommendation == recommendation


def test_recovered_episode_is_stable_while_below_caseness():
    three = found(history(weekly([(14, 10), (9, 7), (5, 3)])), 60)["recovered"]
    four = found(history(weekly([(14, 10), (9, 7), (5, 3), (4, 2)])), 60)["recovered"]
    assert three.episode == four.episode == f"below caseness from {on(14).isoformat()}"


# --- disengaging ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attendances", "flagged"),
    [
        (["5", "3", "3"], True),
        (["5", "3", "2", "3"], True),  # a cancellation does not break the run
        (["5", "3", "4", "3"], True),
        (["3", "5", "3"], False),  # attending breaks it
        (["5", "3"], False),
        (["3", "3", "5"], False),  # re-engaged
    ],
)
def test_disengaging_after_consecutive_dnas(attendances, flagged):
    contacts = [contact(7 * (i + 1), attendance=a) for i, a in enumerate(attendances)]
    today = 7 * len(attendances) + 1  # not yet 28 days without an attended contact
    result = found(history(contacts, status="awaiting_treatment"), today).get("disengaging")
    assert bool(result) is flagged
    if flagged:
        assert result.recommendation == "step_out" and result.severity == "amber"
        assert "Did not attend" in result.explanation


@pytest.mark.parametrize(("days", "flagged"), [(27, False), (28, True), (60, True)])
def test_disengaging_after_28_days_without_attended_contact_in_treatment(days, flagged):
    contacts = [contact(7, phq=12, gad=9)]
    assert ("disengaging" in found(history(contacts), 7 + days)) is flagged
    # Someone waiting for the service to start treatment is not disengaging (long wait covers it).
    assert "disengaging" not in found(history(contacts, status="awaiting_treatment"), 7 + days)


def test_disengaging_episode_stays_the_same_as_days_go_by():
    contacts = [contact(7, phq=12, gad=9), contact(14, attendance="3"), contact(21, attendance="3")]
    early = found(history(contacts), 30)["disengaging"]
    later = found(history(contacts), 90)["disengaging"]
    assert early.episode == later.episode == f"not attended since {on(7).isoformat()}"


# --- review overdue -------------------------------------------------------------------------------


@pytest.mark.parametrize(("days", "flagged"), [(27, False), (28, True)])
def test_review_overdue_after_28_days_without_contact(days, flagged):
    contacts = [contact(7, attendance="3")]  # any contact counts, attended or not
    assert ("review_overdue" in found(history(contacts, status="awaiting_treatment"), 7 + days)) is flagged


def test_supervision_discussion_counts_as_review():
    contacts = [contact(7, phq=12, gad=9)]
    h = history(contacts, status="awaiting_treatment", supervised=on(40))
    assert "review_overdue" not in found(h, 60)
    assert found(h, 68)["review_overdue"].evidence["since"] == on(40).isoformat()


def test_review_overdue_counts_from_referral_without_any_contact():
    h = history([], status="awaiting_assessment", step=None)
    assert "review_overdue" not in found(h, 27)
    assert "referral was received" in found(h, 28)["review_overdue"].explanation
    assert "review_overdue" not in found(h, 28, {"review_overdue_statuses": ["in_treatment"]})


# --- long wait ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("days", "severity"), [(42, None), (43, "amber"), (126, "amber"), (127, "red"), (400, "red")])
@pytest.mark.parametrize("status", ["awaiting_assessment", "awaiting_treatment"])
def test_long_wait_amber_then_red(days, severity, status):
    result = found(history([], status=status, step=None), days).get("long_wait")
    assert (result.severity if result else None) == severity


def test_long_wait_ends_when_treatment_starts():
    assert "long_wait" not in found(history([contact(50, phq=12, gad=9)], status="in_treatment"), 200)


def test_long_wait_thresholds_are_configurable():
    params = {"long_wait_amber_days": 20, "long_wait_red_days": 30}
    assert found(history([], status="awaiting_assessment"), 25, params)["long_wait"].severity == "amber"
    assert found(history([], status="awaiting_assessment"), 31, params)["long_wait"].severity == "red"


# --- the whole ------------------------------------------------------------------------------------


def test_discharged_referrals_raise_nothing():
    h = history(weekly([(10, 8), (20, 20)]), status="discharged")
    assert evaluate(h, on(400)) == []


def test_rules_can_be_turned_off_per_team():
    h = history([], status="awaiting_assessment", step=None)
    assert set(found(h, 200)) == {"review_overdue", "long_wait"}
    assert set(found(h, 200, {"rules": ["long_wait"]})) == {"long_wait"}


def test_evidence_does_not_change_as_days_pass_unless_the_severity_does():
    """Re-running the review tomorrow must not rewrite every flag: evidence holds dates, not ages."""
    contacts = [contact(7, phq=15, gad=12, item9=1), contact(14, attendance="3"), contact(21, attendance="3")]
    h = history(contacts, status="in_treatment")
    a, b = found(h, 50), found(h, 51)
    assert {r: (f.evidence, f.explanation, f.episode) for r, f in a.items()} == {
        r: (f.evidence, f.explanation, f.episode) for r, f in b.items()
    }


def test_codes_match_the_flag_model():
    from stepped_care.models import FlagRule, Recommendation, Severity

    assert set(review.RULES) == set(FlagRule.values)
    assert {review.STEP_UP, review.STEP_DOWN, review.STEP_OUT, review.REVIEW, "risk"} == set(Recommendation.values)
    assert {review.RED, review.AMBER, review.GREEN} == set(Severity.values)


def test_the_rule_module_is_pure():
    """No ORM, no clock: it imports only the standard library and other pure rule modules."""
    tree = ast.parse(Path(review.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    assert imported <= {
        "__future__",
        "datetime",
        "copy",
        "dataclasses",
        "functools",
        "outcomes.scoring",
        "outcomes.trajectories",
    }
    source = Path(review.__file__).read_text()
    assert "date.today" not in source and "datetime.now" not in source and "timezone" not in source


# --- parameters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"long_wait_days": 10}, "long_wait_days"),
        ({"rules": ["risk", "nonsense"]}, "rules"),
        ({"review_overdue_days": 0}, "review_overdue_days"),
        ({"review_overdue_days": "28"}, "review_overdue_days"),
        ({"risk_item9_above": 3}, "risk_item9_above"),
        ({"not_improving_contacts": {"2": 0}}, "not_improving_contacts"),
        ({"not_improving_contacts": {"9": 4}}, "not_improving_contacts"),
        ({"long_wait_amber_days": 130}, "long_wait_red_days"),
        ({"review_overdue_statuses": ["discharged"]}, "review_overdue_statuses"),
    ],
)
def test_bad_parameters_are_named(overrides, field):
    assert field in review.validate_parameters(overrides)
    with pytest.raises(review.ParameterError) as raised:
        review.parameters(overrides)
    assert field in raised.value.errors
    lenient = review.parameters(overrides, strict=False)
    assert {k: v for k, v in lenient.items() if k in review.DEFAULT_PARAMETERS} == review.DEFAULT_PARAMETERS


def test_good_parameters_override_only_what_they_name():
    params = review.parameters({"not_improving_contacts": {"2": 6}, "long_wait_red_days": 100})
    assert params["not_improving_contacts"] == {"2": 6}
    assert params["long_wait_red_days"] == 100
    assert params["long_wait_amber_days"] == 42
    assert review.DEFAULT_PARAMETERS["long_wait_red_days"] == 126  # defaults untouched


def test_evidence_lines_read_as_words():
    result = found(history(weekly([(10, 8), (16, 8)])), 60)["deterioration"]
    lines = dict(review.evidence_lines(result.rule, result.evidence))
    assert lines["PHQ-9"] == "10 on 12 Jan 2026 → 16 on 19 Jan 2026 (+6; reliable change 6)"


@pytest.mark.parametrize(
    ("rule", "contacts", "status", "words"),
    [
        ("risk", [contact(7, phq=12, gad=9, item9=0)], "in_treatment", "has item 9 at 0"),
        ("disengaging", [contact(7, phq=12, gad=9)], "in_treatment", "Attended on 12 Jan 2026"),
        ("long_wait", [contact(7, phq=12, gad=9)], "in_treatment", "Treatment has started"),
        ("review_overdue", [contact(7)], "in_treatment", "latest contact or supervision discussion on 12 Jan"),
    ],
)
def test_clear_reasons_say_why(rule, contacts, status, words):
    assert words in review.clear_reason(rule, history(contacts, status=status), on(10))


# --- property: any history gives JSON-safe, deterministic findings ---------------------------------

contacts_strategy = st.lists(
    st.tuples(
        st.integers(0, 300),
        st.sampled_from(["01", "02", "03", "05"]),
        st.sampled_from(["2", "3", "4", "5", "6", "7"]),
        st.one_of(st.none(), st.integers(0, 27)),
        st.integers(0, 3),
        st.one_of(st.none(), st.integers(0, 21)),
    ),
    max_size=15,
)


@settings(max_examples=200, deadline=None)
@given(
    raw=contacts_strategy,
    status=st.sampled_from(["awaiting_assessment", "awaiting_treatment", "in_treatment"]),
    step=st.sampled_from([None, 1, 2, 3, 4, 5]),
    today=st.integers(0, 500),
)
def test_any_history_gives_json_safe_repeatable_findings(raw, status, step, today):
    contacts = []
    for d, kind, att, phq, i9, gad in sorted(raw, key=lambda c: c[0]):
        attended = att in ("5", "6")
        phq = phq if attended else None
        contacts.append((on(d), kind, att, phq, i9 if phq is not None else None, gad if attended else None))
    h = History(status, START, step, START if step else None, contacts, None)
    first = evaluate(h, on(today + 300))
    assert first == evaluate(h, on(today + 300))
    assert len({f.rule for f in first}) == len(first)
    for f in first:
        json.dumps(f.evidence)
        assert f.explanation and f.episode
        assert review.evidence_lines(f.rule, f.evidence) is not None
