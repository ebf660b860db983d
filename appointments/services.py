"""Appointments' use cases: book (one or a weekly series), reschedule, cancel, record the outcome (the
care contact, made once), send reminders, make a calendar feed's secret address. Each asks the
rulebook first; background work (reminders) acts as a named ``SystemActor``."""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from common import audit, notify
from common.audit import SystemActor
from common.permissions import require
from frontdoor.services import new_questionnaire_link
from outcomes.models import QuestionnaireResponse
from referrals.codes import ATTENDED_CODES, Attendance
from referrals.models import CareContact
from referrals.services import log_contact

from . import queries
from .models import GROUP, Appointment, AppointmentLength, CalendarFeed, GroupReminder, Leave, WorkingPattern
from .rules import LENGTHS

REMINDERS = SystemActor("appointment reminders")
REMINDER_DAYS = 2  # the patient hears two days before
SERIES_MAX = 20
BOOK_BACK_DAYS = 92  # an appointment recorded late (a diary kept on paper) is still bookable
BOOK_AHEAD_DAYS = 730
# The outcomes My day records in one click: no session form, no questionnaires (DOMAIN §4 codes).
ONE_CLICK = (
    Attendance.DID_NOT_ATTEND,
    Attendance.CANCELLED_BY_PATIENT,
    Attendance.CANCELLED_BY_PROVIDER,
    Attendance.LATE_NOT_SEEN,
)
CANCELLED_BY = {
    Attendance.CANCELLED_BY_PATIENT: Appointment.CancelReason.PATIENT,
    Attendance.CANCELLED_BY_PROVIDER: Appointment.CancelReason.PROVIDER,
}
CLASH = "The clinician already has an appointment at that time."


class Clash(ValidationError):
    """The clinician already has a live appointment at that time, or the appointment changed since it
    was opened (a stale ``version``): 409 in the API, a form error on the pages."""


def _check_free(clinician, starts_at, ends_at, exclude=None):
    live = Appointment.objects.filter(clinician=clinician, starts_at__lt=ends_at, ends_at__gt=starts_at).exclude(
        status=Appointment.Status.CANCELLED
    )
    if exclude is not None:
        live = live.exclude(pk=exclude.pk)
    if live.exists():
        raise Clash({"starts_at": CLASH})


def length_of(team, appointment_type):
    """The team's appointment length for this type (``AppointmentLength``), else the default."""
    minutes = (
        AppointmentLength.objects.filter(team=team, appointment_type=appointment_type)
        .values_list("minutes", flat=True)
        .first()
    )
    kind = {"01": "assessment", GROUP: "group"}.get(appointment_type, "treatment")
    return minutes or LENGTHS[kind]


@transaction.atomic
def book(*, referral, clinician, starts_at, appointment_type, by, minutes=None, mechanism="01"):
    require(by, "book_appointment", referral)
    if clinician.team_id != referral.team_id:
        raise ValidationError({"clinician": "The clinician must work in the referral's team."})
    if not referral.is_active:
        raise ValidationError({"referral": "This referral has been discharged: no appointments can be booked."})
    now = timezone.now()
    if not now - timedelta(days=BOOK_BACK_DAYS) <= starts_at <= now + timedelta(days=BOOK_AHEAD_DAYS):
        raise ValidationError(
            {"starts_at": f"Book from {BOOK_BACK_DAYS} days ago to {BOOK_AHEAD_DAYS // 365} years ahead."}
        )
    ends_at = starts_at + timedelta(minutes=minutes or length_of(referral.team_id, appointment_type))
    day = timezone.localtime(starts_at).date()
    away = queries.leave_overlapping(clinician, day, day)
    if away is not None:  # a booking made before the leave stays, for the cover to see on My day
        who = clinician.get_full_name() or clinician.get_username()
        raise ValidationError(
            {"clinician": f"{who} is on leave on {day:%a %-d %b %Y}: book another clinician or another day."}
        )
    _check_free(clinician, starts_at, ends_at)
    try:
        with transaction.atomic():
            appointment = Appointment.objects.create(
                referral=referral,
                clinician=clinician,
                starts_at=starts_at,
                ends_at=ends_at,
                appointment_type=appointment_type,
                mechanism=mechanism,
                created_by=by,
            )
    except IntegrityError as exc:  # the exclusion constraint: a booking made between check and insert
        raise Clash({"starts_at": CLASH}) from exc
    audit.record(
        by,
        "appointment.book",
        appointment,
        patient_id=referral.patient_id,
        changes={"starts_at": starts_at.isoformat(), "clinician": clinician.pk, "type": appointment_type},
    )
    return appointment


