"""Two more history tables kept by the database (issue 21.6), with 0006's trigger function: a supervision
case decision and a group register entry are corrected by marking them entered in error (and adding a new
row), never edited or deleted.

| table                        | may change (once)              |
| ---------------------------- | ------------------------------ |
| supervision_casedecision     | entered_in_error, error_reason |
| workshops_registerentry      | entered_in_error               |
"""

from django.db import migrations

FUNCTION = "stepped_care_history_guard"  # made by 0006
GUARDED = {
    ("supervision", "CaseDecision"): ["entered_in_error", "error_reason"],
    ("workshops", "RegisterEntry"): ["entered_in_error"],
}


def _trigger(table):
    return f"{table}_history_kept"[:63]


def protect(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for (app, model), columns in GUARDED.items():
        table = schema_editor.quote_name(apps.get_model(app, model)._meta.db_table)
        name = _trigger(apps.get_model(app, model)._meta.db_table)
        args = ", ".join(f"'{c}'" for c in columns)
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {name} ON {table}; "
            f"CREATE TRIGGER {name} BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}({args})",
            params=None,
        )


def unprotect(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for app, model in GUARDED:
        table = apps.get_model(app, model)._meta.db_table
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {_trigger(table)} ON {schema_editor.quote_name(table)}")


class Migration(migrations.Migration):
    dependencies = [
        ("common", "0006_clinical_history_guards"),
        ("supervision", "0002_sessions_and_decisions"),
        ("workshops", "0004_enrolment_registerentry_id_uuid"),
    ]

    operations = [migrations.RunPython(protect, unprotect, elidable=False)]
