"""Enrolment and register entry ids, now random UUIDs in text (0003), become uuid columns."""

import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("workshops", "0003_enrolment_registerentry_id_to_text"),
    ]

    operations = [
        migrations.AlterField(
            model_name="enrolment",
            name="id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False),
        ),
        migrations.AlterField(
            model_name="registerentry",
            name="id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False),
        ),
    ]
