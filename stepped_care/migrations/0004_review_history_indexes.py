"""Covering indexes the review scan reads referral histories by (PostgreSQL).

A chunk of the nightly scan is a run of neighbouring referral ids. With these indexes PostgreSQL reads
each chunk's contacts and their PHQ-9/GAD-7 straight from index pages kept in referral order
(index-only scans), instead of visiting table pages scattered by date: on 100,000 active referrals
this made the scan's reads about three times faster (see tests/bench/test_review_scan.py).

They sit on the referrals and outcomes tables but serve stepped_care/queries.py, so they are made
here, idempotently and without blocking writes (CONCURRENTLY). Other databases (SQLite for local use)
do without them.
"""

from django.db import migrations

INDEXES = [
    (
        "referrals",
        "CareContact",
        "review_contact_history_cover",
        "(referral_id, date, time, created_at) INCLUDE (appointment_type, attendance, entered_in_error, id)",
    ),
    (
        "outcomes",
        "QuestionnaireResponse",
        "review_response_history_cover",
        "(referral_id, contact_id) INCLUDE (measure, total, item_9, entered_in_error)",
    ),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for app, model, name, columns in INDEXES:
        table = schema_editor.quote_name(apps.get_model(app, model)._meta.db_table)
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} {columns}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _, _, name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("stepped_care", "0003_review_flag_episode"),
        ("referrals", "0003_contact_clinician_cover_index"),
        ("outcomes", "0004_questionnaireresponse_id_uuid"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
