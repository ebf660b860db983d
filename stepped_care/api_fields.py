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
    class Answers(serializers.ListField):
        pass

    # Ranges are checked by the scoring rules, whose messages name the questionnaire and item.
    return Answers(child=serializers.IntegerField(), required=False, allow_null=True, help_text=help_text)


@extend_schema_field(OpenApiTypes.STR)
class LabelField(serializers.CharField):
    """The human label of a coded field (``get_FOO_display``)."""

    def __init__(self, source_field, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(source=f"get_{source_field}_display", **kwargs)


@extend_schema_field(OpenApiTypes.INT)
class ScopedStaffField(ScopedRelatedField):
    """A member of staff the caller may choose (the schema needs the type where no model says it)."""
