"""A patient known to another team (issue 20.4): the person is the service's, referrals are the team's.

Registering an NHS number another team holds links to that person when the date of birth matches,
showing nothing of the other team's care; a mismatch says only "Check the NHS number and date of
birth"; the same person already registered with the user's own team is offered, not registered twice.
One service function decides (``referrals.services.find_or_register_patient``), for the web and the API.
"""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from common.models import AuditEvent
from common.permissions import NotAllowed
from referrals import services
from referrals.models import CareContact, Patient, PatientRegistration, Referral
from stepped_care.models import Role
from tests.factories import PatientFactory, StaffFactory, TeamFactory

NHS = "9434765919"
BORN = dt.date(1985, 3, 14)
TODAY = timezone.localdate()
# What of the other team's care must never reach the registering team's answers.
OTHER_TEAMS_SECRETS = ("Elsewhere Talking Therapies", "Ottoline", "Secret note of the other team", "QUILL")


@pytest.fixture
def known_elsewhere(other_team):
    """A person registered and treated by another team, with a session note."""
    clinician = StaffFactory(username="pwp_x1", team=other_team, role=Role.PWP, first_name="Ottoline")
    patient = PatientFactory(team=other_team, nhs_number=NHS, date_of_birth=BORN, given_name="Jo", family_name="Quill")
    referral = services.create_referral(
        by=clinician,
        patient=patient,
        received_on=TODAY - dt.timedelta(days=30),
        source="gp",
        presenting_problem="depression",
        care_coordinator=clinician,
    )
    services.log_contact(
        referral=referral,
        by=clinician,
        date=TODAY - dt.timedelta(days=20),
        appointment_type="01",
        attendance="5",
        notes="Secret note of the other team",
    )
    return patient


def details(**changes):
    return {"given_name": "Jo", "family_name": "Quill", **changes}


def form(nhs=NHS, born=BORN, **changes):
    return {"nhs_number": nhs, "given_name": "Jo", "family_name": "Quill", "date_of_birth": born.isoformat(), **changes}


# --- the one function ---------------------------------------------------------------------------

