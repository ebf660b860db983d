"""AuditEvent now belongs to the common app (common/migrations/0001): forget it here, keep the table."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("stepped_care", "0004_review_history_indexes"),
        ("common", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="AuditEvent")], database_operations=[]),
    ]
