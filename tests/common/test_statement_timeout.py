"""A bad plan cannot stall the service (issue 21.9): web connections carry a statement timeout, and a
statement PostgreSQL cancels answers 503 "busy, nothing saved, try again" (HTML for people, a JSON problem
for the API) instead of a 500 or a gunicorn worker killed after 30 s.

The slow statement is real (``pg_sleep`` under a short ``statement_timeout``), in views added to the
project's own URLs for these tests. Skipped on SQLite, which has no statement timeout; in CI on
PostgreSQL they must run.
"""

import importlib
import os
import re
from pathlib import Path

import pytest
from django.db import OperationalError, connection, transaction
from django.db.backends.signals import connection_created
from django.http import HttpResponse
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from common import database
from config import urls as project_urls

on_postgres = connection.vendor == "postgresql"
needs_postgres = pytest.mark.skipif(not on_postgres, reason="statement_timeout is PostgreSQL's")


def test_ci_on_postgres_runs_these_tests():
    if os.environ.get("CI") == "true" and os.environ.get("DATABASE_URL", "").startswith("postgres"):
        assert on_postgres


def run_a_runaway_statement():
    """What a bad plan looks like from the app: a statement that outlives the limit (50 ms here)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = '50ms'")
        cursor.execute("SELECT pg_sleep(2)")


def slow_page(request):
    run_a_runaway_statement()
    return HttpResponse("never")


class SlowApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        run_a_runaway_statement()
        return Response({"never": True})


slow_page.login_required = False
urlpatterns = [
    path("slow-for-test/", slow_page),
    path("api/v1/slow-for-test/", SlowApi.as_view()),
    *project_urls.urlpatterns,
]
handler404 = project_urls.handler404
handler500 = project_urls.handler500


@needs_postgres
@pytest.mark.urls(__name__)
def test_a_cancelled_statement_on_a_page_answers_503_saying_nothing_was_saved(client, db):
    response = client.get("/slow-for-test/")
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert b"Nothing of it was saved" in response.content
    with connection.cursor() as cursor:  # the connection is still good for the next request
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


@needs_postgres
@pytest.mark.urls(__name__)
def test_a_cancelled_statement_in_the_api_answers_a_503_problem(client, db):
    response = client.get("/api/v1/slow-for-test/")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "10"
    body = response.json()
    assert body["status"] == 503 and body["code"] == "busy"
    assert "nothing of it was saved" in body["detail"]


@needs_postgres
def test_a_web_connection_gets_the_limit_from_the_setting(db, settings):
    settings.WEB_STATEMENT_TIMEOUT_MS = 1234
    database.set_web_statement_timeout(connection=connection)  # inside the test's transaction: undone after
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == ("1234ms",)


@needs_postgres
def test_no_limit_when_the_setting_is_zero(db, settings):
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        before = cursor.fetchone()
        settings.WEB_STATEMENT_TIMEOUT_MS = 0
        database.set_web_statement_timeout(connection=connection)
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == before


def web_limit_connected():
    return any(receiver[0][0] == "web_statement_timeout" for receiver in connection_created.receivers)


def test_the_wsgi_application_limits_its_connections_and_nothing_else_does():
    connection_created.disconnect(dispatch_uid="web_statement_timeout")
    try:
        import config.wsgi  # what gunicorn and runserver load

        importlib.reload(config.wsgi)
        assert web_limit_connected()
    finally:
        connection_created.disconnect(dispatch_uid="web_statement_timeout")


CALL = re.compile(r"^\s*(?:\w+\.)?limit_web_statements\(\)", re.MULTILINE)


def test_no_other_entry_point_limits_statements():
    """The worker, beat and management commands must keep no limit: the scan and the export run for minutes."""
    root = Path(__file__).resolve().parents[2]
    callers = {
        str(source.relative_to(root))
        for source in root.glob("*/**/*.py")
        if ".venv" not in source.parts
        and "tests" not in source.parts
        and CALL.search(source.read_text(encoding="utf-8"))
    }
    assert callers == {"config/wsgi.py"}


def test_only_a_cancelled_or_lock_timed_out_statement_counts_as_busy():
    class Cause(Exception):
        def __init__(self, pgcode):
            self.pgcode = pgcode

    def error(pgcode):
        exc = OperationalError("x")
        exc.__cause__ = Cause(pgcode)
        return exc

    assert database.is_database_busy(error("57014"))  # query_canceled
    assert database.is_database_busy(error("55P03"))  # lock_not_available
    assert not database.is_database_busy(error("08006"))  # connection failure: not a "busy"
    assert not database.is_database_busy(ValueError("57014"))
