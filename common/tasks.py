"""Thin Celery tasks of the shared plumbing."""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from . import outbox
from .models import IdempotencyKey

# The Celery options of a task that a database fault (a restart, a failover, a dropped connection)
# must not lose: acknowledged only when done, retried with a growing, jittered wait.
DATABASE_RETRY = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task
def dispatch_outbox():
    """Dispatch the outbox rows a write could not hand over (Celery beat, every minute)."""
    return outbox.dispatch_pending()


@shared_task
def purge_expired_idempotency_keys():
    """Answers kept for Idempotency-Key replays are deleted once they expire (they may hold patient details)."""
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


@shared_task
def refresh_notify_statuses():
    """Delivery status of the messages Notify is still sending (Celery beat, every few minutes)."""
    # Imported here: the worker loads the Notify adapter only when this beat task runs.
    from . import notify

    return notify.refresh_statuses()
