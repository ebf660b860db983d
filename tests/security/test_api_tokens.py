"""API tokens (django-rest-knox): one per client, hashed, expiring, revocable by the user and on a
password change or deactivation; the token endpoint creates no browser session."""

import datetime as dt
import json

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken

pytestmark = pytest.mark.django_db


def get_token(client, user, password):
    response = client.post(
        "/api/v1/auth/token/",
        json.dumps({"username": user.username, "password": password}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def me(token):
    return Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")


def test_each_client_gets_its_own_token_that_expires(client, pwp, password, settings):
    first, second = get_token(client, pwp, password), get_token(client, pwp, password)
    assert first["token"] != second["token"]
    assert me(first["token"]).status_code == 200 and me(second["token"]).status_code == 200
    expiry = dt.datetime.fromisoformat(first["expiry"])
    hours = (expiry - timezone.now()).total_seconds() / 3600
    assert settings.REST_KNOX["TOKEN_TTL"].total_seconds() / 3600 - 0.1 < hours <= 10
    # Stored as a hash: the token itself is nowhere in the database.
    assert not AuthToken.objects.filter(digest=first["token"]).exists()
    assert all(first["token"] not in row.digest for row in AuthToken.objects.all())


def test_an_expired_token_is_refused(client, pwp, password):
    token = get_token(client, pwp, password)["token"]
    AuthToken.objects.filter(user=pwp).update(expiry=timezone.now() - dt.timedelta(seconds=1))
    response = me(token)
    assert response.status_code == 401 and response.json()["detail"] == "Invalid token."


def test_sign_out_revokes_only_the_token_used(client, pwp, password):
    laptop, phone = get_token(client, pwp, password)["token"], get_token(client, pwp, password)["token"]
    response = Client().post("/api/v1/auth/logout/", HTTP_AUTHORIZATION=f"Token {laptop}")
    assert response.status_code == 204
    assert me(laptop).status_code == 401
    assert me(phone).status_code == 200


def test_sign_out_everywhere_revokes_every_token(client, pwp, colleague, password):
    tokens = [get_token(client, pwp, password)["token"] for _ in range(3)]
    theirs = get_token(client, colleague, password)["token"]
    response = Client().post("/api/v1/auth/logout-all/", HTTP_AUTHORIZATION=f"Token {tokens[0]}")
    assert response.status_code == 204
    assert [me(t).status_code for t in tokens] == [401, 401, 401]
    assert me(theirs).status_code == 200


def test_a_browser_session_can_revoke_all_tokens_but_has_none_to_sign_out(client, pwp, password):
    token = get_token(Client(), pwp, password)["token"]
    client.force_login(pwp)
    assert client.post("/api/v1/auth/logout/").status_code == 400
    assert client.post("/api/v1/auth/logout-all/").status_code == 204
    assert me(token).status_code == 401


def test_a_password_change_revokes_every_token(client, pwp, password):
    token = get_token(client, pwp, password)["token"]
    pwp.set_password("a-new-long-password-2026")
    pwp.save()
    assert me(token).status_code == 401


def test_deactivation_revokes_every_token(client, pwp, password):
    token = get_token(client, pwp, password)["token"]
    pwp.is_active = False
    pwp.save()
    assert not AuthToken.objects.filter(user=pwp).exists()
    assert me(token).status_code == 401


def test_other_saves_of_the_person_keep_their_tokens(client, pwp, password):
    token = get_token(client, pwp, password)["token"]
    pwp.first_name = "Samantha"
    pwp.save()
    assert me(token).status_code == 200


def test_the_token_endpoint_creates_no_browser_session(client, pwp, password):
    response = client.post(
        "/api/v1/auth/token/",
        json.dumps({"username": pwp.username, "password": password}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert not Session.objects.exists()


def test_at_most_the_configured_number_of_live_tokens(client, pwp, password, settings):
    settings.API_TOKENS_PER_USER = 3
    tokens = [get_token(client, pwp, password)["token"] for _ in range(5)]
    assert AuthToken.objects.filter(user=pwp).count() == 3
    assert [me(t).status_code for t in tokens] == [401, 401, 200, 200, 200]  # the oldest went first


def test_a_token_of_the_old_kind_no_longer_works(pwp):
    """DRF's plain-text tokens were replaced (their table is dropped by common/0002): clients sign in again."""
    response = me("9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b")
    assert response.status_code == 401
