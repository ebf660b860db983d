"""Thin Celery tasks: load ids, call a service, retry on database errors.

Every task is idempotent (a review compares findings with the flags and writes only the differences),
acknowledged late (a worker killed mid-task leaves the message to be delivered again) and retried with
exponential backoff when the database is unavailable.
"""

from celery import shared_task
from django.conf import settings

from common.tasks import DATABASE_RETRY

from . import queries, services


@shared_task(**DATABASE_RETRY)
def review_referral(referral_id):
    """Review one referral (queued after every logged contact, on commit)."""
    return services.review_referral(referral_id).changes


@shared_task(**DATABASE_RETRY)
def review_chunk(referral_ids):
    """Review one chunk of the nightly scan."""
    return services.review_referrals(referral_ids).changes


@shared_task(**DATABASE_RETRY)
def scan_active_referrals(chunk_size=None):
    """The nightly scan (Celery beat): fan the active referrals out in chunks of ids, so that several
    workers share it. Sending a chunk twice is harmless."""
    parts = services.chunks(queries.active_referral_ids(), chunk_size or settings.REVIEW_SCAN_CHUNK_SIZE)
    for part in parts:
        review_chunk.delay(part)
    return len(parts)
