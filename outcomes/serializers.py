"""API representations of questionnaires and measures: every item, the score, its band, the thresholds."""

from decimal import Decimal

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.api_fields import Answers, LabelField

from .models import QuestionnaireResponse
from .scoring import INSTRUMENTS, MAX_ITEMS, RISK_ITEM


def score_value(value):
    """A score as a JSON number: whole scores as integers, the Mobility Inventory's mean as 2.3."""
    if value is None:
        return None
    value = Decimal(str(value))
    return int(value) if value == value.to_integral_value() else float(value)


@extend_schema_field({"type": "number", "description": "Whole scores are integers; a mean has 2 decimals"})
class ScoreValueField(serializers.Field):
    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return score_value(value)


class QuestionnaireSerializer(serializers.ModelSerializer):
    measure_display = LabelField("measure")
    measure_name = serializers.SerializerMethodField(help_text="Short name, e.g. 'PHQ-9'")
    snomed_ct = serializers.SerializerMethodField(help_text="SNOMED CT code of the measure (IDS607 CodedAssToolType)")
    items = serializers.ListField(
        child=serializers.IntegerField(allow_null=True),
        read_only=True,
        help_text="Every item answer, item 1 first (null: skipped where the measure allows it)",
    )
    total = ScoreValueField(help_text="The score: a sum, or the Mobility Inventory's mean item score")
    score_display = serializers.CharField(read_only=True, help_text="The score as the data set writes it (MI d.dd)")
    severity = serializers.SerializerMethodField(help_text="Severity band of the score; null where none is published")
    caseness = serializers.SerializerMethodField(help_text="Score at or above the clinical cut-off; null if none")
    risk = serializers.SerializerMethodField(help_text=f"PHQ-9 item {RISK_ITEM} above 0: a risk assessment is due")

    class Meta:
        model = QuestionnaireResponse
        fields = [
            "id",
            "referral",
            "contact",
            "source",
            "measure",
            "measure_display",
            "measure_name",
            "snomed_ct",
            "completed_on",
            "items",
            "total",
            "score_display",
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

    def get_snomed_ct(self, obj) -> str:
        return INSTRUMENTS[obj.measure].snomed_ct

    def get_severity(self, obj) -> str | None:
        inst = INSTRUMENTS[obj.measure]
        return next((b.label for b in inst.bands if b.low <= obj.total <= b.high), None)

    def get_caseness(self, obj) -> bool | None:
        return INSTRUMENTS[obj.measure].is_case(obj.total)

    def get_risk(self, obj) -> bool:
        return (obj.item_9 or 0) > 0


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "integer", "nullable": True},
        "maxItems": MAX_ITEMS,
        "description": "Every item answer, item 1 first; null for an item skipped where the measure allows it "
        "(OCI: up to 2, Mobility Inventory: up to 5)",
    }
)
class ItemAnswers(Answers):
    pass


class QuestionnaireInputSerializer(serializers.Serializer):
    """One questionnaire completed at the contact. Only the shape is checked here: the scoring rules check
    the measure, the number of answers and every answer, and their messages name the item."""

    measure = serializers.CharField(
        max_length=20,
        required=False,  # the service names a missing or unknown measure: questionnaires[n].measure
        allow_blank=True,
        help_text="A code of the measures table (GET /api/v1/measures/): " + ", ".join(INSTRUMENTS),
    )
    items = ItemAnswers(MAX_ITEMS, required=False, allow_null=True)
    score = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="Only for a measure recorded as a score, not item by item (BIQ, IBS-SSS)",
    )

    def to_internal_value(self, data):
        out = super().to_internal_value(data)
        return {key: value for key, value in out.items() if value is not None}


def _flatten(detail, where):
    if isinstance(detail, dict):
        for key, value in detail.items():
            yield from _flatten(value, f"{where}.{key}" if not str(key).isdigit() else f"{where}[{key}]")
    elif isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            yield from (f"{where}: {item}" for item in detail)
        else:
            for index, item in enumerate(detail):
                if item:
                    yield from _flatten(item, f"{where}[{index}]")
    else:
        yield f"{where}: {detail}"