# (who holds the number, date of birth given) → what the function does
CASES = [
    ("nobody", BORN, "created"),
    ("other team", BORN, "linked"),
    ("other team", BORN + dt.timedelta(days=1), "mismatch"),
    ("own team", BORN, "returned"),
    ("own team", BORN.replace(year=1986), "mismatch"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("held_by", "born", "outcome"), CASES)
def test_find_or_register_patient(held_by, born, outcome, pwp, other_team):
    holder = {"nobody": None, "other team": other_team, "own team": pwp.team}[held_by]
    existing = PatientFactory(team=holder, nhs_number=NHS, date_of_birth=BORN) if holder else None
    if outcome == "mismatch":
        with pytest.raises(services.PatientDetailsMismatch) as refused:
            services.find_or_register_patient("943 476 5919", born, by=pwp, **details())
        assert refused.value.message_dict == {"nhs_number": ["Check the NHS number and date of birth."]}
        assert not PatientRegistration.objects.exists()
        return
    patient, created = services.find_or_register_patient("943 476 5919", born, by=pwp, **details())
    assert created == (outcome == "created")
    assert Patient.objects.count() == 1
    if existing is not None:
        assert patient == existing
    linked = PatientRegistration.objects.filter(patient=patient, team=pwp.team).exists()
    assert linked == (outcome == "linked")
    action = {"created": "patient.create", "linked": "patient.link", "returned": None}[outcome]
    if action:
        assert AuditEvent.objects.filter(action=action, actor=pwp, patient_id=patient.pk).exists()


@pytest.mark.django_db
def test_linking_twice_registers_once_and_keeps_the_details_held(known_elsewhere, pwp):
    services.find_or_register_patient(NHS, BORN, by=pwp, **details(phone="07700 900000"))
    patient, created = services.find_or_register_patient(NHS, BORN, by=pwp, **details())
    assert not created and PatientRegistration.objects.filter(patient=patient).count() == 1
    assert patient.phone == ""  # what the other team holds is not overwritten by a second registration


@pytest.mark.django_db
def test_a_duplicate_in_the_team_is_refused_when_asked_and_named_only_if_seen(pwp, colleague):
    mine = PatientFactory(team=pwp.team, nhs_number=NHS, date_of_birth=BORN)
    services.create_referral(
        by=pwp, patient=mine, received_on=TODAY, source="gp", presenting_problem="depression", care_coordinator=pwp
    )
    with pytest.raises(services.AlreadyRegistered) as seen:
        services.find_or_register_patient(NHS, BORN, by=pwp, refuse_team_duplicate=True, **details())
    assert seen.value.visible and seen.value.extra == {"patient": str(mine.pk)}
    with pytest.raises(services.AlreadyRegistered) as unseen:  # a colleague's case: said, not named
        services.find_or_register_patient(NHS, BORN, by=colleague, refuse_team_duplicate=True, **details())
    assert not unseen.value.visible and unseen.value.extra == {}


@pytest.mark.django_db
def test_staff_without_a_team_register_nobody(known_elsewhere):
    nobody = StaffFactory(username="teamless", team=None, role=Role.PWP)
    with pytest.raises(NotAllowed):
        services.find_or_register_patient(NHS, BORN, by=nobody, **details())


# --- the web form, for every role of a team -----------------------------------------------------

TEAM_ROLES = [str(r) for r in Role]


def _staff(team, role):
    return StaffFactory(username=f"b_{role}", team=team, role=role, first_name="Bea")


@pytest.mark.django_db
@pytest.mark.parametrize("role", TEAM_ROLES)
def test_every_role_links_a_person_known_elsewhere_and_sees_none_of_their_care(role, client, team, known_elsewhere):
    user = _staff(team, role)
    client.force_login(user)
    response = client.post(reverse("referrals:new_patient"), form())
    assert response.status_code == 302, response.content.decode()[:500]
    assert response["Location"] == reverse("referrals:new_referral", kwargs={"pk": known_elsewhere.pk})
    assert Patient.objects.count() == 1
    assert PatientRegistration.objects.filter(patient=known_elsewhere, team=team, registered_by=user).exists()
    page = client.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    for secret in ("Elsewhere Talking Therapies", "Ottoline", "Secret note of the other team"):
        assert secret not in body
    recorded = client.post(
        response["Location"], {"received_on": TODAY.isoformat(), "source": "gp", "presenting_problem": "depression"}
    )
    assert recorded.status_code == 302
    mine = Referral.objects.get(patient=known_elsewhere, team=team)
    theirs = Referral.objects.get(patient=known_elsewhere, team=known_elsewhere.team)
    visible = Referral.objects.visible_to(user)
    assert theirs not in visible
    assert not CareContact.objects.visible_to(user).filter(referral=theirs).exists()
    if role in ("manager", "administrator") or mine.care_coordinator_id == user.pk or mine.care_coordinator is None:
        assert mine in visible


@pytest.mark.django_db
@pytest.mark.parametrize("role", TEAM_ROLES)
def test_a_mismatch_says_only_to_check_the_details(role, client, team, known_elsewhere):
    client.force_login(_staff(team, role))
    response = client.post(reverse("referrals:new_patient"), form(born=BORN.replace(year=1990), family_name="Q"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Check the NHS number and date of birth." in body
    assert "already" not in body.lower()
    for secret in OTHER_TEAMS_SECRETS:
        assert secret not in body
    assert str(known_elsewhere.pk) not in body
    assert not PatientRegistration.objects.exists() and Patient.objects.count() == 1


@pytest.mark.django_db
def test_the_same_duplicate_in_the_team_offers_the_record(client, pwp, referral):
    referral.patient.nhs_number, referral.patient.date_of_birth = NHS, BORN
    referral.patient.save()
    client.force_login(pwp)
    response = client.post(reverse("referrals:new_patient"), form())
    assert response.status_code == 400
    body = response.content.decode()
    assert "already registered with your team" in body
    assert reverse("referrals:detail", kwargs={"pk": referral.pk}) in body
    assert "Patient with this Nhs number already exists" not in body
    assert Patient.objects.count() == 1


@pytest.mark.django_db
def test_a_linked_person_stays_out_of_the_first_teams_lists(client, pwp, team, known_elsewhere, other_team):
    """The first team's clinicians see their own referral only; the linking team's new referral is not theirs."""
    services.find_or_register_patient(NHS, BORN, by=pwp, **details())
    ours = services.create_referral(
        by=pwp,
        patient=known_elsewhere,
        received_on=TODAY,
        source="gp",
        presenting_problem="depression",
        care_coordinator=pwp,
    )
    assert ours.team == team
    manager_elsewhere = StaffFactory(username="mgr_x", team=other_team, role=Role.MANAGER)
    assert ours not in Referral.objects.visible_to(manager_elsewhere)
    manager_here = StaffFactory(username="mgr_b", team=team, role=Role.MANAGER)
    assert known_elsewhere in Patient.objects.visible_to(manager_here)
    assert list(Referral.objects.visible_to(manager_here).filter(patient=known_elsewhere)) == [ours]


# --- the API's registration endpoint ------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", TEAM_ROLES)
def test_api_links_matches_refuses_mismatches_without_a_reveal(role, api, team, known_elsewhere):
    user = _staff(team, role)
    api.force_authenticate(user)
    mismatch = api.post("/api/v1/patients/", form(born=BORN.replace(year=1990)), format="json")
    assert mismatch.status_code == 400
    assert mismatch.json()["errors"] == {"nhs_number": ["Check the NHS number and date of birth."]}
    for secret in (*OTHER_TEAMS_SECRETS, str(known_elsewhere.pk)):
        assert secret not in mismatch.content.decode()
    linked = api.post("/api/v1/patients/", form(), format="json")
    assert linked.status_code == 200
    assert linked.json()["id"] == str(known_elsewhere.pk)
    for secret in ("Elsewhere Talking Therapies", "Ottoline", "Secret note of the other team"):
        assert secret not in linked.content.decode()
    referrals = api.get(f"/api/v1/referrals/?patient={known_elsewhere.pk}").json()
    assert referrals["count"] == 0  # the other team's referral is theirs
    again = api.post("/api/v1/patients/", form(), format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "patient_already_registered"
    assert again.json()["patient"] == str(known_elsewhere.pk)


@pytest.mark.django_db
def test_api_creates_a_new_person_with_201(api, pwp):
    api.force_authenticate(pwp)
    response = api.post("/api/v1/patients/", form(), format="json")
    assert response.status_code == 201
    assert Patient.objects.get().team == pwp.team


def test_mismatch_is_a_validation_error_naming_the_field():
    """So every door that catches ValidationError (forms, the API's 400) shows it on the NHS number."""
    error = services.PatientDetailsMismatch()
    assert isinstance(error, ValidationError) and list(error.message_dict) == ["nhs_number"]


@pytest.mark.django_db
def test_a_team_of_its_own_sees_the_person_after_the_link_only(pwp, known_elsewhere):
    assert known_elsewhere not in Patient.objects.visible_to(pwp)
    services.find_or_register_patient(NHS, BORN, by=pwp, **details())
    assert known_elsewhere in Patient.objects.visible_to(pwp)
    stranger = StaffFactory(username="pwp_c", team=TeamFactory(code="CCC"), role=Role.PWP)
    assert known_elsewhere not in Patient.objects.visible_to(stranger)
