"""The database defends the clinical record (issue 21.6): on PostgreSQL each refusal is proved here in SQL,
as someone with a database shell (or a mistaken queryset) would try it.

- history tables refuse DELETE, and UPDATE of anything but the columns a correction sets, once;
- the tables' owner may repair deliberately with a session setting, which does nothing for anyone else;
- a questionnaire's measure is a known code (also on SQLite) and its contact belongs to its referral;
- the application's role (made as common/database.py makes it) cannot truncate, disable a trigger,
  delete history, alter the audit trail or use the owner's setting.

Skipped on SQLite except the measure check; in CI with a PostgreSQL DATABASE_URL they must run.
"""

import datetime as dt
import os
import uuid

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import ProtectedError

from common import audit, database
from common.models import AuditEvent
from outcomes.models import QuestionnaireResponse
from referrals.models import CareContact, PresentingProblemRecord, ReferralEvent
from stepped_care.models import StepAssignment
from tests.factories import ReferralFactory

on_postgres = connection.vendor == "postgresql"
needs_postgres = pytest.mark.skipif(not on_postgres, reason="the triggers, composite key and roles are PostgreSQL's")
PHQ9 = [1, 1, 1, 1, 1, 1, 1, 1, 0]


def test_ci_on_postgres_runs_these_tests():
    if os.environ.get("CI") == "true" and os.environ.get("DATABASE_URL", "").startswith("postgres"):
        assert on_postgres


@pytest.fixture
def record(referral, pwp):
    today = dt.date.today()
    contact = CareContact.objects.create(
        referral=referral, clinician=pwp, date=today, appointment_type="02", attendance="5", created_by=pwp
    )
    response = QuestionnaireResponse.objects.create(
        contact=contact, referral=referral, measure="PHQ9", completed_on=today, items=PHQ9, total=8, created_by=pwp
    )
    step = StepAssignment.objects.create(
        referral=referral, step=2, started_on=referral.received_on, reason="Assessed", decided_by=pwp
    )
    event = ReferralEvent.objects.create(referral=referral, kind="allocated", to_value="pwp_a", by=pwp)
    event_of_audit = audit.record(pwp, "referral.view", referral, patient_id=referral.patient_id)
    return {
        "contact": contact,
        "response": response,
        "step": step,
        "event": event,
        "problem": PresentingProblemRecord.objects.get(referral=referral),
        "audit": event_of_audit,
    }


def _sql(statement, params=None):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def _refused(statement, params=None, match="clinical record is kept"):
    with pytest.raises(DatabaseError, match=match):
        _sql(statement, params)


@pytest.mark.django_db
@pytest.mark.parametrize("items", [PHQ9, []])
def test_an_unknown_measure_is_refused_by_the_database(referral, items):
    with pytest.raises(IntegrityError, match="measure_known|items_in_range"), transaction.atomic():
        QuestionnaireResponse.objects.create(
            referral=referral, source="patient", measure="PHQ9X", completed_on=dt.date.today(), items=items, total=8
        )


@needs_postgres
@pytest.mark.django_db
@pytest.mark.parametrize("name", ["contact", "response", "step", "event", "problem"])
def test_history_rows_cannot_be_deleted(record, name):
    row = record[name]
    _refused(f"DELETE FROM {row._meta.db_table} WHERE id = %s", [row.pk])  # noqa: S608
    with pytest.raises((DatabaseError, ProtectedError)), transaction.atomic():  # the ORM refuses first where it can
        type(row).objects.filter(pk=row.pk).delete()
    with pytest.raises(DatabaseError, match="clinical record is kept"), transaction.atomic():
        type(row).objects.filter(pk=row.pk)._raw_delete(connection.alias)
    assert type(row).objects.filter(pk=row.pk).exists()


@needs_postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("contact", "notes = 'rewritten'"),
        ("contact", "attendance = '3'"),
        ("contact", "referral_id = referral_id"),  # unchanged values pass; see the next test
        ("response", "items = '[1,1,1,1,1,1,1,1,3]'::jsonb, total = 11"),  # the risk item edited in SQL
        ("response", "measure = 'GAD7'"),
        ("step", "step = 3"),
        ("event", "note = 'nothing happened'"),
        ("problem", "problem = 'other'"),
    ],
)
def test_history_rows_cannot_be_rewritten(record, name, change):
    row = record[name]
    statement = f"UPDATE {row._meta.db_table} SET {change} WHERE id = %s"  # noqa: S608
    if change == "referral_id = referral_id":
        _sql(statement, [row.pk])  # a no-op update (Django's save() of an unchanged row) is no change
        return
    _refused(statement, [row.pk])
    row.refresh_from_db()
    assert row == type(row).objects.get(pk=row.pk)


