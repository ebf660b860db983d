"""Two clients really at the same time (PostgreSQL, real transactions and row locks): both read version v
and send their change together. Exactly one wins; the other gets 409 and nothing of it is saved."""

import threading

import pytest
from django.db import connection
from knox.models import AuthToken
from rest_framework.test import APIClient

from referrals.models import Patient
from tests.factories import PatientFactory, StaffFactory, TeamFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks across connections (PostgreSQL)"),
]


def race(*requests):
    """Send each request from its own thread (own connection), released together by a barrier."""
    barrier = threading.Barrier(len(requests))
    results = [None] * len(requests)

    def run(index, send):
        try:
            barrier.wait(timeout=10)
            results[index] = send()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, send)) for i, send in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_simultaneous_edits_of_a_patient_one_wins_one_gets_409():
    team = TeamFactory(code="RACE")
    patient = PatientFactory(team=team, family_name="Before")
    clients = []
    for name in ("race_a", "race_b"):
        user = StaffFactory(username=name, team=team, role="manager")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
        clients.append(client)
    url = f"/api/v1/patients/{patient.pk}/"

    responses = race(
        lambda: clients[0].patch(url, {"version": 1, "family_name": "Ashworth"}, format="json"),
        lambda: clients[1].patch(url, {"version": 1, "family_name": "Ashcroft"}, format="json"),
    )

    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 409], [r.content for r in responses]
    winner = next(r for r in responses if r.status_code == 200).json()["family_name"]
    loser = next(r for r in responses if r.status_code == 409)
    assert "changed by someone else" in loser.json()["detail"]
    patient.refresh_from_db()
    assert patient.family_name == winner and patient.version == 2
    assert Patient.objects.filter(family_name__in=["Ashworth", "Ashcroft"]).count() == 1


def test_simultaneous_step_changes_one_wins_one_gets_409():
    from stepped_care.models import StepAssignment
    from tests.factories import ReferralFactory

    team = TeamFactory(code="RACE2")
    pwp = StaffFactory(username="race_pwp", team=team, role="pwp")
    referral = ReferralFactory(patient__team=team, care_coordinator=pwp)
    clients = []
    for user in (pwp, pwp):  # the clinician in two tabs (managers do not change steps: common/permissions.py)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
        clients.append(client)
    url = f"/api/v1/referrals/{referral.pk}/steps/"

    responses = race(
        lambda: clients[0].post(url, {"version": 1, "step": 2, "reason": "Low intensity"}, format="json"),
        lambda: clients[1].post(url, {"version": 1, "step": 3, "reason": "High intensity"}, format="json"),
    )

    assert sorted(r.status_code for r in responses) == [201, 409], [r.content for r in responses]
    assert StepAssignment.objects.filter(referral=referral).count() == 1
    referral.refresh_from_db()
    assert referral.version == 2
