"""factory_boy factories for the clinical data model. Writes that matter go through services in
tests too; factories build the scenery (teams, staff, patients, bare referrals)."""

import datetime as dt

import factory
from django.utils import timezone

from outcomes.problems import UNSPECIFIED
from referrals.models import Patient, PresentingProblemRecord, Referral
from stepped_care.models import Role, Staff, Team
from supervision.models import SupervisionRelationship, SupervisionType

PASSWORD = "correct-horse-battery-staple"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"Talking Therapies Team {n}")
    code = factory.Sequence(lambda n: f"T{n:03d}")


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Staff
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = "Sam"
    last_name = factory.Sequence(lambda n: f"Clinician{n}")
    team = factory.SubFactory(TeamFactory)
    role = Role.PWP
    password = factory.django.Password(PASSWORD)


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    given_name = "Alex"
    family_name = factory.Sequence(lambda n: f"Patient{n}")
    date_of_birth = dt.date(1985, 3, 14)
    team = factory.SubFactory(TeamFactory)


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Referral
        skip_postgeneration_save = True

    patient = factory.SubFactory(PatientFactory)
    team = factory.SelfAttribute("patient.team")
    received_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=120))
    source = "gp"
    presenting_problem = "depression"

    @factory.post_generation
    def first_problem(self, create, extracted, **kwargs):
        """As the service records it: the referral's problem as its first primary presenting problem."""
        if create:
            PresentingProblemRecord.objects.create(
                referral=self,
                code=UNSPECIFIED[self.presenting_problem],
                problem=self.presenting_problem,
                significance="primary",
                recorded_on=self.received_on,
            )


class RelationshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupervisionRelationship

    kind = SupervisionType.CASE_MANAGEMENT
    started_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=365))
