"""REST API for patients, referrals and contacts. Parsing here; every write is a service call, every read
goes through ``visible_to(user)`` (outsiders get 404)."""

import django_filters
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from common import audit, permissions
from common.idempotency import IdempotentCreateMixin
from outcomes.models import QuestionnaireResponse
from outcomes.services import compute_outcome
from stepped_care import services as stepped_care_services
from stepped_care.models import Step
from stepped_care.queries import staff_of_users_team
from stepped_care.services import change_step

from . import services
from .codes import AppointmentType, Attendance, Mechanism, PresentingProblem, ReferralSource, ReferralStatus
from .models import CareContact, Patient, Referral
from .queries import patient_search
from .serializers import (
    AllocateSerializer,
    ContactErrorSerializer,
    ContactSerializer,
    DischargeSerializer,
    OutcomeSerializer,
    PatientSearchSerializer,
    PatientSerializer,
    PatientUpdateSerializer,
    PresentingProblemSerializer,
    ReferralSerializer,
    StepChangeSerializer,
    StepSerializer,
)

SEARCH_LIMIT = 25  # matches a patient search returns: enough to pick from, few enough to narrow down


def _team_staff(request):
    """Staff a filter may name: the caller's team only, so ids of other services' staff reveal nothing."""
    return staff_of_users_team(request.user if request is not None else None, active=None)


