"""Looking a patient up by NHS number, name or date of birth: a POST with the details in the body, so
they never reach a URL (browser history, proxies, access logs); matches are scoped and audited."""

import pytest

from common.models import AuditEvent
from tests.factories import PatientFactory, ReferralFactory

SEARCH = "/api/v1/patients/search/"


@pytest.fixture
def found_by(api):
    def search(user, body):
        api.force_authenticate(user)
        return api.post(SEARCH, body, format="json")

    return search


@pytest.mark.django_db
def test_an_nhs_number_finds_the_patient_and_the_view_is_audited(found_by, pwp, referral):
    referral.patient.nhs_number = "9434765919"
    referral.patient.save()
    response = found_by(pwp, {"nhs_number": "943-476 5919"})
    assert response.status_code == 200
    assert [p["id"] for p in response.json()] == [str(referral.patient_id)]
    assert AuditEvent.objects.filter(actor=pwp, action="patient.view", patient_id=referral.patient_id).exists()


@pytest.mark.django_db
def test_patients_outside_your_scope_are_not_found(found_by, pwp, outsider, colleague):
    theirs = ReferralFactory(patient__team=outsider.team, patient__nhs_number="9434765919", care_coordinator=outsider)
    ReferralFactory(patient__team=pwp.team, patient__family_name="Quill", care_coordinator=colleague)
    assert found_by(pwp, {"nhs_number": "9434765919"}).json() == []
    assert found_by(pwp, {"family_name": "Quill"}).json() == []
    assert [p["id"] for p in found_by(outsider, {"nhs_number": "9434765919"}).json()] == [str(theirs.patient_id)]


@pytest.mark.django_db
def test_details_combine(found_by, pwp):
    one = ReferralFactory(patient__team=pwp.team, patient__family_name="Quill", care_coordinator=pwp).patient
    ReferralFactory(patient__team=pwp.team, patient__family_name="Quillon", care_coordinator=pwp)
    assert len(found_by(pwp, {"family_name": "quill"}).json()) == 2
    both = found_by(pwp, {"family_name": "quill", "date_of_birth": str(one.date_of_birth)}).json()
    assert str(one.pk) in [p["id"] for p in both]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "non_field_errors"),
        ({"nhs_number": "12345"}, "nhs_number"),
        ({"nhs_number": "9434765918"}, "nhs_number"),
        ({"family_name": "   "}, "family_name"),
        ({"date_of_birth": "yesterday"}, "date_of_birth"),
    ],
)
def test_a_bad_search_is_a_400_naming_the_field(found_by, pwp, body, field):
    response = found_by(pwp, body)
    assert response.status_code == 400
    assert field in response.json()["errors"]


@pytest.mark.django_db
def test_the_list_no_longer_filters_by_identifiers_in_the_query_string(api, pwp):
    PatientFactory(team=pwp.team, nhs_number="9434765919")
    PatientFactory(team=pwp.team)
    api.force_authenticate(pwp)
    everyone = api.get("/api/v1/patients/").json()["count"]
    for query in ("nhs_number=9434765919", "family_name=X", "date_of_birth=1980-01-01"):
        assert api.get(f"/api/v1/patients/?{query}").json()["count"] == everyone, query


@pytest.mark.django_db
def test_signed_out_search_is_refused(api):
    assert api.post(SEARCH, {"nhs_number": "9434765919"}, format="json").status_code in (401, 403)
