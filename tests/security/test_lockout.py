"""Repeated wrong passwords lock sign-in, at the sign-in page and at the API token endpoint alike.

django-axes locks a username *at an address*: a colleague behind the same address (one NHS network
address for a whole trust) still signs in. Failed sign-ins from one address across all usernames
have their own, looser limit (SIGN_IN_ADDRESS_FAILURE_RATE)."""

import pytest
from django.urls import reverse

pytestmark = [pytest.mark.django_db, pytest.mark.axes]


@pytest.fixture
def limit(settings):
    settings.AXES_FAILURE_LIMIT = 3
    return 3


def sign_in(client, username, password, address="10.1.1.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


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


def test_a_forged_forwarded_for_header_does_not_dodge_the_lockout(client, pwp, password, limit, settings):
    """Behind one trusted proxy the client address is the proxy's last X-Forwarded-For entry; a client
    prepending addresses of its own changes nothing."""
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(limit):
        client.post(
            reverse("api-token"),
            {"username": pwp.username, "password": "wrong-password-1234"},
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


# --- one person's mistakes lock out one person ------------------------------------------------------


def test_a_colleague_at_the_same_address_still_signs_in_at_the_form(client, pwp, colleague, password, limit):
    for _ in range(limit):
        sign_in(client, pwp.username, "wrong-password-1234")
    assert sign_in(client, pwp.username, password).status_code == 429
    response = sign_in(client, colleague.username, password)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(colleague.pk)


def test_a_colleague_at_the_same_address_still_gets_a_token(client, pwp, colleague, password, limit):
    for _ in range(limit):
        token(client, pwp.username, "wrong-password-1234")
    assert token(client, pwp.username, password).status_code == 429
    response = token(client, colleague.username, password)
    assert response.status_code == 200 and response.json()["token"]


def test_the_locked_out_person_can_sign_in_from_another_address(client, pwp, password, limit):
    for _ in range(limit):
        token(client, pwp.username, "wrong-password-1234", address="10.9.9.9")
    assert token(client, pwp.username, password, address="10.9.9.9").status_code == 429
    assert token(client, pwp.username, password, address="10.2.2.2").status_code == 200


@pytest.mark.parametrize("door", ["form", "api"])
def test_an_address_spraying_many_usernames_is_limited_separately(client, pwp, password, settings, door):
    """Password spraying (one wrong password each for many usernames) never reaches the per-user limit;
    the per-address limit stops it, for every username at that address, while other addresses go on."""
    settings.SIGN_IN_ADDRESS_FAILURE_RATE = "4/30m"
    for n in range(4):
        token(client, f"someone-{n}", "Winter2026!")
    if door == "form":
        refused = sign_in(client, pwp.username, password)
        assert refused.status_code == 429 and "network address" in refused.content.decode()
        assert "_auth_user_id" not in client.session
        assert sign_in(client, pwp.username, password, address="10.2.2.2").status_code == 302
    else:
        refused = token(client, pwp.username, password)
        assert refused.status_code == 429
        assert refused.json()["code"] == "address_rate_limited"
        assert int(refused["Retry-After"]) > 0
        assert token(client, pwp.username, password, address="10.2.2.2").status_code == 200