@needs_postgres
@pytest.mark.django_db
def test_the_risk_item_is_unchanged_after_an_attempt(record):
    response = record["response"]
    _refused(
        f"UPDATE {response._meta.db_table} SET items = jsonb_set(items, '{{8}}', '3') WHERE id = %s",  # noqa: S608
        [response.pk],
    )
    response.refresh_from_db()
    assert response.item_9 == 0


@needs_postgres
@pytest.mark.django_db
def test_a_correction_sets_its_columns_once_and_cannot_be_undone(record):
    contact, response, step = record["contact"], record["response"], record["step"]
    CareContact.objects.filter(pk=contact.pk).update(entered_in_error=True, error_reason="Wrong patient")
    QuestionnaireResponse.objects.filter(pk=response.pk).update(entered_in_error=True, error_reason="Wrong patient")
    StepAssignment.objects.filter(pk=step.pk).update(ended_on=dt.date.today())
    for row, undo in [
        (contact, "entered_in_error = false"),
        (contact, "error_reason = 'Another reason'"),
        (response, "entered_in_error = false"),
        (step, "ended_on = NULL"),
        (step, "ended_on = ended_on + 1"),
    ]:
        _refused(f"UPDATE {row._meta.db_table} SET {undo} WHERE id = %s", [row.pk], match="cannot change again")  # noqa: S608
    contact.refresh_from_db()
    assert contact.entered_in_error and contact.error_reason == "Wrong patient"


@needs_postgres
@pytest.mark.django_db
def test_the_audit_trail_still_refuses_and_truncate_is_the_owners_alone(record):
    event = record["audit"]
    _refused(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [event.pk], match="append-only")  # noqa: S608


@needs_postgres
@pytest.mark.django_db
def test_a_response_cannot_point_at_a_contact_of_another_referral(record, pwp):
    other = ReferralFactory(patient__team=pwp.team, care_coordinator=pwp)
    with pytest.raises(IntegrityError, match="questionnaire_contact_of_its_referral"), transaction.atomic():
        QuestionnaireResponse.objects.create(
            contact=record["contact"],
            referral=other,
            measure="GAD7",
            completed_on=dt.date.today(),
            items=[0] * 7,
            total=0,
            created_by=pwp,
        )
    # moving an existing one is refused twice over: by the trigger and by the key
    _refused(
        f"UPDATE {QuestionnaireResponse._meta.db_table} SET referral_id = %s WHERE id = %s",  # noqa: S608
        [other.pk, record["response"].pk],
    )


@needs_postgres
@pytest.mark.django_db
def test_the_owner_may_repair_deliberately(record):
    contact = record["contact"]
    _refused(f"UPDATE {contact._meta.db_table} SET notes = 'x' WHERE id = %s", [contact.pk])  # noqa: S608
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL {database.HISTORY_CHANGE} = 'allowed'")
        cursor.execute(f"UPDATE {contact._meta.db_table} SET notes = 'repaired' WHERE id = %s", [contact.pk])  # noqa: S608
    contact.refresh_from_db()
    assert contact.notes == "repaired"


@pytest.fixture
def app_role(db):
    """A role made as ``migrate`` makes the application's (NOLOGIN: it lives only in this test's
    transaction); the test's superuser connection ``SET ROLE``s to it."""
    role = f"stepped_care_app_test_{uuid.uuid4().hex[:8]}"
    database.grant_app_role(connection, role)
    yield role
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")


def _as(role, statement, params=None):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {connection.ops.quote_name(role)}")
        cursor.execute(statement, params)


@needs_postgres
@pytest.mark.django_db
def test_the_app_role_owns_nothing(app_role):
    assert database.app_role_problems(connection, app_role) == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert database.app_role_problems(connection) != []  # the test's own superuser is unfit


@needs_postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("statement", "match"),
    [
        ("TRUNCATE {audit}", "permission denied"),
        ("TRUNCATE {contact} CASCADE", "permission denied"),
        ("ALTER TABLE {audit} DISABLE TRIGGER USER", "must be owner"),
        ("ALTER TABLE {contact} DISABLE TRIGGER ALL", "must be owner"),
        ("DROP TRIGGER auditevent_append_only ON {audit}", "must be owner"),
        ("DROP TABLE {response}", "must be owner"),
        ("DELETE FROM {contact}", "permission denied"),
        ("UPDATE {audit} SET action = 'x'", "permission denied"),
        ("CREATE TABLE public.sneaky (id int)", "permission denied"),
        ("SET session_replication_role = replica", "permission denied"),
    ],
)
def test_the_app_role_cannot_get_round_the_record(record, app_role, statement, match):
    tables = {
        "audit": AuditEvent._meta.db_table,
        "contact": CareContact._meta.db_table,
        "response": QuestionnaireResponse._meta.db_table,
    }
    with pytest.raises(DatabaseError, match=match):
        _as(app_role, statement.format(**tables))
    assert CareContact.objects.filter(pk=record["contact"].pk).exists()
    assert AuditEvent.objects.filter(pk=record["audit"].pk).exists()


