"""A valid body for every write of the project, through both doors, so that the access matrix tries each
write for real: a persona the policy allows must get it done (its audit event is the proof), every
other persona must be refused and leave nothing.

``Write(audit, data)``: ``data(scenario, user)`` is the form data (pages) or JSON (API) that would
succeed for anyone allowed; ``audit`` is the action of the audit event a successful write leaves.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from common import permissions


@dataclass(frozen=True)
class Write:
    audit: str
    data: Callable
    methods: tuple = ("POST",)
    query: str = ""  # added to the URL (a page that reads its kind from the query string)


def _day(scenario, days_ago):
    return (scenario.today - dt.timedelta(days=days_ago)).isoformat()


def _patient(s, u):
    return {"given_name": "Robin", "family_name": "Newcomer", "date_of_birth": "1990-02-03"}


def _referral(s, u):
    return {"received_on": _day(s, 0), "source": "gp", "presenting_problem": "depression"}


def _tomorrow_at(s, hour):
    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(s.today + dt.timedelta(days=1), dt.time(hour))).isoformat()


def _booking_page(s):
    return {
        "clinician": s.treating.pk,
        "date": _day(s, -1),
        "time": "10:00",
        "appointment_type": "02",
        "mechanism": "01",
        "count": 1,
    }


def _booking_api(s):
    return {
        "referral": str(s.referral.pk),
        "clinician": s.treating.pk,
        "starts_at": _tomorrow_at(s, 10),
        "appointment_type": "02",
    }


def _facilitator(s, u):
    """A clinician plans the courses they run; managers and administrators name the facilitator."""
    return u if permissions.is_clinician(u) else s.treating


def _course_page(s, u):
    return {
        "title": "Worry management",
        "topic": "stress",
        "step": 2,
        "facilitators": [_facilitator(s, u).pk],
        "capacity": 10,
        "delivery": "venue",
        "venue": "Library",
        "first_date": _day(s, -7),
        "session_count": 4,
        "every_days": 7,
        "session_minutes": 90,
    }


def _course_api(s, u):
    return {
        "title": "Worry management",
        "topic": "stress",
        "step": 2,
        "facilitators": [_facilitator(s, u).pk],
        "capacity": 10,
        "delivery": "venue",
        "venue": "Library",
        "session_minutes": 90,
        "schedule": [{"date": _day(s, -7)}, {"date": _day(s, -14)}],
    }


def _supervision_session(s, u):
    return {
        "kind": "case_management",
        "date": _day(s, 1),
        "minutes": 60,
        "supervisor": s.supervisor_user.pk,
        "supervisees": [s.treating.pk],
    }


def _register_page(s, u):
    return {
        "row-TOTAL_FORMS": "1",
        "row-INITIAL_FORMS": "1",
        "row-0-enrolment": str(s.enrolment.pk),
        "row-0-attendance": "5",
    }


def _register_api(s, u):
    return {"session": s.course_session.pk, "rows": [{"enrolment": str(s.enrolment.pk), "attendance": "5"}]}


def _problem(s):
    return {"code": "F32.1", "significance": "primary", "recorded_on": _day(s, 1), "version": s.version()}


def _correction(s, u):
    return {"reason": "Wrong note", "decision": "continue", "notes": "Review in two weeks"}


def _relationship(s, u):
    return {"supervisor": s.supervisor_user.pk, "supervisee": s.users["colleague"].pk, "kind": "case_management"}


BODIES = {
    # Patients and referrals: registering is for everyone of a team; allocation for clinicians and managers.
    "referrals:new_patient": Write("patient.create", _patient),
    "patient-list": Write("patient.create", _patient),
    "patient-detail": Write(
        "patient.update", lambda s, u: {"phone": "01234 567890", "version": s.version(s.patient)}, ("PATCH",)
    ),
    "referrals:new_referral": Write("referral.create", _referral),
    "referral-list": Write("referral.create", lambda s, u: {"patient": str(s.patient.pk), **_referral(s, u)}),
    "referrals:allocate": Write(
        "referral.allocate", lambda s, u: {"clinician": s.users["colleague"].pk, "version": s.version()}
    ),
    "referral-allocate": Write(
        "referral.allocate", lambda s, u: {"care_coordinator": s.users["colleague"].pk, "version": s.version()}
    ),
    # Clinical decisions on the case.
    "referrals:session_draft": Write("draft.save", lambda s, u: {"date": _day(s, 1), "notes": "Typed so far"}),
    "referrals:log_session": Write(
        "contact.create",
        lambda s, u: {
            "date": _day(s, 1),
            "appointment_type": "02",
            "attendance": "5",
            "mechanism": "01",
            "therapy_mode": "1",
        },
    ),
    "contact-list": Write(
        "contact.create",
        lambda s, u: {"referral": str(s.referral.pk), "date": _day(s, 1), "appointment_type": "02", "attendance": "5"},
    ),
    "referrals:presenting_problem": Write("referral.presenting_problem", lambda s, u: _problem(s)),
    "referral-presenting-problems": Write("referral.presenting_problem", lambda s, u: _problem(s)),
    "referrals:change_step": Write("step.change", lambda s, u: {"step": 2, "reason": "Agreed", "version": s.version()}),
    "referral-steps": Write("step.change", lambda s, u: {"step": 2, "reason": "Agreed", "version": s.version()}),
    "referrals:discharge": Write("referral.discharge", lambda s, u: {"end_code": "46", "version": s.version()}),
    "referral-discharge": Write("referral.discharge", lambda s, u: {"end_code": "46", "version": s.version()}),
    "frontdoor:send_link": Write("questionnaire_link.send", lambda s, u: {"channel": "sms"}),
    "referrals:contact_in_error": Write("contact.entered_in_error", lambda s, u: {"reason": "Logged twice"}),
    "contact-entered-in-error": Write("contact.entered_in_error", lambda s, u: {"reason": "Logged twice"}),
    "resolve_flag": Write("flag.dismiss", lambda s, u: {"action": "dismiss", "reason": "Reviewed: waiting is booked"}),
    "flag-resolve": Write("flag.dismiss", lambda s, u: {"action": "dismiss", "reason": "Reviewed: waiting is booked"}),
    # Supervision.
    "supervision:relationships": Write("supervision.relationship.create", _relationship),
    "supervision-relationship-list": Write("supervision.relationship.create", _relationship),
    "supervision:relationship_end": Write("supervision.relationship.end", lambda s, u: {}),
    "supervision-relationship-end": Write("supervision.relationship.end", lambda s, u: {}),
    "supervision:session_new": Write("supervision.session.create", _supervision_session, query="?kind=case_management"),
    "supervision-session-list": Write("supervision.session.create", _supervision_session),
    "supervision:session_sign_off": Write("supervision.session.sign_off", lambda s, u: {}),
    "supervision-session-sign-off": Write("supervision.session.sign_off", lambda s, u: {}),
    "supervision:session_error": Write("supervision.session.entered_in_error", lambda s, u: {"reason": "Duplicate"}),
    "supervision-session-entered-in-error": Write(
        "supervision.session.entered_in_error", lambda s, u: {"reason": "Duplicate"}
    ),
    "supervision-session-decisions": Write(
        "supervision.decision",
        lambda s, u: {"decisions": [{"referral": str(s.second_referral.pk), "decision": "continue"}]},
    ),
    "supervision:decision_correct": Write("supervision.decision", _correction),
    "supervision-decision-correct": Write("supervision.decision", _correction),
    "supervision-decision-entered-in-error": Write(
        "supervision.decision.entered_in_error", lambda s, u: {"reason": "Recorded twice"}
    ),
    # Group courses.
    "workshops:create": Write("course.create", _course_page),
    "course-list": Write("course.create", _course_api),
    "workshops:status": Write("course.status", lambda s, u: {"status": "running"}),
    "course-status": Write("course.status", lambda s, u: {"status": "running"}),
    "workshops:enrol": Write("enrolment.create", lambda s, u: {"referral": str(s.referral.pk)}),
    "enrolment-list": Write("enrolment.create", lambda s, u: {"course": s.course.pk, "referral": str(s.referral.pk)}),
    # Diaries.
    "appointments:book": Write("appointment.book", lambda s, u: _booking_page(s)),
    "appointments:reschedule": Write(
        "appointment.book", lambda s, u: {"date": _day(s, -1), "time": "11:00", "version": s.version(s.appointment)}
    ),
    "appointments:cancel": Write(
        "appointment.cancel", lambda s, u: {"reason": "patient", "note": "Unwell", "version": s.version(s.appointment)}
    ),
    "appointments:record_outcome": Write("appointment.outcome", lambda s, u: {"attendance": "3"}),
    "appointments:attended": Write(
        "appointment.outcome",
        lambda s, u: {
            "date": _day(s, 0),
            "time": "00:30",
            "appointment_type": "02",
            "attendance": "5",
            "mechanism": "01",
            "therapy_mode": "1",
        },
    ),
    "appointments:calendar": Write("calendar_feed.new", lambda s, u: {}),
    "appointment-list": Write("appointment.book", lambda s, u: _booking_api(s)),
    "appointment-cancel": Write(
        "appointment.cancel", lambda s, u: {"reason": "provider", "version": s.version(s.appointment)}
    ),
    "appointment-reschedule": Write(
        "appointment.book", lambda s, u: {"starts_at": _tomorrow_at(s, 11), "version": s.version(s.appointment)}
    ),
    "appointment-series": Write("appointment.book", lambda s, u: {"count": 2}),
    "appointment-outcome": Write("appointment.outcome", lambda s, u: {"attendance": "3"}),
    "working-pattern-list": Write(
        "working_pattern.add",
        lambda s, u: {
            "clinician": (u if permissions.is_clinician(u) else s.treating).pk,
            "weekday": 2,
            "start": "09:00",
            "end": "12:00",
            "valid_from": _day(s, 0),
        },
    ),
    "leave-list": Write(
        "leave.add",
        lambda s, u: {
            "clinician": (u if permissions.is_clinician(u) else s.treating).pk,
            "starts_on": _day(s, -14),
            "ends_on": _day(s, -18),
        },
    ),
    "appointments:leave": Write(
        "leave.add",
        lambda s, u: {
            "clinician": s.treating.pk,  # a manager's or an administrator's choice; a clinician's own leave
            "starts_on": _day(s, -14),
            "ends_on": _day(s, -18),
        },
    ),
    "appointments:working_patterns": Write(
        "working_pattern.add",
        lambda s, u: {
            "clinician": s.treating.pk,
            "weekday": 2,
            "start": "09:00",
            "end": "12:00",
            "location": "room",
            "valid_from": _day(s, 0),
        },
    ),
    "appointments:withdraw_leave": Write("leave.withdraw", lambda s, u: {}),
    "leave-withdraw": Write("leave.withdraw", lambda s, u: {}),
    "appointments:end_pattern": Write("working_pattern.end", lambda s, u: {"valid_until": _day(s, -7)}),
    "working-pattern-end": Write("working_pattern.end", lambda s, u: {"valid_until": _day(s, -7)}),
    "workshops:diaries": Write("course.hold_diaries", lambda s, u: {}),
    "course-diaries": Write("course.hold_diaries", lambda s, u: {}),
    "workshops:withdraw": Write(
        "enrolment.withdraw", lambda s, u: {"reason": "patient_choice", "withdrawn_on": _day(s, 0)}
    ),
    "enrolment-withdraw": Write("enrolment.withdraw", lambda s, u: {"reason": "patient_choice"}),
    "workshops:register": Write("register.take", _register_page),
    "register-list": Write("register.take", _register_api),
    "workshops:correct": Write("register.correct", lambda s, u: {"reason": "Wrong patient"}),
    "register-entered-in-error": Write(
        "register.correct", lambda s, u: {"entry": str(s.register_entry.pk), "reason": "Wrong patient"}
    ),
    # The national data set: the team's service managers only.
    "dataset:export": Write("dataset.export", lambda s, u: {"period": "2020-01"}),
    "dataset:import": Write("dataset.dry_run", lambda s, u: {"extract": _extract(), "dry_run": "on"}),
}


def _extract():
    from tests.dataset.extracts import extract

    upload = extract()
    upload.name = "extract.zip"
    return upload
