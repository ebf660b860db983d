"""What the diary templates show, from rows already fetched (no queries here), and the iCal feed."""

from __future__ import annotations

from dataclasses import dataclass

import icalendar
from django.utils import timezone
from django.utils.html import format_html_join

from referrals.codes import ATTENDED_CODES

from . import rules
from .models import Appointment


def initials(patient):
    """ "J. S." for Jo Smith: all a calendar outside the system is given of the patient."""
    parts = [patient.given_name, patient.family_name]
    return " ".join(f"{p.strip()[0].upper()}." for p in parts if p and p.strip())


@dataclass
class DayRow:
    appointment: Appointment
    starts: object
    ends: object
    done: bool
    attended: bool
    cancelled: bool
    covering_for: object = None  # the colleague on leave whose appointment this is (Leave.cover)

    @property
    def patient(self):
        return self.appointment.referral.patient if self.appointment.referral_id else None

    @property
    def session(self):
        """A group course's session held in the diary (no patient: the register is the course's)."""
        return self.appointment.course_session


def day_rows(appointments, viewer=None):
    rows = []
    for a in appointments:
        rows.append(
            DayRow(
                appointment=a,
                starts=timezone.localtime(a.starts_at),
                ends=timezone.localtime(a.ends_at),
                done=a.contact_id is not None,
                attended=a.attendance in ATTENDED_CODES,
                cancelled=a.status == Appointment.Status.CANCELLED,
                covering_for=a.clinician if viewer is not None and a.clinician_id != viewer.pk else None,
            )
        )
    return rows


@dataclass
class WaitingRow:
    referral: object
    days: int
    weeks: int
    band: str
    next_appointment: object


def waiting_rows(referrals, today):
    """Longest wait first (the query's order), each against the 6- and 18-week standards."""
    return [
        WaitingRow(
            referral=r,
            days=(today - r.received_on).days,
            weeks=rules.weeks_waited(r.received_on, today),
            band=rules.wait_band(r.received_on, today),
            next_appointment=timezone.localtime(r.next_appointment) if r.next_appointment else None,
        )
        for r in referrals
    ]


def referral_rows(appointments):
    return [(a, timezone.localtime(a.starts_at)) for a in appointments]


def slot_rows(slots):
    """[(clinician, cells, total free)] for the team's free-slot table; ``cells`` is the row's <td>s,
    built here (escaped) rather than by a template loop: a week of 300 clinicians is 2,100 cells."""
    rows = []
    for c, days in slots.items():
        cells = format_html_join(
            "", '<td class="small">{}</td>', ((" · ".join(f"{t:%H:%M}" for t in times) or "–",) for _, times in days)
        )
        rows.append((c, cells, sum(len(times) for _, times in days)))
    return rows


def slot_days(slots):
    """The days the table's columns show (the first clinician's; every clinician has the same)."""
    return [day for day, _ in next(iter(slots.values()), [])]


def ical(clinician, appointments):
    """The clinician's diary as iCalendar (RFC 5545): one event per live appointment, titled with the
    appointment type and the patient's initials; no name, NHS number, date of birth or notes."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Stepped Care//Diary//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Clinic diary")
    stamp = timezone.now()
    for a in appointments:
        event = icalendar.Event()
        event.add("uid", f"appointment-{a.pk}@stepped-care")
        event.add("dtstamp", stamp)
        event.add("dtstart", a.starts_at)
        event.add("dtend", a.ends_at)
        if a.course_session_id:  # a group session held in the diary: the course, no patient
            event.add("summary", f"Group · {a.course_session.course.title}, session {a.course_session.number}")
        else:
            event.add("summary", f"{a.get_appointment_type_display()} · {initials(a.referral.patient)}")
        event.add("description", f"{a.get_mechanism_display()}. Open the diary in the system for details.")
        if a.status == Appointment.Status.DONE:
            event.add("status", "CONFIRMED")
        cal.add_component(event)
    return cal.to_ical()
