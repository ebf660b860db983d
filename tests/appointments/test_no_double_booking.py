from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from appointments.models import Appointment
from tests.factories import ReferralFactory, StaffFactory


@pytest.mark.django_db
def test_database_refuses_a_clinicians_overlapping_appointments():
    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint is PostgreSQL's (btree_gist); services check on SQLite")
    referral = ReferralFactory()
    clinician = StaffFactory(team=referral.team)
    start = datetime(2026, 12, 7, 9, tzinfo=UTC)
    common = dict(referral=referral, clinician=clinician, appointment_type="02", created_by=clinician)
    Appointment.objects.create(starts_at=start, ends_at=start + timedelta(hours=1), **common)
    Appointment.objects.create(starts_at=start + timedelta(hours=1), ends_at=start + timedelta(hours=2), **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(
            starts_at=start + timedelta(minutes=30), ends_at=start + timedelta(hours=1, minutes=30), **common
        )
    Appointment.objects.create(
        starts_at=start + timedelta(minutes=30), ends_at=start + timedelta(minutes=90), status="cancelled", **common
    )
