"""Writes of group workshops: one function per use case, each in one transaction, each audited.

The register turns attendance into care contacts through ``referrals.services.log_contact`` (the one
way to log a session), so outcomes, waits, flags and supervision treat group care like any other.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from appointments import services as diaries
from appointments.models import GROUP
from common import audit, permissions
from referrals.codes import AppointmentType, Mechanism, TherapyMode
from referrals.services import log_contact, mark_contact_in_error

from . import rules
from .codes import OPEN_STATUSES, CourseStatus, Delivery, GroupStep, Topic, WithdrawalReason
from .models import CourseSession, Enrolment, GroupCourse, RegisterEntry

# Which status a course may move to from each status (completed and cancelled are final).
TRANSITIONS = {
    CourseStatus.PLANNED: {CourseStatus.RUNNING, CourseStatus.CANCELLED},
    CourseStatus.RUNNING: {CourseStatus.COMPLETED, CourseStatus.CANCELLED},
    CourseStatus.COMPLETED: set(),
    CourseStatus.CANCELLED: set(),
}


class RegisterError(Exception):
    """A register that cannot be saved. ``rows`` lines up with the rows given: {field: [messages]}
    for each row (empty where the row was fine); ``errors`` are about the register as a whole."""

    def __init__(self, rows, errors=()):
        super().__init__("The register was not saved.")
        self.rows = rows
        self.errors = list(errors)


def _lock_course(course):
    return GroupCourse.objects.select_for_update().get(pk=course.pk)


@transaction.atomic
def create_course(
    *,
    by,
    title,
    topic,
    step,
    facilitators,
    capacity,
    sessions,
    delivery=Delivery.VENUE,
    venue="",
    session_minutes=None,
    team=None,
):
    """A new course with its schedule. ``sessions`` is a list of (date, time or None), in any order.
    Each timed session is held in every facilitator's diary (``appointments.services.hold_course_sessions``):
    a clash with a facilitator's booking refuses the whole course, naming the session. The length of a
    session is the team's group appointment length unless given."""
    team = team or by.team
    if session_minutes is None and team is not None:
        session_minutes = diaries.length_of(team.pk, GROUP)
    permissions.require(by, "plan_course", team)
    facilitators = list(facilitators)
    sessions = sorted(sessions, key=lambda s: (s[0], s[1] is not None, s[1] or 0))
    errors = {}
    if team is None:
        errors["team"] = "Only a member of a team can plan its courses."
    if topic not in Topic.values:
        errors["topic"] = "Choose a topic."
    if step not in GroupStep.values:
        errors["step"] = "Group courses run at step 2 or step 3."
    if not facilitators:
        errors["facilitators"] = "Name at least one facilitator."
    elif any(not f.is_clinician or f.team_id != getattr(team, "pk", None) for f in facilitators):
        errors["facilitators"] = "Facilitators must be clinicians of the course's team."
    elif permissions.is_clinician(by) and by not in facilitators:  # a clinician plans the groups they run
        errors["facilitators"] = "Add yourself as a facilitator, or ask a service manager to plan the course."
    if not capacity or not 1 <= capacity <= 500:
        errors["capacity"] = "Give the number of places (1 to 500)."
    if not session_minutes or not 1 <= session_minutes <= 600:
        errors["session_minutes"] = "Give the length of a session in minutes (1 to 600)."
    if delivery not in Delivery.values:
        errors["delivery"] = "Choose a venue or online."
    elif delivery == Delivery.VENUE and not (venue or "").strip():
        errors["venue"] = "Say where the course meets."
    if not sessions:
        errors["sessions"] = "Give the date of at least one session."
    elif len({s[0] for s in sessions}) != len(sessions):
        errors["sessions"] = "Two sessions fall on the same day."
    if errors:
        raise ValidationError(errors)
    course = GroupCourse(
        team=team,
        title=title.strip(),
        topic=topic,
        step=step,
        capacity=capacity,
        delivery=delivery,
        venue=(venue or "").strip(),
        session_minutes=session_minutes,
        created_by=by,
    )
    course.full_clean(exclude=["team", "created_by"])
    course.save()
    course.facilitators.set(facilitators)
    CourseSession.objects.bulk_create(
        CourseSession(course=course, number=n, date=day, time=time) for n, (day, time) in enumerate(sessions, 1)
    )
    diaries.hold_course_sessions(course=course, by=by)
    audit.record(
        by,
        "course.create",
        course,
        changes={"title": course.title, "facilitators": [f.pk for f in facilitators], "sessions": len(sessions)},
    )
    return course


