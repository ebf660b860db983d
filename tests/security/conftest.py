"""The access matrix's world: one service with a patient in treatment, every kind of record about that
patient (built through the real services), a persona for every role, and another team.

Personas: ``anonymous``; ``outsider`` (a PWP of another team); ``colleague`` (a PWP of the team, not on
the case); the six clinical roles on the case (``pwp`` coordinates it; the PWP trainee, high intensity
therapist and trainee, step 4 specialist and counsellor have each held a contact); ``supervisor`` (a high
intensity therapist marked as a supervisor, who supervises the PWP: sees the case, is not on it); the
team's ``manager`` and ``administrator``; and ``superuser`` (the team's administrator with superuser
status, as the demo's "admin").
"""

import datetime as dt
from functools import cached_property

import pytest
from django.utils import timezone

from frontdoor.models import FrontDoor
from referrals import services as referral_services
from referrals.models import Patient, Referral
from stepped_care.models import ReviewFlag, Role
from tests.factories import ReferralFactory, StaffFactory

ON_THE_CASE = ("pwp", "pwp_trainee", "hi_therapist", "hi_trainee", "step4", "counsellor")
WIDE = ("manager", "administrator", "superuser")  # see the whole team
PERSONAS = ("anonymous", "outsider", "colleague", *ON_THE_CASE, "supervisor", *WIDE)
CO_TREATING = {
    "pwp_trainee": Role.PWP_TRAINEE,
    "hi_therapist": Role.HI_THERAPIST,
    "hi_trainee": Role.HI_TRAINEE,
    "step4": Role.STEP4,
    "counsellor": Role.COUNSELLOR,
}


class Scenario:
    """Records are built on first use, so a URL pays only for the objects its parameters need."""

    def __init__(self, users, referral):
        self.users = users
        self.treating = users["pwp"]
        self.supervisor_user = users["supervisor"]
        self.referral = referral
        self.patient = referral.patient
        self.today = timezone.localdate()

    def version(self, record=None):
        """A record's version as stored now (the in-memory instances go stale as services write)."""
        record = record or self.referral
        return type(record).objects.values_list("version", flat=True).get(pk=record.pk)

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
    def second_referral(self):
        """Another case of the PWP's, not yet discussed in supervision."""
        return ReferralFactory(patient__team=self.treating.team, care_coordinator=self.treating)

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
    def appointment(self):
        """Today's appointment of the PWP's with the patient (its outcome can be recorded today)."""
        from appointments.services import book

        at = timezone.make_aware(dt.datetime.combine(self.today, dt.time(0, 30)))
        return book(
            referral=self.referral, clinician=self.treating, starts_at=at, appointment_type="02", by=self.treating
        )

    @cached_property
    def working_pattern(self):
        from appointments.services import add_working_pattern

        return add_working_pattern(
            clinician=self.treating,
            weekday=1,
            start=dt.time(9),
            end=dt.time(17),
            valid_from=self.today,
            by=self.treating,
        )

    @cached_property
    def leave(self):
        from appointments.services import record_leave

        return record_leave(
            clinician=self.treating,
            starts_on=self.today + dt.timedelta(days=30),
            ends_on=self.today + dt.timedelta(days=34),
            by=self.treating,
        )

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

    @cached_property
    def dataset_run(self):
        """A finished export of the team (an empty month: nothing to refuse), its file kept."""
        from dataset import rules
        from dataset import services as dataset_services

        manager = self.users["manager"]
        run = dataset_services.start_export(team=manager.team, period=rules.parse_period("2020-01"), by=manager)
        return dataset_services.run_export(run.pk)


def build_world(pwp, colleague, supervisor, manager, administrator, outsider, referral):
    """Every persona, the other clinical roles put on the case by a joint session each."""
    team = pwp.team
    users = {
        "anonymous": None,
        "outsider": outsider,
        "colleague": colleague,
        "pwp": pwp,
        "supervisor": supervisor,
        "manager": manager,
        "administrator": administrator,
        "superuser": StaffFactory(
            username="root_a", team=team, role=Role.ADMINISTRATOR, is_superuser=True, is_staff=True
        ),
    }
    today = timezone.localdate()
    for n, (persona, role) in enumerate(CO_TREATING.items()):
        clinician = StaffFactory(username=f"{persona}_a", team=team, role=role)
        users[persona] = clinician
        referral_services.log_contact(  # the coordinator logs a joint session: the clinician has treated
            referral=referral,
            by=pwp,
            clinician=clinician,
            date=today - dt.timedelta(days=40 - n),
            appointment_type="02",
            attendance="5",
        )
    # The team's public self-referral form (the front door's pages in the access matrix) and a mobile
    # number to send the patient a questionnaire link to.
    FrontDoor.objects.get_or_create(team=team, defaults={"slug": "security-test"})
    Patient.objects.filter(pk=referral.patient_id).update(phone="07700 900111")
    return users, Referral.objects.get(pk=referral.pk)


@pytest.fixture
def scenario(pwp, colleague, supervisor, manager, administrator, outsider, referral):
    users, referral = build_world(pwp, colleague, supervisor, manager, administrator, outsider, referral)
    return Scenario(users, referral)


def pytest_terminal_summary(terminalreporter):
    from .matrix import TALLY

    if TALLY["patterns"]:
        terminalreporter.write_line(
            f"access matrix: {TALLY['patterns']} URL patterns x {len(PERSONAS)} personas, "
            f"{TALLY['requests']} requests; writes: {TALLY['writes']} route x method x persona cells "
            f"({TALLY['allowed']} allowed and done, {TALLY['refused']} refused: {TALLY['forbidden']} 403, "
            f"{TALLY['not_found']} 404, {TALLY['hidden']} 400 naming a record they cannot see, "
            f"{TALLY['sign_in']} anonymous sent to sign in)"
        )
