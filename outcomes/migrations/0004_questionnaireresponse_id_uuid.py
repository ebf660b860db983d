"""The questionnaire response id, now a random UUID in text (0003), becomes a uuid column."""

import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("outcomes", "0003_questionnaireresponse_id_to_text"),
    ]

    operations = [
        migrations.AlterField(
            model_name="questionnaireresponse",
            name="id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False),
        ),
    ]
