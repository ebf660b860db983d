"""Thin Celery tasks of the shared plumbing."""

from celery import shared_task
from django.utils import timezone

from . import outbox
from .models import IdempotencyKey


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
