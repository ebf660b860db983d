"""API representations of supervision. Parsing only: writes go through supervision.services."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.api_fields import LabelField, ScopedRelatedField
from referrals.codes import EndCode
from referrals.models import Referral
from stepped_care.queries import ALL_TEAMS, staff_of_team, staff_of_users_team

from .models import CaseDecision, Decision, SupervisionRelationship, SupervisionSession, SupervisionType


def _team_staff(user):
    if user is not None and user.is_authenticated and user.is_superuser:
        return staff_of_team(ALL_TEAMS)
    return staff_of_users_team(user)


def _visible_referrals(user):
    return Referral.objects.visible_to(user)


@extend_schema_field(OpenApiTypes.UUID)
class ReferralField(ScopedRelatedField):
    """A referral the caller may see (anything else reads as 'does not exist')."""

    def __init__(self, **kwargs):
        super().__init__(_visible_referrals, **kwargs)


@extend_schema_field({"type": "integer"})
class StaffField(ScopedRelatedField):
    """A member of the caller's team (anyone else reads as 'does not exist')."""

    def __init__(self, **kwargs):
        super().__init__(_team_staff, **kwargs)


class SupervisionRelationshipSerializer(serializers.ModelSerializer):
    supervisor = StaffField()
    supervisee = StaffField()
    supervisor_name = serializers.CharField(source="supervisor.__str__", read_only=True)
    supervisee_name = serializers.CharField(source="supervisee.__str__", read_only=True)
    kind_display = LabelField("kind")
    frequency_days = serializers.IntegerField(
        min_value=1, max_value=365, required=False, help_text="Blank: the service default for this kind"
    )
    minutes = serializers.IntegerField(
        min_value=1, max_value=600, required=False, help_text="Blank: the service default for this kind"
    )
    started_on = serializers.DateField(required=False, help_text="Defaults to today")

    class Meta:
        model = SupervisionRelationship
        fields = [
            "id",
            "supervisor",
            "supervisor_name",
            "supervisee",
            "supervisee_name",
            "kind",
            "kind_display",
            "frequency_days",
            "minutes",
            "started_on",
            "ended_on",
        ]
        read_only_fields = ["id", "ended_on"]


class EndSupervisionRelationshipSerializer(serializers.Serializer):
    ended_on = serializers.DateField(required=False, help_text="Defaults to today")


