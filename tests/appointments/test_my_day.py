"""My day: one click records the outcome as a contact with the data-set attendance code; Attended opens
the session form filled from the appointment; whatever the browser does, an appointment has one contact."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments import services
from appointments.models import Appointment
from outcomes.models import QuestionnaireResponse
from referrals.models import CareContact
from tests.conftest import login
from tests.factories import ReferralFactory

PHQ = [1, 1, 1, 1, 1, 1, 1, 1, 0]
GAD = [2, 2, 2, 2, 2, 2, 2]


def _today_at(hour, minute=0):
    return timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(hour, minute)))


@pytest.fixture
def booked(referral, pwp):
    return services.book(referral=referral, clinician=pwp, starts_at=_today_at(0, 5), appointment_type="02", by=pwp)


def _session_post(appointment, **extra):
    local = timezone.localtime(appointment.starts_at)
    data = {
        "date": local.date().isoformat(),
        "time": local.strftime("%H:%M"),
        "appointment_type": appointment.appointment_type,
        "attendance": "5",
        "mechanism": appointment.mechanism,
        "therapy_mode": "1",
        **{f"phq9_{i}": v for i, v in enumerate(PHQ, start=1)},
        **{f"gad7_{i}": v for i, v in enumerate(GAD, start=1)},
    }
    data.update(extra)
    return data


def test_my_day_lists_todays_appointments_only(client, booked, pwp, referral):
    services.book(
        referral=referral,
        clinician=pwp,
        starts_at=_today_at(0, 5) + dt.timedelta(days=1),
        appointment_type="02",
        by=pwp,
    )
    page = login(client, pwp).get(reverse("appointments:my_day"))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('id="appointment-') == 1
    assert str(referral.patient) in html
    assert reverse("appointments:attended", args=[booked.pk]) in html
    assert 'value="3"' in html and "Did not attend" in html


@pytest.mark.parametrize("code", ["3", "2", "4", "7"])
def test_one_click_records_the_contact_with_its_attendance_code(client, booked, pwp, code):
    response = login(client, pwp).post(reverse("appointments:record_outcome", args=[booked.pk]), {"attendance": code})
    assert response.status_code == 302
    contact = CareContact.objects.get()
    booked.refresh_from_db()
    local = timezone.localtime(booked.starts_at)
    assert (contact.attendance, contact.appointment_type, contact.date, contact.time.strftime("%H:%M")) == (
        code,
        "02",
        local.date(),
        local.strftime("%H:%M"),
    )
    status = {"2": "cancelled", "4": "cancelled"}.get(code, "done")  # a cancellation frees the time
    assert (booked.contact_id, booked.status, booked.attendance) == (contact.pk, status, code)


def test_a_second_click_shows_the_existing_contact_not_a_second(client, booked, pwp):
    login(client, pwp)
    url = reverse("appointments:record_outcome", args=[booked.pk])
    client.post(url, {"attendance": "3"})
    again = client.post(url, {"attendance": "2"})  # a double click, a second tab, Back and another button
    contact = CareContact.objects.get()
    assert contact.attendance == "3"
    assert again.status_code == 302 and again["Location"].endswith(f"#contact-{contact.pk}")
    shown = client.get(again["Location"])
    assert "already recorded" in shown.content.decode()


def test_the_service_makes_the_contact_once(booked, pwp):
    first, created = services.record_appointment_outcome(appointment=booked, attendance="3", by=pwp)
    second, again = services.record_appointment_outcome(appointment=booked, attendance="3", by=pwp)
    assert (created, again, first.pk) == (True, False, second.pk)
    assert CareContact.objects.count() == 1


def test_attended_opens_the_session_form_filled_from_the_appointment(client, pwp, referral):
    at = _today_at(0, 10)
    appointment = services.book(
        referral=referral, clinician=pwp, starts_at=at, appointment_type="02", mechanism="02", by=pwp
    )
    html = login(client, pwp).get(reverse("appointments:attended", args=[appointment.pk])).content.decode()
    assert "data-focus-first-unanswered" in html
    assert f'value="{timezone.localdate().isoformat()}"' in html
    assert re.search(r'name="time" value="00:10"', html)
    assert re.search(r'<option value="02" selected>', html)  # telephone
    assert re.search(r'value="02"[^>]*checked|checked[^>]*value="02"', html)  # treatment


def test_attended_saves_once_whatever_the_browser_does(client, booked, pwp):
    login(client, pwp)
    url = reverse("appointments:attended", args=[booked.pk])
    token = re.search(r'name="form_token" value="([^"]+)"', client.get(url).content.decode()).group(1)
    first = client.post(url, _session_post(booked, form_token=token))
    assert first.status_code == 302, first.content.decode()[:2000]
    contact = CareContact.objects.get()
    assert sorted(q.measure for q in contact.questionnaires.all()) == ["GAD7", "PHQ9"]
    # Back and Save again (the same token), and a second tab (a new token): still one contact.
    client.post(url, _session_post(booked, form_token=token))
    other_tab = client.post(url, _session_post(booked, form_token="b" * 43))
    assert other_tab.status_code == 302 and other_tab["Location"].endswith(f"#contact-{contact.pk}")
    assert CareContact.objects.count() == 1
    booked.refresh_from_db()
    assert (booked.contact_id, booked.status) == (contact.pk, "done")


def test_attended_is_filled_with_the_patients_own_answers(client, booked, pwp, referral):
    QuestionnaireResponse.objects.create(
        referral=referral, measure="PHQ9", completed_on=timezone.localdate(), items=PHQ, total=8, source="patient"
    )
    html = login(client, pwp).get(reverse("appointments:attended", args=[booked.pk])).content.decode()
    assert "patient&#x27;s own answers (PHQ-9)" in html
    checked = re.findall(r'name="phq9_(\d)" id="[^"]+" value="(\d)"[^>]*checked', html)
    assert sorted(checked) == sorted((str(i), str(v)) for i, v in enumerate(PHQ, start=1))
    assert not re.findall(r'name="gad7_\d" id="[^"]+" value="\d"[^>]*checked', html)  # left for the session


def test_a_cancelled_appointment_records_no_contact(booked, pwp):
    services.cancel(appointment=booked, reason="patient", by=pwp)
    with pytest.raises(Exception, match="cancelled"):
        services.record_appointment_outcome(appointment=booked, attendance="3", by=pwp)
    assert not CareContact.objects.exists()


def test_an_outsider_gets_404(client, booked, outsider):
    login(client, outsider)
    assert client.post(reverse("appointments:record_outcome", args=[booked.pk]), {"attendance": "3"}).status_code == 404
    assert client.get(reverse("appointments:attended", args=[booked.pk])).status_code == 404
    assert not CareContact.objects.exists()


@pytest.mark.parametrize("rows", [1, 8])
def test_my_day_runs_a_fixed_number_of_queries(client, pwp, rows, django_assert_num_queries):
    for n in range(rows):
        referral = ReferralFactory(patient__team=pwp.team, care_coordinator=pwp)
        appointment = services.book(
            referral=referral,
            clinician=pwp,
            starts_at=_today_at(0, 0) + dt.timedelta(minutes=35 * n),
            appointment_type="02",
            by=pwp,
        )
        if n % 2:
            services.record_appointment_outcome(appointment=appointment, attendance="3", by=pwp)
    login(client, pwp)
    client.get(reverse("appointments:my_day"))  # warm the session
    with django_assert_num_queries(QUERIES_MY_DAY):
        assert client.get(reverse("appointments:my_day")).status_code == 200
    assert Appointment.objects.count() == rows


# session, user, the nav's rulebook answers, the day: the same for 1 row or 8 (7 until the session was
# refreshed at most once a minute, common.sessions: no session UPDATE in its savepoint)
QUERIES_MY_DAY = 3  # session, the user with their team (common.sessions), the day's appointments


def test_a_cancellation_from_my_day_frees_the_time(booked, pwp, referral):
    services.record_appointment_outcome(appointment=booked, attendance="2", by=pwp)
    again = services.book(referral=referral, clinician=pwp, starts_at=booked.starts_at, appointment_type="02", by=pwp)
    assert again.status == "booked"
