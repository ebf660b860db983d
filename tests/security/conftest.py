"""The access matrix's world: one service with a patient in treatment, every kind of record about that
patient (built through the real services), the seven personas, and another team."""

import datetime as dt
from functools import cached_property

import pytest
from django.utils import timezone

from referrals import services as referral_services
from stepped_care.models import ReviewFlag

PERSONAS = ("anonymous", "outsider", "colleague", "treating", "supervisor", "manager", "administrator")


class Scenario:
    """Records are built on first use, so a URL pays only for the objects its parameters need."""

    def __init__(self, *, pwp, colleague, supervisor, manager, administrator, outsider, referral):
        self.users = {
            "anonymous": None,
            "outsider": outsider,
            "colleague": colleague,
            "treating": pwp,
            "supervisor": supervisor,
            "manager": manager,
            "administrator": administrator,
        }
        self.treating = pwp
        self.supervisor_user = supervisor
        self.referral = referral
        self.patient = referral.patient
        self.today = timezone.localdate()

    @cached_property
    def contact(self):
        return referral_services.log_contact(
            referral=self.referral,
            by=self.treating,
            date=self.today - dt.timedelta(days=20),
            appointment_type="01",
            attendance="5",
            phq9=[2] * 8 + [0],
            gad7=[2] * 7,
        )

    @cached_property
    def questionnaire(self):
        return self.contact.questionnaires.order_by("measure").first()

    @cached_property
    def flag(self):
        return ReviewFlag.objects.create(
            referral=self.referral,
            rule="long_wait",
            recommendation="review",
            severity="amber",
            explanation="Waiting longer than the service standard",
            evidence={"days": 120},
        )

    @cached_property
    def relationship(self):
        return self.supervisor_user.supervising.get(supervisee=self.treating)

    @cached_property
    def supervision_session(self):
        from supervision.services import record_session

        self.contact  # noqa: B018 - the case has been assessed before it is discussed
        return record_session(
            by=self.supervisor_user,
            kind="case_management",
            date=self.today - dt.timedelta(days=1),
            minutes=60,
            supervisor=self.supervisor_user,
            supervisees=[self.treating],
            decisions=[{"referral": self.referral, "decision": "continue", "notes": "Keep going"}],
        )

    @cached_property
    def decision(self):
        return self.supervision_session.decisions.first()

    @cached_property
    def course(self):
        from workshops.services import create_course

        return create_course(
            by=self.treating,
            title="Stress control",
            topic="stress",
            step=2,
            facilitators=[self.treating],
            capacity=10,
            sessions=[(self.today - dt.timedelta(days=2), None), (self.today + dt.timedelta(days=5), None)],
            venue="Library",
        )

    @cached_property
    def enrolment(self):
        from workshops.services import enrol

        return enrol(course=self.course, referral=self.referral, by=self.treating, on=self.today - dt.timedelta(days=3))

    @cached_property
    def course_session(self):
        return self.course.sessions.order_by("number").first()

    @cached_property
    def register_entry(self):
        from workshops.services import take_register

        enrolment = self.enrolment
        take_register(
            session=self.course_session,
            rows=[{"enrolment": enrolment, "attendance": "5", "phq9": None, "gad7": None, "risk_note": ""}],
            by=self.treating,
        )
        return self.course_session.entries.get(enrolment=enrolment)


@pytest.fixture
def scenario(pwp, colleague, supervisor, manager, administrator, outsider, referral):
    return Scenario(
        pwp=pwp,
        colleague=colleague,
        supervisor=supervisor,
        manager=manager,
        administrator=administrator,
        outsider=outsider,
        referral=referral,
    )


def pytest_terminal_summary(terminalreporter):
    from .matrix import TALLY

    if TALLY["patterns"]:
        terminalreporter.write_line(
            f"access matrix: {TALLY['patterns']} URL patterns x {TALLY['personas']} personas "
            f"= {TALLY['patterns'] * TALLY['personas']} pattern-persona cells, {TALLY['requests']} requests"
        )
