"""Reminders two days before, through the Notify adapter (only Notify's HTTP is mocked), sent once, with
a questionnaire link when the referral needs scores; the clinician's iCal feed behind a secret address,
initials only."""

import datetime as dt
import json
import uuid

import icalendar
import pytest
import responses
from django.urls import reverse
from django.utils import timezone

from appointments import services, tasks
from appointments.models import Appointment
from common.models import NotifyMessage
from frontdoor.models import QuestionnaireLink
from outcomes.models import QuestionnaireResponse
from referrals.models import Patient
from tests.conftest import login

BASE = "https://notify.test"
API_KEY = f"test_key-{uuid.uuid4()}-{uuid.uuid4()}"


@pytest.fixture
def real_notify(settings):
    settings.NOTIFY_API_KEY = API_KEY
    settings.NOTIFY_BASE_URL = BASE
    settings.PUBLIC_URL = "https://tt.example"


def _in_days(days, hour=10):
    return timezone.make_aware(dt.datetime.combine(timezone.localdate() + dt.timedelta(days=days), dt.time(hour)))


@pytest.fixture
def due(referral, pwp):
    Patient.objects.filter(pk=referral.patient_id).update(phone="07700 900123", nhs_number="9434765919")
    services.book(referral=referral, clinician=pwp, starts_at=_in_days(3), appointment_type="02", by=pwp)  # not yet
    return services.book(referral=referral, clinician=pwp, starts_at=_in_days(2), appointment_type="02", by=pwp)


@responses.activate
def test_the_reminder_goes_through_notify_once_with_the_questionnaire_link(
    real_notify, due, django_capture_on_commit_callbacks
):
    sent = responses.post(f"{BASE}/v2/notifications/sms", json={"id": "n-1", "reference": "r"}, status=201)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_appointment_reminders.apply().get() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_appointment_reminders.apply().get() == 0  # a rerun (or a second worker) sends nothing
    assert sent.call_count == 1
    body = json.loads(responses.calls[0].request.body)
    assert body["phone_number"] == "07700 900123"
    assert body["template_id"] == "appointment-reminder-sms"
    link = body["personalisation"]["link"]
    assert link.startswith("https://tt.example/q/")
    assert QuestionnaireLink.objects.filter(referral=due.referral).count() == 1
    assert NotifyMessage.objects.get().notify_id == "n-1"
    due.refresh_from_db()
    assert due.reminder_sent_at is not None
    assert Appointment.objects.filter(reminder_sent_at__isnull=True).count() == 1  # the one in three days


@responses.activate
def test_no_link_when_the_patient_sent_their_scores_this_week(real_notify, due, django_capture_on_commit_callbacks):
    responses.post(f"{BASE}/v2/notifications/sms", json={"id": "n-2", "reference": "r"}, status=201)
    QuestionnaireResponse.objects.create(
        referral=due.referral,
        measure="PHQ9",
        completed_on=timezone.localdate(),
        items=[1] * 9,
        total=9,
        source="patient",
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_reminders() == 1
    assert json.loads(responses.calls[0].request.body)["personalisation"]["link"] == ""
    assert not QuestionnaireLink.objects.exists()


def test_the_reminder_is_beat_scheduled_daily(settings):
    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "appointments.tasks.send_appointment_reminders" in tasks_scheduled


def test_the_feed_parses_with_initials_only(client, due, pwp, referral):
    login(client, pwp)
    page = client.post(reverse("appointments:calendar"))
    address = page.context["address"]
    client.logout()
    feed = client.get(address)
    assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")
    text = feed.content.decode()
    calendar = icalendar.Calendar.from_ical(feed.content)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 2
    assert str(events[0]["summary"]) == "Treatment · A. " + referral.patient.family_name[0] + "."
    assert events[0].decoded("dtstart") == due.starts_at or events[1].decoded("dtstart") == due.starts_at
    patient = Patient.objects.get(pk=referral.patient_id)
    for secret in (patient.family_name, patient.nhs_number, "943 476 5919", patient.phone, str(referral.pk)):
        assert secret not in text
    # A new address: the old one stops working.
    login(client, pwp)
    client.post(reverse("appointments:calendar"))
    client.logout()
    assert client.get(address).status_code == 404
    assert client.get(reverse("appointments:feed", args=["guessed-token"])).status_code == 404
