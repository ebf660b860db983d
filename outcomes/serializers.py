"""API representation of questionnaire responses: every item, the total, its severity band, the labels."""

from rest_framework import serializers

from common.api_fields import LabelField

from .models import QuestionnaireResponse
from .scoring import INSTRUMENTS, PHQ9, RISK_ITEM, is_case, severity


class QuestionnaireSerializer(serializers.ModelSerializer):
    measure_display = LabelField("measure")
    measure_name = serializers.SerializerMethodField(help_text="Short name, e.g. 'PHQ-9'")
    items = serializers.ListField(
        child=serializers.IntegerField(), read_only=True, help_text="Every item answer, item 1 first"
    )
    severity = serializers.SerializerMethodField(help_text="Severity band of the total (DOMAIN.md §2)")
    caseness = serializers.SerializerMethodField(help_text="Total at or above the clinical cut-off; null for WSAS")
    risk = serializers.SerializerMethodField(help_text=f"PHQ-9 item {RISK_ITEM} above 0: a risk assessment is due")

    class Meta:
        model = QuestionnaireResponse
        fields = [
            "id",
            "referral",
            "contact",
            "measure",
            "measure_display",
            "measure_name",
            "completed_on",
            "items",
            "total",
            "severity",
            "caseness",
            "risk",
            "entered_in_error",
            "error_reason",
            "created_at",
        ]
        read_only_fields = fields

    def get_measure_name(self, obj) -> str:
        return INSTRUMENTS[obj.measure].name

    def get_severity(self, obj) -> str:
        return severity(obj.measure, obj.total)

    def get_caseness(self, obj) -> bool | None:
        return is_case(obj.measure, obj.total)

    def get_risk(self, obj) -> bool:
        return obj.measure == PHQ9 and (obj.item_9 or 0) > 0
