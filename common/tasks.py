"""Thin Celery tasks of the shared plumbing."""

from celery import shared_task

from . import outbox


@shared_task
def dispatch_outbox():
    """Dispatch the outbox rows a write could not hand over (Celery beat, every minute)."""
    return outbox.dispatch_pending()