@transaction.atomic
def book_series(*, referral, clinician, starts_at, appointment_type, by, count, every_days=7, mechanism="01"):
    """``count`` appointments a week apart (``every_days``): all booked or, at the first clash, none
    (the error names the date that clashes)."""
    if not 1 <= count <= SERIES_MAX:
        raise ValidationError({"count": f"Book between 1 and {SERIES_MAX} sessions at once."})
    booked = []
    for n in range(count):
        at = starts_at + timedelta(days=every_days * n)
        try:
            booked.append(
                book(
                    referral=referral,
                    clinician=clinician,
                    starts_at=at,
                    appointment_type=appointment_type,
                    mechanism=mechanism,
                    by=by,
                )
            )
        except Clash as exc:
            local = timezone.localtime(at)
            raise Clash({"starts_at": f"{CLASH[:-1]} on {local:%a %-d %b %Y at %H:%M}: nothing was booked."}) from exc
    return booked


@transaction.atomic
def cancel(*, appointment, reason, by, note="", version=None):
    require(by, "cancel_appointment", appointment.referral)
    if reason not in Appointment.CancelReason.values:
        raise ValidationError({"reason": "Say who cancelled: the patient or the provider."})
    updated = Appointment.objects.filter(
        pk=appointment.pk, status=Appointment.Status.BOOKED, version=version or appointment.version
    ).update(status=Appointment.Status.CANCELLED, cancel_reason=reason, cancel_note=note, version=F("version") + 1)
    if not updated:
        status = Appointment.objects.filter(pk=appointment.pk).values_list("status", flat=True).first()
        if status != Appointment.Status.BOOKED:
            raise Clash({"version": "This appointment is no longer booked (cancelled, or its outcome recorded)."})
        raise Clash({"version": "The appointment changed since you opened it."})
    appointment = Appointment.objects.select_related("referral").get(pk=appointment.pk)  # the caller's stays as read
    audit.record(
        by,
        "appointment.cancel",
        appointment,
        patient_id=appointment.referral.patient_id,
        changes={"reason": reason, "note": note},
    )
    return appointment


@transaction.atomic
def reschedule(*, appointment, starts_at, by, clinician=None, version=None):
    """Move it: the old one is cancelled as "rescheduled", a new one booked; a clash moves nothing."""
    require(by, "book_appointment", appointment.referral)
    minutes = int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)
    cancel(appointment=appointment, reason=Appointment.CancelReason.RESCHEDULED, by=by, version=version)
    return book(
        referral=appointment.referral,
        clinician=clinician or appointment.clinician,
        starts_at=starts_at,
        appointment_type=appointment.appointment_type,
        mechanism=appointment.mechanism,
        minutes=minutes,
        by=by,
    )


