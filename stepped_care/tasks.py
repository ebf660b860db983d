"""Thin Celery tasks: load ids, call a service. The review engine fills these in (issue 5)."""

from celery import shared_task


@shared_task(acks_late=True)
def review_referral(referral_id):
    from .services import review_referral as review

    return review(referral_id)