class CaseDecisionInputSerializer(serializers.Serializer):
    """One case decision to record: it is carried out when the session is saved."""

    referral = ReferralField(help_text="A referral coordinated by a supervisee of the session")
    decision = serializers.ChoiceField(choices=Decision.choices)
    to_step = serializers.IntegerField(
        min_value=1, max_value=5, required=False, allow_null=True, help_text="Step up/down: defaults to one step"
    )
    end_code = serializers.ChoiceField(
        choices=EndCode.choices, required=False, allow_blank=True, help_text="Discharge (required) or refer on (13)"
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    version = serializers.IntegerField(required=False, help_text="The referral version you read; stale → 409")


class CaseDecisionCorrectionSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why the old decision was entered in error")
    decision = serializers.ChoiceField(choices=Decision.choices)
    to_step = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    end_code = serializers.ChoiceField(choices=EndCode.choices, required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class EnteredInErrorSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class CaseDecisionSerializer(serializers.ModelSerializer):
    decision_display = LabelField("decision")
    patient = serializers.CharField(source="referral.patient.__str__", read_only=True)
    end_code_display = serializers.SerializerMethodField()
    session_date = serializers.DateField(source="session.date", read_only=True)
    flags_resolved = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = CaseDecision
        fields = [
            "id",
            "session",
            "session_date",
            "referral",
            "patient",
            "decision",
            "decision_display",
            "to_step",
            "end_code",
            "end_code_display",
            "notes",
            "reasons",
            "step_assignment",
            "flags_resolved",
            "corrects",
            "recorded_by",
            "created_at",
            "entered_in_error",
            "error_reason",
        ]
        read_only_fields = fields

    def get_end_code_display(self, obj) -> str:
        return EndCode(obj.end_code).label if obj.end_code in EndCode.values else ""


class SupervisionSessionSerializer(serializers.ModelSerializer):
    kind_display = LabelField("kind")
    supervisees = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    decisions = CaseDecisionSerializer(
        source="visible_decisions", many=True, read_only=True, help_text="Decisions on referrals you may see"
    )
    signed_off = serializers.BooleanField(read_only=True)

    class Meta:
        model = SupervisionSession
        fields = [
            "id",
            "team",
            "kind",
            "kind_display",
            "date",
            "minutes",
            "supervisor",
            "supervisees",
            "notes",
            "recorded_by",
            "created_at",
            "signed_off",
            "signed_off_at",
            "signed_off_by",
            "entered_in_error",
            "error_reason",
            "decisions",
        ]
        read_only_fields = fields


class SupervisionSessionCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SupervisionType.choices)
    date = serializers.DateField()
    minutes = serializers.IntegerField(min_value=1, max_value=600, help_text="Length of the session")
    supervisor = StaffField()
    supervisees = serializers.ListField(
        child=StaffField(), min_length=1, max_length=50, help_text="Clinical skills groups: at most 12"
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    sign_off = serializers.BooleanField(required=False, default=False, help_text="Only the supervisor signs off")
    decisions = CaseDecisionInputSerializer(many=True, required=False)


class AddCaseDecisionsSerializer(serializers.Serializer):
    decisions = CaseDecisionInputSerializer(many=True)


# ---- Prepared lists and compliance (read-only) ----------------------------------------------


class ScoreTrendSerializer(serializers.Serializer):
    first = serializers.IntegerField(allow_null=True)
    first_severity = serializers.CharField(allow_null=True)
    latest = serializers.IntegerField(allow_null=True)
    latest_severity = serializers.CharField(allow_null=True)
    direction = serializers.ChoiceField(
        choices=["improved", "deteriorated", "no_reliable_change", "single", "none"],
        help_text="Reliable change from first to latest score",
    )
    label = serializers.CharField()


class CaseListReasonSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    text = serializers.CharField()
    severity = serializers.CharField(allow_blank=True)
    flag_id = serializers.CharField(allow_null=True)


class LastCaseDecisionSerializer(serializers.Serializer):
    decision = serializers.CharField()
    label = serializers.CharField()
    date = serializers.DateField()
    notes = serializers.CharField(allow_blank=True)
    to_step = serializers.IntegerField(allow_null=True)


class CaseRowSerializer(serializers.Serializer):
    referral = serializers.UUIDField(source="referral.pk")
    version = serializers.IntegerField(source="referral.version")
    patient = serializers.CharField(source="patient.__str__")
    nhs_number = serializers.CharField(source="patient.nhs_number", allow_null=True)
    step = serializers.IntegerField(allow_null=True)
    step_display = serializers.CharField(source="step_label")
    sessions = serializers.IntegerField(help_text="Attended treatment contacts")
    dna_count = serializers.IntegerField()
    phq9 = ScoreTrendSerializer(source="trends.phq9")
    gad7 = ScoreTrendSerializer(source="trends.gad7")
    listed = serializers.BooleanField()
    reasons = CaseListReasonSerializer(many=True, help_text="Why the case is listed, most urgent first")
    last_decision = LastCaseDecisionSerializer(allow_null=True)
    last_discussed_on = serializers.DateField(allow_null=True)
    days_since_discussed = serializers.IntegerField()


class CaseListSerializer(serializers.Serializer):
    supervisee = serializers.IntegerField(source="supervisee.pk")
    supervisee_name = serializers.CharField(source="supervisee.__str__")
    prepared_on = serializers.DateField(source="today")
    last_session_on = serializers.DateField(allow_null=True)
    include_all = serializers.BooleanField()
    rows = CaseRowSerializer(many=True)


class CompliancePeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    sessions = serializers.IntegerField()
    minutes = serializers.IntegerField()
    applicable = serializers.BooleanField()
    met = serializers.BooleanField()


class ComplianceRequirementSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    every_days = serializers.IntegerField()
    min_minutes = serializers.IntegerField()
    supervisor_assigned = serializers.BooleanField()
    periods_due = serializers.IntegerField()
    periods_met = serializers.IntegerField()
    met = serializers.BooleanField()
    last_session_on = serializers.DateField(allow_null=True)
    periods = CompliancePeriodSerializer(many=True)


class OverdueHighIntensityCaseSerializer(serializers.Serializer):
    referral_id = serializers.UUIDField()
    days_since_review = serializers.IntegerField()
    last_discussed_on = serializers.DateField(allow_null=True)


class HighIntensityCasesSerializer(serializers.Serializer):
    active = serializers.IntegerField()
    reviewed = serializers.IntegerField()
    review_days = serializers.IntegerField()
    met = serializers.BooleanField()
    overdue = OverdueHighIntensityCaseSerializer(many=True)


class ComplianceSerializer(serializers.Serializer):
    staff_id = serializers.IntegerField()
    name = serializers.CharField()
    role = serializers.CharField()
    role_display = serializers.CharField()
    met = serializers.BooleanField(allow_null=True, help_text="Null when no requirement covers the role")
    requirements = ComplianceRequirementSerializer(many=True)
    hi_cases = HighIntensityCasesSerializer(allow_null=True)
    unsigned_sessions = serializers.IntegerField()


class ComplianceQuerySerializer(serializers.Serializer):
    weeks = serializers.IntegerField(min_value=1, max_value=52, required=False)
