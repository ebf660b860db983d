"""The not-on-track rule through the review engine: the team's newest fit in, a flag raised, updated
and closed by itself, and the case on the supervisee's case-management supervision list."""

import datetime as dt

import pytest

from outcomes import services as outcome_services
from referrals.services import log_contact
from stepped_care import review, services
from stepped_care.models import FlagStatus, ReviewFlag, Team
from supervision import queries as supervision_queries
from tests.outcomes.trajectory_helpers import course, spin_course, spin_items
from tests.stepped_care.review_helpers import items, referral_at_step, session, today

pytestmark = pytest.mark.django_db


@pytest.fixture
def fitted(pwp):
    """Four finished courses of intake 16-18: at session 2 the scores 13-16 (90th percentile 15.7)."""
    course(pwp, [17, 15, 12], ended_days_ago=40)
    course(pwp, [17, 14, 10], ended_days_ago=45)
    course(pwp, [16, 13, 11], ended_days_ago=50)
    course(pwp, [18, 16, 14], ended_days_ago=55)
    return outcome_services.fit_trajectories(team=pwp.team, min_n=3)


def open_flag(referral):
    return ReviewFlag.objects.filter(referral=referral, rule=review.NOT_ON_TRACK, status=FlagStatus.OPEN).first()


def test_raised_then_closed_by_itself(pwp, fitted, supervisor):
    referral = referral_at_step(pwp)
    session(referral, pwp, 14, 17, kind="01")
    session(referral, pwp, 7, 16)
    services.review_referral(referral.pk)
    flag = open_flag(referral)
    assert flag.severity == "red"
    assert "PHQ-9 16 at session 2; expected 14.50–15.25 for intake 15–19, N = 4" in flag.explanation
    assert flag.evidence["fit_version"] == fitted.version

    cases = supervision_queries.case_list(supervisor, pwp, today=today())
    row = next(r for r in cases.rows if r.referral.pk == referral.pk)
    assert [r.kind for r in row.reasons if r.flag_id == str(flag.pk)] == ["not_improving"]

    session(referral, pwp, 0, 11)  # session 3: 11, below the median 11.5
    services.review_referral(referral.pk)
    flag.refresh_from_db()
    assert flag.status == FlagStatus.CLEARED
    assert flag.resolution_note.startswith("Back on track: PHQ-9 11 at session 3")


def test_a_team_that_turns_the_rule_off_gets_no_flag(pwp, fitted):
    Team.objects.filter(pk=pwp.team_id).update(review_parameters={"rules": ["risk", "not_improving"]})
    referral = referral_at_step(pwp)
    session(referral, pwp, 14, 17, kind="01")
    session(referral, pwp, 7, 16)
    services.review_referral(referral.pk)
    assert open_flag(referral) is None


def test_no_fit_no_flag(pwp):
    referral = referral_at_step(pwp)
    session(referral, pwp, 14, 17, kind="01")
    session(referral, pwp, 7, 27 - 3)
    services.review_referral(referral.pk)
    assert open_flag(referral) is None


def test_an_adsm_above_its_own_band_raises_the_flag(pwp):
    """SPIN is fitted from the team's finished courses and judged like PHQ-9 (issue 19.1, 19.3)."""
    for spin, ago in (([40, 36, 30], 40), ([41, 37, 31], 45), ([39, 35, 29], 50), ([40, 38, 32], 55)):
        spin_course(pwp, spin, ended_days_ago=ago)
    fit = outcome_services.fit_trajectories(team=pwp.team, min_n=3)
    assert fit.cells.filter(measure="SPIN").exists()
    referral = referral_at_step(pwp)
    for days_ago, score in ((14, 40), (7, 44)):
        log_contact(
            referral=referral,
            by=pwp,
            date=today() - dt.timedelta(days=days_ago),
            appointment_type="02",
            attendance="5",
            phq9=items(12, 9, last=0),
            questionnaires=[{"measure": "SPIN", "items": spin_items(score)}],
        )
    services.review_referral(referral.pk)
    flag = open_flag(referral)
    assert flag is not None and flag.severity == "red"
    assert flag.evidence["trajectories"][0]["measure"] == "SPIN"
    assert "SPIN 44 at session 2" in flag.explanation
