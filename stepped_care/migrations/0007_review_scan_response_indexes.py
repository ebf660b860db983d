"""Covering indexes for the review scan's reads (PostgreSQL), issue 22 item 3.

The scan reads a chunk's PHQ-9/GAD-7 (with PHQ-9 item 9 from the answers array) and its anxiety
disorder-specific measures by the chunk's referral ids. Since the answers moved into one JSON array
(outcomes 0008), no index held what those reads need, so every response was fetched from table pages
scattered by date. These partial indexes hold exactly the valid responses the scan reads, in
referral order, so that PostgreSQL answers from the index alone (index-only scans), and reads only
the rows of the referrals asked for. The open step's start date likewise, beside its
one-open-step constraint.

Made here like 0004 (they serve stepped_care/queries.py), idempotently and without blocking writes.
Other databases (SQLite for local use) do without them.
"""

from django.db import migrations

ADSMS = "('SPIN', 'PDSS', 'PCL5', 'OCI', 'HAI', 'MI_ALONE')"  # stepped_care.queries.JUDGED_ADSMS

INDEXES = [
    (
        "outcomes.QuestionnaireResponse",
        "review_phq9_cover",
        "(referral_id) INCLUDE (contact_id, total, items) WHERE NOT entered_in_error AND measure = 'PHQ9'",
    ),
    (
        "outcomes.QuestionnaireResponse",
        "review_gad7_cover",
        "(referral_id) INCLUDE (contact_id, total) WHERE NOT entered_in_error AND measure = 'GAD7'",
    ),
    (
        "outcomes.QuestionnaireResponse",
        "review_adsm_cover",
        f"(referral_id) INCLUDE (completed_on, created_at, measure, total, contact_id)"
        f" WHERE NOT entered_in_error AND measure IN {ADSMS}",
    ),
    # The open step's start, read with each referral.
    (
        "stepped_care.StepAssignment",
        "review_open_step_cover",
        "(referral_id) INCLUDE (started_on) WHERE ended_on IS NULL",
    ),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model, name, columns in INDEXES:
        table = schema_editor.quote_name(apps.get_model(model)._meta.db_table)
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} {columns}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _, name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("stepped_care", "0006_review_flag_not_on_track"),
        ("outcomes", "0010_record_guards"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
