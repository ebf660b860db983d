"""What the diary templates show, from rows already fetched (no queries here), and the iCal feed."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from html import escape  # the standard library's, as referrals/tables.py

import icalendar
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from referrals.codes import ATTENDED_CODES
from referrals.tables import label, link, patient_name_html

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


def _outcome_cell(row, outcomes, csrf_token):
    a = row.appointment
    contact_link = (
        f'<a class="small ms-1" href="{link("referrals:detail", a.referral_id)}#contact-{a.contact_id}">'
        "See the contact</a>"
    )
    if row.cancelled:
        seen = f" {contact_link}" if row.done else ""
        return f'<span class="badge text-bg-secondary">{escape(label(a, "cancel_reason"))}</span>{seen}\n      '
    if row.done:
        badge = "text-bg-success" if row.attended else "text-bg-warning"
        attendance = escape(label(a.contact, "attendance"))
        return f'<span class="badge {badge}">{attendance}</span>\n        {contact_link}\n      '
    at = clock_text(row.starts.time())
    buttons = "".join(
        f'<button class="btn btn-sm btn-outline-secondary" type="submit" name="attendance" value="{escape(code)}" '
        f"data-once>{escape(words)}</button>"
        for code, words in outcomes
    )
    return (
        f'\n      <form method="post" action="{link("appointments:record_outcome", a.pk)}" '
        f'class="d-flex flex-wrap gap-1" aria-label="Outcome of the {at} appointment">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">\n'
        f'        <a class="btn btn-sm btn-primary" href="{link("appointments:attended", a.pk)}">Attended'
        f'<span class="visually-hidden">: log the session of {escape(str(row.patient))}</span></a>\n'
        f"        {buttons}\n"
        f"      </form>\n"
        f'      <div class="small mt-1"><a href="{link("appointments:reschedule", a.pk)}">Move</a> · '
        f'<a href="{link("appointments:cancel", a.pk)}">Cancel</a></div>\n      '
    )


def _group_row_html(row, covering):
    """A group course's session held in the diary: the course and session, the place, its register."""
    a, session = row.appointment, row.session
    course = session.course
    title = escape(course.title)
    if row.cancelled:
        outcome = f'<span class="badge text-bg-secondary">Released ({escape(a.cancel_note or "cancelled")})</span>'
    else:
        register = reverse("workshops:register", args=[session.pk])
        outcome = (
            f'<a class="btn btn-sm btn-outline-primary" href="{register}">Register'
            f'<span class="visually-hidden"> of {title}, session {session.number}</span></a>'
        )
    return (
        f'\n  <tr id="appointment-{a.pk}">\n'
        f'    <td class="text-nowrap">{clock_text(row.starts.time())}–{clock_text(row.ends.time())}</td>\n'
        f'    <th scope="row"><a href="{reverse("workshops:course", args=[course.pk])}">{title}</a>'
        f'<div class="small text-muted">Group session {session.number}</div>{covering}</th>\n'
        f'    <td>Group session<div class="small text-muted">{escape(course.place)}</div></td>\n'
        f"    <td>{outcome}</td>\n"
        f"  </tr>\n  "
    )


def day_rows_html(rows, outcomes, csrf_token):
    """My day's table rows (``day_rows``) as one string, built in one pass: the markup of the loop
    templates/appointments/my_day.html had (held to it by tests/appointments/test_diary_rows.py), every
    value escaped; ``outcomes`` are the one-click (code, words), ``csrf_token`` the page's form token."""
    out = []
    for row in rows:
        a = row.appointment
        covering = ""
        if row.covering_for is not None:  # a colleague's appointment, on a day of their leave this user covers
            who = row.covering_for.get_full_name() or row.covering_for.get_username()
            covering = f'<div><span class="badge text-bg-info">Covering for {escape(who)}</span></div>'
        if row.session is not None:
            out.append(_group_row_html(row, covering))
            continue
        name = patient_name_html(row.patient, link("referrals:detail", a.referral_id)) + covering
        out.append(
            f'\n  <tr id="appointment-{a.pk}">\n'
            f'    <td class="text-nowrap">{clock_text(row.starts.time())}–{clock_text(row.ends.time())}</td>\n'
            f'    <th scope="row">{name}</th>\n'
            f'    <td>{escape(label(a, "appointment_type"))}<div class="small text-muted">'
            f"{escape(label(a, 'mechanism'))}</div></td>\n"
            f"    <td>\n      {_outcome_cell(row, outcomes, csrf_token)}\n    </td>\n"
            f"  </tr>\n  "
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped  # nosec B308 B703


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


@lru_cache(maxsize=2048)
def clock_text(t):
    """``{{ t|time:"H:i" }}``: "09:30" (a team's week shows thousands; each minute of the day is built once)."""
    return f"{t:%H:%M}"


def slot_rows_html(slots):
    """The free-slot table's rows (``queries.free_slots``: {clinician: [(day, [times])]}) as one string,
    built in one pass rather than by a template loop: a week of 300 clinicians is 2,100 cells. The
    markup is the loop's that templates/appointments/free_slots.html had (held to it by
    tests/appointments/test_diary_rows.py); every value escaped."""
    out = []
    for c, days in slots.items():
        cells = "".join(f'<td class="small">{" · ".join(map(clock_text, times)) or "–"}</td>' for _, times in days)
        total = sum(len(times) for _, times in days)
        out.append(
            f'\n  <tr><th scope="row">{escape(str(c))} <div class="small text-muted fw-normal">'
            f"{escape(label(c, 'role'))} · {total} free</div></th>\n    {cells}\n  </tr>\n  "
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped  # nosec B308 B703


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
