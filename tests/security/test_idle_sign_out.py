"""The 30-minute idle sign-out with the session refreshed at most once a minute (common.sessions).

Idle time passes by ageing the stored session (its expiry and its last refresh) as the clock would:
the database backend and the middleware see the same record a later request would."""

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from common.sessions import REFRESH_EVERY, REFRESHED

pytestmark = pytest.mark.django_db


def session_row(client):
    return Session.objects.get(pk=client.cookies[settings.SESSION_COOKIE_NAME].value)


def age(client, seconds):
    """The stored session as it is ``seconds`` later: expiry and last refresh that much nearer."""
    row = session_row(client)
    store = SessionStore()
    data = store.decode(row.session_data)
    data[REFRESHED] -= seconds
    Session.objects.filter(pk=row.pk).update(
        session_data=store.encode(data), expire_date=row.expire_date - dt.timedelta(seconds=seconds)
    )


def signed_in(client):
    response = client.get(reverse("referrals:caseload"))
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("login"))
        return False
    assert response.status_code == 200
    return True


def session_writes(queries):
    return [q["sql"] for q in queries if "django_session" in q["sql"] and not q["sql"].lstrip().startswith("SELECT")]


@pytest.fixture
def signed_in_client(client, pwp):
    client.force_login(pwp)
    assert signed_in(client)  # signing in was the refresh: the expiry is 30 minutes from it
    return client


def test_a_request_after_31_idle_minutes_is_signed_out(signed_in_client):
    age(signed_in_client, 31 * 60)
    assert not signed_in(signed_in_client)


def test_a_request_after_exactly_30_idle_minutes_from_the_refresh_is_signed_out(signed_in_client):
    age(signed_in_client, 30 * 60 + 1)
    assert not signed_in(signed_in_client)


def test_a_request_within_the_minute_does_not_write_the_session(signed_in_client):
    before = session_row(signed_in_client)
    age(signed_in_client, REFRESH_EVERY - 5)
    aged = session_row(signed_in_client)
    with CaptureQueriesContext(connection) as queries:
        assert signed_in(signed_in_client)
    assert session_writes(queries.captured_queries) == []
    assert session_row(signed_in_client).expire_date == aged.expire_date < before.expire_date


def test_a_request_a_minute_after_the_refresh_moves_the_expiry_on(signed_in_client):
    age(signed_in_client, REFRESH_EVERY)
    aged = session_row(signed_in_client).expire_date
    with CaptureQueriesContext(connection) as queries:
        assert signed_in(signed_in_client)
    assert session_writes(queries.captured_queries)
    moved = session_row(signed_in_client).expire_date
    assert moved - aged >= dt.timedelta(seconds=REFRESH_EVERY - 1)


def test_regular_use_keeps_the_session_past_30_minutes(signed_in_client):
    """A request every 10 minutes for an hour: each one a refresh, never signed out."""
    for _ in range(6):
        age(signed_in_client, 10 * 60)
        assert signed_in(signed_in_client)


def test_idle_for_30_minutes_after_an_unwritten_request_is_signed_out_all_the_same(signed_in_client):
    """The worst case: the last request came 59 s after a refresh and wrote nothing, so the expiry is
    29 minutes and 1 second after that request; at 30 idle minutes the session is gone (never later)."""
    age(signed_in_client, REFRESH_EVERY - 1)
    assert signed_in(signed_in_client)  # not written
    age(signed_in_client, 30 * 60)
    assert not signed_in(signed_in_client)


def test_keepalive_always_moves_the_expiry_on(signed_in_client):
    age(signed_in_client, 5)
    aged = session_row(signed_in_client).expire_date
    body = signed_in_client.get(reverse("referrals:keepalive")).json()
    assert body["expires_in"] == settings.SESSION_COOKIE_AGE
    assert session_row(signed_in_client).expire_date > aged
