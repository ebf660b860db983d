"""Audit events can be added, never changed or removed: by the application, and on PostgreSQL by the database."""

import pytest
from django.db import DatabaseError, connection, transaction

from common import audit
from common.models import AuditEvent


@pytest.fixture
def event(referral, pwp):
    return audit.record(pwp, "referral.view", referral, patient_id=referral.patient_id)


@pytest.mark.django_db
def test_the_application_refuses_to_edit_or_delete_an_event(event):
    event.action = "referral.nothing_to_see"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "referral.view"


needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only trigger exists on PostgreSQL only"
)


@needs_postgres
@pytest.mark.django_db
def test_postgres_refuses_update_through_the_orm_and_raw_sql(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="edited")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditEvent._meta.db_table} SET changes = '{{}}' WHERE id = %s", [event.pk])  # noqa: S608
    assert AuditEvent.objects.get(pk=event.pk).action == "referral.view"


@needs_postgres
@pytest.mark.django_db
def test_postgres_refuses_delete_through_the_orm_and_raw_sql(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [event.pk])  # noqa: S608
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@needs_postgres
@pytest.mark.django_db
def test_postgres_still_accepts_new_events(event, pwp, referral):
    audit.record(pwp, "referral.view", referral, patient_id=referral.patient_id)
    assert AuditEvent.objects.filter(patient_id=referral.patient_id).count() == 2
