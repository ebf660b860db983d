"""A small service with one month of activity (October 2026), made through the services."""

import datetime as dt
from types import SimpleNamespace

import pytest

from outcomes.services import record_patient_questionnaire
from referrals.models import Patient
from referrals.services import log_contact, record_presenting_problem
from stepped_care.services import discharge

from ..factories import ReferralFactory

PERIOD = "2026-10"
PHQ = [2, 2, 2, 1, 1, 1, 1, 1, 0]  # 11
GAD = [2, 2, 1, 1, 1, 1, 1]  # 9
NOW = dt.datetime(2026, 11, 3, 9, 30, 0)


def build_month(pwp):
    """Two referrals of ``pwp``'s team, active in October 2026: one treated and discharged, one
    assessed with an ADSM and a patient-completed score; a third discharged in September (not in)."""
    first = ReferralFactory(
        patient__team=pwp.team,
        patient__nhs_number="9434765919",
        patient__postcode="LS1 4AP",
        care_coordinator=pwp,
        received_on=dt.date(2026, 9, 15),
    )
    Patient.objects.filter(pk=first.patient_id).update(long_term_conditions=["diabetes", "other"])
    log_contact(
        referral=first,
        by=pwp,
        date=dt.date(2026, 10, 5),
        appointment_type="01",
        attendance="5",
        phq9=PHQ,
        gad7=GAD,
        wsas=[8, 2, 3, 4, 5],
        duration_minutes=45,
        time=dt.time(10, 0),
    )
    log_contact(
        referral=first,
        by=pwp,
        date=dt.date(2026, 10, 12),
        appointment_type="02",
        attendance="5",
        phq9=[1] * 8 + [0],
        gad7=[1] * 7,
        therapy_type="748051000000105",
        duration_minutes=30,
    )
    log_contact(referral=first, by=pwp, date=dt.date(2026, 10, 19), appointment_type="02", attendance="3")
    discharge(referral=first, end_code="46", by=pwp, discharged_on=dt.date(2026, 10, 26))
    second = ReferralFactory(
        patient__team=pwp.team,
        care_coordinator=pwp,
        received_on=dt.date(2026, 10, 2),
        presenting_problem="social_anxiety",
    )
    record_presenting_problem(
        referral=second, code="F40.1", significance="primary", recorded_on=dt.date(2026, 10, 9), by=pwp
    )
    log_contact(
        referral=second,
        by=pwp,
        date=dt.date(2026, 10, 9),
        appointment_type="01",
        attendance="6",
        phq9=PHQ,
        questionnaires=[{"measure": "SPIN", "items": [1] * 17}],
    )
    record_patient_questionnaire(referral=second, measure="PHQ9", answers=PHQ, completed_on=dt.date(2026, 10, 20))
    old = ReferralFactory(patient__team=pwp.team, care_coordinator=pwp, received_on=dt.date(2026, 8, 1))
    log_contact(referral=old, by=pwp, date=dt.date(2026, 8, 3), appointment_type="01", attendance="5", phq9=PHQ)
    discharge(referral=old, end_code="12", by=pwp, discharged_on=dt.date(2026, 9, 20))
    return SimpleNamespace(first=first, second=second, old=old)


@pytest.fixture
def month(pwp):
    return build_month(pwp)
