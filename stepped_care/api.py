"""API endpoints of the stepped-care core: who am I; review flags and resolving them."""

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from common import audit
from common.api_fields import LabelField
from common.idempotency import IdempotentCreateMixin
from referrals.codes import EndCode

from . import queries, review, services
from .models import FlagRule, FlagStatus, ReviewFlag, Severity, Staff


class MeSerializer(serializers.ModelSerializer):
    role_display = serializers.CharField(source="get_role_display", read_only=True)
    team_name = serializers.CharField(source="team.name", read_only=True, default=None)

    class Meta:
        model = Staff
        fields = [
            "id",
            "username",
            "first_name",
            "last_name",
            "role",
            "role_display",
            "team",
            "team_name",
            "is_supervisor",
        ]


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class EvidenceLineSerializer(serializers.Serializer):
    label = serializers.CharField()
    value = serializers.CharField()


class FlagSerializer(serializers.ModelSerializer):
    rule_display = LabelField("rule")
    recommendation_display = LabelField("recommendation")
    severity_display = LabelField("severity")
    status_display = LabelField("status")
    evidence = serializers.JSONField(read_only=True, help_text="The scores and dates that raised the flag")
    evidence_lines = serializers.SerializerMethodField(help_text="The evidence in words, for people")

    class Meta:
        model = ReviewFlag
        fields = [
            "id",
            "referral",
            "rule",
            "rule_display",
            "recommendation",
            "recommendation_display",
            "severity",
            "severity_display",
            "explanation",
            "evidence",
            "evidence_lines",
            "episode",
            "status",
            "status_display",
            "raised_at",
            "updated_at",
            "resolved_at",
            "resolved_by",
            "resolution_note",
        ]
        read_only_fields = fields

    @extend_schema_field(EvidenceLineSerializer(many=True))
    def get_evidence_lines(self, flag):
        return [{"label": label, "value": value} for label, value in review.evidence_lines(flag.rule, flag.evidence)]


class FlagResolveSerializer(serializers.Serializer):
    action = serializers.ChoiceField(
        choices=[("accept", "Accept the recommendation"), ("dismiss", "Dismiss the flag")],
        help_text="accept: step up/down changes the step, step out discharges, review/risk marks it reviewed",
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000, help_text="Required to dismiss"
    )
    end_code = serializers.ChoiceField(
        choices=EndCode.choices, required=False, help_text="Referral end code; required to accept a step out"
    )
    step = serializers.IntegerField(
        required=False, min_value=1, max_value=5, help_text="For a step up or down: the new step (default: next one)"
    )


class FlagConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(help_text="'conflict'")


class FlagFilter(django_filters.FilterSet):
    referral = django_filters.UUIDFilter(field_name="referral_id")
    status = django_filters.ChoiceFilter(choices=FlagStatus.choices)
    rule = django_filters.ChoiceFilter(choices=FlagRule.choices)
    severity = django_filters.ChoiceFilter(choices=Severity.choices)

    class Meta:
        model = ReviewFlag
        fields = ["referral", "status", "rule", "severity"]


class FlagViewSet(IdempotentCreateMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Review flags of the referrals you may see, most urgent first (risk, then red, amber, green, then the
    longest open); filter by referral, status, rule, severity, or order with ``ordering``."""

    serializer_class = FlagSerializer
    filterset_class = FlagFilter
    ordering_fields = ["raised_at", "severity", "rule", "status"]
    lookup_value_converter = "uuid"

    def get_queryset(self):
        return queries.flags_visible_to(self.request.user).risk_first()

    def retrieve(self, request, *args, **kwargs):
        """One flag with its evidence: a view of the patient's record, so it is audited."""
        flag = self.get_object()
        audit.record_view(request, flag)
        return Response(self.get_serializer(flag).data)

    @extend_schema(
        request=FlagResolveSerializer,
        responses={
            200: FlagSerializer,
            409: OpenApiResponse(FlagConflictSerializer, description="The flag was already resolved or cleared."),
        },
    )
    @action(detail=True, methods=["post"], serializer_class=FlagResolveSerializer)
    def resolve(self, request, pk=None):
        """Accept or dismiss an open flag (clinicians on the case). Accepting a step up or down changes the step with
        this flag as its source; accepting a step out discharges with ``end_code``; dismissing needs a
        ``reason``."""
        flag = self.get_object()
        body = FlagResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        flag = services.resolve_flag(flag=flag, by=request.user, **body.validated_data)
        return Response(FlagSerializer(flag, context={"request": request}).data)
