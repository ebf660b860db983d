"""Triggers and reliability of the review tasks: eager without a broker, idempotent, acknowledged late,
retried on database errors, and a logged session that survives a broker outage."""

import datetime as dt
import logging

import pytest
from django.db import OperationalError

from common.models import PendingTask
from config.celery import app
from stepped_care import services, tasks
from stepped_care.models import FlagStatus, ReviewFlag

from .review_helpers import items, not_improving, referral_at_step, today


def test_tasks_are_acknowledged_late_and_retried_with_backoff_on_database_errors():
    for task in (tasks.review_referral, tasks.review_chunk, tasks.scan_active_referrals):
        assert task.acks_late is True
        assert task.reject_on_worker_lost is True
        assert OperationalError in task.autoretry_for
        assert task.retry_backoff and task.retry_jitter and task.max_retries >= 5


def test_the_nightly_scan_is_scheduled():
    entry = app.conf.beat_schedule["nightly-review-scan"]
    assert entry["task"] == tasks.scan_active_referrals.name == "stepped_care.tasks.scan_active_referrals"


@pytest.mark.django_db
def test_the_scan_fans_out_chunks_that_run_in_process_without_a_broker(pwp, settings):
    assert app.conf.task_always_eager or pytest.skip("a broker is configured: tasks go to workers")
    referrals = [not_improving(pwp) for _ in range(3)]
    result = tasks.scan_active_referrals.delay(chunk_size=2)
    assert result.get() == 2  # three referrals in chunks of two
    assert set(ReviewFlag.objects.filter(status=FlagStatus.OPEN).values_list("referral_id", flat=True)) == {
        r.pk for r in referrals
    }


@pytest.mark.django_db
def test_a_database_error_is_retried(pwp, monkeypatch):
    referral = not_improving(pwp)
    real = services.review_referrals
    calls = []

    def flaky(ids, **kw):
        calls.append(ids)
        if len(calls) == 1:
            raise OperationalError("the database went away")
        return real(ids, **kw)

    monkeypatch.setattr(services, "review_referrals", flaky)
    result = tasks.review_chunk.apply(args=[[str(referral.pk)]])
    assert result.successful(), result.traceback
    assert len(calls) == 2
    assert ReviewFlag.objects.filter(referral=referral, status=FlagStatus.OPEN).count() == 1


@pytest.mark.django_db
def test_a_chunk_delivered_twice_changes_nothing_the_second_time(pwp):
    referral = not_improving(pwp)
    ids = [str(referral.pk)]
    assert tasks.review_chunk.apply(args=[ids]).get() == 1
    assert tasks.review_chunk.apply(args=[ids]).get() == 0


@pytest.fixture
def broker_down():
    """A broker at a closed port, and tasks really sent (not run in-process)."""
    names = ("broker_url", "broker_write_url", "task_always_eager")
    saved = {name: getattr(app.conf, name) for name in names}

    def fresh_connections():  # pools are made per broker URL on first use
        app._pool = None
        app.amqp._producer_pool = None

    app.conf.broker_url = app.conf.broker_write_url = "redis://127.0.0.1:1/0"
    app.conf.task_always_eager = False
    fresh_connections()
    yield
    for name, value in saved.items():
        setattr(app.conf, name, value)
    fresh_connections()


@pytest.mark.django_db(transaction=True)
def test_logging_a_session_with_the_broker_down_still_succeeds_and_is_reviewed_at_once(pwp, api, broker_down, caplog):
    referral = referral_at_step(pwp)
    api.force_authenticate(pwp)
    with caplog.at_level(logging.WARNING, logger="common.outbox"):
        response = api.post(
            "/api/v1/contacts/",
            {
                "referral": str(referral.pk),
                "date": (today() - dt.timedelta(days=1)).isoformat(),
                "appointment_type": "02",
                "attendance": "5",
                "phq9": items(16, 9, last=1),
                "gad7": items(12, 7),
                "risk_note": "Risk assessed: passive thoughts, no plan; safety plan agreed.",
            },
            format="json",
        )
    assert response.status_code == 201, response.content
    assert "Broker unavailable" in caplog.text
    risk = ReviewFlag.objects.get(referral=referral, rule="risk", status=FlagStatus.OPEN)
    assert risk.evidence["phq9_item9"] == 1
    assert not PendingTask.objects.exists()  # the full review ran here, after commit: nothing waits
