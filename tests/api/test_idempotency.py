"""Idempotency-Key on the API's creates: the same request twice makes one record and gets the same
answer; the same key with another request is refused; keys are each person's own and expire; two
identical requests at the same moment make one row (PostgreSQL)."""

import datetime as dt
import threading
import uuid

import pytest
from django.db import connection
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from common.idempotency import IdempotentCreateMixin
from common.models import IdempotencyKey
from common.tasks import purge_expired_idempotency_keys
from referrals.models import CareContact, Patient
from tests.api.conftest import days_ago
from tests.factories import ReferralFactory, StaffFactory, TeamFactory
from tests.security.urlmap import endpoints


def client_for(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    return client


def contact_body(referral, **changes):
    body = {
        "referral": str(referral.pk),
        "date": str(days_ago(1)),
        "appointment_type": "02",
        "attendance": "5",
        "phq9": [1, 1, 1, 1, 1, 1, 1, 1, 0],
    }
    return body | changes


def post(client, path, body, key):
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db
def test_the_same_contact_sent_twice_is_saved_once_with_the_same_answer(pwp, referral):
    client, key = client_for(pwp), str(uuid.uuid4())
    first = post(client, "/api/v1/contacts/", contact_body(referral), key)
    again = post(client, "/api/v1/contacts/", contact_body(referral), key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert CareContact.objects.filter(referral=referral).count() == 1


@pytest.mark.django_db
def test_key_order_of_the_body_does_not_matter(pwp, referral):
    client, key = client_for(pwp), "retry-1"
    body = contact_body(referral)
    post(client, "/api/v1/contacts/", body, key)
    assert post(client, "/api/v1/contacts/", dict(reversed(body.items())), key).status_code == 201
    assert CareContact.objects.filter(referral=referral).count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_refused_naming_the_header(pwp, referral):
    client = client_for(pwp)
    post(client, "/api/v1/contacts/", contact_body(referral), "k-1")
    response = post(client, "/api/v1/contacts/", contact_body(referral, date=str(days_ago(2))), "k-1")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "idempotency_key_reused" and "Idempotency-Key" in body["detail"]
    assert "Idempotency-Key" in body["errors"]
    assert CareContact.objects.filter(referral=referral).count() == 1


@pytest.mark.django_db
def test_the_same_key_on_another_endpoint_is_another_request(pwp, referral):
    client = client_for(pwp)
    post(client, "/api/v1/contacts/", contact_body(referral), "k-2")
    patient = {"given_name": "Ada", "family_name": "Byron", "date_of_birth": "1990-12-10"}
    assert post(client, "/api/v1/patients/", patient, "k-2").status_code == 422


@pytest.mark.django_db
def test_keys_belong_to_each_person(pwp, colleague):
    patient = {"given_name": "Ada", "family_name": "Byron", "date_of_birth": "1990-12-10"}
    mine = post(client_for(pwp), "/api/v1/patients/", patient, "shared-key")
    theirs = post(client_for(colleague), "/api/v1/patients/", patient, "shared-key")
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]  # not someone else's stored answer
    assert Patient.objects.filter(family_name="Byron").count() == 2


@pytest.mark.django_db
def test_a_refused_request_keeps_nothing_and_may_be_retried(pwp, referral):
    client = client_for(pwp)
    bad = post(client, "/api/v1/contacts/", contact_body(referral, attendance="9"), "k-3")
    assert bad.status_code == 400
    assert not IdempotencyKey.objects.exists()
    good = post(client, "/api/v1/contacts/", contact_body(referral), "k-3")
    assert good.status_code == 201
    assert CareContact.objects.filter(referral=referral).count() == 1


@pytest.mark.django_db
def test_without_the_header_each_request_creates_once_the_duplicate_is_confirmed(pwp, referral):
    client = client_for(pwp)
    assert client.post("/api/v1/contacts/", contact_body(referral), format="json").status_code == 201
    # the same referral, date and type again is asked about (409), not taken (issue 20.3) ...
    assert client.post("/api/v1/contacts/", contact_body(referral), format="json").status_code == 409
    # ... and taken when confirmed
    confirmed = contact_body(referral, confirm_duplicate=True)
    assert client.post("/api/v1/contacts/", confirmed, format="json").status_code == 201
    assert CareContact.objects.filter(referral=referral).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "a" * 256, "has space", "caf\u00e9"])
