"""Foundation: constraints enforced by the database, migrations clean, settings refuse unsafe starts."""

import os
import subprocess
import sys

import pytest
from django.db import IntegrityError, transaction

from outcomes.models import QuestionnaireResponse
from referrals.models import CareContact
from stepped_care.models import StepAssignment
from tests.paths import REPO
from tests.settings_probe import loaded_settings


def make_contact(referral, pwp):
    return CareContact.objects.create(
        referral=referral,
        clinician=pwp,
        date=referral.received_on,
        appointment_type="01",
        attendance="5",
        created_by=pwp,
    )


# Rows written straight to the table (no service): the database itself refuses what the measures table
# forbids. (measure, items, total, accepted)
DATABASE_CASES = [
    ("PHQ9", [3] * 9, 27, True),
    ("PHQ9", [3] * 8 + [4], 28, False),  # an answer out of range
    ("PHQ9", [0] * 8 + [None], 0, False),  # a missing answer where none may be
    ("PHQ9", [0] * 8, 0, False),  # too few answers
    ("GAD7", [3] * 7, 21, True),
    ("GAD7", [3] * 7 + [1], 22, False),  # too many answers
    ("GAD7", [1] * 7, 5, False),  # the score is not the sum
    ("GAD7", [1, 1, 1, "1", 1, 1, 1], 7, False),  # an answer that is not a number
    ("WSAS", [8] * 5, 40, True),
    ("WSAS", [9] + [0] * 4, 9, False),
    ("SPIN", [4] * 17, 68, True),
    ("SPIN", [4] * 16 + [5], 69, False),
    ("PCL5", [2] * 20, 40, True),
    ("PDSS", [0] * 6 + [-1], 0, False),
    ("HAI", [3] * 18, 54, True),
    ("OCI", [1] * 40 + [None, None], 42, True),  # the OCI replaces up to two missing items
    ("OCI", [5] + [0] * 41, 5, False),
    ("MI_ALONE", [3] * 22 + [None] * 5, "3.00", True),  # a mean, items skipped
    ("MI_ALONE", [0] + [3] * 26, "2.89", False),  # the Mobility Inventory's answers run 1 to 5
    ("MI_ALONE", [3] * 27, "5.01", False),  # a mean above 5
    ("MI_ACCOMPANIED", [1] * 27, "1.00", True),
    ("BIQ", [], 40, True),  # recorded as a score
    ("BIQ", [], 73, False),
    ("IBS_SSS", [], 500, True),
    ("NOPE", [], 1, False),  # not a measure of the table
]


@pytest.mark.django_db
@pytest.mark.parametrize(("measure", "items", "total", "ok"), DATABASE_CASES)
def test_item_answers_and_scores_are_enforced_by_the_database(referral, pwp, measure, items, total, ok):
    contact = make_contact(referral, pwp)
    row = QuestionnaireResponse(
        contact=contact,
        referral=referral,
        measure=measure,
        completed_on=contact.date,
        items=items,
        total=total,
        created_by=pwp,
    )
    if ok:
        row.save()
    else:
        with pytest.raises(IntegrityError), transaction.atomic():
            row.save()


@pytest.mark.django_db
def test_only_one_open_step_per_referral(referral, pwp):
    StepAssignment.objects.create(
        referral=referral, step=2, started_on=referral.received_on, reason="a", decided_by=pwp
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        StepAssignment.objects.create(
            referral=referral, step=3, started_on=referral.received_on, reason="b", decided_by=pwp
        )


def run_manage(*args, env=None):
    if env is not None:  # the browser tests' async-unsafe switch must not leak into a deployment check
        env = {k: v for k, v in env.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def test_no_missing_migrations():
    result = run_manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr


def test_settings_refuse_to_start_without_secret_key_when_debug_is_off():
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_deploy_check_is_clean_in_production_shape():
    env = {k: v for k, v in os.environ.items() if k not in ("SECURE_SSL_REDIRECT", "DEBUG")}
    env["SECRET_KEY"] = "x" * 64 + "-production-shaped-secret-for-the-check"
    env["ALLOWED_HOSTS"] = "talking-therapies.example.nhs.uk"
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def database_options(**env):
    expression = "s.DATABASES['default'].get('OPTIONS', {})"
    return loaded_settings(expression, env=env, drop=("DATABASE_URL", "DB_JIT"))


def test_postgresql_connections_run_without_the_jit_compiler_unless_asked():
    url = "postgres://app@db.example:5432/stepped_care"
    assert database_options(DATABASE_URL=url) == {"options": "-c jit=off"}
    assert database_options(DATABASE_URL=url, DB_JIT="1") == {}
    assert database_options() == {}  # SQLite: nothing to turn off


@pytest.mark.django_db
def test_the_live_postgresql_connection_has_jit_off():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no JIT compiler (the PostgreSQL pass of CI runs this)")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
