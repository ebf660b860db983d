"""Shape course and register data for templates (so templates stay simple). Reads only; the few
queries here are fixed in number whatever the size of the group."""

import uuid
from dataclasses import dataclass, field

from outcomes.models import QuestionnaireResponse
from outcomes.presenters import Score
from outcomes.scoring import GAD7, PHQ9
from referrals.codes import ATTENDED_CODES, Attendance

from .models import RegisterEntry
from .rules import attendance_rate, fill_rate

SHORT_ATTENDANCE = {
    Attendance.ATTENDED: "Attended",
    Attendance.LATE_SEEN: "Late, seen",
    Attendance.LATE_NOT_SEEN: "Late, not seen",
    Attendance.CANCELLED_BY_PATIENT: "Cancelled by patient",
    Attendance.CANCELLED_BY_PROVIDER: "Cancelled by service",
    Attendance.DID_NOT_ATTEND: "DNA",
}


@dataclass
class Cell:
    entry_id: uuid.UUID
    attendance: str
    phq9: Score | None = None
    gad7: Score | None = None

    @property
    def attended(self):
        return self.attendance in ATTENDED_CODES

    @property
    def label(self):
        return SHORT_ATTENDANCE.get(self.attendance, self.attendance)

    @property
    def long_label(self):
        return Attendance(self.attendance).label


@dataclass
class Member:
    enrolment: object
    cells: list = field(default_factory=list)

    @property
    def patient(self):
        return self.enrolment.referral.patient

    @property
    def attended(self):
        return sum(1 for c in self.cells if c and c.attended)

    @property
    def recorded(self):
        return sum(1 for c in self.cells if c and c.attendance != Attendance.CANCELLED_BY_PROVIDER)

    def _series(self, measure):
        return [getattr(c, measure) for c in self.cells if c and getattr(c, measure)]

    @property
    def phq9_first(self):
        series = self._series("phq9")
        return series[0] if series else None

    @property
    def phq9_last(self):
        series = self._series("phq9")
        return series[-1] if len(series) > 1 else None

    @property
    def gad7_first(self):
        series = self._series("gad7")
        return series[0] if series else None

    @property
    def gad7_last(self):
        series = self._series("gad7")
        return series[-1] if len(series) > 1 else None


def _cells(entries, scores):
    """{entry pk: Cell} with each entry's PHQ-9 and GAD-7 totals; ``scores`` is the questionnaire
    queryset of the page (one query, run even when empty, so the count never depends on the data)."""
    cells = {e.pk: Cell(entry_id=e.pk, attendance=e.contact.attendance) for e in entries}
    by_contact = {e.contact_id: cells[e.pk] for e in entries}
    for contact_id, measure, total in scores.filter(entered_in_error=False, measure__in=[PHQ9, GAD7]).values_list(
        "contact_id", "measure", "total"
    ):
        if contact_id in by_contact:
            setattr(by_contact[contact_id], "phq9" if measure == PHQ9 else "gad7", Score(measure, total))
    return cells


def course_members(course, sessions):
    """Every enrolment (withdrawn too) with one cell per session: attendance and scores."""
    enrolments = list(
        course.enrolments.select_related("referral__patient", "withdrawn_by").order_by(
            "withdrawn_on", "referral__patient__family_name", "referral__patient__given_name", "pk"
        )
    )
    entries = list(RegisterEntry.objects.valid().filter(session__course=course).select_related("contact"))
    cells = _cells(
        entries,
        QuestionnaireResponse.objects.filter(
            contact__register_entry__session__course=course, contact__entered_in_error=False
        ),
    )
    column = {s.pk: n for n, s in enumerate(sessions)}
    members = {e.pk: Member(enrolment=e, cells=[None] * len(sessions)) for e in enrolments}
    for entry in entries:
        members[entry.enrolment_id].cells[column[entry.session_id]] = cells[entry.pk]
    return list(members.values())


def session_register(session):
    """The rows already registered at this session, as (entry, Cell), in name order."""
    entries = list(
        RegisterEntry.objects.valid()
        .filter(session=session)
        .select_related("contact", "enrolment__referral__patient")
        .order_by("enrolment__referral__patient__family_name", "enrolment__referral__patient__given_name", "pk")
    )
    cells = _cells(
        entries,
        QuestionnaireResponse.objects.filter(contact__register_entry__session=session, contact__entered_in_error=False),
    )
    return [(entry, cells[entry.pk]) for entry in entries]


def figures(course):
    """Fill and attendance rates of a course annotated by CourseQuerySet.with_stats."""
    return {
        "fill_rate": fill_rate(course.enrolled, course.capacity),
        "attendance_rate": attendance_rate(course.attended_entries, course.offered_entries),
        "places_left": max(course.capacity - course.enrolled, 0),
    }
