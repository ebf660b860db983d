"""The review rules see appointments: a did-not-attend recorded from My day is a DNA contact, so two in a
row raise the disengagement flag, exactly as two logged DNAs do (and a cancellation between breaks no run)."""

import datetime as dt

from django.utils import timezone

from appointments import services
from stepped_care.models import ReviewFlag
from stepped_care.services import review_referral


def _days_ago(n, hour=9):
    return timezone.make_aware(dt.datetime.combine(timezone.localdate() - dt.timedelta(days=n), dt.time(hour)))


def _dna(referral, pwp, days_ago, code="3"):
    a = services.book(referral=referral, clinician=pwp, starts_at=_days_ago(days_ago), appointment_type="02", by=pwp)
    services.record_appointment_outcome(appointment=a, attendance=code, by=pwp)


def test_two_dna_appointments_in_a_row_raise_the_flag(referral, pwp):
    _dna(referral, pwp, 14)
    review_referral(referral.pk)
    assert not ReviewFlag.objects.filter(referral=referral, rule="disengaging", status="open").exists()
    _dna(referral, pwp, 7)
    review_referral(referral.pk)
    flag = ReviewFlag.objects.get(referral=referral, rule="disengaging", status="open")
    assert "Did not attend 2 appointments in a row" in flag.explanation


def test_an_attended_appointment_between_breaks_the_run(referral, pwp):
    _dna(referral, pwp, 21)
    a = services.book(referral=referral, clinician=pwp, starts_at=_days_ago(14), appointment_type="02", by=pwp)
    services.record_appointment_outcome(appointment=a, attendance="5", by=pwp)
    _dna(referral, pwp, 7)
    review_referral(referral.pk)
    assert not ReviewFlag.objects.filter(referral=referral, rule="disengaging", status="open").exists()
