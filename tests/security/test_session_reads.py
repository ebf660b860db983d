"""The session and the signed-in member of staff are read on every request by statements compiled once
per process (common.sessions, issue 22.1): they must answer exactly as Django's own database session
store and ModelBackend do, whoever is read first, and never let in a session or a member of staff that
Django would not."""

import datetime as dt

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from common import scoping
from common.sessions import SessionStore, StaffBackend
from stepped_care.models import Role
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def compiled_afresh():
    scoping._compiled_rows.clear()


def test_the_signed_in_user_is_model_backends_with_their_team(team, pwp, django_assert_num_queries):
    nobody = StaffFactory(username="no_team", team=None, role=Role.PWP)
    gone = StaffFactory(username="left", team=team, role=Role.PWP, is_active=False)
    for user in [nobody, pwp, gone, pwp]:
        expected = ModelBackend().get_user(user.pk)
        with django_assert_num_queries(1):
            found = StaffBackend().get_user(str(user.pk))  # as the session holds it
            team_name = found.team.name if found is not None and found.team_id else None
        assert found == expected and (found is None) == (not user.is_active)
        if found is not None:
            assert found.username == user.username and found.password == user.password
            assert team_name == (user.team.name if user.team_id else None)
    for bogus in ["", "x", "1.5", "-1", str(pwp.pk + 1000)]:
        assert StaffBackend().get_user(bogus) is None


def test_the_session_is_djangos_own_read(pwp):
    stores = []
    for data in [{"a": 1}, {"_auth_user_id": str(pwp.pk), "b": [1, "x"]}]:
        store = DjangoStore()
        store.update(data)
        store.save()
        stores.append((store.session_key, data))
    for key, data in stores + stores:
        assert SessionStore(key).load() == DjangoStore(key).load() == data
    expired = stores[0][0]
    Session.objects.filter(session_key=expired).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    unknown = SessionStore("nosuchsessionkeynosuchsessionkey")
    for store in [SessionStore(expired), unknown]:
        assert store.load() == {} and store.session_key is None  # as Django's: a new session is started
    assert SessionStore(stores[1][0]).load() == stores[1][1]


def test_a_signed_in_page_reads_the_session_and_the_user_with_their_team_only_once(client, pwp):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(pwp)
    client.get("/")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/nope-not-a-page/")
    assert response.status_code == 404
    tables = [q["sql"].split(" FROM ", 1)[1].split()[0] for q in queries.captured_queries]
    assert tables == ['"django_session"', '"stepped_care_staff"'], tables  # the team joined to the user
