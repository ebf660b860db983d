"""Workshop fixtures: a running stress course facilitated by ``pwp`` with a co-facilitator, and
patients to fill it."""

import datetime as dt

import pytest
from django.utils import timezone

from stepped_care.models import Role
from tests.factories import ReferralFactory, StaffFactory
from workshops import services


@pytest.fixture
def cofacilitator(team):
    return StaffFactory(username="hit_co", team=team, role=Role.HI_THERAPIST)


@pytest.fixture
def make_course(pwp, cofacilitator):
    made = []

    def make(*, by=None, capacity=12, first=None, count=4, facilitators=None, **extra):
        first = first or timezone.localdate() - dt.timedelta(days=7)
        # Each course's sessions hold its facilitators' diaries: a second course of the same people
        # meets two hours earlier than the one before, not at the same time (which is refused).
        at = dt.time(18 - 2 * (len(made) % 9), 0)
        made.append(at)
        fields = dict(
            by=by or pwp,
            title="Stress control, Bootle library",
            topic="stress",
            step=2,
            facilitators=facilitators or [pwp, cofacilitator],
            capacity=capacity,
            venue="Bootle library",
            sessions=[(first + dt.timedelta(days=7 * n), at) for n in range(count)],
        )
        fields.update(extra)
        return services.create_course(**fields)

    return make


@pytest.fixture
def course(make_course):
    """Session 1 was a week ago, session 2 is today, sessions 3 and 4 are to come."""
    return make_course()


@pytest.fixture
def members(course, pwp):
    """Three referrals of the team enrolled on the course (received 120 days ago)."""
    today = timezone.localdate()
    out = []
    for name in ("Adams", "Brown", "Clarke"):
        referral = ReferralFactory(patient__team=pwp.team, patient__family_name=name, care_coordinator=pwp)
        out.append(services.enrol(course=course, referral=referral, by=pwp, on=today - dt.timedelta(days=14)))
    return out