class QuestionnairesField(serializers.Field):
    """Written as ``[{"measure": "SPIN", "items": [...]}, ...]``; read as the questionnaires completed at the
    contact, with their scores."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, list):
            raise serializers.ValidationError("Give a list of questionnaires, each with its measure and items.")
        try:
            return QuestionnaireInputSerializer(many=True).run_validation(data)
        except serializers.ValidationError as exc:  # name each place as the services do: questionnaires[1].items
            raise serializers.ValidationError(list(_flatten(exc.detail, "questionnaires"))) from None

    def to_representation(self, value):
        return QuestionnaireSerializer(value.all(), many=True).data


class QuestionnairesFieldExtension(OpenApiSerializerFieldExtension):
    """The schema of ``QuestionnairesField``: input objects in requests, questionnaires in responses."""

    target_class = QuestionnairesField

    def map_serializer_field(self, auto_schema, direction):
        serializer = QuestionnaireInputSerializer if direction == "request" else QuestionnaireSerializer
        component = auto_schema.resolve_serializer(serializer, direction)
        return {"type": "array", "items": component.ref}


# --- the measures table ---------------------------------------------------------------------------------


class ThresholdSerializer(serializers.Serializer):
    value = ScoreValueField()
    op = serializers.CharField(help_text="'>=' (at or above) or '>' (above)")


class MeasureItemSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    text = serializers.CharField(help_text="The item's wording where its licence allows; else 'Item n'")


class AnswerSerializer(serializers.Serializer):
    value = serializers.IntegerField()
    label = serializers.CharField()


class BandSerializer(serializers.Serializer):
    low = serializers.IntegerField()
    high = serializers.IntegerField()
    label = serializers.CharField()


class MeasureSerializer(serializers.Serializer):
    """One measure of the measures table (../shared/reference/measures.csv), as the app scores it."""

    code = serializers.CharField()
    name = serializers.CharField()
    title = serializers.CharField()
    snomed_ct = serializers.CharField()
    stem = serializers.CharField()
    item_count = serializers.IntegerField(help_text="0: recorded as a score, not item by item")
    items = serializers.SerializerMethodField()
    worded = serializers.BooleanField(help_text="False: numbered items (the wording is licensed)")
    answers = serializers.SerializerMethodField()
    item_min = serializers.IntegerField(allow_null=True)
    item_max = serializers.IntegerField(allow_null=True)
    scoring = serializers.CharField(help_text="'sum', or 'mean' (of the answered items, 2 decimals)")
    total_min = ScoreValueField()
    total_max = ScoreValueField()
    missing = serializers.CharField(help_text="'none', 'mean_replaced' (OCI) or 'skipped' (Mobility Inventory)")
    max_missing = serializers.IntegerField()
    reverse_items = serializers.ListField(child=serializers.IntegerField())
    bands = BandSerializer(many=True)
    caseness = ThresholdSerializer(source="caseness_threshold", allow_null=True)
    reliable_change = ThresholdSerializer(source="reliable_change_threshold", allow_null=True)
    decides_outcomes = serializers.BooleanField(help_text="Caseness and reliable change are both published")
    is_adsm = serializers.BooleanField(help_text="An anxiety disorder-specific measure")
    presenting_problem = serializers.CharField(help_text="The ICD-10 code (or block, 'F42.') an ADSM belongs to")
    source = serializers.CharField()

    @extend_schema_field(MeasureItemSerializer(many=True))
    def get_items(self, inst):
        return [{"number": n, "text": text} for n, text in enumerate(inst.items, start=1)]

    @extend_schema_field(AnswerSerializer(many=True))
    def get_answers(self, inst):
        return [{"value": v, "label": label} for v, label in inst.answers]
