"""The prepared list and compliance: right cases, right order, scoped, and a fixed number of queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stepped_care.models import Role
from supervision import queries, services
from supervision.models import SupervisionType
from tests.factories import RelationshipFactory, StaffFactory

from .conftest import GAD_MODERATE, PHQ_MODERATE, PHQ_SEVERE, ago, log, make_referral, open_flag, today

pytestmark = pytest.mark.django_db


def listed(viewer, supervisee, **kw):
    return queries.case_list(viewer, supervisee, today=today(), **kw)


def test_the_list_holds_the_cases_due_most_urgent_first(supervisor, pwp):
    quiet = make_referral(pwp, received_days_ago=10, family="Quiet")
    risky = make_referral(pwp, received_days_ago=10, family="Risky")
    open_flag(risky, "risk", "risk", "red", "PHQ-9 item 9 scored 2")
    stuck = make_referral(pwp, received_days_ago=10, family="Stuck")
    open_flag(stuck, "not_improving", "step_up")
    new = make_referral(pwp, received_days_ago=10, family="New")
    log(new, pwp, 2, appointment_type="01", phq9=PHQ_MODERATE, gad7=GAD_MODERATE)
    missing = make_referral(pwp, received_days_ago=10, family="Missing")
    log(missing, pwp, 3, attendance="3")
    make_referral(pwp, received_days_ago=45, family="Old")

    prepared = listed(supervisor, pwp)
    names = [r.patient.family_name for r in prepared.rows]
    assert names[:2] == ["Risky", "Stuck"]
    assert set(names) == {"Risky", "Stuck", "New", "Missing", "Old"}
    assert names.index("New") < names.index("Missing") < names.index("Old")
    why = {r.patient.family_name: [reason.kind for reason in r.reasons] for r in prepared.rows}
    assert why["Risky"][0] == "risk" and why["Stuck"][0] == "not_improving"
    assert "new_assessment" in why["New"] and "dna" in why["Missing"] and why["Old"] == ["not_discussed"]
    assert "PHQ-9 item 9 scored 2" in prepared.rows[0].why
    assert quiet.pk not in {r.referral.pk for r in prepared.rows}
    everything = listed(supervisor, pwp, include_all=True)
    assert everything.rows[-1].referral == quiet and not everything.rows[-1].listed


def test_rows_carry_step_sessions_scores_trend_and_last_decision(supervisor, pwp):
    referral = make_referral(pwp, received_days_ago=70)
    log(referral, pwp, 60, appointment_type="01", phq9=PHQ_MODERATE, gad7=GAD_MODERATE)
    log(referral, pwp, 50, phq9=PHQ_SEVERE, gad7=GAD_MODERATE)
    services.record_session(
        by=supervisor,
        kind=SupervisionType.CASE_MANAGEMENT,
        date=ago(40),
        minutes=60,
        supervisor=supervisor,
        supervisees=[pwp],
        decisions=[{"referral": referral, "decision": "continue", "notes": "Review in 2 weeks"}],
    )
    row = listed(supervisor, pwp).rows[0]
    assert row.step == 2 and row.step_label.startswith("Step 2")
    assert row.sessions == 1 and row.dna_count == 0
    phq = row.trends["phq9"]
    assert (phq.first, phq.first_severity, phq.latest, phq.latest_severity) == (10, "moderate", 19, "moderately severe")
    assert phq.direction == "deteriorated"
    assert row.last_decision["label"] == "Continue at the current step"
    assert row.last_decision["date"] == ago(40) and row.last_decision["notes"] == "Review in 2 weeks"
    assert [r.kind for r in row.reasons] == ["not_discussed"]  # deteriorated before the last discussion


def test_a_discussed_case_leaves_the_list(supervisor, pwp):
    referral = make_referral(pwp, received_days_ago=45)
    assert listed(supervisor, pwp).rows
    services.record_session(
        by=supervisor,
        kind=SupervisionType.CASE_MANAGEMENT,
        date=today(),
        minutes=60,
        supervisor=supervisor,
        supervisees=[pwp],
        decisions=[{"referral": referral, "decision": "continue"}],
    )
    assert listed(supervisor, pwp).rows == []
    assert listed(supervisor, pwp).last_session_on == today()


def test_who_may_see_a_list(supervisor, pwp, colleague, manager, outsider, administrator):
    visible = queries.staff_visible_to
    assert pwp in visible(pwp) and pwp in visible(supervisor) and pwp in visible(manager)
    assert pwp in visible(administrator)
    assert pwp not in visible(colleague) and pwp not in visible(outsider)
    # A supervisor's list only shows referrals the supervisor may see (their supervisees').
    make_referral(pwp, received_days_ago=45)
    assert len(listed(supervisor, pwp).rows) == 1
    assert listed(outsider, pwp).rows == []


def build_caseload(pwp, n):
    for i in range(n):
        referral = make_referral(pwp, received_days_ago=40, family=f"Case{i}")
        open_flag(referral, "risk" if i % 2 else "not_improving", "risk" if i % 2 else "step_up")
        log(referral, pwp, 30 - i % 5, appointment_type="01" if i % 3 else "02", phq9=PHQ_MODERATE, gad7=GAD_MODERATE)
        log(referral, pwp, 5, attendance="3")


def count_queries(func):
    with CaptureQueriesContext(connection) as ctx:
        func()
    return len(ctx.captured_queries)


def test_the_list_runs_a_fixed_number_of_queries(supervisor, pwp):
    build_caseload(pwp, 1)
    one = count_queries(lambda: listed(supervisor, pwp))
    build_caseload(pwp, 12)
    many = count_queries(lambda: listed(supervisor, pwp))
    assert len(listed(supervisor, pwp).rows) == 13
    assert one == many <= 6


# ---- Compliance ---------------------------------------------------------------------------------


def weekly_cms(supervisor, supervisee, weeks, minutes=60, skip=()):
    for week in range(weeks):
        if week in skip:
            continue
        services.record_session(
            by=supervisor,
            kind=SupervisionType.CASE_MANAGEMENT,
            date=ago(7 * week + 1),
            minutes=minutes,
            supervisor=supervisor,
            supervisees=[supervisee],
        )


def fortnightly_skills(supervisor, members, weeks):
    for fortnight in range(weeks // 2):
        services.record_session(
            by=supervisor,
            kind=SupervisionType.CLINICAL_SKILLS,
            date=ago(14 * fortnight + 3),
            minutes=60,
            supervisor=supervisor,
            supervisees=members,
        )


def test_a_pwp_supervised_as_the_guidance_asks_is_compliant(supervisor, skills_supervisor, pwp):
    weekly_cms(supervisor, pwp, 8)
    fortnightly_skills(skills_supervisor, [pwp], 8)
    [row] = queries.compliance([pwp], today=today(), weeks=8)
    assert row["met"] is True
    cms, skills = row["requirements"]
    assert (cms["kind"], cms["periods_met"], cms["periods_due"], cms["min_minutes"]) == ("case_management", 8, 8, 60)
    assert (skills["kind"], skills["periods_met"], skills["periods_due"]) == ("clinical_skills", 4, 4)
    assert cms["last_session_on"] == ago(1)
    assert row["hi_cases"] is None and row["unsigned_sessions"] == 12


def test_a_missed_week_or_a_short_session_breaks_compliance(supervisor, skills_supervisor, pwp, colleague):
    RelationshipFactory(supervisor=supervisor, supervisee=colleague)
    weekly_cms(supervisor, pwp, 8, skip={3})
    weekly_cms(supervisor, colleague, 8, minutes=45)
    fortnightly_skills(skills_supervisor, [pwp], 8)
    rows = {r["staff_id"]: r for r in queries.compliance([pwp, colleague], today=today(), weeks=8)}
    assert rows[pwp.pk]["met"] is False
    assert rows[pwp.pk]["requirements"][0]["periods_met"] == 7
    missed = [p for p in rows[pwp.pk]["requirements"][0]["periods"] if not p["met"]]
    assert len(missed) == 1 and missed[0]["sessions"] == 0
    assert rows[colleague.pk]["requirements"][0]["periods_met"] == 0  # 45 minutes is not an hour
    assert rows[colleague.pk]["requirements"][1]["supervisor_assigned"] is False


def test_sessions_entered_in_error_do_not_count(supervisor, pwp):
    weekly_cms(supervisor, pwp, 1)
    session = pwp.supervision_sessions_received.get()
    services.mark_session_in_error(session=session, reason="Wrong person", by=supervisor)
    [row] = queries.compliance([pwp], today=today(), weeks=1)
    assert row["requirements"][0]["periods_met"] == 0


def test_high_intensity_cases_must_be_reviewed_within_four_weeks(supervisor, hit):
    due = make_referral(hit, received_days_ago=60, step=3, family="Due")
    log(due, hit, 50, phq9=PHQ_MODERATE)
    reviewed = make_referral(hit, received_days_ago=60, step=3, family="Reviewed")
    log(reviewed, hit, 50, phq9=PHQ_MODERATE)
    fresh = make_referral(hit, received_days_ago=10, step=3, family="Fresh")
    log(fresh, hit, 8, phq9=PHQ_MODERATE)
    for week in range(8):
        services.record_session(
            by=supervisor,
            kind=SupervisionType.HIGH_INTENSITY,
            date=ago(7 * week + 2),
            minutes=60,
            supervisor=supervisor,
            supervisees=[hit],
            decisions=[{"referral": reviewed, "decision": "continue"}] if week == 1 else [],
        )
    [row] = queries.compliance([hit], today=today(), weeks=8)
    assert row["requirements"][0]["met"] is True
    hi = row["hi_cases"]
    assert (hi["active"], hi["reviewed"], hi["met"]) == (3, 2, False)
    assert [o["referral_id"] for o in hi["overdue"]] == [due.pk]
    assert row["met"] is False


def test_compliance_runs_a_fixed_number_of_queries(team, supervisor, pwp, hit):
    weekly_cms(supervisor, pwp, 2)
    one = count_queries(lambda: queries.team_compliance(team, today=today(), weeks=4))
    for n in range(6):
        person = StaffFactory(username=f"pwp_many{n}", team=team, role=Role.PWP if n % 2 else Role.HI_THERAPIST)
        RelationshipFactory(
            supervisor=supervisor,
            supervisee=person,
            kind=SupervisionType.CASE_MANAGEMENT if n % 2 else SupervisionType.HIGH_INTENSITY,
        )
        make_referral(person, received_days_ago=50, step=3)
        weekly_cms(supervisor, person, 2) if n % 2 else None
    many_rows = []
    many = count_queries(lambda: many_rows.extend(queries.team_compliance(team, today=today(), weeks=4)))
    assert len(many_rows) >= 8
    assert one == many <= 5


def test_the_dashboard_summary(supervisor, pwp, colleague, team):
    weekly_cms(supervisor, pwp, 4)
    rows = queries.team_compliance(team, today=today(), weeks=4)
    summary = queries.compliance_summary(rows)
    assert summary["assessed"] >= 2 and summary["met"] == 0  # nobody has clinical skills supervision yet
    assert summary["share"] == 0


def test_periods_before_a_new_relationship_are_not_due(team, supervisor):
    newcomer = StaffFactory(username="newcomer", team=team, role=Role.PWP)
    RelationshipFactory(supervisor=supervisor, supervisee=newcomer, started_on=ago(5))
    RelationshipFactory(
        supervisor=supervisor, supervisee=newcomer, kind=SupervisionType.CLINICAL_SKILLS, started_on=ago(5)
    )
    services.record_session(
        by=supervisor,
        kind=SupervisionType.CASE_MANAGEMENT,
        date=ago(1),
        minutes=60,
        supervisor=supervisor,
        supervisees=[newcomer],
    )
    services.record_session(
        by=supervisor,
        kind=SupervisionType.CLINICAL_SKILLS,
        date=ago(2),
        minutes=60,
        supervisor=supervisor,
        supervisees=[newcomer],
    )
    [row] = queries.compliance([newcomer], today=today(), weeks=8)
    assert row["met"] is True
    assert row["requirements"][0]["periods_due"] == 1


def test_window_is_configurable(team, supervisor, pwp):
    assert queries.parameters(team)["compliance"]["weeks"] == 8
    team.review_parameters = {"supervision": {"compliance": {"weeks": 4}}}
    [row] = queries.compliance([pwp], today=today(), team=team)
    assert len(row["requirements"][0]["periods"]) == 4
    assert isinstance(row["requirements"][0]["periods"][0]["start"], dt.date)


# (received days ago, first treatment days ago, step changed days ago, last discussed days ago) -> overdue?
# The review window is 28 days: a reference date 28 days ago is in time, 29 days ago is overdue.
HI_REVIEW_CASES = [
    ((60, 50, None, None), True),  # never discussed, active for 50 days
    ((29, 29, None, None), True),
    ((28, 28, None, None), False),
    ((60, 50, 28, None), False),  # stepped up 28 days ago: the clock restarted
    ((60, 50, 29, None), True),
    ((60, 40, None, 28), False),  # discussed 28 days ago
    ((60, 40, None, 29), True),
    ((60, 40, 5, 29), True),  # a discussion, once held, is the reference (not the later step change)
]


def test_high_intensity_review_clock_in_sql_matches_the_rule(supervisor, hit):
    """The database's overdue count and list agree, case by case, with ``rules.hi_case_overdue``."""
    from stepped_care.services import change_step
    from supervision import rules

    expected = {}
    for n, ((received, treated, stepped, discussed), overdue) in enumerate(HI_REVIEW_CASES):
        referral = make_referral(hit, received_days_ago=received, step=2, family=f"Case{n}")
        log(referral, hit, treated, phq9=PHQ_MODERATE)
        if stepped is not None:
            change_step(referral=referral, step=3, reason="Stepped up", by=hit, source="clinician", on=ago(stepped))
        if discussed is not None:
            services.record_session(
                by=supervisor,
                kind=SupervisionType.HIGH_INTENSITY,
                date=ago(discussed),
                minutes=60,
                supervisor=supervisor,
                supervisees=[hit],
                decisions=[{"referral": referral, "decision": "continue"}],
            )
        active_since = max(d for d in (ago(received), ago(treated), ago(stepped) if stepped else None) if d)
        gap = rules.hi_case_overdue(
            active_since=active_since, last_discussed_on=ago(discussed) if discussed else None, today=today(), days=28
        )
        assert (gap is not None) is overdue, HI_REVIEW_CASES[n]
        expected[referral.pk] = gap
    for detail in (True, False):
        cases = queries.high_intensity_cases([hit.pk], today=today(), days=28, detail=detail)[hit.pk]
        assert cases["active"] == len(HI_REVIEW_CASES)
        assert cases["overdue_count"] == sum(1 for _, overdue in HI_REVIEW_CASES if overdue)
        if detail:
            listed = {o["referral_id"]: o["days_since_review"] for o in cases["overdue"]}
            assert listed == {pk: gap for pk, gap in expected.items() if gap is not None}
        else:
            assert cases["overdue"] == []
