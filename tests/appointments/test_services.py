from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied

from appointments import services
from appointments.models import Appointment
from tests.factories import ReferralFactory, StaffFactory, TeamFactory

START = datetime(2026, 12, 7, 9, tzinfo=UTC)


@pytest.fixture
def case(db):
    referral = ReferralFactory()
    return referral, StaffFactory(team=referral.team, role="pwp")


def test_book_then_a_clash_is_refused_and_nothing_written(case):
    referral, pwp = case
    services.book(referral=referral, clinician=pwp, starts_at=START, appointment_type="02", by=pwp)
    with pytest.raises(services.Clash):
        services.book(
            referral=referral, clinician=pwp, starts_at=START + timedelta(minutes=15), appointment_type="02", by=pwp
        )
    assert Appointment.objects.count() == 1


def test_cancel_frees_the_slot_and_a_stale_cancel_is_refused(case):
    referral, pwp = case
    a = services.book(referral=referral, clinician=pwp, starts_at=START, appointment_type="01", by=pwp)
    stale = a.version
    services.cancel(appointment=a, reason="patient", by=pwp)
    with pytest.raises(services.Clash):
        services.cancel(appointment=a, reason="patient", by=pwp, version=stale)
    services.book(referral=referral, clinician=pwp, starts_at=START, appointment_type="01", by=pwp)


def test_reschedule_moves_it(case):
    referral, pwp = case
    a = services.book(referral=referral, clinician=pwp, starts_at=START, appointment_type="02", by=pwp)
    b = services.reschedule(appointment=a, starts_at=START + timedelta(days=1), by=pwp)
    a.refresh_from_db()
    assert (a.status, a.cancel_reason, b.status) == ("cancelled", "rescheduled", "booked")


def test_an_outsider_may_not_book(case):
    referral, pwp = case
    outsider = StaffFactory(team=TeamFactory(), role="pwp")
    with pytest.raises(PermissionDenied):
        services.book(referral=referral, clinician=pwp, starts_at=START, appointment_type="02", by=outsider)
    assert not Appointment.objects.exists()
