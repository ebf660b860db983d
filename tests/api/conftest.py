"""A small clinical world for API tests: a PWP's caseload with contacts and questionnaires, the team's
waiting list, a discharged referral, and another service's records that must stay invisible."""

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.utils import timezone
from knox.models import AuthToken

from referrals import services
from stepped_care import services as stepped_care_services
from stepped_care.services import change_step
from tests.factories import PatientFactory, ReferralFactory, StaffFactory

PHQ9_START = [2, 2, 2, 1, 1, 2, 1, 1, 0]
GAD7_START = [2, 2, 1, 2, 1, 1, 1]
PHQ9_LATER = [1, 1, 1, 0, 0, 1, 0, 0, 0]
GAD7_LATER = [1, 1, 0, 1, 0, 0, 0]


@dataclass
class World:
    token: str
    ids: dict[str, list[str]] = field(default_factory=dict)  # resource → ids, the caller's and an outsider's
    staff_ids: list[int] = field(default_factory=list)


def days_ago(n):
    return timezone.localdate() - dt.timedelta(days=n)


def build_world(pwp, outsider):
    """Records reachable through ``pwp``'s token, plus an outsider's caseload that must answer 404."""
    team_patient = PatientFactory(team=pwp.team, nhs_number="9434765919")
    unreferred = PatientFactory(team=pwp.team)
    mine = ReferralFactory(patient=team_patient, care_coordinator=pwp, received_on=days_ago(90))
    change_step(referral=mine, step=2, reason="Assessed: low intensity", by=pwp, on=days_ago(80))
    first = services.log_contact(
        referral=mine,
        by=pwp,
        date=days_ago(80),
        appointment_type="01",
        attendance="5",
        phq9=PHQ9_START,
        gad7=GAD7_START,
        wsas=[3, 2, 4, 1, 0],
    )
    later = services.log_contact(
        referral=mine,
        by=pwp,
        date=days_ago(40),
        appointment_type="02",
        attendance="5",
        phq9=PHQ9_LATER,
        gad7=GAD7_LATER,
    )
    waiting = ReferralFactory(patient__team=pwp.team, care_coordinator=None, received_on=days_ago(10))
    ended = ReferralFactory(patient__team=pwp.team, care_coordinator=pwp, received_on=days_ago(200))
    stepped_care_services.discharge(referral=ended, end_code="50", by=pwp, discharged_on=days_ago(150))  # never seen

    theirs = ReferralFactory(patient__team=outsider.team, care_coordinator=outsider, received_on=days_ago(60))
    their_contact = services.log_contact(
        referral=theirs, by=outsider, date=days_ago(30), appointment_type="01", attendance="5", phq9=PHQ9_START
    )
    _, token = AuthToken.objects.create(user=pwp)
    return World(
        token=token,
        ids={
            "patients": [str(team_patient.pk), str(unreferred.pk), str(theirs.patient_id)],
            "referrals": [str(mine.pk), str(waiting.pk), str(ended.pk), str(theirs.pk)],
            "contacts": [str(first.pk), str(later.pk), str(their_contact.pk)],
            "questionnaires": [str(q.pk) for q in first.questionnaires.all()]
            + [str(q.pk) for q in their_contact.questionnaires.all()],
        },
        staff_ids=[pwp.pk, StaffFactory(team=pwp.team, role="hi_therapist").pk, outsider.pk],
    )


@pytest.fixture
def world(pwp, outsider):
    return build_world(pwp, outsider)


FUZZ_STATS = {"cases": 0, "by_status": {}}


def pytest_terminal_summary(terminalreporter):
    """Report how many cases the fuzzer generated (and how they were answered) at the end of the run."""
    if FUZZ_STATS["cases"]:
        by_status = ", ".join(f"{code}: {n}" for code, n in sorted(FUZZ_STATS["by_status"].items()))
        terminalreporter.write_line(f"schemathesis: {FUZZ_STATS['cases']} generated cases ({by_status})")
