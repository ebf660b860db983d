"""Who sees which patient and referral, through the querysets every page and endpoint starts from."""

import datetime as dt

import pytest

from referrals.models import Patient, Referral
from referrals.services import allocate, create_patient, create_referral

pytestmark = pytest.mark.django_db


def register(by):
    return create_patient(
        by=by, given_name="Robin", family_name="Okafor", date_of_birth=dt.date(1985, 3, 1), nhs_number=None
    )


def visible(model, user):
    return set(model.objects.visible_to(user).values_list("pk", flat=True))


def test_a_patient_without_a_referral_is_the_teams_then_follows_the_referral(pwp, colleague, outsider, manager):
    patient = register(pwp)
    # Just registered, no referral yet: the team can find them (to add the referral); nobody else.
    assert patient.pk in visible(Patient, colleague) and patient.pk in visible(Patient, pwp)
    assert patient.pk not in visible(Patient, outsider)
    # Referred and waiting unallocated: still the team's (the waiting list).
    referral = create_referral(
        by=pwp, patient=patient, received_on=dt.date.today(), source="gp", presenting_problem="depression"
    )
    assert referral.pk in visible(Referral, colleague) and patient.pk in visible(Patient, colleague)
    # Allocated to pwp: the colleague, not on the case, no longer sees the patient; pwp and the manager do.
    allocate(referral=referral, clinician=pwp, by=pwp, expected_version=referral.version)
    assert referral.pk not in visible(Referral, colleague) and patient.pk not in visible(Patient, colleague)
    assert patient.pk in visible(Patient, pwp) and patient.pk in visible(Patient, manager)
    assert patient.pk not in visible(Patient, outsider) and referral.pk not in visible(Referral, outsider)
