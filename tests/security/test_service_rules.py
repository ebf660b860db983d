"""The services are where the rulebook is enforced: each write service, called directly (no page, no
API), for every persona. Whoever the access matrix allows to make the write through a door may make it
here; everyone else is refused with PermissionDenied (an outsider or a colleague who would get a 404
at the door too: a service has no door to hide behind) and nothing is written.

So a future door (a command, a task, a new view) cannot forget a check: there is none to forget.
"""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction

from appointments import services as appointments
from common.models import AuditEvent
from common.permissions import NotAllowed
from dataset import imports as dataset_imports
from dataset import rules as dataset_rules
from dataset import services as dataset
from frontdoor import services as frontdoor
from referrals import services as referrals
from stepped_care import services as stepped_care
from stepped_care.models import StepSource
from supervision import services as supervision
from workshops import services as workshops

from . import matrix
from .conftest import PERSONAS
from .test_access_matrix import _changes_since, _last_event

STAFF = [p for p in PERSONAS if p != "anonymous"]


def _day(s, days_ago):
    return s.today - dt.timedelta(days=days_ago)


def _facilitator(s, u):
    return u if u.is_clinician else s.treating


def _at(s, days_ahead, hour):
    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(s.today + dt.timedelta(days=days_ahead), dt.time(hour)))


def _correction(s):
    return {"decision": "continue", "notes": "Review in two weeks"}


