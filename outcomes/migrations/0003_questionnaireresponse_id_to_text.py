"""Questionnaire responses get random ids (they appear in URLs; sequential ids reveal how many there are).

PostgreSQL cannot cast bigint to uuid, so the id goes through text: here it becomes text and each row is
given a random UUID (hex); 0004 makes the column a uuid. Rows, and everything pointing at them, are kept.
"""

import uuid

from django.db import migrations, models


def random_ids(apps, schema_editor):
    QuestionnaireResponse = apps.get_model("outcomes", "QuestionnaireResponse")
    for old in list(QuestionnaireResponse.objects.values_list("pk", flat=True)):
        QuestionnaireResponse.objects.filter(pk=old).update(id=uuid.uuid4().hex)


class Migration(migrations.Migration):
    dependencies = [
        ("outcomes", "0002_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="questionnaireresponse",
            name="id",
            field=models.CharField(max_length=32, primary_key=True, serialize=False),
        ),
        migrations.RunPython(random_ids, migrations.RunPython.noop),
    ]
