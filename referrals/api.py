"""REST API for patients, referrals and contacts. Parsing here; every write is a service call."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from outcomes.models import QuestionnaireResponse
from outcomes.services import compute_outcome
from stepped_care import audit
from stepped_care.services import change_step

from . import services
from .models import CareContact, Patient, Referral
from .serializers import (
    AllocateSerializer,
    ContactErrorSerializer,
    ContactSerializer,
    DischargeSerializer,
    OutcomeSerializer,
    PatientSerializer,
    ReferralSerializer,
    StepChangeSerializer,
    StepSerializer,
)


class PatientViewSet(
    mixins.CreateModelMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    serializer_class = PatientSerializer
    filterset_fields = ["nhs_number"]
    ordering_fields = ["family_name", "date_of_birth", "created_at"]

    def get_queryset(self):
        return Patient.objects.visible_to(self.request.user).order_by("family_name", "given_name", "id")

    def retrieve(self, request, *args, **kwargs):
        patient = self.get_object()
        audit.record(request.user, "patient.view", patient, patient_id=patient.pk)
        return Response(self.get_serializer(patient).data)

    def perform_create(self, serializer):
        serializer.instance = services.create_patient(by=self.request.user, **serializer.validated_data)


class ReferralViewSet(
    mixins.CreateModelMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    serializer_class = ReferralSerializer
    filterset_fields = ["status", "current_step", "presenting_problem", "care_coordinator", "patient", "ltc_pathway"]
    ordering_fields = ["received_on", "status", "current_step"]

    def get_queryset(self):
        return Referral.objects.visible_to(self.request.user).order_by("-received_on", "id")

    def retrieve(self, request, *args, **kwargs):
        referral = self.get_object()
        audit.record(request.user, "referral.view", referral, patient_id=referral.patient_id)
        return Response(self.get_serializer(referral).data)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        user = self.request.user
        if "care_coordinator" not in data and user.is_clinician:
            data["care_coordinator"] = user  # the creating clinician coordinates unless told otherwise
        serializer.instance = services.create_referral(by=user, **data)

    @extend_schema(request=StepChangeSerializer, responses={201: StepSerializer})
    @action(detail=True, methods=["get", "post"], serializer_class=StepChangeSerializer)
    def steps(self, request, pk=None):
        """The referral's step history (GET), or a step change with its reason (POST)."""
        referral = self.get_object()
        if request.method == "GET":
            return Response(StepSerializer(referral.steps.select_related("decided_by"), many=True).data)
        body = StepChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        assignment = change_step(
            referral=referral,
            step=body.validated_data["step"],
            reason=body.validated_data["reason"],
            by=request.user,
            expected_version=body.validated_data.get("version"),
        )
        return Response(StepSerializer(assignment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DischargeSerializer, responses={200: ReferralSerializer})
    @action(detail=True, methods=["post"], serializer_class=DischargeSerializer)
    def discharge(self, request, pk=None):
        referral = self.get_object()
        body = DischargeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        referral = services.discharge(
            referral=referral,
            by=request.user,
            end_code=body.validated_data["end_code"],
            discharged_on=body.validated_data.get("discharged_on"),
            note=body.validated_data.get("note", ""),
            expected_version=body.validated_data.get("version"),
        )
        return Response(ReferralSerializer(referral, context={"request": request}).data)

    @extend_schema(request=AllocateSerializer, responses={200: ReferralSerializer})
    @action(detail=True, methods=["post"], serializer_class=AllocateSerializer)
    def allocate(self, request, pk=None):
        referral = self.get_object()
        body = AllocateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        referral = services.allocate(
            referral=referral,
            clinician=body.validated_data["care_coordinator"],
            by=request.user,
            expected_version=body.validated_data.get("version"),
        )
        return Response(ReferralSerializer(referral, context={"request": request}).data)

    @extend_schema(responses={200: OutcomeSerializer})
    @action(detail=True, methods=["get"], serializer_class=OutcomeSerializer)
    def outcome(self, request, pk=None):
        """First and last scores and the NHS Talking Therapies outcome of this referral."""
        referral = self.get_object()
        outcome = compute_outcome(referral)
        data = outcome.as_dict() | {"summary": outcome.summary}
        return Response(OutcomeSerializer(data).data)


class ContactViewSet(
    mixins.CreateModelMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    serializer_class = ContactSerializer
    filterset_fields = ["referral", "attendance", "appointment_type", "entered_in_error"]
    ordering_fields = ["date", "created_at"]

    def get_queryset(self):
        return (
            CareContact.objects.visible_to(self.request.user)
            .select_related("referral")
            .prefetch_related(Prefetch("questionnaires", queryset=QuestionnaireResponse.objects.all()))
            .order_by("date", "time", "created_at")
        )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        referral = data.pop("referral")
        serializer.instance = services.log_contact(
            referral=referral, by=self.request.user, expected_version=data.pop("version", None), **data
        )

    @extend_schema(request=ContactErrorSerializer, responses={200: ContactSerializer})
    @action(detail=True, methods=["post"], url_path="entered-in-error", serializer_class=ContactErrorSerializer)
    def entered_in_error(self, request, pk=None):
        """Mark a contact and its questionnaires entered in error (kept, ignored by outcomes)."""
        contact = self.get_object()
        body = ContactErrorSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        contact = services.mark_contact_in_error(contact=contact, reason=body.validated_data["reason"], by=request.user)
        return Response(ContactSerializer(contact, context={"request": request}).data)
