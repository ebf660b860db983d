"""Thin Celery tasks of the outcomes app."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from stepped_care.models import Team

from . import services

RETRY = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(**RETRY)
def fit_trajectories():
    """The weekly refit of every team's expected recovery curves (Celery beat). Each fit is a new
    version; running it twice only adds a version."""
    return [services.fit_trajectories(team=team).version for team in Team.objects.order_by("pk")]
