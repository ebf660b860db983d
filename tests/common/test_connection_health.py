"""A lost database connection costs no request (PostgreSQL).

Requests go through Django's own WSGI handler with its connection management on (the test client
switches it off), so a persistent connection is kept between requests as under gunicorn. The server
side of that connection is then terminated (pg_terminate_backend, as a restart or failover would), and
the next request must still succeed: CONN_HEALTH_CHECKS notices the dead connection and opens another.
Without health checks the same sequence fails that request, which shows the test can fail.
"""

import io
from wsgiref.util import setup_testing_defaults

import psycopg2
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from knox.models import AuthToken

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates PostgreSQL backends"),
]


def wsgi_get(app, path, token):
    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "HTTP_AUTHORIZATION": f"Token {token}"}
    setup_testing_defaults(environ)
    environ.update({"SERVER_NAME": "testserver", "HTTP_HOST": "testserver", "wsgi.input": io.BytesIO(b"")})
    status = []
    response = app(environ, lambda s, headers, exc_info=None: status.append(s))
    b"".join(response)
    response.close()  # request_finished: Django decides whether to keep the connection
    return int(status[0].split()[0])


def terminate_app_connections():
    params = connection.get_connection_params()
    with psycopg2.connect(**params) as admin, admin.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.rowcount


@pytest.fixture
def persistent(request):
    """The connection settings of production (kept 60 s, health checks as configured), restored after."""
    saved = {key: connection.settings_dict[key] for key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS")}
    connection.close()
    connection.settings_dict.update(CONN_MAX_AGE=60, CONN_HEALTH_CHECKS=request.param)
    yield request.param
    connection.close()
    connection.settings_dict.update(saved)


@pytest.mark.parametrize("persistent", [True], indirect=True)
def test_settings_turn_health_checks_on(persistent, settings):
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


@pytest.mark.parametrize("persistent", [True, False], indirect=True, ids=["health-checks", "without"])
def test_the_request_after_the_connection_was_terminated_succeeds(persistent, pwp):
    token = AuthToken.objects.create(user=pwp)[1]
    app = WSGIHandler()
    assert wsgi_get(app, "/api/v1/me/", token) == 200
    pid = connection.connection.get_backend_pid()  # the app's connection, kept for the next request
    assert terminate_app_connections() >= 1
    status = wsgi_get(app, "/api/v1/me/", token)
    if persistent:
        assert status == 200
        assert connection.connection.get_backend_pid() != pid  # a new connection replaced the dead one
    else:
        assert status == 500  # what the load test saw: one failed request per worker
    assert wsgi_get(app, "/api/v1/me/", token) == 200
