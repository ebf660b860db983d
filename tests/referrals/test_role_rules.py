"""Who may allocate and discharge: one rule, in referrals/services.py, the same through both doors.

Clinicians and managers allocate; administrators (who book and register but are not clinicians) do
not. Discharge is a clinical decision: clinicians on the case only, not managers or administrators.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from common.models import AuditEvent
from referrals import services
from referrals.models import Referral
from stepped_care import services as stepped_care_services
from tests.factories import PatientFactory


def _allocate_page(client, user, referral, clinician):
    client.force_login(user)
    return client.post(
        reverse("referrals:allocate", args=[referral.pk]), {"clinician": clinician.pk, "version": referral.version}
    )


def _allocate_api(api, user, referral, clinician):
    api.force_authenticate(user)
    return api.post(
        f"/api/v1/referrals/{referral.pk}/allocate/",
        {"care_coordinator": clinician.pk, "version": referral.version},
        format="json",
    )


def _discharge_page(client, user, referral):
    client.force_login(user)
    return client.post(
        reverse("referrals:discharge", args=[referral.pk]), {"end_code": "50", "version": referral.version}
    )


def _discharge_api(api, user, referral):
    api.force_authenticate(user)
    return api.post(
        f"/api/v1/referrals/{referral.pk}/discharge/", {"end_code": "50", "version": referral.version}, format="json"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("door", ["page", "api"])
def test_an_administrator_cannot_allocate_through_either_door(client, api, administrator, colleague, referral, door):
    response = (
        _allocate_page(client, administrator, referral, colleague)
        if door == "page"
        else _allocate_api(api, administrator, referral, colleague)
    )
    assert response.status_code == 403
    referral.refresh_from_db()
    assert referral.care_coordinator_id != colleague.pk
    assert not AuditEvent.objects.filter(action="referral.allocate").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("door", ["page", "api"])
def test_a_manager_allocates_through_either_door(client, api, manager, colleague, referral, door):
    response = (
        _allocate_page(client, manager, referral, colleague)
        if door == "page"
        else _allocate_api(api, manager, referral, colleague)
    )
    assert response.status_code in (200, 302), response.content
    referral.refresh_from_db()
    assert referral.care_coordinator_id == colleague.pk


@pytest.mark.django_db
@pytest.mark.parametrize("door", ["page", "api"])
@pytest.mark.parametrize("who", ["administrator", "manager"])
def test_only_clinicians_discharge_through_either_door(client, api, referral, request, who, door):
    user = request.getfixturevalue(who)
    response = _discharge_page(client, user, referral) if door == "page" else _discharge_api(api, user, referral)
    assert response.status_code == 403
    referral.refresh_from_db()
    assert referral.status != "discharged"
    if door == "api":
        assert "clinicians on the case" in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize("door", ["page", "api"])
def test_the_treating_clinician_discharges_through_either_door(client, api, pwp, referral, door):
    response = _discharge_page(client, pwp, referral) if door == "page" else _discharge_api(api, pwp, referral)
    assert response.status_code in (200, 302), response.content
    referral.refresh_from_db()
    assert referral.status == "discharged"


@pytest.mark.django_db
def test_the_referral_page_offers_discharge_to_clinicians_only(client, pwp, manager, referral):
    client.force_login(pwp)
    assert client.get(reverse("referrals:discharge", args=[referral.pk])).status_code == 200
    client.force_login(manager)
    assert client.get(reverse("referrals:discharge", args=[referral.pk])).status_code == 403


@pytest.mark.django_db
def test_the_service_itself_refuses(administrator, manager, colleague, pwp, outsider, referral):
    """The rule lives in the service, so any future door (a command, a task) keeps it too."""
    with pytest.raises(PermissionDenied):
        services.allocate(referral=referral, clinician=colleague, by=administrator)
    with pytest.raises(PermissionDenied):
        services.allocate(referral=referral, clinician=colleague, by=outsider)
    for who in (administrator, manager, outsider, colleague):  # colleague: a clinician not on the case
        with pytest.raises(PermissionDenied):
            stepped_care_services.discharge(referral=referral, end_code="50", by=who)
    assert Referral.objects.get(pk=referral.pk).status != "discharged"
    stepped_care_services.discharge(referral=referral, end_code="50", by=pwp)  # never seen


@pytest.mark.django_db
def test_an_administrator_registers_a_referral_unallocated_only(administrator, pwp):
    patient = PatientFactory(team=administrator.team)
    details = {"patient": patient, "received_on": timezone.localdate(), "source": "gp"}
    with pytest.raises(ValidationError) as refused:
        services.create_referral(by=administrator, care_coordinator=pwp, presenting_problem="depression", **details)
    assert "care_coordinator" in refused.value.message_dict
    referral = services.create_referral(by=administrator, presenting_problem="depression", **details)
    assert referral.care_coordinator is None
