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


@pytest.mark.django_db
def test_database_refuses_a_booking_over_a_facilitators_group_session_and_a_second_hold():
    """A group session held in a facilitator's diary is a row of the same table: the one exclusion
    constraint refuses a one-to-one appointment over it (the service's check bypassed), and the unique
    constraint a second live hold of the same session for the same facilitator (also on SQLite)."""
    import datetime as dt

    from workshops.models import CourseSession, GroupCourse

    referral = ReferralFactory()
    clinician = StaffFactory(team=referral.team, role="pwp")
    course = GroupCourse.objects.create(
        team=referral.team, title="Stress control", topic="stress", step=2, capacity=8, venue="Library",
        created_by=clinician,
    )  # fmt: skip
    session = CourseSession.objects.create(course=course, number=1, date=dt.date(2026, 12, 7), time=dt.time(9))
    start = datetime(2026, 12, 7, 9, tzinfo=UTC)
    block = dict(clinician=clinician, appointment_type="02", created_by=clinician, course_session=session)
    Appointment.objects.create(starts_at=start, ends_at=start + timedelta(minutes=90), **block)
    with pytest.raises(IntegrityError), transaction.atomic():  # both a referral and a session: neither kind
        Appointment.objects.create(
            starts_at=start + timedelta(hours=3), ends_at=start + timedelta(hours=4), referral=referral, **block
        )
    with pytest.raises(IntegrityError), transaction.atomic():  # the same session held twice
        Appointment.objects.create(starts_at=start + timedelta(hours=5), ends_at=start + timedelta(hours=6), **block)
    if connection.vendor != "postgresql":
        return  # the exclusion constraint is PostgreSQL's; services check the overlap on SQLite
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(
            referral=referral,
            clinician=clinician,
            appointment_type="02",
            created_by=clinician,
            starts_at=start + timedelta(minutes=60),
            ends_at=start + timedelta(minutes=120),
        )


@pytest.mark.django_db(transaction=True)
def test_two_tabs_at_once_make_one_contact():
    """Two requests recording the same appointment's outcome at the same moment (two tabs, a double
    click past the button's guard): the row lock makes the second wait, then find the first's contact."""
    import threading

    from django.db import connections
    from django.utils import timezone

    from appointments import services
    from referrals.models import CareContact

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: the race needs PostgreSQL's row locks")
    referral = ReferralFactory()
    pwp = StaffFactory(team=referral.team, role="pwp")
    referral.care_coordinator = pwp
    referral.save(update_fields=["care_coordinator"])
    at = timezone.make_aware(datetime.combine(timezone.localdate(), datetime.min.time()))
    appointment = services.book(referral=referral, clinician=pwp, starts_at=at, appointment_type="02", by=pwp)
    start, results = threading.Barrier(2), []

    def tab():
        try:
            start.wait()
            results.append(services.record_appointment_outcome(appointment=appointment, attendance="3", by=pwp))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=tab) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(created for _, created in results) == [False, True]
    assert len({contact.pk for contact, _ in results}) == 1
    assert CareContact.objects.filter(referral=referral).count() == 1
