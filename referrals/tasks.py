"""Thin Celery tasks of the referrals app."""

from celery import shared_task


@shared_task
def purge_expired_session_drafts():
    """Unsaved session drafts hold patient data: deleted once they expire (Celery beat, nightly)."""
    # imported here, as every task module does (ARCHITECTURE: tasks call services, services may queue tasks)
    from .services import purge_expired_session_drafts as purge

    return purge()
