"""Thin Celery tasks of the data set: load the run, call the service. Idempotent: a run already
claimed or finished is left alone (``run_export`` and ``run_import`` claim it with a compare-and-set)."""

from celery import shared_task

from common.tasks import DATABASE_RETRY

from . import imports, services

RETRY = {**DATABASE_RETRY, "max_retries": 5}


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
