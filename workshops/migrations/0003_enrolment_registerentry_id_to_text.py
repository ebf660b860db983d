"""Enrolments and register entries get random ids (they appear in URLs; sequential ids reveal how many
patients a service has). PostgreSQL cannot cast bigint to uuid, so the ids go through text: here they
become text and each row gets a random UUID (hex), register entries following their enrolment's new
id; 0004 makes the columns uuids. No rows are lost.
"""

import uuid

from django.db import migrations, models


def random_ids(apps, schema_editor):
    Enrolment = apps.get_model("workshops", "Enrolment")
    RegisterEntry = apps.get_model("workshops", "RegisterEntry")
    for old in list(Enrolment.objects.values_list("pk", flat=True)):
        new = uuid.uuid4().hex
        Enrolment.objects.filter(pk=old).update(id=new)
        RegisterEntry.objects.filter(enrolment_id=old).update(enrolment_id=new)
    for old in list(RegisterEntry.objects.values_list("pk", flat=True)):
        RegisterEntry.objects.filter(pk=old).update(id=uuid.uuid4().hex)


class Migration(migrations.Migration):
    dependencies = [
        ("workshops", "0002_course_field_bounds"),
    ]

    operations = [
        migrations.AlterField(
            model_name="enrolment",
            name="id",
            field=models.CharField(max_length=32, primary_key=True, serialize=False),
        ),
        migrations.AlterField(
            model_name="registerentry",
            name="id",
            field=models.CharField(max_length=32, primary_key=True, serialize=False),
        ),
        migrations.RunPython(random_ids, migrations.RunPython.noop),
    ]
