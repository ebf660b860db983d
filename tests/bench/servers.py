"""The production shape for the benchmarks that need it: a database of their own, gunicorn and a real
Celery worker, each a separate process on this machine (PostgreSQL and Redis only)."""

import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from django.db import connection

from tests.paths import REPO

MANAGE = [sys.executable, str(REPO / "manage.py")]
PRODUCTION_ENV = {
    "SECRET_KEY": "bench-only-not-secret",
    "DEBUG": "0",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "SECURE_HSTS_SECONDS": "0",
    "PYTHONUNBUFFERED": "1",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def admin_sql(*statements, params=None):
    """Run statements on the server's maintenance database (CREATE DATABASE needs autocommit)."""
    import psycopg2  # here: PostgreSQL only

    params = params or connection.settings_dict
    admin = psycopg2.connect(
        dbname="postgres",
        user=params["USER"] or "postgres",
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or "5432",
        password=params.get("PASSWORD") or None,
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    admin.close()


def own_database(suffix):
    """(name, url) of a fresh, empty database beside the benchmark database: ``<bench>_<suffix>``."""
    if connection.vendor != "postgresql":
        pytest.skip("this benchmark runs on PostgreSQL (make bench)")
    params = connection.settings_dict
    name = f"{params['NAME'].removeprefix('test_')}_{suffix}"
    user, host, port = params["USER"] or "postgres", params["HOST"] or "127.0.0.1", params["PORT"] or "5432"
    admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    return name, f"postgres://{user}@{host}:{port}/{name}"


def drop_database(name):
    admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(env, *args, capture=False):
    """``manage.py <args>`` in a process of its own with ``env`` (its DATABASE_URL, its settings)."""
    done = subprocess.run(  # noqa: S603 - our own manage.py
        [*MANAGE, *args], env=env, check=True, cwd=REPO, capture_output=capture, text=True
    )
    return done.stdout if capture else None


def start_gunicorn(env, workers, ready_path="/health/", log=None):
    """gunicorn serving config.wsgi on a free port; returns (process, base URL) once it answers. Its output
    (every sign-in's django-axes line under load) goes to ``log`` when given."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers)]
    out = log.open("w") if log else None
    server = subprocess.Popen(  # noqa: S603
        [*command, "--log-level", "warning"], env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT if out else None
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}{ready_path}", timeout=1)  # noqa: S310 - our own local server
            return server, base
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("gunicorn did not start")
            time.sleep(0.1)


def start_worker(env, queue, log, processes=1):
    """A real ``celery worker`` on ``queue`` (its output in ``log``), returned once it says it is ready."""
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-n", f"{queue}@%h"]
    command += ["-c", str(processes), "--loglevel", "INFO", "--without-gossip", "--without-mingle"]
    out = log.open("w")
    env = {**env, "PYTHONUNBUFFERED": "1"}  # its "ready." and "succeeded" lines reach the log at once
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    deadline = time.monotonic() + 90
    while " ready." not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return process


def stop(process, timeout=30):
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def database_url():
    """The URL of the database this test process uses (the seeded benchmark database)."""
    db = connection.settings_dict
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{db.get('USER') or 'postgres'}@{host}:{port}/{db['NAME']}"
