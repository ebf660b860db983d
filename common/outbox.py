"""The outbox: work that must follow a write is recorded with it and dispatched after commit.

A clinical write (a logged session, a step change) calls ``enqueue`` inside its transaction: one
``PendingTask`` row is added beside the write, so the work is kept exactly when the write is. After
commit the row is dispatched:

- no broker configured (the embedded default): the task runs here, in-process;
- a broker: the task is handed to it with short connect and read timeouts; if the broker is slow,
  silent or refused, the task runs here instead, so the clinician's save never waits on it and the
  review is not postponed;
- a row left behind (the process died between commit and dispatch, or the task failed here) is
  dispatched again by ``dispatch_pending``: Celery beat runs it every minute, and so does
  ``manage.py dispatch_outbox``.

Tasks are named, not imported (``send_task``): the layer that writes knows only that a review must
follow, not the module that performs it. Every task sent this way is idempotent.
"""

import logging

from celery import current_app
from django.db import transaction

from .models import PendingTask

log = logging.getLogger(__name__)

# Seconds per broker operation: a save that hands its work to a silent broker waits about twice this
# (connect, then one read) before running the work here instead.
BROKER_TIMEOUT = 0.25


def enqueue(task, **kwargs):
    """Record ``task(**kwargs)`` in the current transaction and dispatch it once the transaction commits."""
    row = PendingTask.objects.create(task=task, kwargs=kwargs)
    transaction.on_commit(lambda: dispatch([row.pk]))
    return row


def dispatch(ids):
    """Hand these pending tasks to the broker (or run them here); remove each one that went."""
    done = []
    for row in PendingTask.objects.filter(pk__in=ids).order_by("created_at", "id"):
        if _send(row):
            done.append(row.pk)
    PendingTask.objects.filter(pk__in=done).delete()
    return len(done)


def dispatch_pending(limit=1000):
    """Dispatch what earlier dispatches left behind, oldest first (beat, and the command)."""
    ids = list(PendingTask.objects.order_by("created_at", "id").values_list("pk", flat=True)[:limit])
    return dispatch(ids)


def _send(row):
    conf = current_app.conf
    broker = None if conf.task_always_eager else (conf.broker_write_url or conf.broker_url)
    if broker:
        try:
            with current_app.connection_for_write(
                broker,
                connect_timeout=BROKER_TIMEOUT,
                transport_options={
                    "socket_timeout": BROKER_TIMEOUT,
                    "socket_connect_timeout": BROKER_TIMEOUT,
                    "max_retries": 0,
                },
            ) as connection:
                current_app.send_task(row.task, kwargs=row.kwargs, connection=connection, retry=False)
            return True
        except Exception as exc:  # any broker failure: run the work here rather than wait for it
            log.warning("Broker unavailable for %s (%s); running it in this process", row.task, exc)
    return _run_here(row)


def _run_here(row):
    if row.task not in current_app.tasks:
        current_app.loader.import_default_modules()  # the apps' tasks modules (autodiscovery), once
    task = current_app.tasks.get(row.task)
    if task is None:
        return _failed(row, f"no task named {row.task}")
    result = task.apply(kwargs=row.kwargs)
    if result.failed():
        return _failed(row, repr(result.result))
    return True


def _failed(row, error):
    log.error("Pending task %s failed: %s; it stays in the outbox", row.task, error)
    PendingTask.objects.filter(pk=row.pk).update(attempts=row.attempts + 1, last_error=error[:2000])
    return False
