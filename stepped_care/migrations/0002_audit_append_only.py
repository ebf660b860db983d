"""Audit events are append-only in the database too: on PostgreSQL a trigger refuses UPDATE and DELETE.

The application already refuses (AuditEvent.save/delete raise), but a trigger also stops raw SQL, a
mistaken queryset.update() or a shell session. TRUNCATE is deliberately left alone: Django's test
flush uses it, and a production database role should not hold TRUNCATE on this table at all.
Other databases (SQLite for local use) rely on the application check.
"""

from django.db import migrations

FUNCTION = "stepped_care_audit_append_only"
TRIGGER = "auditevent_append_only"


def protect(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("stepped_care", "AuditEvent")._meta.db_table)
    schema_editor.execute(
        f"""
        CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'Audit events are append-only: % refused on %', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'restrict_violation';
        END;
        $$;
        DROP TRIGGER IF EXISTS {TRIGGER} ON {table};
        CREATE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {FUNCTION}();
        """,
        params=None,  # no parameter interpolation: the body's % are PL/pgSQL placeholders
    )


def unprotect(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("stepped_care", "AuditEvent")._meta.db_table)
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {table}; DROP FUNCTION IF EXISTS {FUNCTION}();")


class Migration(migrations.Migration):
    dependencies = [("stepped_care", "0001_initial")]

    operations = [migrations.RunPython(protect, unprotect, elidable=False)]