@transaction.atomic
def record_appointment_outcome(*, appointment, attendance, by, **session):
    """The care contact of this appointment, made once: returns ``(contact, created)``.

    Whatever the browser does (Back and resubmit, a double click, two tabs) the second call finds the
    appointment's contact and returns it: the appointment row is locked first (``select_for_update``),
    its contact is linked only while it has none, and ``Appointment.contact`` is one-to-one. The contact
    itself is made by ``referrals.services.log_contact`` (validation, questionnaires, review), with the
    appointment's date, time, type and mechanism unless the session form gives its own."""
    require(by, "record_care", appointment.referral)
    # The contact is read after the lock, not joined: a second request that waited on the lock sees the
    # appointment row as the first committed it, but rows joined in the same query as they were before.
    locked = Appointment.objects.select_for_update(of=("self",)).select_related("referral").get(pk=appointment.pk)
    if locked.contact_id is not None:
        return CareContact.objects.get(pk=locked.contact_id), False
    if locked.status == Appointment.Status.CANCELLED:
        raise ValidationError({"attendance": "This appointment was cancelled: book another to record a session."})
    if attendance not in Attendance.values:
        raise ValidationError({"attendance": "Choose an attendance outcome."})
    local = timezone.localtime(locked.starts_at)
    arguments = {
        "date": local.date(),
        "time": local.time().replace(second=0, microsecond=0),
        "appointment_type": locked.appointment_type,
        "mechanism": locked.mechanism,
        # Each appointment has its own contact: a second appointment the same day is not a duplicate.
        "confirm_duplicate": attendance not in ATTENDED_CODES,
        **session,
        "attendance": attendance,
    }
    # Who held the session: a colleague covering the appointment's clinician on leave holds it themselves.
    clinician = by if queries.covers(by, locked.clinician_id, local.date()) else locked.clinician
    contact = log_contact(referral=locked.referral, by=by, clinician=clinician, **arguments)
    # A cancellation frees the time for another booking (the contact keeps the data-set record).
    cancelled_by = CANCELLED_BY.get(attendance)
    linked = Appointment.objects.filter(pk=locked.pk, contact__isnull=True).update(
        contact=contact,
        status=Appointment.Status.CANCELLED if cancelled_by else Appointment.Status.DONE,
        cancel_reason=cancelled_by or "",
        attendance=attendance,
        version=F("version") + 1,
    )
    if not linked:  # only where the lock is a no-op (SQLite serialises writers anyway)
        raise IntegrityError("appointment already has its contact")
    audit.record(
        by,
        "appointment.outcome",
        locked,
        patient_id=locked.referral.patient_id,
        changes={"attendance": attendance, "contact": str(contact.pk)},
    )
    return contact, True


# --- reminders ---------------------------------------------------------------------------------------


def needs_scores(referral, today):
    """Ask for questionnaires with the reminder unless the patient completed their own this week."""
    recent = QuestionnaireResponse.objects.filter(
        referral=referral, source="patient", entered_in_error=False, completed_on__gte=today - timedelta(days=7)
    )
    return referral.is_active and not recent.exists()


def send_reminders(today=None):
    """Remind each patient booked for the day after tomorrow, once (``reminder_sent_at`` is set by a
    compare-and-set update before sending, so two workers or a rerun never send twice). By text if the
    patient has a mobile number, else email; with a one-time questionnaire link when the referral needs
    scores. Returns how many were sent."""
    today = today or timezone.localdate()
    day = today + timedelta(days=REMINDER_DAYS)
    due = (
        Appointment.objects.filter(
            status=Appointment.Status.BOOKED, starts_at__date=day, reminder_sent_at__isnull=True, referral__isnull=False
        )
        .select_related("referral__patient", "referral__team")
        .order_by("starts_at")
    )
    sent = 0
    for appointment in due:
        with transaction.atomic():
            claimed = Appointment.objects.filter(pk=appointment.pk, reminder_sent_at__isnull=True).update(
                reminder_sent_at=timezone.now()
            )
            if claimed and _remind(appointment, today):
                sent += 1
    return sent + _send_group_reminders(day, today)


def _send_group_reminders(day, today):
    """Each patient enrolled (not withdrawn) on a course whose session that day holds a facilitator's
    diary: reminded once, claimed by a ``GroupReminder`` row (unique) before sending."""
    sent = 0
    for session, enrolment in queries.group_places_on(day):
        with transaction.atomic():
            try:
                with transaction.atomic():
                    GroupReminder.objects.create(session=session, enrolment=enrolment)
            except IntegrityError:  # already reminded (a rerun, or another worker)
                continue
            if _remind_group(session, enrolment, today):
                sent += 1
    return sent


def _remind(appointment, today):
    how = appointment.get_mechanism_display().lower()
    return _send_reminder(appointment.referral, appointment.starts_at, how, appointment.clinician, today, appointment)


def _remind_group(session, enrolment, today):
    course = session.course
    starts_at = timezone.make_aware(datetime.combine(session.date, session.time))
    how = f"group session {session.number} of {course.title} ({course.place})"
    facilitator = min(course.facilitators.all(), key=lambda f: f.pk)
    return _send_reminder(enrolment.referral, starts_at, how, facilitator, today, session)