@needs_postgres
@pytest.mark.django_db
def test_the_owners_setting_does_nothing_for_the_app_role(record, app_role):
    contact = record["contact"]
    with (
        pytest.raises(DatabaseError, match="clinical record is kept"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"SET LOCAL ROLE {connection.ops.quote_name(app_role)}")
        cursor.execute(f"SET LOCAL {database.HISTORY_CHANGE} = 'allowed'")
        cursor.execute(f"UPDATE {contact._meta.db_table} SET notes = 'x' WHERE id = %s", [contact.pk])  # noqa: S608


@needs_postgres
@pytest.mark.django_db
def test_the_app_role_still_does_its_work(record, app_role, pwp):
    """What the application does: read, add, correct, end a step."""
    contact, step = record["contact"], record["step"]
    _as(app_role, f"SELECT count(*) FROM {CareContact._meta.db_table}")  # noqa: S608
    _as(
        app_role,
        f"UPDATE {contact._meta.db_table} SET entered_in_error = true, error_reason = 'Duplicate' WHERE id = %s",  # noqa: S608
        [contact.pk],
    )
    _as(app_role, f"UPDATE {step._meta.db_table} SET ended_on = started_on WHERE id = %s", [step.pk])  # noqa: S608
    _as(
        app_role,
        f"INSERT INTO {ReferralEvent._meta.db_table} (referral_id, kind, from_value, to_value, note, at) "  # noqa: S608
        "VALUES (%s, 'allocated', '', '', '', now())",
        [record["event"].referral_id],
    )
    assert ReferralEvent.objects.filter(referral_id=record["event"].referral_id).count() == 2


@needs_postgres
@pytest.mark.django_db
def test_analyze_tables_refreshes_the_statistics(record):
    done = database.analyze_tables()
    assert "referrals_carecontact" in done and "outcomes_questionnaireresponse" in done


@pytest.fixture
def decision_and_entry(record, referral, pwp):
    """A supervision case decision and a group register entry: history corrected by marking, never edited."""
    from supervision.models import CaseDecision, SupervisionSession
    from workshops import services as workshops
    from workshops.models import RegisterEntry

    today = dt.date.today()
    session = SupervisionSession.objects.create(
        team=pwp.team, kind="case_management", date=today, minutes=60, supervisor=pwp, recorded_by=pwp
    )
    decision = CaseDecision.objects.create(session=session, referral=referral, decision="continue", recorded_by=pwp)
    course = workshops.create_course(
        by=pwp,
        title="Stress control",
        topic="stress",
        step=2,
        facilitators=[pwp],
        capacity=8,
        venue="Library",
        sessions=[(today, dt.time(18, 0))],
    )
    enrolment = workshops.enrol(course=course, referral=referral, by=pwp, on=today)
    entry = RegisterEntry.objects.create(
        session=course.sessions.get(), enrolment=enrolment, contact=record["contact"], created_by=pwp
    )
    return decision, entry


@needs_postgres
@pytest.mark.django_db
def test_decisions_and_register_entries_are_kept_too(decision_and_entry):
    decision, entry = decision_and_entry
    for row, change in [
        (decision, "decision = 'discharge'"),
        (decision, "notes = 'rewritten'"),
        (entry, "contact_id = NULL"),
    ]:
        _refused(f"UPDATE {row._meta.db_table} SET {change} WHERE id = %s", [row.pk])  # noqa: S608
    for row in (decision, entry):
        _refused(f"DELETE FROM {row._meta.db_table} WHERE id = %s", [row.pk])  # noqa: S608
    type(decision).objects.filter(pk=decision.pk).update(entered_in_error=True, error_reason="Wrong case")
    type(entry).objects.filter(pk=entry.pk).update(entered_in_error=True)
    _refused(
        f"UPDATE {decision._meta.db_table} SET entered_in_error = false WHERE id = %s",  # noqa: S608
        [decision.pk],
        match="cannot change again",
    )
    decision.refresh_from_db()
    assert decision.entered_in_error and decision.notes == ""
