"""GET /api/v1/referrals/{id}/fhir/: the referral as a FHIR R4 (UK Core) Bundle, for systems that speak FHIR.

Scoped like the referral itself (someone who may not see it gets 404) and audited as a view of the
patient's record. Answers ``application/fhir+json`` (or ``application/json`` when asked for it).
"""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from common import audit

from . import presenters, queries


class FhirJSONRenderer(JSONRenderer):
    """Writes a FHIR resource as the library serialises it (its own rules for dates and decimals);
    anything else (the OPTIONS description) as plain JSON."""

    media_type = presenters.FHIR_JSON
    format = "json"  # one format for both renderers: no ``?format=`` choice to document or fuzz

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if hasattr(data, "model_dump_json"):
            return data.model_dump_json().encode()
        return super().render(data, accepted_media_type, renderer_context)


class PlainJSONRenderer(FhirJSONRenderer):
    """The same document for a client that asks for ``application/json``."""

    media_type = "application/json"


EXAMPLE = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {"fullUrl": "urn:uuid:…patient id…", "resource": {"resourceType": "Patient"}},
        {"fullUrl": "urn:uuid:…response id…", "resource": {"resourceType": "QuestionnaireResponse"}},
        {"fullUrl": "urn:uuid:…total id…", "resource": {"resourceType": "Observation"}},
    ],
}


class ReferralFhirView(APIView):
    """The referral's patient, questionnaires and scores as one FHIR Bundle."""

    renderer_classes = [FhirJSONRenderer, PlainJSONRenderer]

    @extend_schema(
        operation_id="referrals_fhir_retrieve",
        parameters=[OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Referral id")],
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="A FHIR R4 Bundle (type collection): the UK Core Patient (NHS number, name, birth "
                "date), a QuestionnaireResponse per completed questionnaire with every item answer (linkId = "
                "item number), and an Observation per total coded with SNOMED CT (and LOINC for PHQ-9 "
                "44261-6 and GAD-7 70274-6), derivedFrom its QuestionnaireResponse. Questionnaires entered "
                "in error are left out.",
                examples=[OpenApiExample("Bundle", value=EXAMPLE)],
            )
        },
        tags=["referrals"],
    )
    def get(self, request, pk):
        referral = queries.referral_for_export(request.user, pk)
        if referral is None:
            raise NotFound  # not visible to them is the same as not there: the id reveals nothing
        questionnaires = queries.completed_questionnaires(referral)
        audit.record_view(request, referral, action="referral.fhir.view")
        return Response(presenters.referral_bundle(referral, questionnaires, at=timezone.now()))