@transaction.atomic
def set_course_status(*, course, status, by, note=""):
    """Mark a course running, completed or cancelled. Cancelling withdraws everyone still enrolled."""
    course = _lock_course(course)
    permissions.require(by, "run_course", course)
    if status not in TRANSITIONS.get(course.status, set()):
        allowed = ", ".join(sorted(CourseStatus(s).label.lower() for s in TRANSITIONS[course.status])) or "nothing"
        raise ValidationError(
            {"status": f"This course is {course.get_status_display().lower()}; it can become: {allowed}."}
        )
    previous = course.status
    course.status = status
    course.save(update_fields=["status"])
    withdrawn = 0
    if status in (CourseStatus.CANCELLED, CourseStatus.COMPLETED):  # its sessions to come free the diaries
        diaries.release_course_sessions(course=course, by=by, note=f"Course {course.get_status_display().lower()}")
    if status == CourseStatus.CANCELLED:
        today = timezone.localdate()
        for enrolment in course.enrolments.filter(withdrawn_on__isnull=True).select_related("referral"):
            _withdraw(enrolment, WithdrawalReason.COURSE_CANCELLED, note, by, max(today, enrolment.enrolled_on))
            withdrawn += 1
    audit.record(
        by, "course.status", course, changes={"from": previous, "to": status, "note": note, "withdrawn": withdrawn}
    )
    return course


@transaction.atomic
def enrol(*, course, referral, by, on=None):
    """Give a referral a place. The course row is locked, so two people cannot both take the last place."""
    permissions.require(by, "book_group_place", referral)
    course = _lock_course(course)
    on = on or timezone.localdate()
    errors = {}
    if course.status not in OPEN_STATUSES:
        errors["course"] = f"This course is {course.get_status_display().lower()}; it takes no enrolments."
    if referral.team_id != course.team_id:
        errors["referral"] = "Only referrals of the course's team can be enrolled."
    elif referral.status == "discharged":
        errors["referral"] = "This referral has been discharged."
    elif Enrolment.objects.filter(course=course, referral=referral, withdrawn_on__isnull=True).exists():
        errors["referral"] = "This referral is already enrolled on this course."
    if on > timezone.localdate():
        errors["enrolled_on"] = "Enrolment cannot be dated in the future."
    elif on < referral.received_on:
        errors["enrolled_on"] = "Enrolment cannot be before the referral was received."
    if not errors:
        taken = Enrolment.objects.active().filter(course=course).count()
        if taken >= course.capacity:
            errors["course"] = f"The course is full ({taken} of {course.capacity} places taken)."
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            enrolment = Enrolment.objects.create(course=course, referral=referral, enrolled_on=on, enrolled_by=by)
    except IntegrityError:  # a concurrent enrolment of the same referral won the race
        raise ValidationError({"referral": "This referral is already enrolled on this course."}) from None
    audit.record(by, "enrolment.create", enrolment, patient_id=referral.patient_id, changes={"course": course.pk})
    return enrolment


def _withdraw(enrolment, reason, note, by, on):
    enrolment.withdrawn_on = on
    enrolment.withdrawal_reason = reason
    enrolment.withdrawal_note = (note or "").strip()
    enrolment.withdrawn_by = by
    enrolment.save(update_fields=["withdrawn_on", "withdrawal_reason", "withdrawal_note", "withdrawn_by"])
    audit.record(
        by,
        "enrolment.withdraw",
        enrolment,
        patient_id=enrolment.referral.patient_id,
        changes={"reason": reason, "note": enrolment.withdrawal_note, "on": on},
    )


@transaction.atomic
def withdraw(*, enrolment, reason, by, note="", on=None):
    """End a place on a course with a reason; the enrolment row stays."""
    enrolment = Enrolment.objects.select_for_update().select_related("referral").get(pk=enrolment.pk)
    permissions.require(by, "book_group_place", enrolment.referral)
    on = on or timezone.localdate()
    errors = {}
    if enrolment.withdrawn_on is not None:
        errors["reason"] = f"Already withdrawn on {enrolment.withdrawn_on:%d %b %Y}."
    if reason not in WithdrawalReason.values:
        errors["reason"] = "Choose the reason for withdrawal."
    elif reason == WithdrawalReason.OTHER and not (note or "").strip():
        errors["note"] = "Say why, when the reason is 'other'."
    if on < enrolment.enrolled_on:
        errors["withdrawn_on"] = "Withdrawal cannot be before enrolment."
    elif on > timezone.localdate():
        errors["withdrawn_on"] = "Withdrawal cannot be dated in the future."
    if errors:
        raise ValidationError(errors)
    _withdraw(enrolment, reason, note, by, on)
    return enrolment


def hold_diaries(*, course, by):
    """'Book into diaries': hold the course's sessions to come in its facilitators' diaries (those not
    held yet). A clash refuses it all (``appointments.services.Clash``, naming ``sessions``)."""
    return diaries.hold_course_sessions(course=_lock_course(course), by=by)


def register_rows(session):
    """The enrolments still to be registered at this session (no valid entry yet), in a stable order."""
    done = RegisterEntry.objects.valid().filter(session=session).values("enrolment_id")
    return (
        Enrolment.objects.for_session(session)
        .exclude(pk__in=done)
        .select_related("referral__patient")
        .order_by("referral__patient__family_name", "referral__patient__given_name", "pk")
    )


