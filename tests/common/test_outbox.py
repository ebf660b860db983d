"""The outbox: the review a write needs is recorded with the write, and a slow, silent or absent broker
neither fails the save nor loses the review."""

import datetime as dt
import socket
import threading
import time

import pytest
from django.core.management import call_command
from django.db import transaction

from common import outbox
from common.models import PendingTask
from config.celery import app
from stepped_care import services
from stepped_care.models import FlagStatus, ReviewFlag
from tests.stepped_care.review_helpers import items, referral_at_step, session, today


@pytest.fixture
def silent_broker():
    """A 'Redis' that accepts connections and never answers, and tasks really sent (not in-process)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])  # keep it open, say nothing
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    names = ("broker_url", "broker_write_url", "task_always_eager")
    saved = {name: getattr(app.conf, name) for name in names}
    app.conf.broker_url = app.conf.broker_write_url = f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    app.conf.task_always_eager = False
    yield
    for name, value in saved.items():
        setattr(app.conf, name, value)
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def deteriorating(pwp):
    """A referral whose next session (PHQ-9 18, GAD-7 14) is a reliable deterioration: only the full
    review raises that flag, not the in-transaction risk check."""
    referral = referral_at_step(pwp)
    session(referral, pwp, 14, 10, 8)
    return referral


def post_worse_session(api, referral):
    return api.post(
        "/api/v1/contacts/",
        {
            "referral": str(referral.pk),
            "date": (today() - dt.timedelta(days=1)).isoformat(),
            "appointment_type": "02",
            "attendance": "5",
            "phq9": items(18, 9),
            "gad7": items(14, 7),
        },
        format="json",
    )


@pytest.mark.django_db(transaction=True)
def test_a_silent_broker_never_holds_a_save_and_the_review_still_runs(pwp, api, silent_broker):
    referral = deteriorating(pwp)
    api.force_authenticate(pwp)
    started = time.monotonic()
    response = post_worse_session(api, referral)
    elapsed = time.monotonic() - started
    assert response.status_code == 201, response.content
    assert elapsed < 2, f"the save waited {elapsed:.1f}s on a silent broker"
    assert ReviewFlag.objects.filter(referral=referral, rule="deterioration", status=FlagStatus.OPEN).exists()
    assert not PendingTask.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_review_that_cannot_run_stays_in_the_outbox_until_it_can(pwp, api, monkeypatch, tasks_in_process):
    referral = deteriorating(pwp)
    api.force_authenticate(pwp)
    real = services.review_referral

    def database_away(*args, **kwargs):
        raise RuntimeError("the review could not run")

    monkeypatch.setattr(services, "review_referral", database_away)
    assert post_worse_session(api, referral).status_code == 201  # the save itself is kept
    pending = PendingTask.objects.get()
    assert pending.task == services.REVIEW_TASK and pending.kwargs == {"referral_id": str(referral.pk)}
    assert pending.attempts == 1 and "could not run" in pending.last_error
    assert not ReviewFlag.objects.filter(referral=referral, rule="deterioration").exists()

    monkeypatch.setattr(services, "review_referral", real)
    call_command("dispatch_outbox")  # as Celery beat does every minute
    assert not PendingTask.objects.exists()
    assert ReviewFlag.objects.filter(referral=referral, rule="deterioration", status=FlagStatus.OPEN).exists()


@pytest.mark.django_db(transaction=True)
def test_work_of_a_write_that_rolled_back_is_not_kept(pwp, tasks_in_process):
    referral = referral_at_step(pwp)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.queue_review(referral.pk)
        assert PendingTask.objects.count() == 1
        raise RuntimeError("the write failed")
    assert not PendingTask.objects.exists()


@pytest.mark.django_db
def test_pending_work_is_dispatched_by_beat():
    assert app.conf.beat_schedule["outbox"]["task"] == "common.tasks.dispatch_outbox"
    assert outbox.dispatch_pending() == 0


@pytest.mark.django_db(transaction=True)
def test_with_a_broker_the_review_is_handed_over_and_the_outbox_emptied(pwp):
    if app.conf.task_always_eager:
        pytest.skip("no broker configured: tasks run in-process (CI's PostgreSQL pass runs this with Redis)")
    referral = referral_at_step(pwp)
    with transaction.atomic():
        services.queue_review(referral.pk)
    assert not PendingTask.objects.exists()  # sent to the broker; a worker reviews it (test_celery_worker)
