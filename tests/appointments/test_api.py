"""The diaries through the API: scoped like every resource (outsiders 404), 409 JSON on a clash or a stale
version, the one-click outcome made once."""

import datetime as dt

import pytest
from django.utils import timezone

from appointments.models import Appointment, Leave, WorkingPattern
from referrals.models import CareContact

MONDAY = dt.date(2027, 1, 4)


def _at(day, hour, minute=0):
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


@pytest.fixture
def booked(api, referral, pwp):
    api.force_authenticate(pwp)
    body = {
        "referral": str(referral.pk),
        "clinician": pwp.pk,
        "starts_at": _at(MONDAY, 9).isoformat(),
        "appointment_type": "02",
    }
    response = api.post("/api/v1/appointments/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_book_and_a_clash_is_409_naming_the_field(api, booked, referral, pwp):
    assert booked["ends_at"] == _at(MONDAY, 9, 30).isoformat().replace("+00:00", "Z")
    body = {
        "referral": str(referral.pk),
        "clinician": pwp.pk,
        "starts_at": _at(MONDAY, 9, 15).isoformat(),
        "appointment_type": "02",
    }
    clash = api.post("/api/v1/appointments/", body, format="json")
    assert clash.status_code == 409
    assert clash.json()["code"] == "appointment_clash" and "starts_at" in clash.json()["errors"]
    assert Appointment.objects.count() == 1


def test_a_stale_version_is_409_and_nothing_changes(api, booked):
    url = f"/api/v1/appointments/{booked['id']}/cancel/"
    stale = api.post(url, {"reason": "patient", "version": booked["version"] + 5}, format="json")
    assert stale.status_code == 409 and stale["Content-Type"].startswith("application/problem+json")
    assert Appointment.objects.get().status == "booked"
    done = api.post(url, {"reason": "patient", "version": booked["version"]}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "cancelled"
    again = api.post(url, {"reason": "patient", "version": booked["version"]}, format="json")
    assert again.status_code == 409


def test_reschedule_and_series(api, booked):
    moved = api.post(
        f"/api/v1/appointments/{booked['id']}/reschedule/",
        {"starts_at": _at(MONDAY, 11).isoformat(), "version": booked["version"]},
        format="json",
    )
    assert moved.status_code == 201
    series = api.post(f"/api/v1/appointments/{moved.json()['id']}/series/", {"count": 3}, format="json")
    assert series.status_code == 201 and len(series.json()) == 3
    assert Appointment.objects.filter(status="booked").count() == 4


def test_outcome_is_made_once(api, booked):
    url = f"/api/v1/appointments/{booked['id']}/outcome/"
    Appointment.objects.filter(pk=booked["id"]).update(
        starts_at=_at(timezone.localdate(), 0, 1), ends_at=_at(timezone.localdate(), 0, 31)
    )
    first = api.post(url, {"attendance": "3"}, format="json")
    second = api.post(url, {"attendance": "3"}, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["contact"] == second.json()["contact"] and CareContact.objects.count() == 1
    assert api.post(url, {"attendance": "5"}, format="json").status_code == 400


def test_outsiders_see_nothing(api, booked, outsider):
    api.force_authenticate(outsider)
    assert api.get("/api/v1/appointments/").json()["count"] == 0
    assert api.get(f"/api/v1/appointments/{booked['id']}/").status_code == 404
    url = f"/api/v1/appointments/{booked['id']}/cancel/"
    assert api.post(url, {"reason": "patient", "version": 1}).status_code == 404


def test_working_patterns_scoped_to_the_team(api, pwp, colleague, outsider, manager):
    api.force_authenticate(pwp)
    body = {"clinician": pwp.pk, "weekday": 1, "start": "09:00", "end": "17:00", "valid_from": "2027-01-01"}
    assert api.post("/api/v1/working-patterns/", body, format="json").status_code == 201
    assert api.post("/api/v1/working-patterns/", {**body, "clinician": colleague.pk}, format="json").status_code == 403
    bad = api.post("/api/v1/working-patterns/", {**body, "end": "08:00"}, format="json")
    assert bad.status_code == 400 and "end" in str(bad.json())
    api.force_authenticate(manager)
    assert api.post("/api/v1/working-patterns/", {**body, "clinician": colleague.pk}, format="json").status_code == 201
    assert api.get("/api/v1/working-patterns/").json()["count"] == 2
    api.force_authenticate(outsider)
    assert api.get("/api/v1/working-patterns/").json()["count"] == 0
    assert WorkingPattern.objects.count() == 2


def test_leave_with_cover(api, pwp, colleague, outsider, manager):
    api.force_authenticate(pwp)
    body = {"clinician": pwp.pk, "starts_on": "2027-02-01", "ends_on": "2027-02-05", "cover": colleague.pk}
    assert api.post("/api/v1/leave/", body, format="json").status_code == 201
    backwards = api.post("/api/v1/leave/", {**body, "ends_on": "2027-01-01"}, format="json")
    assert backwards.status_code == 400 and "ends_on" in backwards.json()["errors"]
    itself = api.post("/api/v1/leave/", {**body, "cover": pwp.pk}, format="json")
    assert itself.status_code == 400 and "cover" in itself.json()["errors"]
    assert api.post("/api/v1/leave/", {**body, "clinician": colleague.pk}, format="json").status_code == 403
    api.force_authenticate(manager)
    assert api.get("/api/v1/leave/").json()["count"] == 1
    api.force_authenticate(outsider)
    assert api.get("/api/v1/leave/").json()["count"] == 0


def test_booking_a_clinician_on_leave_is_400_naming_the_clinician(api, referral, pwp):
    api.force_authenticate(pwp)
    Leave.objects.create(clinician=pwp, starts_on=MONDAY, ends_on=MONDAY)
    body = {
        "referral": str(referral.pk),
        "clinician": pwp.pk,
        "starts_at": _at(MONDAY, 11).isoformat(),
        "appointment_type": "02",
    }
    refused = api.post("/api/v1/appointments/", body, format="json")
    assert refused.status_code == 400
    assert "on leave" in str(refused.json()["errors"]["clinician"])
    assert not Appointment.objects.filter(clinician=pwp, starts_at__date=MONDAY).exists()