def _send_reminder(referral, starts_at, how, clinician, today, about):
    patient = referral.patient
    channel = "sms" if patient.phone else "email" if patient.email else None
    if channel is None:
        return False
    local = timezone.localtime(starts_at)
    personalisation = {"team": referral.team.name, "when": f"{local:%A %-d %B at %H:%M}", "how": how, "link": ""}
    if needs_scores(referral, today):
        link, token = new_questionnaire_link(referral=referral, channel=channel, created_by=clinician)
        path = reverse("frontdoor:questionnaire_link", args=[token])
        personalisation["link"] = settings.PUBLIC_URL.rstrip("/") + path
    send = notify.send_sms if channel == "sms" else notify.send_email
    to = patient.phone if channel == "sms" else patient.email
    send(to, "appointment_reminder", personalisation, referral=referral, by=REMINDERS)
    audit.record(REMINDERS, "appointment.remind", about, patient_id=patient.pk, changes={"channel": channel})
    return True


# --- calendar feed -----------------------------------------------------------------------------------


def feed_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def new_calendar_address(*, clinician, by):
    """A new secret token for the clinician's own calendar feed (the old address stops working)."""
    require(by, "own_calendar", clinician)
    token = secrets.token_urlsafe(32)
    CalendarFeed.objects.update_or_create(clinician=clinician, defaults={"token_hash": feed_hash(token)})
    audit.record(by, "calendar_feed.new", clinician, changes={})
    return token


# --- diaries ---------------------------------------------------------------------------------------


