"""Smoke: every referral of a small demo service (``seed_demo``: PHQ-9, GAD-7, WSAS and the
disorder-specific measures, discharged and waiting cases) exports as a Bundle the FHIR library accepts,
with one Observation per questionnaire, each derived from a response in the same Bundle."""

import pytest
from django.core.management import call_command
from fhir.resources.R4B.bundle import Bundle

from outcomes.models import QuestionnaireResponse
from referrals.models import Referral
from stepped_care.models import Staff


@pytest.mark.django_db
def test_every_demo_referral_exports_a_valid_bundle(settings, api):
    settings.DEBUG = True
    call_command("seed_demo", "--password", "demo-password-123", "--referrals", "40", "--skip-extras")
    manager = Staff.objects.get(username="manager1")
    api.force_authenticate(manager)  # sees the whole team
    referrals = list(Referral.objects.filter(team_id=manager.team_id).values_list("pk", flat=True))
    assert len(referrals) == 40
    measures = set()
    for pk in referrals:
        response = api.get(f"/api/v1/referrals/{pk}/fhir/")
        assert response.status_code == 200, (pk, response.content[:300])
        bundle = Bundle.model_validate_json(response.content)
        kinds = [e.resource.get_resource_type() for e in bundle.entry]
        responses = {e.fullUrl for e in bundle.entry if e.resource.get_resource_type() == "QuestionnaireResponse"}
        observations = [e.resource for e in bundle.entry if e.resource.get_resource_type() == "Observation"]
        stored = QuestionnaireResponse.objects.filter(referral_id=pk, entered_in_error=False)
        assert kinds[0] == "Patient" and kinds.count("Patient") == 1
        assert len(responses) == len(observations) == stored.count()
        assert all(o.derivedFrom[0].reference in responses for o in observations)
        measures |= set(stored.values_list("measure", flat=True))
    assert {"PHQ9", "GAD7"} <= measures and len(measures) > 3  # the demo's disorder-specific measures too
