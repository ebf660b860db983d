"""A real ``celery -A stepped_care worker`` process with Redis (issue 5, item 5).

Runs when ``CELERY_BROKER_URL`` is set (CI's second pass: PostgreSQL + Redis). The worker gets the
test database's name through ``DATABASE_URL`` and listens on a queue of its own, so that parallel
runs never steal each other's messages. Without a broker the test is skipped with the reason; in CI
(``CI=true``) with a broker set, a worker that cannot run fails the test instead.
"""

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone

from config.celery import app
from stepped_care.models import FlagStatus, ReviewFlag
from tests.paths import REPO

from .review_helpers import items, referral_at_step

BROKER = os.environ.get("CELERY_BROKER_URL", "")
IN_CI = os.environ.get("CI", "").lower() == "true"
STARTUP_SECONDS = 90
FLAG_SECONDS = 30

pytestmark = pytest.mark.celery_worker


def unavailable(reason):
    if IN_CI and BROKER:
        pytest.fail(f"The Celery worker test must run in CI: {reason}")
    pytest.skip(reason)


def database_url():
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        unavailable("the worker needs a database it can share with the test: run with DATABASE_URL=postgres://...")
    user = quote(db.get("USER") or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{quote(db['NAME'], safe='')}"


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """A worker process on this test database and a queue of its own; yields its log file."""
    if not BROKER:
        pytest.skip("no CELERY_BROKER_URL: tasks run in-process (CI runs this test with Redis)")
    with django_db_blocker.unblock():
        url = database_url()
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:  # the broker is configured but not there
        unavailable(f"broker {BROKER} unreachable: {exc}")
    queue = f"review-test-{uuid.uuid4().hex[:10]}"
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    env = {**os.environ, "DATABASE_URL": url, "CELERY_QUEUE": queue, "DB_CONN_MAX_AGE": "0", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-n", f"{queue}@%h"]
    command += ["--pool", "solo", "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    saved = app.conf.task_default_queue, app.conf.task_always_eager
    app.conf.task_default_queue, app.conf.task_always_eager = queue, False
    try:
        _wait_until_ready(process, log)
        yield log
    finally:
        app.conf.task_default_queue, app.conf.task_always_eager = saved
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        with app.connection_for_write() as conn:  # leave no queue behind in Redis
            channel = conn.default_channel
            channel.queue_delete(queue)
            client = getattr(channel, "client", None)
            if client is not None:
                client.delete(f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


def _wait_until_ready(process, log: Path):
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        text = log.read_text()
        if " ready." in text:
            return
        if process.poll() is not None:
            unavailable(f"the worker exited with {process.returncode}:\n{text[-3000:]}")
        time.sleep(0.2)
    unavailable(f"the worker was not ready within {STARTUP_SECONDS}s:\n{log.read_text()[-3000:]}")


def wait_for_flag(log, seconds=FLAG_SECONDS, **lookup):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        flag = ReviewFlag.objects.filter(status=FlagStatus.OPEN, **lookup).first()
        if flag is not None:
            return flag
        time.sleep(0.1)
    pytest.fail(f"no flag {lookup} within {seconds}s; worker log:\n{log.read_text()[-4000:]}")


@pytest.mark.django_db(transaction=True)
def test_a_contact_logged_through_the_api_gets_its_flag_from_the_worker(worker, pwp, api, capsys):
    referral = referral_at_step(pwp)
    api.force_authenticate(pwp)

    def log_session(days_ago, phq, gad):
        response = api.post(
            "/api/v1/contacts/",
            {
                "referral": str(referral.pk),
                "date": (timezone.localdate() - dt.timedelta(days=days_ago)).isoformat(),
                "appointment_type": "02",
                "attendance": "5",
                "phq9": items(phq, 9),
                "gad7": items(gad, 7),
            },
            format="json",
        )
        assert response.status_code == 201, response.content

    log_session(14, 10, 8)
    started = time.monotonic()
    log_session(1, 18, 14)  # PHQ-9 +8 and GAD-7 +6: reliable deterioration, only the worker raises it
    flag = wait_for_flag(worker, referral=referral, rule="deterioration")
    elapsed = time.monotonic() - started
    assert flag.severity == "red" and flag.evidence["measures"]["PHQ9"]["change"] == 8
    assert "stepped_care.tasks.review_referral" in worker.read_text()
    with capsys.disabled():
        print(f"\n  worker raised the deterioration flag {elapsed:.2f}s after the contact was logged")


@pytest.mark.django_db(transaction=True)
def test_the_nightly_scan_fans_out_to_the_worker(worker, pwp):
    from stepped_care.tasks import scan_active_referrals

    waiting = [referral_at_step(pwp, step=None, received_days_ago=60) for _ in range(3)]
    scan_active_referrals.delay(chunk_size=2)
    for referral in waiting:
        assert wait_for_flag(worker, referral=referral, rule="long_wait").severity == "amber"
    assert worker.read_text().count("stepped_care.tasks.review_chunk") >= 2
