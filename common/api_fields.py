"""Serializer fields shared by the API: codes with their labels, scoped relations, item answers."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A related record the caller may see: anything else reads as 'does not exist' (no leak)."""

    def __init__(self, scope, **kwargs):
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return self.scope(request.user if request else None)


class Answers(serializers.Field):
    """Questionnaire item answers, item 1 first. Only the shape is checked here: the scoring rules
    check every item, and their messages name the questionnaire and the item ("PHQ-9 item 9 is missing")."""

    def __init__(self, count, **kwargs):
        self.count = count
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, list):
            raise serializers.ValidationError(f"Give a list of {self.count} answers, item 1 first.")
        return data

    def to_representation(self, value):
        return list(value)


def answers_field(count, item_max, help_text):
    @extend_schema_field(
        {
            "type": "array",
            "items": {"type": "integer", "minimum": 0, "maximum": item_max},
            "minItems": count,
            "maxItems": count,
            "nullable": True,
        }
    )
    class CountedAnswers(Answers):
        pass

    return CountedAnswers(count, required=False, allow_null=True, help_text=help_text)


@extend_schema_field(OpenApiTypes.STR)
class LabelField(serializers.CharField):
    """The human label of a coded field (``get_FOO_display``)."""

    def __init__(self, source_field, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(source=f"get_{source_field}_display", **kwargs)


@extend_schema_field(OpenApiTypes.INT)
class ScopedStaffField(ScopedRelatedField):
    """A member of staff the caller may choose (the schema needs the type where no model says it)."""
