"""Housekeeping of the shared plumbing."""

from celery import shared_task
from django.utils import timezone


@shared_task
def purge_expired_idempotency_keys():
    """Answers kept for Idempotency-Key replays are deleted once they expire (they may hold patient details)."""
    from .models import IdempotencyKey

    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
