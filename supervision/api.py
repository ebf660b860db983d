"""REST API for supervision: relationships, sessions, case decisions, prepared lists, compliance.

Parsing here; every write is a service call and every read a scoped query (others' records: 404).
"""

from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from common import audit, permissions
from common.idempotency import IdempotentCreateMixin

from . import queries, services
from .models import CaseDecision
from .serializers import (
    AddCaseDecisionsSerializer,
    CaseDecisionCorrectionSerializer,
    CaseDecisionSerializer,
    CaseListSerializer,
    ComplianceQuerySerializer,
    ComplianceSerializer,
    EndSupervisionRelationshipSerializer,
    EnteredInErrorSerializer,
    SupervisionRelationshipSerializer,
    SupervisionSessionCreateSerializer,
    SupervisionSessionSerializer,
)


class RelationshipViewSet(
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Who supervises whom, in which kind of supervision, how often and for how long."""

    serializer_class = SupervisionRelationshipSerializer
    filterset_fields = ["kind", "supervisor", "supervisee"]
    ordering_fields = ["started_on", "kind"]

    def get_queryset(self):
        return (
            queries.relationships_visible_to(self.request.user)
            .select_related("supervisor", "supervisee")
            .order_by("supervisee__last_name", "kind", "id")
        )

    def perform_create(self, serializer):
        serializer.instance = services.create_relationship(by=self.request.user, **serializer.validated_data)

    @extend_schema(request=EndSupervisionRelationshipSerializer, responses={200: SupervisionRelationshipSerializer})
    @action(detail=True, methods=["post"], serializer_class=EndSupervisionRelationshipSerializer)
    def end(self, request, pk=None):
        relationship = self.get_object()
        body = EndSupervisionRelationshipSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        relationship = services.end_relationship(
            relationship=relationship, by=request.user, ended_on=body.validated_data.get("ended_on")
        )
        return Response(SupervisionRelationshipSerializer(relationship, context=self.get_serializer_context()).data)


def _decision_entries(decisions):
    return [dict(d) for d in decisions]


class SessionViewSet(
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Supervision sessions with their case decisions. Append-only: sign off, or mark entered in error."""

    serializer_class = SupervisionSessionSerializer
    filterset_fields = ["kind", "supervisor", "date", "entered_in_error"]
    ordering_fields = ["date", "created_at"]

    def get_queryset(self):
        visible = (
            CaseDecision.objects.filter(queries.referral_visible(self.request.user))
            .select_related("referral__patient", "session")
            .prefetch_related("flags_resolved")
            .order_by("created_at")
        )
        return (
            queries.sessions_visible_to(self.request.user)
            .prefetch_related(Prefetch("decisions", queryset=visible, to_attr="visible_decisions"))
            .order_by("-date", "-created_at", "id")
        )

    def _out(self, session, code=status.HTTP_200_OK):
        session = self.get_queryset().get(pk=session.pk)
        return Response(SupervisionSessionSerializer(session, context=self.get_serializer_context()).data, status=code)

    def retrieve(self, request, *args, **kwargs):
        session = self.get_object()
        audit.record(request.user, "supervision.session.view", session)
        return Response(self.get_serializer(session).data)

    @extend_schema(request=SupervisionSessionCreateSerializer, responses={201: SupervisionSessionSerializer})
    def create(self, request, *args, **kwargs):
        body = SupervisionSessionCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        session = services.record_session(
            by=request.user,
            kind=data["kind"],
            date=data["date"],
            minutes=data["minutes"],
            supervisor=data["supervisor"],
            supervisees=data["supervisees"],
            notes=data.get("notes", ""),
            decisions=_decision_entries(data.get("decisions", [])),
            sign_off=data.get("sign_off", False),
        )
        return self._out(session, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: SupervisionSessionSerializer})
    @action(detail=True, methods=["post"], url_path="sign-off")
    def sign_off(self, request, pk=None):
        """The supervisor confirms the record; it then takes no new decisions, only corrections."""
        session = services.sign_off_session(session=self.get_object(), by=request.user)
        return self._out(session)

    @extend_schema(request=EnteredInErrorSerializer, responses={200: SupervisionSessionSerializer})
    @action(detail=True, methods=["post"], url_path="entered-in-error", serializer_class=EnteredInErrorSerializer)
    def entered_in_error(self, request, pk=None):
        session = self.get_object()
        body = EnteredInErrorSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        session = services.mark_session_in_error(session=session, reason=body.validated_data["reason"], by=request.user)
        return self._out(session)

    @extend_schema(request=AddCaseDecisionsSerializer, responses={201: SupervisionSessionSerializer})
    @action(detail=True, methods=["post"], serializer_class=AddCaseDecisionsSerializer)
    def decisions(self, request, pk=None):
        """Add case decisions to a session not yet signed off; each is carried out at once."""
        session = self.get_object()
        body = AddCaseDecisionsSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        services.add_decisions(
            session=session, by=request.user, decisions=_decision_entries(body.validated_data["decisions"])
        )
        return self._out(session, status.HTTP_201_CREATED)