# service name → (the route whose write it is, in matrix.py; the call, given the scenario and the user)
SERVICES = {
    "create_patient": (
        "patient-list",
        lambda s, u: referrals.create_patient(
            by=u, given_name="Robin", family_name="Newcomer", date_of_birth=dt.date(1990, 2, 3)
        ),
    ),
    "find_or_register_patient": (
        "patient-list",
        lambda s, u: referrals.find_or_register_patient(
            None, dt.date(1990, 2, 3), by=u, given_name="Robin", family_name="Newcomer"
        ),
    ),
    "save_session_draft": (
        "referrals:session_draft",
        lambda s, u: referrals.save_session_draft(
            referral=s.referral, by=u, posted={"date": [str(_day(s, 1))], "notes": ["Typed so far"]}
        ),
    ),
    "update_patient": (
        "patient-detail",
        lambda s, u: referrals.update_patient(
            patient=s.patient, by=u, expected_version=s.version(s.patient), phone="01234 567890"
        ),
    ),
    "create_referral": (
        "referral-list",
        lambda s, u: referrals.create_referral(
            by=u, patient=s.patient, received_on=s.today, source="gp", presenting_problem="depression"
        ),
    ),
    "allocate": (
        "referral-allocate",
        lambda s, u: referrals.allocate(referral=s.referral, clinician=s.users["colleague"], by=u),
    ),
    "log_contact": (
        "contact-list",
        lambda s, u: referrals.log_contact(
            referral=s.referral, by=u, date=_day(s, 1), appointment_type="02", attendance="5"
        ),
    ),
    "mark_contact_in_error": (
        "contact-entered-in-error",
        lambda s, u: referrals.mark_contact_in_error(contact=s.contact, reason="Logged twice", by=u),
    ),
    "record_presenting_problem": (
        "referral-presenting-problems",
        lambda s, u: referrals.record_presenting_problem(
            referral=s.referral, code="F32.1", significance="primary", recorded_on=_day(s, 1), by=u
        ),
    ),
    "send_questionnaire_link": (
        "frontdoor:send_link",
        lambda s, u: frontdoor.send_questionnaire_link(
            referral=s.referral, channel="sms", by=u, url_for=lambda token: f"https://tt.example/q/{token}/"
        ),
    ),
    "discharge": ("referral-discharge", lambda s, u: stepped_care.discharge(referral=s.referral, end_code="46", by=u)),
    # The one decision service (flag resolution and supervision decisions act through it), called as a
    # clinician's own step change: it is held to the same rule as the step form.
    "decide": (
        "referral-steps",
        lambda s, u: stepped_care.decide(
            referral=s.referral, action="step", step=2, reason="Agreed", by=u, source=StepSource.CLINICIAN
        ),
    ),
    "change_step": (
        "referral-steps",
        lambda s, u: stepped_care.change_step(referral=s.referral, step=2, reason="Agreed", by=u),
    ),
    "resolve_flag": (
        "flag-resolve",
        lambda s, u: stepped_care.resolve_flag(flag=s.flag, action="dismiss", reason="Reviewed", by=u),
    ),
    "create_relationship": (
        "supervision-relationship-list",
        lambda s, u: supervision.create_relationship(
            by=u, supervisor=s.supervisor_user, supervisee=s.users["colleague"], kind="case_management"
        ),
    ),
    "end_relationship": (
        "supervision-relationship-end",
        lambda s, u: supervision.end_relationship(relationship=s.relationship, by=u),
    ),
    "record_session": (
        "supervision-session-list",
        lambda s, u: supervision.record_session(
            by=u,
            kind="case_management",
            date=_day(s, 1),
            minutes=60,
            supervisor=s.supervisor_user,
            supervisees=[s.treating],
        ),
    ),
    "add_decisions": (
        "supervision-session-decisions",
        lambda s, u: supervision.add_decisions(
            session=s.supervision_session, by=u, decisions=[{"referral": s.second_referral, "decision": "continue"}]
        ),
    ),
    "sign_off_session": (
        "supervision-session-sign-off",
        lambda s, u: supervision.sign_off_session(session=s.supervision_session, by=u),
    ),
    "mark_session_in_error": (
        "supervision-session-entered-in-error",
        lambda s, u: supervision.mark_session_in_error(session=s.supervision_session, reason="Duplicate", by=u),
    ),
    "correct_decision": (
        "supervision-decision-correct",
        lambda s, u: supervision.correct_decision(decision=s.decision, reason="Wrong note", by=u, new=_correction(s)),
    ),
    "mark_decision_in_error": (
        "supervision-decision-entered-in-error",
        lambda s, u: supervision.mark_decision_in_error(decision=s.decision, reason="Recorded twice", by=u),
    ),
    "create_course": (
        "course-list",
        lambda s, u: workshops.create_course(
            by=u,
            title="Worry management",
            topic="stress",
            step=2,
            facilitators=[_facilitator(s, u)],
            capacity=10,
            sessions=[(_day(s, -7), None)],
            venue="Library",
        ),
    ),
    "set_course_status": (
        "course-status",
        lambda s, u: workshops.set_course_status(course=s.course, status="running", by=u),
    ),
    "enrol": ("enrolment-list", lambda s, u: workshops.enrol(course=s.course, referral=s.referral, by=u)),
    "withdraw": (
        "enrolment-withdraw",
        lambda s, u: workshops.withdraw(enrolment=s.enrolment, reason="patient_choice", by=u),
    ),
    "take_register": (
        "register-list",
        lambda s, u: workshops.take_register(
            session=s.course_session, rows=[{"enrolment": s.enrolment, "attendance": "5"}], by=u
        ),
    ),
    "book": (
        "appointment-list",
        lambda s, u: appointments.book(
            referral=s.referral, clinician=s.treating, starts_at=_at(s, 1, 10), appointment_type="02", by=u
        ),
    ),
    "book_series": (
        "appointment-series",
        lambda s, u: appointments.book_series(
            referral=s.referral, clinician=s.treating, starts_at=_at(s, 1, 10), appointment_type="02", count=2, by=u
        ),
    ),
    "reschedule": (
        "appointment-reschedule",
        lambda s, u: appointments.reschedule(appointment=s.appointment, starts_at=_at(s, 1, 11), by=u),
    ),
    "cancel": (
        "appointment-cancel",
        lambda s, u: appointments.cancel(appointment=s.appointment, reason="patient", by=u),
    ),
    "record_appointment_outcome": (
        "appointment-outcome",
        lambda s, u: appointments.record_appointment_outcome(appointment=s.appointment, attendance="3", by=u),
    ),
    "add_working_pattern": (
        "working-pattern-list",
        lambda s, u: appointments.add_working_pattern(
            clinician=u if u.is_clinician else s.treating,
            weekday=2,
            start=dt.time(9),
            end=dt.time(12),
            valid_from=s.today,
            by=u,
        ),
    ),
    "record_leave": (
        "leave-list",
        lambda s, u: appointments.record_leave(
            clinician=u if u.is_clinician else s.treating,
            starts_on=s.today + dt.timedelta(days=14),
            ends_on=s.today + dt.timedelta(days=18),
            by=u,
        ),
    ),
    "withdraw_leave": (
        "appointments:withdraw_leave",
        lambda s, u: appointments.withdraw_leave(leave=s.leave, by=u),
    ),
    "end_working_pattern": (
        "appointments:end_pattern",
        lambda s, u: appointments.end_working_pattern(
            pattern=s.working_pattern, on=s.today + dt.timedelta(days=7), by=u
        ),
    ),
    "hold_course_sessions": (
        "workshops:diaries",
        lambda s, u: appointments.hold_course_sessions(course=s.course, by=u),
    ),
    "release_course_sessions": (
        "workshops:diaries",  # run_course, as the course's status
        lambda s, u: appointments.release_course_sessions(course=s.course, by=u, note="Cancelled"),
    ),
    "hold_diaries": ("workshops:diaries", lambda s, u: workshops.hold_diaries(course=s.course, by=u)),
    "new_calendar_address": (
        "appointments:calendar",
        lambda s, u: appointments.new_calendar_address(clinician=u, by=u),
    ),
    "correct_entry": (
        "register-entered-in-error",
        lambda s, u: workshops.correct_entry(entry=s.register_entry, reason="Wrong patient", by=u),
    ),
    # The national data set: the team's service managers.
    "start_export": (
        "dataset:export",
        lambda s, u: dataset.start_export(team=s.referral.team, period=dataset_rules.parse_period("2020-01"), by=u),
    ),
    "export_file": ("dataset:download", lambda s, u: dataset.export_file(s.dataset_run, by=u)),
    "start_import": (
        "dataset:import",
        lambda s, u: dataset_imports.start_import(team=s.referral.team, upload=_extract(), dry_run=True, by=u),
    ),
    "import_extract": (
        "dataset:import",
        lambda s, u: dataset_imports.import_extract(_extract(), team=s.referral.team, by=u, dry_run=False),
    ),
}


