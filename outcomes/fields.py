"""Model fields and database functions of the outcomes app."""

from decimal import Decimal

from django.db import models

CENT = Decimal("0.01")


class ScoreField(models.DecimalField):
    """A questionnaire score: two decimals in the database (the Mobility Inventory is a mean written
    d.dd), read back as an int when whole (PHQ-9 14, never 14.00) and as a Decimal otherwise."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 6)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        if value is None or isinstance(value, int):
            return value
        if not isinstance(value, Decimal):
            value = Decimal(str(value))
        whole = value.to_integral_value()
        return int(whole) if value == whole else value.quantize(CENT)


class JSONArrayLength(models.Func):
    """The number of elements of a JSON array column (for CHECK constraints on item answers)."""

    output_field = models.IntegerField()
    arity = 1
    function = "JSON_ARRAY_LENGTH"

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="JSONB_ARRAY_LENGTH", **extra_context)
