"""Finished courses built through the real services (contacts, questionnaires, discharge), for the
trajectory fit's tests: the summary that marks a course finished is kept as in production."""

import datetime as dt

from referrals.services import log_contact
from stepped_care import services
from stepped_care.services import discharge
from tests.stepped_care.review_helpers import items, referral_at_step, session, today


def course(pwp, phq, gad=None, *, ended_days_ago=30, discharged=True, in_error=()):
    """A referral with one weekly scored session per PHQ-9 score (GAD-7 alongside when given), the
    first an assessment, discharged (end code 46) on the day of its last session. ``in_error``: the
    indexes of sessions then marked entered in error."""
    from referrals.services import mark_contact_in_error

    first = ended_days_ago + 7 * (len(phq) - 1)
    referral = referral_at_step(pwp, received_days_ago=first + 10, step_days_ago=first + 5)
    contacts = []
    for i, score in enumerate(phq):
        g = gad[i] if gad else None
        contacts.append(session(referral, pwp, first - 7 * i, score, g, kind="01" if i == 0 else "02"))
    for i in in_error:
        mark_contact_in_error(contact=contacts[i], by=pwp, reason="Wrong patient")
    if discharged:
        referral.refresh_from_db()
        discharge(referral=referral, end_code="46", by=pwp, discharged_on=today() - dt.timedelta(days=ended_days_ago))
    referral.refresh_from_db()
    return referral


def spin_items(total):
    """17 SPIN answers (0-4) adding up to ``total``."""
    answers = [min(4, max(0, total - 4 * i)) for i in range(17)]
    assert sum(answers) == total
    return answers


def spin_course(pwp, spin, *, ended_days_ago):
    """A finished course of social phobia, SPIN scored at every session beside a flat PHQ-9."""
    first = ended_days_ago + 7 * (len(spin) - 1)
    referral = referral_at_step(pwp, received_days_ago=first + 10, step_days_ago=first + 5)
    for i, score in enumerate(spin):
        log_contact(
            referral=referral,
            by=pwp,
            date=today() - dt.timedelta(days=first - 7 * i),
            appointment_type="01" if i == 0 else "02",
            attendance="5",
            phq9=items(12, 9, last=0),
            questionnaires=[{"measure": "SPIN", "items": spin_items(score)}],
        )
    referral.refresh_from_db()
    services.discharge(
        referral=referral,
        end_code="46",
        by=pwp,
        discharged_on=today() - dt.timedelta(days=ended_days_ago),
    )
    return referral


__all__ = ["course", "items", "spin_course", "spin_items"]
