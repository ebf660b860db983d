"""Scenery for supervision tests: referrals built through the services, flags as the review engine
would leave them, and a clinical skills supervisor."""

import datetime as dt

import pytest
from django.utils import timezone

from referrals.services import create_patient, create_referral, log_contact
from stepped_care.models import FlagStatus, ReviewFlag, Role
from stepped_care.services import change_step
from supervision.models import SupervisionType
from tests.factories import RelationshipFactory, StaffFactory

PHQ_MODERATE = [2, 2, 1, 1, 1, 1, 1, 1, 0]  # 10
PHQ_SEVERE = [3, 3, 3, 2, 2, 2, 2, 2, 0]  # 19
GAD_MODERATE = [2, 2, 2, 1, 1, 1, 1]  # 10


def today():
    return timezone.localdate()


def ago(days):
    return today() - dt.timedelta(days=days)


def make_referral(coordinator, *, received_days_ago=60, step=2, given="Alex", family="Patient"):
    """A referral coordinated by ``coordinator``, on ``step`` since it was received."""
    patient = create_patient(
        by=coordinator, given_name=given, family_name=family, date_of_birth=dt.date(1988, 5, 1), nhs_number=None
    )
    referral = create_referral(
        by=coordinator,
        patient=patient,
        received_on=ago(received_days_ago),
        source="gp",
        presenting_problem="depression",
        care_coordinator=coordinator,
    )
    if step:
        change_step(
            referral=referral,
            step=step,
            reason="Assessed",
            by=coordinator,
            source="assessment",
            on=ago(received_days_ago),
        )
        referral.refresh_from_db()
    return referral


def log(referral, by, days_ago, *, appointment_type="02", attendance="5", phq9=None, gad7=None, risk_note=""):
    contact = log_contact(
        referral=referral,
        by=by,
        date=ago(days_ago),
        appointment_type=appointment_type,
        attendance=attendance,
        phq9=phq9,
        gad7=gad7,
        risk_note=risk_note,
    )
    referral.refresh_from_db()
    return contact


def open_flag(referral, rule, recommendation, severity="amber", explanation=""):
    """An open review flag, as the review engine raises it (idempotent: one open flag per rule)."""
    flag, _ = ReviewFlag.objects.get_or_create(
        referral=referral,
        rule=rule,
        status=FlagStatus.OPEN,
        defaults={"recommendation": recommendation, "severity": severity, "explanation": explanation},
    )
    return flag


@pytest.fixture
def skills_supervisor(team, pwp):
    sup = StaffFactory(username="skills_sup", team=team, role=Role.HI_THERAPIST, is_supervisor=True)
    RelationshipFactory(supervisor=sup, supervisee=pwp, kind=SupervisionType.CLINICAL_SKILLS, frequency_days=14)
    return sup


@pytest.fixture
def hit(team, supervisor):
    """A high-intensity therapist supervised by ``supervisor``."""
    person = StaffFactory(username="hit_a", team=team, role=Role.HI_THERAPIST)
    RelationshipFactory(supervisor=supervisor, supervisee=person, kind=SupervisionType.HIGH_INTENSITY)
    return person
