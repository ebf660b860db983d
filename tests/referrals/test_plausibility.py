"""Implausible data is refused with a message naming the field, at the web form and the API alike
(both ask referrals.services, which asks common/plausibility.py), and nothing is saved."""

import datetime as dt
import json

import pytest
from django.utils import timezone
from knox.models import AuthToken

from common import plausibility
from referrals.models import CareContact, Patient, Referral
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

TOMORROW = "tomorrow"  # resolved when the test runs (a run may cross midnight)


def resolved(value):
    return str(timezone.localdate() + dt.timedelta(days=1)) if value == TOMORROW else value


def today():
    return timezone.localdate()


ESC = "\x1b[31m"  # a terminal escape code (red text)


def years_ago(n):
    return (
        today().replace(year=today().year - n)
        if not (today().month == 2 and today().day == 29)
        else today() - dt.timedelta(days=365 * n)
    )


@pytest.fixture
def api(pwp):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=pwp)[1]}")
    return client


@pytest.fixture
def web(client, pwp):
    client.force_login(pwp)
    return client


GOOD_PATIENT = {"given_name": "Ada", "family_name": "Byron", "date_of_birth": "1990-12-10"}

# (changes to a good patient, field, words of the message)
BAD_PATIENTS = [
    ({"date_of_birth": "0001-01-01"}, "date_of_birth", "older than 120"),
    ({"date_of_birth": str(years_ago(121))}, "date_of_birth", "older than 120"),
    ({"date_of_birth": TOMORROW}, "date_of_birth", "future"),
    ({"given_name": "\u200b"}, "given_name", "no visible characters"),
    ({"family_name": "\u200b\u200b \u2060"}, "family_name", "no visible characters"),
    ({"given_name": "Ad\u200ba"}, "given_name", "invisible characters"),
    ({"family_name": f"Byron{ESC}"}, "family_name", "control characters"),
    ({"given_name": "Ada\u202eetsuj"}, "given_name", "text-direction"),
    ({"address": "1 High Street\x00"}, "address", "characters"),  # NUL: refused by the field itself
    ({"address": f"1 High Street{ESC}"}, "address", "control characters"),
    ({"address": "x" * (plausibility.ADDRESS_MAX + 1)}, "address", "500"),
]


def api_errors(response):
    assert response.status_code == 400, response.content
    return response.json()["errors"]


@pytest.mark.parametrize(("changes", "field", "words"), BAD_PATIENTS)
def test_an_implausible_patient_is_refused_by_the_api_and_the_form(api, web, changes, field, words):
    body = GOOD_PATIENT | {key: resolved(value) for key, value in changes.items()}
    errors = api_errors(api.post("/api/v1/patients/", body, format="json"))
    assert words in " ".join(map(str, errors[field]))

    page = web.post("/patients/new/", body)
    assert page.status_code == 400
    assert words in " ".join(page.context["form"].errors[field]), page.context["form"].errors
    assert not Patient.objects.filter(family_name__startswith="Byron").exists()


@pytest.mark.parametrize(("changes", "field", "words"), BAD_PATIENTS[:3] + BAD_PATIENTS[6:7])
def test_an_implausible_change_of_a_patient_is_refused(api, pwp, changes, field, words):
    patient = PatientFactory(team=pwp.team)
    response = api.patch(
        f"/api/v1/patients/{patient.pk}/", {"version": 1} | {k: resolved(v) for k, v in changes.items()}, format="json"
    )
    assert words in " ".join(map(str, api_errors(response)[field]))
    patient.refresh_from_db()
    assert patient.version == 1


def test_plausible_patients_at_the_bounds_are_accepted(api):
    for n, (born, name) in enumerate([(today(), "Zoë"), (years_ago(120) + dt.timedelta(days=1), "Nguyễn")]):
        body = GOOD_PATIENT | {"date_of_birth": str(born), "family_name": f"{name}-{n}", "address": "1 High St\nLeeds"}
        assert api.post("/api/v1/patients/", body, format="json").status_code == 201
    persian = GOOD_PATIENT | {"given_name": "\u0645\u06cc\u200c\u0646\u0627"}  # a zero-width non-joiner is spelling
    assert api.post("/api/v1/patients/", persian, format="json").status_code == 201


def test_a_long_list_of_long_term_conditions_is_refused(api):
    body = GOOD_PATIENT | {"long_term_conditions": ["diabetes"] * 10_000}
    errors = api_errors(api.post("/api/v1/patients/", body, format="json"))
    assert "long_term_conditions" in errors
    twice = GOOD_PATIENT | {"long_term_conditions": ["diabetes", "diabetes"]}
    assert "once" in " ".join(
        map(str, api_errors(api.post("/api/v1/patients/", twice, format="json"))["long_term_conditions"])
    )


@pytest.mark.parametrize(
    ("received_on", "words"),
    [
        ("0001-01-01", "before 2000"),
        ("1900-06-01", "before 2000"),
        ("1999-12-31", "before 2000"),
        (TOMORROW, "future"),
    ],
)
def test_a_referral_received_implausibly_is_refused_by_the_api_and_the_form(api, web, pwp, received_on, words):
    patient = PatientFactory(team=pwp.team)
    body = {
        "patient": str(patient.pk),
        "received_on": resolved(received_on),
        "source": "gp",
        "presenting_problem": "depression",
    }
    assert words in " ".join(api_errors(api.post("/api/v1/referrals/", body, format="json"))["received_on"])
    page = web.post(f"/patients/{patient.pk}/referrals/new/", body)
    assert page.status_code == 400
    assert words in " ".join(page.context["form"].errors["received_on"])
    assert not Referral.objects.filter(patient=patient).exists()


def test_a_referral_received_on_the_first_day_of_2000_is_accepted(api, pwp):
    patient = PatientFactory(team=pwp.team)
    body = {"patient": str(patient.pk), "received_on": "2000-01-01", "source": "gp", "presenting_problem": "depression"}
    assert api.post("/api/v1/referrals/", body, format="json").status_code == 201


def contact(referral, **changes):
    return {"referral": str(referral.pk), "date": str(today()), "appointment_type": "02", "attendance": "5"} | changes


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"notes": "x" * (plausibility.NOTE_MAX + 1)}, "notes", "20000"),
        ({"notes": f"Discussed {ESC}homework"}, "notes", "control characters"),
        ({"homework": "Diary\x07"}, "homework", "control characters"),
    ],
)
def test_implausible_session_notes_are_refused_by_the_api_and_the_form(api, web, referral, changes, field, words):
    response = api.post("/api/v1/contacts/", contact(referral, **changes), format="json")
    message = " ".join(api_errors(response)[field]).replace(",", "")
    assert words in message
    form = {"date": str(today()), "appointment_type": "02", "attendance": "5", "mechanism": "01", "therapy_mode": "1"}
    page = web.post(f"/referrals/{referral.pk}/sessions/new/", form | changes)
    assert page.status_code == 400
    assert page.context["form"].errors.get(field), page.context["form"].errors
    assert not CareContact.objects.filter(referral=referral).exists()


def test_notes_with_line_breaks_and_tabs_are_kept(api, referral):
    notes = "Line one\r\n\tLine two"
    response = api.post("/api/v1/contacts/", contact(referral, notes=notes), format="json")
    assert response.status_code == 201 and response.json()["notes"] == notes


def test_a_two_megabyte_note_never_reaches_the_database(api, referral):
    body = json.dumps(contact(referral, notes="x" * 2_000_000))
    response = api.post("/api/v1/contacts/", body, content_type="application/json")
    assert response.status_code == 413
    assert not CareContact.objects.exists()