@transaction.atomic
def take_register(*, session, rows, by):
    """Record one session's register: every enrolled patient's attendance and PHQ-9/GAD-7, each as a
    group care contact. All rows or none: any bad row raises RegisterError and nothing is saved.

    ``rows``: dicts of enrolment (instance or id), attendance (IDS201 code), phq9 / gad7 (answer lists
    or None) and risk_note.
    """
    course = _lock_course(session.course)
    permissions.require(by, "take_register", course)
    # A contact corrected elsewhere (e.g. on the referral page) frees its row for a new entry.
    RegisterEntry.objects.filter(session=session, entered_in_error=False, contact__entered_in_error=True).update(
        entered_in_error=True
    )
    due = {e.pk: e for e in register_rows(session)}
    problems = []
    if course.status not in OPEN_STATUSES:
        problems.append(f"This course is {course.get_status_display().lower()}; its registers are closed.")
    if session.date > timezone.localdate():
        problems.append(f"This session is on {session.date:%d %b %Y}; take its register on or after that day.")
    row_errors = []
    seen = set()
    for row in rows:
        enrolment_id = getattr(row.get("enrolment"), "pk", row.get("enrolment"))
        errors = {}
        if enrolment_id not in due:
            errors["enrolment"] = "This patient is not on this session's register, or is already registered."
        elif enrolment_id in seen:
            errors["enrolment"] = "This patient appears twice in the register."
        seen.add(enrolment_id)
        errors.update(
            rules.check_row(
                attendance=row.get("attendance"),
                phq9=row.get("phq9"),
                gad7=row.get("gad7"),
                risk_note=row.get("risk_note", ""),
            )
        )
        row_errors.append({field: [message] for field, message in errors.items()})
    missing = set(due) - seen
    if missing:
        problems.append(f"Mark attendance for every enrolled patient ({len(missing)} missing).")
    if not rows and not due:
        problems.append("Everyone on this session's register is already registered.")
    if problems or any(row_errors):
        raise RegisterError(row_errors, problems)

    already = RegisterEntry.objects.valid().filter(session=session, contact__attendance__in=rules.ATTENDED).count()
    attending = already + sum(1 for row in rows if row["attendance"] in rules.ATTENDED)
    facilitators = sorted(course.facilitators.all(), key=lambda f: f.pk)
    # The facilitator taking the register is the contact's clinician (only facilitators take it).
    clinician = next(f for f in facilitators if f.pk == by.pk)
    mechanism = Mechanism.VIDEO if course.delivery == Delivery.ONLINE else Mechanism.FACE_TO_FACE
    entries = []
    for index, row in enumerate(rows):
        enrolment = due[getattr(row["enrolment"], "pk", row["enrolment"])]
        try:
            contact = log_contact(  # its own savepoint: a refusal here is collected, then all is rolled back
                referral=enrolment.referral,
                by=by,
                clinician=clinician,
                date=session.date,
                time=session.time,
                appointment_type=AppointmentType.TREATMENT,
                attendance=row["attendance"],
                mechanism=mechanism,
                therapy_mode=TherapyMode.GROUP,
                duration_minutes=course.session_minutes,
                group_participants=attending,
                group_facilitators=len(facilitators),
                phq9=row.get("phq9") or None,
                gad7=row.get("gad7") or None,
                risk_note=row.get("risk_note", ""),
                notes=f"{course.title}: session {session.number}",
                # The register is taken once per session (its entries are unique), and a group session
                # beside an individual one on the same day is ordinary: not the duplicate log_contact asks about.
                confirm_duplicate=True,
            )
        except ValidationError as exc:
            row_errors[index] = exc.message_dict
            continue
        entries.append(RegisterEntry(session=session, enrolment=enrolment, contact=contact, created_by=by))
    if any(row_errors):
        raise RegisterError(row_errors)
    RegisterEntry.objects.bulk_create(entries)
    if course.status == CourseStatus.PLANNED:
        course.status = CourseStatus.RUNNING
        course.save(update_fields=["status"])
    audit.record(
        by,
        "register.take",
        session,
        changes={"course": course.pk, "rows": len(entries), "attending": attending},
    )
    return entries


@transaction.atomic
def correct_entry(*, entry, reason, by):
    """A register row was wrong: its contact (and scores) are marked entered in error, and the patient's
    row opens again on the register. Other rows' participant counts stay as recorded."""
    permissions.require(by, "take_register", GroupCourse.objects.get(sessions__pk=entry.session_id))
    entry = RegisterEntry.objects.select_for_update().select_related("contact__referral").get(pk=entry.pk)
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the register entry was wrong."})
    reason = reason.strip()
    if entry.entered_in_error:
        raise ValidationError({"reason": "This register entry is already marked entered in error."})
    if not entry.contact.entered_in_error:
        mark_contact_in_error(contact=entry.contact, reason=reason, by=by)
    entry.entered_in_error = True
    entry.save(update_fields=["entered_in_error"])
    audit.record(
        by, "register.correct", entry, patient_id=entry.contact.referral.patient_id, changes={"reason": reason}
    )
    return entry


def record_view(user, action, obj, patient_ids):
    """One audit event per patient shown on a course page or register, in one INSERT."""
    audit.record_many(audit.event(user, action, obj, patient_id=pid) for pid in dict.fromkeys(patient_ids))
