"""Building referral histories through the real services, for the review engine's tests."""

import datetime as dt

from django.utils import timezone

from referrals.services import log_contact
from stepped_care.models import StepSource
from stepped_care.services import change_step
from tests.factories import ReferralFactory

TODAY = None


def today():
    return timezone.localdate()


def items(total, count, item_max=3, last=0):
    """Answers summing to ``total`` with the last item set to ``last`` (PHQ-9 item 9)."""
    answers = [0] * count
    answers[-1] = last
    remaining = total - last
    for i in range(count - 1):
        take = min(item_max, remaining)
        answers[i] = take
        remaining -= take
    assert remaining == 0, "total out of range"
    return answers


def session(referral, by, days_ago, phq=None, gad=None, kind="02", attendance="5", item9=0):
    return log_contact(
        referral=referral,
        by=by,
        date=today() - dt.timedelta(days=days_ago),
        appointment_type=kind,
        attendance=attendance,
        phq9=items(phq, 9, last=item9) if phq is not None else None,
        gad7=items(gad, 7) if gad is not None else None,
        risk_note="Risk assessed: no plan or intent." if item9 else "",
    )


def referral_at_step(pwp, step=2, received_days_ago=120, step_days_ago=100, **kw):
    referral = ReferralFactory(
        patient__team=pwp.team,
        care_coordinator=pwp,
        received_on=today() - dt.timedelta(days=received_days_ago),
        **kw,
    )
    if step:
        change_step(
            referral=referral,
            step=step,
            reason="Assessed",
            by=pwp,
            source=StepSource.ASSESSMENT,
            on=today() - dt.timedelta(days=step_days_ago),
        )
        referral.refresh_from_db()
    return referral


def not_improving(pwp, **kw):
    """Step 2, four attended treatment sessions, PHQ-9 and GAD-7 flat: the not-improving rule holds."""
    referral = referral_at_step(pwp, **kw)
    session(referral, pwp, 99, 15, 12, kind="01")
    for days in (35, 28, 21, 14):
        session(referral, pwp, days, 15, 12)
    return referral
