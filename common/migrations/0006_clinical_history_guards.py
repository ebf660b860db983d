"""The clinical history is kept by the database itself (issue 21.6), on PostgreSQL: a trigger refuses
DELETE on the history tables, and any UPDATE except of the columns a correction sets, and those only once
(from their empty value: false, '' or null) - so a contact or a score can be marked entered in error, and
an open step ended, but nothing else about them changes and no correction is undone.

| table                             | may change (once)                  |
| --------------------------------- | ---------------------------------- |
| referrals_carecontact             | entered_in_error, error_reason     |
| outcomes_questionnaireresponse    | entered_in_error, error_reason     |
| stepped_care_stepassignment       | ended_on                           |
| referrals_referralevent           | nothing                            |
| referrals_presentingproblemrecord | nothing                            |
| stepped_care_auditevent           | nothing (stepped_care 0002's trigger) |

The table's owner (the role migrations run as, or a superuser) may set the session setting
``stepped_care.history_change = 'allowed'`` to repair data deliberately; for anyone else the setting does
nothing. The application's role owns nothing (common/database.py), so it can neither use that nor disable
the trigger nor TRUNCATE. TRUNCATE fires no row trigger: the test suite's flush still works.
SQLite (local use) relies on the services, which never update or delete these rows.
"""

from django.db import migrations

FUNCTION = "stepped_care_history_guard"
GUARDED = {
    ("referrals", "CareContact"): ["entered_in_error", "error_reason"],
    ("outcomes", "QuestionnaireResponse"): ["entered_in_error", "error_reason"],
    ("stepped_care", "StepAssignment"): ["ended_on"],
    ("referrals", "ReferralEvent"): [],
    ("referrals", "PresentingProblemRecord"): [],
}

GUARD = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    may_change text[] := COALESCE(TG_ARGV, '{{}}'::text[]);
    column_name text;
    before jsonb;
    after jsonb;
BEGIN
    IF current_setting('stepped_care.history_change', true) = 'allowed'
       AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'The clinical record is kept: DELETE refused on %', TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation', HINT = 'Mark it entered in error instead.';
    END IF;
    before := to_jsonb(OLD);
    after := to_jsonb(NEW);
    IF (after - may_change) IS DISTINCT FROM (before - may_change) THEN
        RAISE EXCEPTION 'The clinical record is kept: UPDATE refused on % (only % may change)',
            TG_TABLE_NAME, COALESCE(NULLIF(array_to_string(may_change, ', '), ''), 'nothing')
            USING ERRCODE = 'restrict_violation';
    END IF;
    FOREACH column_name IN ARRAY may_change LOOP
        IF (after -> column_name) IS DISTINCT FROM (before -> column_name)
           AND (before -> column_name) NOT IN ('false'::jsonb, '""'::jsonb, 'null'::jsonb) THEN
            RAISE EXCEPTION 'The clinical record is kept: %.% was already set and cannot change again',
                TG_TABLE_NAME, column_name
                USING ERRCODE = 'restrict_violation';
        END IF;
    END LOOP;
    RETURN NEW;
END;
$$;
"""  # nosec B608 (built from this migration's constants, no input)


def _trigger(table):
    return f"{table}_history_kept"[:63]


def protect(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(GUARD, params=None)  # no interpolation: the body's % are PL/pgSQL placeholders
    for (app, model), columns in GUARDED.items():
        table = apps.get_model(app, model)._meta.db_table
        args = ", ".join(f"'{c}'" for c in columns)
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {_trigger(table)} ON {schema_editor.quote_name(table)}; "
            f"CREATE TRIGGER {_trigger(table)} BEFORE UPDATE OR DELETE ON {schema_editor.quote_name(table)} "
            f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}({args})",
            params=None,
        )


def unprotect(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for app, model in GUARDED:
        table = apps.get_model(app, model)._meta.db_table
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {_trigger(table)} ON {schema_editor.quote_name(table)}")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")


class Migration(migrations.Migration):
    dependencies = [
        ("common", "0005_notify_message"),
        ("outcomes", "0010_record_guards"),
        ("referrals", "0009_contact_with_its_referral"),
        ("stepped_care", "0006_review_flag_not_on_track"),
    ]

    operations = [migrations.RunPython(protect, unprotect, elidable=False)]