def test_a_malformed_key_is_a_400_naming_the_header(pwp, referral, key):
    response = client_for(pwp).post(
        "/api/v1/contacts/", contact_body(referral), format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert not CareContact.objects.exists()


@pytest.mark.django_db
def test_an_expired_key_runs_again_and_expired_keys_are_purged(pwp, referral, settings):
    client = client_for(pwp)
    post(client, "/api/v1/contacts/", contact_body(referral), "k-4")
    IdempotencyKey.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    again = contact_body(referral, confirm_duplicate=True)  # the same contact again: confirmed (issue 20.3)
    assert post(client, "/api/v1/contacts/", again, "k-4").status_code == 201
    assert CareContact.objects.filter(referral=referral).count() == 2
    stored = IdempotencyKey.objects.get()
    assert stored.expires_at > timezone.now() + dt.timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL - 60)
    IdempotencyKey.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert purge_expired_idempotency_keys() == 1
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_actions_that_create_are_idempotent_too(pwp, referral):
    client = client_for(pwp)
    url = f"/api/v1/referrals/{referral.pk}/steps/"
    first = post(client, url, {"step": 2, "reason": "Low intensity"}, "step-1")
    again = post(client, url, {"step": 2, "reason": "Low intensity"}, "step-1")
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert referral.steps.count() == 1


@pytest.mark.django_db
def test_the_schema_documents_the_header_on_creates(api, pwp):
    api.force_authenticate(pwp)
    schema = api.get("/api/schema/?format=json").json()
    create = schema["paths"]["/api/v1/contacts/"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in create["parameters"] if p["in"] == "header"}
    assert "422" in create["responses"]
    search = schema["paths"]["/api/v1/patients/search/"]["post"]
    assert "Idempotency-Key" not in {p["name"] for p in search.get("parameters", [])}


# Sign-in and sign-out make no record a retry could duplicate; a patient search only reads.
NOT_CREATES = {"api-token", "api-logout", "api-logout-all"}


def test_every_api_view_that_accepts_post_honours_the_key():
    missing = []
    for endpoint in endpoints():
        if not endpoint.is_api or endpoint.name in NOT_CREATES or "POST" not in endpoint.methods():
            continue
        if not issubclass(endpoint.view_class, IdempotentCreateMixin):
            missing.append(endpoint.id)
    assert not missing, f"API views taking POST without IdempotentCreateMixin: {missing}"


# --- two at once (PostgreSQL) ------------------------------------------------------------------------------


def race(*requests):
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


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent transactions (PostgreSQL)")
@pytest.mark.parametrize("attempt", range(3))
def test_two_identical_requests_at_once_make_one_row(attempt):
    team = TeamFactory(code=f"IDEM{attempt}")
    pwp = StaffFactory(username=f"idem_pwp_{attempt}", team=team, role="pwp")
    referral = ReferralFactory(patient__team=team, care_coordinator=pwp)
    clients = [client_for(pwp), client_for(pwp)]  # two connections of one client app, one key
    key = str(uuid.uuid4())
    responses = race(*[lambda c=c: post(c, "/api/v1/contacts/", contact_body(referral), key) for c in clients])
    assert [r.status_code for r in responses] == [201, 201], [r.content for r in responses]
    assert responses[0].json() == responses[1].json()
    assert sum(r.has_header("Idempotent-Replayed") for r in responses) == 1
    assert CareContact.objects.filter(referral=referral).count() == 1
    assert IdempotencyKey.objects.filter(user=pwp, key=key).count() == 1
