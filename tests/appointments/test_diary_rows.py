"""The diary rows built in one pass (appointments/presenters.py) say exactly what the template loops
they replaced said: each is compared with that loop, copied here from its template, rendered by
Django's engine for the same rows (names that need escaping, every role, empty days)."""

import datetime as dt
import uuid
from pathlib import Path

import pytest
from django.template import engines
from django.utils import timezone

from appointments import presenters
from appointments.models import Appointment
from appointments.views import OUTCOME_WORDS
from referrals.codes import AppointmentType, Attendance, Mechanism
from referrals.models import CareContact, Patient, Referral
from stepped_care.models import Role, Staff

# templates/appointments/free_slots.html's loop before issue 18.9, with the cells it was given
# (presenters.slot_rows: format_html_join of '<td class="small">{}</td>').
SLOT_ROWS_LOOP = (
    "{% for clinician, cells, total in rows %}\n"
    '  <tr><th scope="row">{{ clinician }} <div class="small text-muted fw-normal">'
    "{{ clinician.get_role_display }} · {{ total }} free</div></th>\n"
    "    {{ cells }}\n"
    "  </tr>\n"
    "  {% endfor %}"
)


# templates/appointments/my_day.html's loop before issue 18.9 (its rows, one-click outcomes, csrf token).
MY_DAY_LOOP = (Path(__file__).parent / "my_day_rows_before.html").read_text()


def _old_slot_rows(slots):
    from django.utils.html import format_html_join

    rows = []
    for c, days in slots.items():
        cells = format_html_join(
            "", '<td class="small">{}</td>', ((" · ".join(f"{t:%H:%M}" for t in times) or "–",) for _, times in days)
        )
        rows.append((c, cells, sum(len(times) for _, times in days)))
    return engines["django"].from_string(SLOT_ROWS_LOOP).render({"rows": rows})


MONDAY = dt.date(2027, 1, 4)
TIMES = [dt.time(9), dt.time(9, 45), dt.time(13, 5), dt.time(23, 59)]


@pytest.mark.parametrize("role", [value for value, _ in Role.choices])
@pytest.mark.parametrize("name", ["Sam Clinician", "O'Brien <b>&amp; Jo</b>", 'Ann "A" Lee'])
@pytest.mark.parametrize("days", [1, 7])
def test_the_free_slot_rows_are_the_template_loop(role, name, days):
    slots = {
        Staff(pk=1, first_name=name, last_name="", username="u1", role=role): [
            (MONDAY + dt.timedelta(days=n), TIMES[: n % 5]) for n in range(days)
        ],
        Staff(pk=2, first_name="", last_name="", username="second<>", role=role): [
            (MONDAY + dt.timedelta(days=n), []) for n in range(days)
        ],
    }
    assert str(presenters.slot_rows_html(slots)) == _old_slot_rows(slots)


def test_no_clinicians_is_no_rows():
    assert presenters.slot_rows_html({}) == "" == _old_slot_rows({})


def _appointment(n, *, status="booked", attendance="", cancel_reason="", contact=None, nhs="9434765919"):
    patient = Patient(
        pk=uuid.UUID(int=n + 100),
        given_name="Jo <i>" if n % 2 else "Ann-Marie",
        family_name="O'Brien & Sons" if n % 3 else "Smith",
        date_of_birth=dt.date(1984, 2, 29),
        nhs_number=nhs,
    )
    referral = Referral(pk=uuid.UUID(int=n + 200), patient=patient)
    at = timezone.make_aware(dt.datetime.combine(MONDAY, dt.time(9, 5))) + dt.timedelta(minutes=50 * n)
    return Appointment(
        pk=uuid.UUID(int=n + 300),
        referral=referral,
        starts_at=at,
        ends_at=at + dt.timedelta(minutes=45),
        appointment_type=AppointmentType.values[n % len(AppointmentType.values)],
        mechanism=Mechanism.values[n % len(Mechanism.values)],
        status=status,
        attendance=attendance,
        cancel_reason=cancel_reason,
        contact=contact,
    )


def _contact(n, attendance):
    return CareContact(pk=n + 400, attendance=attendance)


def _my_day_cases():
    cases = [_appointment(0), _appointment(1, nhs="")]
    for n, code in enumerate(Attendance.values, start=2):
        cancelled = code in ("2", "4")
        cases.append(
            _appointment(
                n,
                status="cancelled" if cancelled else "done",
                attendance=code,
                cancel_reason="patient" if code == "2" else "provider" if code == "4" else "",
                contact=_contact(n, code),
            )
        )
    cases.append(_appointment(9, status="cancelled", cancel_reason="rescheduled"))  # moved: no contact
    return cases


@pytest.mark.parametrize("which", ["all", "one booked", "one done", "one cancelled", "none"])
def test_my_day_rows_are_the_template_loop(which):
    appointments = _my_day_cases()
    chosen = {
        "all": appointments,
        "one booked": appointments[:1],
        "one done": appointments[2:3],
        "one cancelled": appointments[-1:],
        "none": [],
    }[which]
    rows = presenters.day_rows(chosen)
    outcomes = list(OUTCOME_WORDS.items())
    token = "tok<en>&1"
    expected = (
        engines["django"].from_string(MY_DAY_LOOP).render({"rows": rows, "outcomes": outcomes, "csrf_token": token})
    )
    assert str(presenters.day_rows_html(rows, outcomes, token)) == expected
    assert which == "none" or expected.count("<tr ") == len(chosen)  # the comparison is of rows


def test_my_day_rows_of_a_group_session_and_of_cover_say_so_escaped():
    """Rows the old loop never had: a group course's session held in the diary (course, session, place,
    its register) and a colleague's appointment covered on their leave (a labelled badge)."""
    from workshops.models import CourseSession, GroupCourse

    course = GroupCourse(pk=7, title="Stress <control>", venue="Bootle & library", delivery="venue")
    session = CourseSession(pk=11, course=course, number=2, date=MONDAY, time=dt.time(18))
    at = timezone.make_aware(dt.datetime.combine(MONDAY, dt.time(18)))
    group = Appointment(pk=uuid.UUID(int=1), course_session=session, starts_at=at, ends_at=at + dt.timedelta(hours=1))
    absent = Staff(pk=5, first_name="Jo <b>", last_name="Away", username="away")
    covered = _appointment(1)
    covered.clinician = absent
    rows = presenters.day_rows([group], viewer=None) + presenters.day_rows([covered], viewer=Staff(pk=6))
    html = str(presenters.day_rows_html(rows, OUTCOME_WORDS.items(), "token"))
    assert "Stress &lt;control&gt;</a>" in html and "Group session 2" in html and "Bootle &amp; library" in html
    assert 'href="/groups/sessions/11/register/"' in html
    assert "Covering for Jo &lt;b&gt; Away" in html
    assert html.count("<tr ") == 2
