"""Thin Celery tasks of the outcomes app."""

from celery import shared_task

from common.tasks import DATABASE_RETRY
from stepped_care.models import Team

from . import services


@shared_task(**DATABASE_RETRY)
def fit_trajectories():
    """The weekly refit of every team's expected recovery curves (Celery beat). Each fit is a new
    version; running it twice only adds a version."""
    return [services.fit_trajectories(team=team).version for team in Team.objects.order_by("pk")]
