"""Repeated wrong passwords lock sign-in, at the sign-in page and at the API token endpoint alike."""

import pytest
from django.urls import reverse

pytestmark = [pytest.mark.django_db, pytest.mark.axes]


@pytest.fixture
def limit(settings):
    settings.AXES_FAILURE_LIMIT = 3
    return 3


def sign_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR="10.1.1.1")


def token(client, username, password, address="10.1.1.1"):
    return client.post(
        reverse("api-token"),
        {"username": username, "password": password},
        content_type="application/json",
        REMOTE_ADDR=address,
    )


def test_the_sign_in_form_locks_after_repeated_failures_even_for_the_right_password(client, pwp, password, limit):
    for _ in range(limit - 1):
        response = sign_in(client, pwp.username, "wrong-password-1234")
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session
    response = sign_in(client, pwp.username, "wrong-password-1234")
    assert response.status_code == 429
    assert "locked" in response.content.decode()

    response = sign_in(client, pwp.username, password)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_token_endpoint_locks_after_repeated_failures(client, pwp, password, limit):
    for _ in range(limit - 1):
        assert token(client, pwp.username, "wrong-password-1234").status_code == 400
    locked = token(client, pwp.username, "wrong-password-1234")
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out"
    assert "30 minutes" in locked.json()["detail"]

    again = token(client, pwp.username, password)
    assert again.status_code == 429
    assert "token" not in again.json()


def test_failures_at_the_api_count_towards_the_sign_in_form_lockout(client, pwp, password, limit):
    for _ in range(limit):
        token(client, pwp.username, "wrong-password-1234")
    assert sign_in(client, pwp.username, password).status_code == 429


def test_a_correct_password_before_the_limit_signs_in_and_resets_the_count(client, pwp, password, limit):
    for _ in range(limit - 1):
        token(client, pwp.username, "wrong-password-1234")
    assert token(client, pwp.username, password).status_code == 200
    for _ in range(limit - 1):
        token(client, pwp.username, "wrong-password-1234")
    response = token(client, pwp.username, password)
    assert response.status_code == 200
    assert response.json()["token"]


def test_lockout_of_one_account_leaves_colleagues_signing_in(client, pwp, colleague, password, limit):
    for _ in range(limit):
        token(client, pwp.username, "wrong-password-1234", address="10.9.9.9")
    assert token(client, colleague.username, password, address="10.2.2.2").status_code == 200


@pytest.mark.django_db
def test_a_forged_forwarded_for_header_does_not_dodge_the_lockout(client, pwp, password, limit, settings):
    """Behind one trusted proxy the client address is the proxy's last X-Forwarded-For entry; a client
    prepending addresses of its own changes nothing."""
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(limit):
        client.post(
            reverse("api-token"),
            {"username": "nobody-in-particular", "password": "x"},
            content_type="application/json",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.7",
            REMOTE_ADDR="10.0.0.1",
        )
    response = client.post(
        reverse("api-token"),
        {"username": pwp.username, "password": password},
        content_type="application/json",
        HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7",
        REMOTE_ADDR="10.0.0.1",
    )
    assert response.status_code == 429
