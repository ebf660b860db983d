"""Recording supervision: decisions act through the shared services, all or nothing, append-only."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from common.exceptions import Conflict
from common.models import AuditEvent
from referrals.models import Referral
from referrals.services import log_contact
from stepped_care.models import FlagStatus, Role, StepAssignment, StepSource
from supervision import services
from supervision.models import CaseDecision, SupervisionRelationship, SupervisionSession, SupervisionType
from tests.factories import RelationshipFactory, StaffFactory

from .conftest import ago, make_referral, open_flag, today

pytestmark = pytest.mark.django_db


def cms(supervisor, pwp, decisions=(), **kw):
    args = dict(
        by=supervisor,
        kind=SupervisionType.CASE_MANAGEMENT,
        date=today(),
        minutes=60,
        supervisor=supervisor,
        supervisees=[pwp],
        decisions=list(decisions),
    )
    args.update(kw)
    return services.record_session(**args)


def snapshot():
    return (
        SupervisionSession.objects.count(),
        CaseDecision.objects.count(),
        StepAssignment.objects.count(),
        Referral.objects.filter(status="discharged").count(),
        AuditEvent.objects.count(),
    )


def test_a_step_up_changes_the_step_and_accepts_the_flag(supervisor, pwp):
    referral = make_referral(pwp)
    flag = open_flag(referral, "not_improving", "step_up", explanation="No reliable improvement by session 6")
    session = cms(supervisor, pwp, [{"referral": referral, "decision": "step_up", "notes": "Refer for CBT"}])

    referral.refresh_from_db()
    flag.refresh_from_db()
    decision = session.decisions.get()
    assert referral.current_step == 3
    step = decision.step_assignment
    assert (step.step, step.source, step.flag_id, step.decided_by_id) == (
        3,
        StepSource.SUPERVISION,
        flag.pk,
        supervisor.pk,
    )
    assert "Refer for CBT" in step.reason and "Supervision on" in step.reason
    assert flag.status == FlagStatus.ACCEPTED
    assert flag.resolved_by_id == supervisor.pk and flag.resolved_at is not None
    assert list(decision.flags_resolved.all()) == [flag]
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"supervision.session.create", "supervision.decision", "step.change", "flag.accept"} <= actions


def test_continue_dismisses_step_proposals_but_leaves_risk_open(supervisor, pwp):
    referral = make_referral(pwp)
    proposal = open_flag(referral, "not_improving", "step_up")
    risk = open_flag(referral, "risk", "risk", "red")
    cms(supervisor, pwp, [{"referral": referral, "decision": "continue"}])
    proposal.refresh_from_db()
    risk.refresh_from_db()
    assert proposal.status == FlagStatus.DISMISSED
    assert risk.status == FlagStatus.OPEN
    referral.refresh_from_db()
    assert referral.current_step == 2


def test_a_risk_plan_accepts_the_risk_flag(supervisor, pwp):
    referral = make_referral(pwp)
    risk = open_flag(referral, "risk", "risk", "red")
    cms(supervisor, pwp, [{"referral": referral, "decision": "risk_plan", "notes": "Safety plan agreed"}])
    risk.refresh_from_db()
    assert risk.status == FlagStatus.ACCEPTED


def test_refer_on_discharges_with_end_code_13_and_closes_every_flag(supervisor, pwp):
    referral = make_referral(pwp)
    log_contact(referral=referral, by=pwp, date=today() - dt.timedelta(days=5), appointment_type="01", attendance="5")
    step_out = open_flag(referral, "recovered", "step_out", "green")
    other = open_flag(referral, "not_improving", "step_up")
    cms(supervisor, pwp, [{"referral": referral, "decision": "refer_on"}])
    referral.refresh_from_db()
    assert (referral.status, referral.end_code, referral.discharged_on) == ("discharged", "13", today())
    step_out.refresh_from_db()
    other.refresh_from_db()
    assert step_out.status == FlagStatus.ACCEPTED
    assert other.status == FlagStatus.CLEARED  # closed by the discharge itself


def test_a_discharge_needs_an_end_code_and_nothing_is_saved_without_one(supervisor, pwp):
    good = make_referral(pwp, family="Good")
    bad = make_referral(pwp, family="Bad")
    before = snapshot()
    with pytest.raises(ValidationError) as err:
        cms(
            supervisor,
            pwp,
            [{"referral": good, "decision": "step_up"}, {"referral": bad, "decision": "discharge"}],
        )
    assert "decisions.1.end_code" in err.value.message_dict
    assert "end code" in err.value.message_dict["decisions.1.end_code"][0]
    assert snapshot() == before
    good.refresh_from_db()
    assert good.current_step == 2  # the first decision's step change was rolled back too


@pytest.mark.parametrize(
    ("entry", "key", "fragment"),
    [
        ({"decision": "step_down", "to_step": 3}, "decisions.0.to_step", "below the current step"),
        ({"decision": "step_up", "to_step": 2}, "decisions.0.to_step", "above the current step"),
        ({"decision": "continue", "to_step": 3}, "decisions.0.to_step", "Only a step up or step down"),
        ({"decision": "continue", "end_code": "46"}, "decisions.0.end_code", "Only a discharge"),
        ({"decision": "maybe"}, "decisions.0.decision", "Choose a decision"),
    ],
)
def test_bad_decisions_name_their_row_and_field(supervisor, pwp, entry, key, fragment):
    referral = make_referral(pwp)
    before = snapshot()
    with pytest.raises(ValidationError) as err:
        cms(supervisor, pwp, [{"referral": referral, **entry}])
    assert fragment in " ".join(err.value.message_dict[key])
    assert snapshot() == before


def test_only_cases_of_the_sessions_supervisees_can_be_decided(supervisor, pwp, colleague):
    other = make_referral(colleague)
    with pytest.raises(ValidationError) as err:
        cms(supervisor, pwp, [{"referral": other, "decision": "continue"}])
    assert "not on the caseload" in err.value.message_dict["decisions.0.referral"][0]


def test_one_decision_per_case_and_session(supervisor, pwp):
    referral = make_referral(pwp)
    with pytest.raises(ValidationError) as err:
        cms(
            supervisor,
            pwp,
            [{"referral": referral, "decision": "continue"}, {"referral": referral, "decision": "risk_plan"}],
        )
    assert "already has a decision" in err.value.message_dict["decisions.1.referral"][0]


def test_a_stale_version_is_refused(supervisor, pwp):
    referral = make_referral(pwp)
    before = snapshot()
    with pytest.raises(Conflict):
        cms(supervisor, pwp, [{"referral": referral, "decision": "step_up", "version": referral.version - 1}])
    assert snapshot() == before


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"date": ago(-1)}, "date", "future"),
        ({"date": None}, "date", "date"),
        ({"minutes": 0}, "minutes", "1 to 600"),
        ({"minutes": None}, "minutes", "length"),
        ({"kind": "coffee"}, "kind", "kind"),
        ({"supervisees": []}, "supervisees", "at least one"),
        ({"sign_off": True, "by": "pwp"}, "sign_off", "Only the supervisor"),
    ],
)
def test_bad_sessions_are_refused_naming_the_field(supervisor, pwp, change, field, fragment):
    if change.get("by") == "pwp":
        change["by"] = pwp
    before = snapshot()
    with pytest.raises(ValidationError) as err:
        cms(supervisor, pwp, **change)
    assert fragment in " ".join(err.value.message_dict[field])
    assert snapshot() == before


def test_case_management_is_individual(supervisor, pwp, colleague):
    RelationshipFactory(supervisor=supervisor, supervisee=colleague)
    with pytest.raises(ValidationError) as err:
        cms(supervisor, pwp, supervisees=[pwp, colleague])
    assert "at most 1 supervisee" in err.value.message_dict["supervisees"][0]


def test_clinical_skills_groups_hold_at_most_twelve(team, skills_supervisor):
    people = [StaffFactory(username=f"group{n}", team=team, role=Role.PWP) for n in range(13)]
    args = dict(
        by=skills_supervisor,
        kind=SupervisionType.CLINICAL_SKILLS,
        date=today(),
        minutes=60,
        supervisor=skills_supervisor,
    )
    with pytest.raises(ValidationError) as err:
        services.record_session(supervisees=people, **args)
    assert "at most 12 supervisees; 13 were chosen" in err.value.message_dict["supervisees"][0]
    session = services.record_session(supervisees=people[:12], **args)
    assert session.supervisees.count() == 12


def test_clinical_skills_sessions_take_no_case_decisions(skills_supervisor, pwp):
    referral = make_referral(pwp)
    with pytest.raises(ValidationError) as err:
        services.record_session(
            by=skills_supervisor,
            kind=SupervisionType.CLINICAL_SKILLS,
            date=today(),
            minutes=60,
            supervisor=skills_supervisor,
            supervisees=[pwp],
            decisions=[{"referral": referral, "decision": "continue"}],
        )
    assert "decisions" in err.value.message_dict


def test_only_the_supervisor_or_a_supervisee_records(supervisor, pwp, colleague):
    with pytest.raises(PermissionDenied) as err:
        cms(supervisor, pwp, by=colleague)
    assert "the supervisor or a supervisee of the session" in str(err.value)


def test_a_supervisor_needs_the_role_or_a_relationship(team, pwp, colleague):
    with pytest.raises(ValidationError) as err:
        cms(colleague, pwp, by=pwp)
    assert "is not a supervisor" in err.value.message_dict["supervisor"][0]


def test_a_pwp_records_and_the_supervisor_signs_off(supervisor, pwp):
    referral = make_referral(pwp)
    session = cms(supervisor, pwp, [{"referral": referral, "decision": "continue"}], by=pwp)
    assert not session.signed_off
    with pytest.raises(PermissionDenied):
        services.sign_off_session(session=session, by=pwp)
    # Before sign-off, a forgotten case can still be added.
    late = make_referral(pwp, family="Late")
    services.add_decisions(session=session, by=pwp, decisions=[{"referral": late, "decision": "continue"}])
    services.sign_off_session(session=session, by=supervisor)
    session.refresh_from_db()
    assert session.signed_off_by == supervisor
    with pytest.raises(ValidationError):
        services.sign_off_session(session=session, by=supervisor)
    with pytest.raises(ValidationError) as err:
        services.add_decisions(
            session=session, by=supervisor, decisions=[{"referral": make_referral(pwp), "decision": "continue"}]
        )
    assert "signed off" in err.value.message_dict["session"][0]


def test_a_correction_marks_the_old_decision_and_adds_a_new_one(supervisor, pwp):
    referral = make_referral(pwp)
    session = cms(supervisor, pwp, [{"referral": referral, "decision": "continue"}], by=pwp)
    services.sign_off_session(session=session, by=supervisor)
    old = session.decisions.get()
    with pytest.raises(PermissionDenied):
        services.correct_decision(decision=old, reason="Wrong case", by=pwp, new={"decision": "step_up"})
    with pytest.raises(ValidationError) as err:
        services.correct_decision(decision=old, reason="  ", by=supervisor, new={"decision": "step_up"})
    assert "reason" in err.value.message_dict
    new = services.correct_decision(
        decision=old, reason="We agreed a step up", by=supervisor, new={"decision": "step_up", "notes": "CBT"}
    )
    old.refresh_from_db()
    referral.refresh_from_db()
    assert old.entered_in_error and old.error_reason == "We agreed a step up"
    assert new.corrects == old and new.decision == "step_up"
    assert referral.current_step == 3
    assert list(CaseDecision.objects.valid().filter(referral=referral)) == [new]
    assert CaseDecision.objects.filter(referral=referral).count() == 2  # nothing deleted


def test_a_session_entered_in_error_stays_but_stops_counting(supervisor, pwp):
    referral = make_referral(pwp)
    session = cms(supervisor, pwp, [{"referral": referral, "decision": "continue"}])
    with pytest.raises(ValidationError):
        services.mark_session_in_error(session=session, reason="", by=supervisor)
    services.mark_session_in_error(session=session, reason="Recorded for the wrong PWP", by=supervisor)
    session.refresh_from_db()
    assert session.entered_in_error
    assert not CaseDecision.objects.valid().exists()
    assert CaseDecision.objects.count() == 1


def test_managers_assign_supervisors_with_the_service_defaults(manager, pwp, supervisor):
    rel = services.create_relationship(
        by=manager, supervisor=supervisor, supervisee=pwp, kind=SupervisionType.CLINICAL_SKILLS
    )
    assert (rel.frequency_days, rel.minutes, rel.started_on) == (14, 60, today())
    with pytest.raises(ValidationError) as err:
        services.create_relationship(
            by=manager, supervisor=supervisor, supervisee=pwp, kind=SupervisionType.CLINICAL_SKILLS
        )
    assert "already gives" in err.value.message_dict["supervisee"][0]
    with pytest.raises(ValidationError) as err:
        services.create_relationship(by=manager, supervisor=pwp, supervisee=pwp, kind=SupervisionType.PROFESSIONAL)
    assert "themselves" in err.value.message_dict["supervisor"][0]
    with pytest.raises(PermissionDenied):
        services.create_relationship(by=pwp, supervisor=supervisor, supervisee=pwp, kind=SupervisionType.PROFESSIONAL)
    services.end_relationship(relationship=rel, by=manager)
    rel.refresh_from_db()
    assert rel.ended_on == today()
    with pytest.raises(ValidationError):
        services.end_relationship(relationship=rel, by=manager)


def test_a_team_can_override_the_defaults(team, manager, pwp, supervisor):
    team.review_parameters = {"supervision": {"kinds": {"clinical_skills": {"frequency_days": 21}}}}
    team.save()
    rel = services.create_relationship(
        by=manager, supervisor=supervisor, supervisee=pwp, kind=SupervisionType.CLINICAL_SKILLS
    )
    assert (rel.frequency_days, rel.minutes) == (21, 60)


def test_managers_of_another_team_cannot_assign(other_team, pwp, supervisor):
    stranger = StaffFactory(username="mgr_x", team=other_team, role=Role.MANAGER)
    with pytest.raises(PermissionDenied):
        services.create_relationship(
            by=stranger, supervisor=supervisor, supervisee=pwp, kind=SupervisionType.PROFESSIONAL
        )
    assert SupervisionRelationship.objects.filter(kind=SupervisionType.PROFESSIONAL).count() == 0


def test_demo_sessions_are_believable_and_idempotent(team, supervisor, pwp, skills_supervisor):
    make_referral(pwp, received_days_ago=90)
    made = services.seed_demo_sessions(team, weeks=6)
    assert made > 0
    assert SupervisionSession.objects.filter(kind=SupervisionType.CASE_MANAGEMENT).count() == 5  # one week missed
    assert SupervisionSession.objects.filter(kind=SupervisionType.CLINICAL_SKILLS).count() == 3
    assert not SupervisionSession.objects.filter(signed_off_at__isnull=True).exists()
    assert services.seed_demo_sessions(team, weeks=6) == 0