def _extract():
    from tests.dataset.extracts import extract

    upload = extract()
    upload.name = "extract.zip"
    return upload


# The records each call needs, built before the attempts (each attempt is rolled back).
NEEDS = {
    "mark_contact_in_error": ("contact",),
    "resolve_flag": ("flag",),
    "end_relationship": ("relationship",),
    "add_decisions": ("supervision_session", "second_referral"),
    "sign_off_session": ("supervision_session",),
    "mark_session_in_error": ("supervision_session",),
    "correct_decision": ("decision",),
    "mark_decision_in_error": ("decision",),
    "set_course_status": ("course",),
    "enrol": ("course",),
    "withdraw": ("enrolment",),
    "take_register": ("enrolment", "course_session"),
    "correct_entry": ("register_entry",),
    "export_file": ("dataset_run",),
    "reschedule": ("appointment",),
    "cancel": ("appointment",),
    "record_appointment_outcome": ("appointment",),
    "withdraw_leave": ("leave",),
    "end_working_pattern": ("working_pattern",),
    "hold_course_sessions": ("course",),
    "release_course_sessions": ("course",),
    "hold_diaries": ("course",),
}


def _allowed(route):
    category = matrix.CLASSIFICATION[route]
    return {p for p in STAFF if category.expected(p, "POST" if route != "patient-detail" else "PATCH") == matrix.ALLOW}


@pytest.mark.django_db
@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_write_service_enforces_the_rulebook_for_every_persona(service, scenario):
    route, call = SERVICES[service]
    for kind in NEEDS.get(service, ()):
        getattr(scenario, kind)
    allowed = _allowed(route)
    assert allowed, f"{route}: nobody may? check the matrix"
    problems = []
    for persona in STAFF:
        user = scenario.users[persona]
        with transaction.atomic():
            last = _last_event()
            try:
                call(scenario, user)
            except PermissionDenied as refusal:
                if persona in allowed:
                    problems.append(f"{persona} was refused: {refusal}")
                elif not isinstance(refusal, NotAllowed):
                    problems.append(f"{persona} was refused, but not by the rulebook: {refusal!r}")
                elif _changes_since(last):
                    problems.append(f"{persona} was refused after writing {_changes_since(last)}")
            else:
                if persona not in allowed:
                    problems.append(f"{persona} was allowed to {service}")
                elif not _changes_since(last):
                    problems.append(f"{persona}: {service} returned but recorded nothing in the audit trail")
            transaction.set_rollback(True)
    assert not problems, f"{service} (as {route} in the matrix):\n  " + "\n  ".join(problems)


def test_every_write_service_is_tried():
    """Every public function of the write services that takes ``by`` is in SERVICES (or is not a
    use case a person performs: the review engine and the demo data act as the system)."""
    import inspect

    # close_flags is the one audited path that closes a flag, called by the services above once they
    # have asked the rulebook (and by the review engine, which acts as the system).
    # find_or_register_self_referrer and create_self_referral are the public front door's (it acts as the
    # system, a named SystemActor, after checking its own conditions: tests/frontdoor).
    system = {
        "seed_demo_sessions",
        "record_questionnaire",
        "record_view",
        "close_flags",
        "find_or_register_self_referrer",
        "create_self_referral",
    }
    found = set()
    for module in (referrals, stepped_care, supervision, workshops, frontdoor, appointments, dataset, dataset_imports):
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__ or name.startswith("_"):
                continue
            if "by" in inspect.signature(function).parameters:
                found.add(name)
    assert found - system <= set(SERVICES), sorted(found - system - set(SERVICES))


@pytest.mark.django_db
def test_a_refusal_writes_nothing_at_all(scenario):
    """The rulebook is asked before anything is touched: no row, no audit event."""
    before = AuditEvent.objects.count()
    with pytest.raises(NotAllowed):
        stepped_care.change_step(referral=scenario.referral, step=3, reason="x", by=scenario.users["manager"])
    assert AuditEvent.objects.count() == before
    assert not scenario.referral.steps.exists()