class DecisionViewSet(IdempotentCreateMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Case decisions on the referrals you may see."""

    serializer_class = CaseDecisionSerializer
    filterset_fields = ["referral", "session", "decision", "entered_in_error"]
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return queries.decisions_visible_to(self.request.user).order_by("created_at", "id")

    def retrieve(self, request, *args, **kwargs):
        decision = self.get_object()
        audit.record(request.user, "supervision.decision.view", decision, patient_id=decision.referral.patient_id)
        return Response(self.get_serializer(decision).data)

    @extend_schema(request=CaseDecisionCorrectionSerializer, responses={201: CaseDecisionSerializer})
    @action(detail=True, methods=["post"], serializer_class=CaseDecisionCorrectionSerializer)
    def correct(self, request, pk=None):
        """Mark this decision entered in error and record the corrected one in its place."""
        decision = self.get_object()
        body = CaseDecisionCorrectionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        reason = data.pop("reason")
        new = services.correct_decision(decision=decision, reason=reason, by=request.user, new=data)
        return Response(CaseDecisionSerializer(new).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EnteredInErrorSerializer, responses={200: CaseDecisionSerializer})
    @action(detail=True, methods=["post"], url_path="entered-in-error", serializer_class=EnteredInErrorSerializer)
    def entered_in_error(self, request, pk=None):
        decision = self.get_object()
        body = EnteredInErrorSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        decision = services.mark_decision_in_error(
            decision=decision, reason=body.validated_data["reason"], by=request.user
        )
        return Response(CaseDecisionSerializer(decision).data)


class CaseListViewSet(viewsets.GenericViewSet):
    """The prepared case-management list of a supervisee (by staff id), most urgent first."""

    serializer_class = CaseListSerializer
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return queries.staff_visible_to(self.request.user).select_related("team")

    @extend_schema(
        parameters=[OpenApiParameter("all", bool, description="Also the active cases not due for discussion")],
        responses={200: CaseListSerializer},
    )
    def retrieve(self, request, pk=None):
        supervisee = self.get_object()
        include_all = str(request.query_params.get("all", "")).lower() in ("1", "true")
        prepared = queries.case_list(request.user, supervisee, today=timezone.localdate(), include_all=include_all)
        audit.record(request.user, "supervision.case_list.view", supervisee, changes={"cases": len(prepared.rows)})
        return Response(CaseListSerializer(prepared).data)


class ComplianceView(APIView):
    """Whether each supervisee you may see got the supervision the guidance asks for (last N weeks)."""

    @extend_schema(parameters=[ComplianceQuerySerializer], responses={200: ComplianceSerializer(many=True)})
    def get(self, request):
        query = ComplianceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        user = request.user
        today = timezone.localdate()
        weeks = query.validated_data.get("weeks")
        if permissions.sees_whole_team(user):
            rows = queries.team_compliance(user.team, today=today, weeks=weeks)
        else:
            staff = queries.staff_visible_to(user).filter(is_active=True)
            rows = queries.compliance(staff, today=today, weeks=weeks, team=user.team)
        return Response(ComplianceSerializer(rows, many=True).data)
