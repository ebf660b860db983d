"""Benchmark (issue 18.9): My day of a clinician with a full day, and a team's week of free slots for
300 clinicians, on the seeded benchmark service (150,000 referrals by default). Each page's median
render against the median SQL of the same renders (at most twice), with its query count printed.

The diaries are topped up here when the service has fewer: clinicians to 300 with working patterns
(weekdays 9 to 5), each booked every other hour of the week (bulk rows: benchmark data, not a use case).
PostgreSQL only; run with ``make bench``."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment, WorkingPattern
from referrals.models import Referral
from stepped_care.models import CLINICAL_ROLES, Role, Staff

from .test_pages_bench import measure, seeded_service  # noqa: F401 - the shared, seeded-once fixture

CLINICIANS = 300
PREFIX = "diarybench"


def _monday(today):
    return today - dt.timedelta(days=today.weekday())


def _top_up(team):
    """(clinicians, appointments this week) after making sure the team has 300 clinicians with diaries."""
    have = Staff.objects.filter(team=team, role__in=[str(r) for r in CLINICAL_ROLES], is_active=True).count()
    Staff.objects.bulk_create(
        [
            Staff(username=f"{PREFIX}{n}", first_name="Bench", last_name=f"Clinician {n}", role=Role.PWP, team=team)
            for n in range(max(0, CLINICIANS - have))
        ]
    )
    clinicians = list(Staff.objects.filter(team=team, role__in=[str(r) for r in CLINICAL_ROLES], is_active=True))
    monday = _monday(timezone.localdate())
    with_pattern = set(WorkingPattern.objects.filter(team=team).values_list("clinician_id", flat=True))
    WorkingPattern.objects.bulk_create(
        [
            WorkingPattern(clinician=c, team=team, weekday=d, start=dt.time(9), end=dt.time(17), valid_from=monday)
            for c in clinicians
            if c.pk not in with_pattern
            for d in range(1, 6)
        ]
    )
    start = timezone.make_aware(dt.datetime.combine(monday, dt.time.min))
    booked = set(
        Appointment.objects.filter(starts_at__gte=start, starts_at__lt=start + dt.timedelta(days=7)).values_list(
            "clinician_id", flat=True
        )
    )
    referrals = list(Referral.objects.filter(team=team).values_list("pk", flat=True)[:5000])
    rows = []
    for i, c in enumerate(clinicians):
        if c.pk in booked:
            continue
        for d in range(5):
            for hour in (9, 11, 14, 16):
                at = timezone.make_aware(dt.datetime.combine(monday + dt.timedelta(days=d), dt.time(hour)))
                rows.append(
                    Appointment(
                        referral_id=referrals[(i * 20 + d * 4 + hour) % len(referrals)],
                        clinician=c,
                        starts_at=at,
                        ends_at=at + dt.timedelta(minutes=45),
                        appointment_type="02",
                        created_by=c,
                    )
                )
    Appointment.objects.bulk_create(rows, batch_size=2000)
    return clinicians, Appointment.objects.filter(starts_at__gte=start, starts_at__lt=start + dt.timedelta(days=7))


def _measured(label, client, url, cases, missed):
    try:
        measure(label, client, url, cases)
    except AssertionError as exc:  # print both pages' figures before failing
        missed.append(str(exc))


@pytest.mark.django_db
def test_my_day_and_a_300_clinician_week(seeded_service):  # noqa: F811 - the fixture
    clinicians, week = _top_up(seeded_service)
    busiest = max(clinicians[:50], key=lambda c: week.filter(clinician=c).count())
    client = Client()
    client.force_login(busiest)
    today = timezone.localdate()
    day = today if today.weekday() < 5 else _monday(today)
    mine = week.filter(clinician=busiest, starts_at__date=day).count()
    missed = []
    url = reverse("appointments:my_day") + f"?day={day}"
    _measured(f"My day of {busiest.username}", client, url, f"{mine} appointments", missed)
    url = reverse("appointments:free_slots") + f"?day={_monday(today)}&span=week&type=02"
    _measured(
        "team's week of free slots", client, url, f"{len(clinicians)} clinicians, {week.count()} appointments", missed
    )
    assert not missed, missed
