"""Questionnaire answers move from nine item columns to one JSON array (step 1 of 2): any number of items.

The measure code grows to the codes of the measures table; the new ``items`` column is filled from the old
columns of each row, in one UPDATE per measure (every row, none lost); 0006 then drops the old columns and
adds the per-measure CHECK constraints on the array. Reversible while every response has at most 9 items.
"""

from django.db import migrations, models
from django.db.migrations.exceptions import IrreversibleError

OLD_COUNTS = {"PHQ9": 9, "GAD7": 7, "WSAS": 5}  # the measures the nine columns held


def columns_to_items(apps, schema_editor):
    Response = apps.get_model("outcomes", "QuestionnaireResponse")
    table = schema_editor.quote_name(Response._meta.db_table)
    vendor = schema_editor.connection.vendor
    build = {"postgresql": "jsonb_build_array", "sqlite": "json_array"}.get(vendor)
    for measure, count in OLD_COUNTS.items():
        if build:
            columns = ", ".join(f"item_{n}" for n in range(1, count + 1))
            # Our own table and column names; the measure travels as a parameter.
            sql = f"UPDATE {table} SET items = {build}({columns}) WHERE measure = %s"  # nosec B608
            schema_editor.execute(sql, [measure])
            continue
        for row in Response.objects.filter(measure=measure).iterator(chunk_size=2000):
            row.items = [getattr(row, f"item_{n}") for n in range(1, count + 1)]
            row.save(update_fields=["items"])
    missed = Response.objects.exclude(measure__in=list(OLD_COUNTS)).count()
    if missed:
        raise RuntimeError(f"{missed} questionnaire responses have a measure the item columns never held")


def items_to_columns(apps, schema_editor):
    Response = apps.get_model("outcomes", "QuestionnaireResponse")
    for row in Response.objects.iterator(chunk_size=2000):
        if len(row.items) > 9:
            raise IrreversibleError(
                f"Response {row.pk} ({row.measure}) has {len(row.items)} items: nine columns cannot hold them."
            )
        for n in range(1, 10):
            setattr(row, f"item_{n}", row.items[n - 1] if n <= len(row.items) else None)
        row.save(update_fields=[f"item_{n}" for n in range(1, 10)])


class Migration(migrations.Migration):
    dependencies = [
        ("outcomes", "0004_questionnaireresponse_id_uuid"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='questionnaireresponse',
            name='phq9_items_in_range',
        ),
        migrations.RemoveConstraint(
            model_name='questionnaireresponse',
            name='gad7_items_in_range',
        ),
        migrations.RemoveConstraint(
            model_name='questionnaireresponse',
            name='wsas_items_in_range',
        ),
        migrations.RemoveConstraint(
            model_name='questionnaireresponse',
            name='questionnaire_total_is_sum',
        ),
        migrations.AddField(
            model_name='questionnaireresponse',
            name='items',
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AlterField(
            model_name='questionnaireresponse',
            name='measure',
            field=models.CharField(choices=[('PHQ9', 'PHQ-9: Patient Health Questionnaire 9'), ('GAD7', 'GAD-7: Generalised Anxiety Disorder 7'), ('MI_ALONE', 'MI alone: Mobility Inventory for agoraphobia - when alone'), ('MI_ACCOMPANIED', 'MI accompanied: Mobility Inventory for agoraphobia - when accompanied'), ('SPIN', 'SPIN: Social Phobia Inventory'), ('PDSS', 'PDSS: Panic Disorder Severity Scale (self-report)'), ('PCL5', 'PCL-5: PTSD Checklist for DSM-5'), ('OCI', 'OCI: Obsessive Compulsive Inventory (42 items)'), ('HAI', 'HAI: Health Anxiety Inventory - short week'), ('BIQ', 'BIQ: Body Image Questionnaire'), ('IBS_SSS', 'IBS-SSS: IBS Symptom Severity Scale'), ('PHQ15', 'PHQ-15: Patient Health Questionnaire 15'), ('WSAS', 'WSAS: Work and Social Adjustment Scale'), ('PSWQ', 'PSWQ: Penn State Worry Questionnaire')], max_length=16),
        ),
        migrations.RunPython(columns_to_items, items_to_columns, elidable=False),
    ]
