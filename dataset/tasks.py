"""Thin Celery tasks of the data set: load the run, call the service. Idempotent: a run already
claimed or finished is left alone (``run_export`` and ``run_import`` claim it with a compare-and-set)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import imports, services

RETRY = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "max_retries": 5,
}


@shared_task(**RETRY)
def run_export(run_id):
    run = services.run_export(run_id)
    return run.status if run else None


@shared_task(**RETRY)
def run_import(run_id):
    run = imports.run_import(run_id)
    return run.status if run else None


@shared_task
def purge_expired_files():
    """Nightly (Celery beat): delete export files past DATASET_KEEP_DAYS."""
    return services.purge_expired_files()
