"""GET /api/v1/referrals/{id}/fhir/ as a FHIR client sees it: a Bundle the FHIR library itself accepts,
holding the patient, every completed questionnaire item by item and every total, coded and linked;
scoped and audited like the referral; a fixed number of SQL queries however many questionnaires."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from fhir.resources.R4B.bundle import Bundle

from common.models import AuditEvent
from interop import codes
from outcomes.models import QuestionnaireResponse, Source
from referrals import services
from referrals.models import CareContact
from tests.api.conftest import GAD7_LATER, GAD7_START, PHQ9_LATER, PHQ9_START, days_ago
from tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db

FHIR_JSON = "application/fhir+json"


def url(referral):
    return f"/api/v1/referrals/{getattr(referral, 'pk', referral)}/fhir/"


def export(api, referral):
    response = api.get(url(referral))
    assert response.status_code == 200, response.content[:500]
    return Bundle.model_validate_json(response.content)


def by_type(bundle, kind):
    return [e for e in bundle.entry if e.resource.get_resource_type() == kind]


@pytest.fixture
def mine(world):
    return world.ids["referrals"][0]


@pytest.fixture
def signed_in(api, pwp):
    api.force_authenticate(pwp)
    return api


def test_the_bundle_is_valid_fhir_with_the_patient_every_answer_and_every_total(signed_in, mine):
    response = signed_in.get(url(mine))
    assert response.status_code == 200
    assert response["Content-Type"] == FHIR_JSON
    assert "no-store" in response["Cache-Control"]
    bundle = Bundle.model_validate_json(response.content)  # the library's own validation, not ours
    assert bundle.type == "collection" and bundle.timestamp is not None

    (patient_entry,) = by_type(bundle, "Patient")
    patient = patient_entry.resource
    assert patient.meta.profile == [codes.PATIENT_PROFILE]
    assert [(i.system, i.value) for i in patient.identifier] == [(codes.NHS_NUMBER, "9434765919")]
    assert patient.name[0].family and patient.name[0].given
    assert patient.birthDate is not None

    stored = QuestionnaireResponse.objects.filter(referral_id=mine)
    responses = {e.fullUrl: e.resource for e in by_type(bundle, "QuestionnaireResponse")}
    observations = [e.resource for e in by_type(bundle, "Observation")]
    assert len(responses) == len(observations) == stored.count() == 5  # PHQ-9, GAD-7, WSAS; PHQ-9, GAD-7
    assert len(bundle.entry) == 11
    assert len({e.fullUrl for e in bundle.entry}) == 11 and all(e.fullUrl.startswith("urn:uuid:") for e in bundle.entry)

    for q in stored:
        fhir_response = responses[f"urn:uuid:{q.pk}"]
        assert fhir_response.status == "completed"
        assert fhir_response.subject.reference == patient_entry.fullUrl
        assert fhir_response.authored == q.completed_on
        assert [i.linkId for i in fhir_response.item] == [str(n) for n in range(1, len(q.items) + 1)]
        assert [i.answer[0].valueInteger for i in fhir_response.item] == q.items

    for observation in observations:
        (source,) = observation.derivedFrom
        q = stored.get(pk=source.reference.removeprefix("urn:uuid:"))
        assert source.reference in responses  # resolves inside the Bundle
        assert observation.subject.reference == patient_entry.fullUrl
        assert observation.effectiveDateTime == q.completed_on
        assert observation.status == "final" and observation.category[0].coding[0].code == "survey"
        assert {(c.system, c.code) for c in observation.code.coding or []} == {
            (c.system, c.code) for c in codes.total_codings(q.measure)
        }
        if q.measure == "WSAS":
            assert [c.valueInteger for c in observation.component] == [3, 2, 4, 1, 0]
        assert observation.valueInteger == q.total


def test_phq9_and_gad7_totals_carry_snomed_and_loinc(signed_in, mine):
    bundle = export(signed_in, mine)
    found = {}
    for entry in by_type(bundle, "Observation"):
        coding = {c.system: c.code for c in entry.resource.code.coding or []}
        found.setdefault(coding.get(codes.SNOMED_CT), set()).add((coding.get(codes.LOINC), entry.resource.valueInteger))
    assert found["720433000"] == {("44261-6", sum(PHQ9_START)), ("44261-6", sum(PHQ9_LATER))}
    assert found["445455005"] == {("70274-6", sum(GAD7_START)), ("70274-6", sum(GAD7_LATER))}


def test_every_measure_of_a_contact_is_exported_with_skipped_items_unanswered(signed_in, pwp):
    referral = ReferralFactory(patient__team=pwp.team, patient__nhs_number=None, care_coordinator=pwp)
    mi = [3] * 22 + [None] * 5
    services.log_contact(
        referral=referral,
        by=pwp,
        date=days_ago(5),
        appointment_type="02",
        attendance="5",
        questionnaires=[
            {"measure": "MI_ALONE", "items": mi},
            {"measure": "SPIN", "items": [2] * 17},
            {"measure": "BIQ", "score": 40},
        ],
    )
    bundle = export(signed_in, referral)
    assert not by_type(bundle, "Patient")[0].resource.identifier  # a self-referral without an NHS number
    responses = {len(e.resource.item or []): e.resource for e in by_type(bundle, "QuestionnaireResponse")}
    assert set(responses) == {27, 17, 0}  # the BIQ is recorded as a score: a response with no items
    assert [bool(i.answer) for i in responses[27].item] == [True] * 22 + [False] * 5
    values = {e.resource.code.coding[0].code: e.resource for e in by_type(bundle, "Observation")}
    mobility = values["473355002"]  # a mean: a Quantity (the library writes decimals as JSON numbers: 3.0)
    assert mobility.valueQuantity.value == 3 and mobility.valueQuantity.code == "{score}" and not mobility.valueInteger
    assert values["445552006"].valueInteger == 34 and values["1128221000000100"].valueInteger == 40


def test_questionnaires_entered_in_error_are_left_out(signed_in, pwp, mine, world):
    first, later = world.ids["contacts"][:2]
    contact = CareContact.objects.get(pk=later)
    services.mark_contact_in_error(contact=contact, reason="Logged on the wrong patient", by=pwp)
    bundle = export(signed_in, mine)
    assert len(by_type(bundle, "QuestionnaireResponse")) == 3  # the first contact's PHQ-9, GAD-7 and WSAS
    kept = {e.fullUrl for e in by_type(bundle, "QuestionnaireResponse")}
    assert kept == {f"urn:uuid:{q.pk}" for q in QuestionnaireResponse.objects.filter(contact_id=first)}


def test_a_questionnaire_the_patient_completed_names_them_its_author(signed_in, pwp):
    referral = ReferralFactory(patient__team=pwp.team, care_coordinator=pwp)
    own = {"referral": referral, "measure": "GAD7", "items": GAD7_START, "total": sum(GAD7_START)}
    QuestionnaireResponse.objects.create(**own, completed_on=days_ago(2), source=Source.PATIENT)
    wrong = QuestionnaireResponse.objects.create(**own, completed_on=days_ago(9), source=Source.PATIENT)
    # A correction of the patient's own answers (no contact to mark): the columns a correction sets.
    QuestionnaireResponse.objects.filter(pk=wrong.pk).update(entered_in_error=True, error_reason="Duplicate")
    bundle = export(signed_in, referral)
    (response,) = by_type(bundle, "QuestionnaireResponse")
    assert response.resource.author.reference == by_type(bundle, "Patient")[0].fullUrl
    assert response.resource.authored == days_ago(2)


def test_exporting_twice_gives_the_same_references(signed_in, mine):
    first, second = export(signed_in, mine), export(signed_in, mine)
    assert [e.fullUrl for e in first.entry] == [e.fullUrl for e in second.entry]


# --- who may, and the audit trail ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("pwp", 200),  # the care coordinator
        ("supervisor", 200),  # supervises the care coordinator
        ("manager", 200),
        ("administrator", 200),
        ("colleague", 404),  # a PWP of the team not on the case
        ("outsider", 404),  # another service
    ],
)
def test_the_export_follows_the_referrals_visibility_and_is_audited(api, request, mine, persona, status):
    user = request.getfixturevalue(persona)
    api.force_authenticate(user)
    before = AuditEvent.objects.filter(action="referral.fhir.view").count()
    response = api.get(url(mine))
    assert response.status_code == status
    events = AuditEvent.objects.filter(action="referral.fhir.view")
    if status == 200:
        event = events.latest("pk")
        assert (event.actor_id, event.object_id) == (user.pk, mine)
        assert str(event.patient_id) == str(response.json()["entry"][0]["resource"]["id"])
    else:
        assert response["Content-Type"] == "application/problem+json" and response.json()["status"] == 404
        assert events.count() == before  # nothing seen, nothing recorded


def test_anonymous_callers_are_refused(api, mine):
    assert api.get(url(mine)).status_code in (401, 403)


def test_an_unknown_referral_is_not_found(signed_in):
    assert signed_in.get(url("00000000-0000-4000-8000-000000000000")).status_code == 404


def test_plain_json_is_offered_to_clients_that_ask_for_it(signed_in, mine):
    response = signed_in.get(url(mine), HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    Bundle.model_validate(response.json())


# --- queries ------------------------------------------------------------------------------------------


def test_a_fixed_number_of_queries_with_one_questionnaire_and_with_many(api, pwp, django_assert_num_queries):
    api.force_authenticate(pwp)
    referral = ReferralFactory(patient__team=pwp.team, care_coordinator=pwp, received_on=days_ago(100))
    services.log_contact(
        referral=referral, by=pwp, date=days_ago(90), appointment_type="01", attendance="5", phq9=PHQ9_START
    )
    api.get(url(referral))  # warm caches (content types and the like)
    with CaptureQueriesContext(connection) as one:
        assert len(by_type(export(api, referral), "QuestionnaireResponse")) == 1
    assert len(one) == 3  # the referral with its patient, its questionnaires, the audit event
    for n in range(8):
        services.log_contact(
            referral=referral,
            by=pwp,
            date=days_ago(80 - 7 * n),
            appointment_type="02",
            attendance="5",
            phq9=PHQ9_LATER,
            gad7=GAD7_LATER,
            wsas=[1, 1, 1, 1, 1],
        )
    with django_assert_num_queries(len(one)):
        assert len(by_type(export(api, referral), "QuestionnaireResponse")) == 25


def test_the_schema_documents_the_endpoint(signed_in):
    schema = signed_in.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/referrals/{id}/fhir/"]["get"]
    assert FHIR_JSON in operation["responses"]["200"]["content"]
    assert {"401", "403", "404"} <= set(operation["responses"])
