"""The audit event table moves from the stepped_care app to common without being copied.

Only Django's model state moves: the table (stepped_care_auditevent), its index and its append-only
trigger stay exactly as they are, with every row in them.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("stepped_care", "0004_review_history_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("action", models.CharField(max_length=60)),
                        ("object_type", models.CharField(max_length=60)),
                        ("object_id", models.CharField(max_length=64)),
                        ("patient_id", models.UUIDField(blank=True, db_index=True, null=True)),
                        ("client_address", models.GenericIPAddressField(blank=True, null=True)),
                        ("changes", models.JSONField(blank=True, default=dict)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "stepped_care_auditevent",
                        "ordering": ["-at"],
                        "indexes": [models.Index(fields=["actor", "at"], name="stepped_car_actor_i_f471fd_idx")],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