class PatientViewSet(
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Patients of referrals you may see (and patients your team registered who have no referral yet)."""

    serializer_class = PatientSerializer
    not_idempotent = ("search",)  # a POSTed read: nothing to make twice
    ordering_fields = ["family_name", "given_name", "date_of_birth", "created_at"]
    ordering = ["family_name", "given_name", "id"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return Patient.objects.visible_to(self.request.user).order_by(*self.ordering)

    def get_serializer_class(self):
        return PatientUpdateSerializer if self.action == "partial_update" else PatientSerializer

    def retrieve(self, request, *args, **kwargs):
        patient = self.get_object()
        audit.record_view(request, patient)
        return Response(self.get_serializer(patient).data)

    @extend_schema(responses={201: PatientSerializer, 200: PatientSerializer})
    def create(self, request, *args, **kwargs):
        """Register a patient. An NHS number the service already holds with the same date of birth is
        the same person: 200 with them, registered with your team (nothing of another team's care comes
        with them); with another date of birth, 400 "Check the NHS number and date of birth"; already
        registered with your team, 409 ``patient_already_registered`` naming them if you can see them."""
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        details = dict(body.validated_data)
        patient, created = services.find_or_register_patient(
            details.pop("nhs_number", None),
            details.pop("date_of_birth"),
            by=request.user,
            refuse_team_duplicate=True,
            **details,
        )
        data = PatientSerializer(patient, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        request=PatientSearchSerializer,
        responses={200: PatientSerializer(many=True)},
        description=f"Patients you may see who match every detail given, at most {SEARCH_LIMIT}. The details "
        "go in the body, not the URL, so NHS numbers and names stay out of logs; each match shown is audited.",
    )
    @action(
        detail=False,
        methods=["post"],
        serializer_class=PatientSearchSerializer,
        pagination_class=None,
        filter_backends=[],
    )
    def search(self, request):
        """Find patients by NHS number, name (as typed in the app's search box), family name or date of birth."""
        body = PatientSearchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        criteria = body.validated_data
        found = self.get_queryset().filter(
            patient_search(criteria.get("nhs_number", "")),
            patient_search(
                criteria.get("q", ""),
                family_name=criteria.get("family_name", ""),
                date_of_birth=criteria.get("date_of_birth"),
            ),
        )
        patients = list(found[:SEARCH_LIMIT])
        for patient in patients:
            audit.record_view(request, patient)
        return Response(PatientSerializer(patients, many=True, context=self.get_serializer_context()).data)

    @extend_schema(request=PatientUpdateSerializer, responses={200: PatientSerializer})
    def partial_update(self, request, *args, **kwargs):
        """Change some of a patient's details. Send the ``version`` you read: a stale one gets 409."""
        patient = self.get_object()
        body = PatientUpdateSerializer(patient, data=request.data, partial=True, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        changes = dict(body.validated_data)
        expected_version = changes.pop("version", None)
        patient = services.update_patient(
            patient=patient, by=request.user, expected_version=expected_version, **changes
        )
        return Response(PatientSerializer(patient, context=self.get_serializer_context()).data)


class ReferralFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ReferralStatus.choices)
    current_step = django_filters.TypedChoiceFilter(choices=Step.choices, coerce=int)
    presenting_problem = django_filters.MultipleChoiceFilter(choices=PresentingProblem.choices)
    source = django_filters.ChoiceFilter(choices=ReferralSource.choices)
    care_coordinator = django_filters.ModelChoiceFilter(queryset=_team_staff)
    unallocated = django_filters.BooleanFilter(
        field_name="care_coordinator", lookup_expr="isnull", help_text="true: the waiting list nobody holds yet"
    )
    patient = django_filters.UUIDFilter(field_name="patient_id")
    received_on = django_filters.DateFromToRangeFilter()
    discharged_on = django_filters.DateFromToRangeFilter()
    caseload = django_filters.BooleanFilter(
        method="filter_caseload", help_text="true: only your active caseload (referrals you coordinate or treat)"
    )

    class Meta:
        model = Referral
        fields = [
            "status",
            "current_step",
            "presenting_problem",
            "source",
            "care_coordinator",
            "unallocated",
            "patient",
            "ltc_pathway",
            "received_on",
            "discharged_on",
            "caseload",
        ]

    def filter_caseload(self, queryset, name, value):
        if value is None:
            return queryset
        mine = Referral.objects.caseload_of(self.request.user).values("pk")
        return queryset.filter(pk__in=mine) if value else queryset.exclude(pk__in=mine)


class ReferralViewSet(
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Referrals you may see: the ones you coordinate or treat, your team's unallocated waiting list, your
    supervisees' (supervisors) or your team's (managers and administrators)."""

    serializer_class = ReferralSerializer
    filterset_class = ReferralFilter
    ordering_fields = ["received_on", "status", "current_step", "discharged_on", "created_at"]
    ordering = ["-received_on", "id"]

    def get_queryset(self):
        return (
            Referral.objects.visible_to(self.request.user)
            .select_related("patient", "care_coordinator")
            .order_by(*self.ordering)
        )

    def retrieve(self, request, *args, **kwargs):
        referral = self.get_object()
        audit.record_view(request, referral)
        return Response(self.get_serializer(referral).data)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        user = self.request.user
        if "care_coordinator" not in data and permissions.is_clinician(user):
            data["care_coordinator"] = user  # the creating clinician coordinates unless told otherwise
        serializer.instance = services.create_referral(by=user, **data)

    @extend_schema(methods=["GET"], request=None, responses={200: StepSerializer(many=True)})
    @extend_schema(methods=["POST"], request=StepChangeSerializer, responses={201: StepSerializer})
    @action(
        detail=True,
        methods=["get", "post"],
        serializer_class=StepChangeSerializer,
        pagination_class=None,
        filter_backends=[],
    )
    def steps(self, request, pk=None):
        """The referral's step history (GET), or a step change with its reason (POST)."""
        referral = self.get_object()
        if request.method == "GET":
            audit.record_view(request, referral, action="referral.steps.view")
            return Response(StepSerializer(referral.steps.select_related("decided_by"), many=True).data)
        body = StepChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        assignment = change_step(
            referral=referral,
            step=body.validated_data["step"],
            reason=body.validated_data["reason"],
            by=request.user,
            on=body.validated_data.get("started_on"),
            expected_version=body.validated_data.get("version"),
        )
        return Response(StepSerializer(assignment).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], request=None, responses={200: PresentingProblemSerializer(many=True)})
    @extend_schema(methods=["POST"], request=PresentingProblemSerializer, responses={201: PresentingProblemSerializer})
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="presenting-problems",
        url_name="presenting-problems",
        serializer_class=PresentingProblemSerializer,
        pagination_class=None,
        filter_backends=[],
    )
    def presenting_problems(self, request, pk=None):
        """The referral's presenting problems (IDS603), oldest first (GET), or a new one (POST): an ICD-10
        code, primary or secondary, with its date. The latest primary decides the anxiety measure."""
        referral = self.get_object()
        if request.method == "GET":
            audit.record_view(request, referral, action="referral.presenting_problems.view")
            records = referral.presenting_problems.select_related("created_by")
            return Response(PresentingProblemSerializer(records, many=True).data)
        body = PresentingProblemSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        record = services.record_presenting_problem(
            referral=referral,
            code=body.validated_data["code"],
            significance=body.validated_data["significance"],
            recorded_on=body.validated_data["recorded_on"],
            by=request.user,
            expected_version=body.validated_data.get("version"),
        )
        return Response(PresentingProblemSerializer(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DischargeSerializer, responses={200: ReferralSerializer})
    @action(detail=True, methods=["post"], serializer_class=DischargeSerializer)
    def discharge(self, request, pk=None):
        """End the referral with an end code (its open step and flags close with it)."""
        referral = self.get_object()
        body = DischargeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        referral = stepped_care_services.discharge(
            referral=referral,
            by=request.user,
            end_code=body.validated_data["end_code"],
            discharged_on=body.validated_data.get("discharged_on"),
            note=body.validated_data.get("note", ""),
            expected_version=body.validated_data.get("version"),
        )
        return Response(ReferralSerializer(referral, context=self.get_serializer_context()).data)

    @extend_schema(request=AllocateSerializer, responses={200: ReferralSerializer})
    @action(detail=True, methods=["post"], serializer_class=AllocateSerializer)
    def allocate(self, request, pk=None):
        """Make a clinician of the team the referral's care coordinator."""
        referral = self.get_object()
        body = AllocateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        referral = services.allocate(
            referral=referral,
            clinician=body.validated_data["care_coordinator"],
            by=request.user,
            expected_version=body.validated_data.get("version"),
        )
        return Response(ReferralSerializer(referral, context=self.get_serializer_context()).data)

    @extend_schema(responses={200: OutcomeSerializer})
    @action(detail=True, methods=["get"], serializer_class=OutcomeSerializer)
    def outcome(self, request, pk=None):
        """First and last scores and the NHS Talking Therapies outcome of this referral."""
        referral = self.get_object()
        audit.record_view(request, referral, action="referral.outcome.view")
        outcome = compute_outcome(referral)
        data = outcome.as_dict() | {"summary": outcome.summary}
        return Response(OutcomeSerializer(data).data)


class ContactFilter(django_filters.FilterSet):
    referral = django_filters.UUIDFilter(field_name="referral_id")
    clinician = django_filters.ModelChoiceFilter(queryset=_team_staff)
    attendance = django_filters.MultipleChoiceFilter(choices=Attendance.choices)
    appointment_type = django_filters.MultipleChoiceFilter(choices=AppointmentType.choices)
    mechanism = django_filters.ChoiceFilter(choices=Mechanism.choices)
    date = django_filters.DateFromToRangeFilter()

    class Meta:
        model = CareContact
        fields = ["referral", "clinician", "attendance", "appointment_type", "mechanism", "entered_in_error", "date"]


class ContactViewSet(
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Care contacts (sessions) with their questionnaires. Logging one moves the referral on and refreshes
    its outcome; a mistake is corrected by marking the contact entered in error, never by editing it."""

    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    ordering_fields = ["date", "created_at"]
    ordering = ["date", "time", "created_at"]

    def get_queryset(self):
        return (
            CareContact.objects.visible_to(self.request.user)
            .select_related("referral")
            .prefetch_related(Prefetch("questionnaires", queryset=QuestionnaireResponse.objects.order_by("measure")))
            .order_by(*self.ordering)
        )

    def retrieve(self, request, *args, **kwargs):
        contact = self.get_object()
        audit.record_view(request, contact)
        return Response(self.get_serializer(contact).data)

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
        return Response(ContactSerializer(contact, context=self.get_serializer_context()).data)