@transaction.atomic
def add_working_pattern(*, clinician, weekday, start, end, valid_from, by, location="room", room="", valid_until=None):
    """A recurring block of the clinician's availability (a weekday, from and to, remote or a room)."""
    require(by, "manage_diary", clinician)
    errors = {}
    if not 1 <= int(weekday) <= 7:
        errors["weekday"] = "Give the weekday as 1 (Monday) to 7 (Sunday)."
    if end <= start:
        errors["end"] = "The end must come after the start."
    if valid_until is not None and valid_until < valid_from:
        errors["valid_until"] = "The pattern must end on or after the day it starts."
    if errors:
        raise ValidationError(errors)
    pattern = WorkingPattern.objects.create(
        clinician=clinician,
        team_id=clinician.team_id,
        weekday=weekday,
        start=start,
        end=end,
        location=location,
        room=room,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    audit.record(by, "working_pattern.add", pattern, changes={"clinician": clinician.pk, "weekday": weekday})
    return pattern


@transaction.atomic
def record_leave(*, clinician, starts_on, ends_on, by, cover=None):
    """A clinician's leave (whole days), with who covers: the free slots leave those days out."""
    require(by, "manage_diary", clinician)
    errors = {}
    if ends_on < starts_on:
        errors["ends_on"] = "The leave must end on or after the day it starts."
    if cover is not None and (cover.pk == clinician.pk or cover.team_id != clinician.team_id):
        errors["cover"] = "Cover is another clinician of the same team."
    if not errors:
        overlapping = queries.leave_overlapping(clinician, starts_on, ends_on)
        if overlapping is not None:
            errors["starts_on"] = (
                f"{clinician.get_full_name() or clinician} is already on leave from "
                f"{overlapping.starts_on:%-d %b %Y} to {overlapping.ends_on:%-d %b %Y}."
            )
        away = cover and queries.leave_overlapping(cover, starts_on, ends_on)
        if away:
            errors["cover"] = (
                f"{cover.get_full_name() or cover} is on leave from {away.starts_on:%-d %b %Y} "
                f"to {away.ends_on:%-d %b %Y}: choose someone else to cover."
            )
    if errors:
        raise ValidationError(errors)
    leave = Leave.objects.create(clinician=clinician, starts_on=starts_on, ends_on=ends_on, cover=cover)
    audit.record(
        by,
        "leave.add",
        leave,
        changes={"clinician": clinician.pk, "from": starts_on, "to": ends_on, "cover": getattr(cover, "pk", None)},
    )
    return leave


# --- group sessions from courses -------------------------------------------------------------------

GROUP_CLASH = "{who} already has an appointment on {when} (session {number}): nothing was booked."


def _session_times(session, minutes):
    starts_at = timezone.make_aware(datetime.combine(session.date, session.time))
    return starts_at, starts_at + timedelta(minutes=minutes)


@transaction.atomic
def hold_course_sessions(*, course, by):
    """Hold each timed session of the course from today on in every facilitator's diary (an appointment
    row of that session, no referral), for the course's session length. All or nothing: the first clash
    with a facilitator's booking (the same check and exclusion constraint as any booking) is a ``Clash``
    naming ``sessions`` and the date, and nothing is held. Sessions already held are left as they are,
    so it may be asked again (new facilitators, a course planned before diaries). Returns the rows made."""
    require(by, "run_course", course)
    today = timezone.localdate()
    sessions = [s for s in queries.course_sessions(course) if s.time is not None and s.date >= today]
    facilitators = queries.course_facilitators(course)
    held = queries.held_blocks(course)
    mechanism = "11" if course.is_online else "01"
    made = []
    for session in sessions:
        starts_at, ends_at = _session_times(session, course.session_minutes)
        for facilitator in facilitators:
            if (session.pk, facilitator.pk) in held:
                continue
            clash = Clash(
                {
                    "sessions": GROUP_CLASH.format(
                        who=facilitator.get_full_name() or facilitator.get_username(),
                        when=f"{timezone.localtime(starts_at):%a %-d %b %Y at %H:%M}",
                        number=session.number,
                    )
                }
            )
            try:
                _check_free(facilitator, starts_at, ends_at)
                with transaction.atomic():
                    made.append(
                        Appointment.objects.create(
                            course_session=session,
                            clinician=facilitator,
                            starts_at=starts_at,
                            ends_at=ends_at,
                            appointment_type="02",  # a group contact is treatment (therapy mode group)
                            mechanism=mechanism,
                            created_by=by,
                        )
                    )
            except Clash:
                raise clash from None
            except IntegrityError as exc:  # the exclusion constraint, or a hold made meanwhile
                raise clash from exc
    audit.record(by, "course.hold_diaries", course, changes={"held": len(made), "sessions": len(sessions)})
    return made


@transaction.atomic
def release_course_sessions(*, course, by, note=""):
    """Free the facilitators' time of the course's sessions still to come (a course cancelled or
    completed early): the rows are cancelled by the provider, kept for the record. Returns how many."""
    require(by, "run_course", course)
    now = timezone.now()
    released = Appointment.objects.filter(
        course_session__course=course, status=Appointment.Status.BOOKED, starts_at__gte=now
    ).update(
        status=Appointment.Status.CANCELLED,
        cancel_reason=Appointment.CancelReason.PROVIDER,
        cancel_note=note,
        version=F("version") + 1,
    )
    audit.record(by, "course.release_diaries", course, changes={"released": released, "note": note})
    return released


@transaction.atomic
def withdraw_leave(*, leave, by):
    """Take leave back: leave not begun yet is removed (the audit trail keeps its dates and cover);
    leave under way ends yesterday (back early: the days already taken, and who covered them, stay).
    Leave that has ended is history and stays. Returns the leave as it now is, or None once removed."""
    leave = Leave.objects.select_for_update().select_related("clinician").get(pk=leave.pk)
    require(by, "manage_diary", leave.clinician)
    today = timezone.localdate()
    if leave.ends_on < today:
        raise ValidationError({"leave": "This leave has ended: it stays as the record of who covered."})
    changes = {"clinician": leave.clinician_id, "from": leave.starts_on, "to": leave.ends_on, "cover": leave.cover_id}
    if leave.starts_on >= today:
        audit.record(by, "leave.withdraw", leave, changes=changes)
        leave.delete()
        return None
    leave.ends_on = today - timedelta(days=1)
    leave.save(update_fields=["ends_on"])
    audit.record(by, "leave.end_early", leave, changes={**changes, "now_to": leave.ends_on})
    return leave


@transaction.atomic
def end_working_pattern(*, pattern, on, by):
    """A block of the working pattern stops after ``on`` (its last day: a new rota, a change of hours);
    from the next day the free slots no longer offer it. The row stays, for the diary's history."""
    pattern = WorkingPattern.objects.select_for_update().select_related("clinician").get(pk=pattern.pk)
    require(by, "manage_diary", pattern.clinician)
    if on < pattern.valid_from:
        raise ValidationError(
            {"valid_until": f"The pattern starts on {pattern.valid_from:%-d %b %Y}: end it then or later."}
        )
    if pattern.valid_until is not None and pattern.valid_until < on:
        raise ValidationError({"valid_until": f"This pattern already ends on {pattern.valid_until:%-d %b %Y}."})
    previous = pattern.valid_until
    pattern.valid_until = on
    pattern.save(update_fields=["valid_until"])
    audit.record(
        by,
        "working_pattern.end",
        pattern,
        changes={"clinician": pattern.clinician_id, "valid_until": on, "was": previous},
    )
    return pattern
