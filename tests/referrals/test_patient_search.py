"""One patient search (``referrals.queries.patient_search``) behind the caseload, the waiting list,
group enrolment, the audit page and the API: it takes the app's own "SURNAME, Given", "Given Surname"
in either order, and an NHS number with or without spaces."""

import datetime as dt

import pytest
from django.urls import reverse

from referrals.models import Patient
from referrals.queries import patient_search
from tests.factories import PatientFactory, ReferralFactory

pytestmark = pytest.mark.django_db

NHS = "9434765919"


@pytest.fixture
def patients(team):
    return {
        "jo": PatientFactory(team=team, given_name="Jo", family_name="Quill", nhs_number=NHS),
        "joanna": PatientFactory(team=team, given_name="Joanna", family_name="Smith-Quill"),
        "sam": PatientFactory(team=team, given_name="Sam", family_name="Jones"),
        "ann": PatientFactory(team=team, given_name="Ann", family_name="van der Berg"),
    }


def found(text, **kwargs):
    return sorted(p.given_name for p in Patient.objects.filter(patient_search(text, **kwargs)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("QUILL, Jo", ["Jo", "Joanna"]),  # the app's own format (Joanna Smith-Quill contains both)
        ("QUILL, Joa", ["Joanna"]),
        ("Quill,", ["Jo", "Joanna"]),
        ("SMITH-QUILL, Joanna", ["Joanna"]),
        ("Jo Quill", ["Jo", "Joanna"]),
        ("Quill Jo", ["Jo", "Joanna"]),
        ("  sam   JONES ", ["Sam"]),
        ("jones", ["Sam"]),
        ("Ann van der Berg", ["Ann"]),
        ("VAN DER BERG, Ann", ["Ann"]),
        ("943 476 5919", ["Jo"]),
        ("943-476-5919", ["Jo"]),
        (NHS, ["Jo"]),
        ("943 476", ["Jo"]),  # the first digits of a number
        ("999 999 9999", []),
        ("Nobody", []),
        ("", ["Ann", "Jo", "Joanna", "Sam"]),
    ],
)
def test_the_search_formats(patients, text, expected):
    assert found(text) == expected


def test_structured_parts_combine_with_the_text(patients):
    assert found("", family_name="quill") == ["Jo"]  # the start of the family name
    assert found("Jo", date_of_birth=patients["jo"].date_of_birth) == ["Jo", "Joanna", "Sam"]  # Sam Jones
    assert found("Jo", date_of_birth=dt.date(2001, 1, 1)) == []
    assert found("Jo", family_name="Smith") == ["Joanna"]


def test_the_caseload_finds_a_patient_by_the_name_it_shows(client, pwp, team):
    mine = ReferralFactory(
        patient__team=team, patient__given_name="Jo", patient__family_name="Quill", care_coordinator=pwp
    )
    ReferralFactory(patient__team=team, patient__given_name="Sam", patient__family_name="Jones", care_coordinator=pwp)
    client.force_login(pwp)
    url = reverse("referrals:caseload")
    for text in ("QUILL, Jo", "Jo Quill", "quill"):
        rows = client.post(url, {"q": text}, follow=True).context["rows"]
        assert [r.referral.pk for r in rows] == [mine.pk], text


def test_the_waiting_list_finds_by_nhs_number_with_spaces(client, pwp, team):
    waiting = ReferralFactory(patient__team=team, patient__nhs_number=NHS)
    ReferralFactory(patient__team=team)
    client.force_login(pwp)
    page = client.post(reverse("referrals:waiting_list"), {"q": "943 476 5919"}, follow=True)
    assert [r.referral.pk for r in page.context["rows"]] == [waiting.pk]


def test_the_audit_page_finds_by_the_apps_name_format(client, manager, patients):
    client.force_login(manager)
    response = client.post(reverse("audit"), {"lookup-query": "QUILL, Jo"})
    assert {p.pk for p in response.context["matches"]} == {patients["jo"].pk, patients["joanna"].pk}
    response = client.post(reverse("audit"), {"lookup-query": "JONES, Sam"})
    assert response.status_code == 302 and str(patients["sam"].pk) in response["Location"]


def test_the_api_search_takes_the_same_text(api, pwp, team):
    jo = ReferralFactory(
        patient__team=team, patient__given_name="Jo", patient__family_name="Quill", care_coordinator=pwp
    ).patient
    ReferralFactory(patient__team=team, patient__given_name="Sam", patient__family_name="Jones", care_coordinator=pwp)
    api.force_authenticate(pwp)
    for text in ("QUILL, Jo", "Jo Quill"):
        body = api.post("/api/v1/patients/search/", {"q": text}, format="json").json()
        assert [p["id"] for p in body] == [str(jo.pk)], text
    assert api.post("/api/v1/patients/search/", {"q": "  "}, format="json").status_code == 400


# --- "sessions attended": one meaning on the caseload, the referral page and the supervision list ----------


def test_sessions_attended_means_the_same_on_every_page(client, pwp, supervisor):
    from outcomes.metrics import SESSIONS_ATTENDED, SESSIONS_ATTENDED_MEANS
    from tests.referrals.test_views import make_case

    referral = make_case(pwp, sessions=3)  # an assessment, then two treatment sessions
    client.force_login(pwp)
    caseload = client.get(reverse("referrals:caseload"))
    assert caseload.context["rows"][0].referral.sessions_attended == 2
    detail = client.get(reverse("referrals:detail", args=[referral.pk]))
    assert detail.context["outcome"].attended_treatment_contacts == 2
    client.force_login(supervisor)
    listed = client.get(reverse("supervision:case_list", args=[pwp.pk]), {"all": "1"})
    assert [r.sessions for r in listed.context["prepared"].rows] == [2]
    for page in (caseload, detail, listed):
        html = page.content.decode()
        assert SESSIONS_ATTENDED in html and "An assessment on its own is not counted." in html
        assert SESSIONS_ATTENDED_MEANS.split(":")[0] in html
