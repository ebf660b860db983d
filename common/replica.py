"""Read-replica routing: reads that may lag a little go to the replica, everything else to the primary.

Only code that says so reads from the replica (``with replica_reads():`` or ``@replica_reads()``): the
managers' dashboard and the data-set export, which read much and write nothing clinical. Every write
goes to the primary, even of an object that was read from the replica, so a stale copy is never the
one changed. Without a ``replica`` database configured every read stays on the primary.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
_reading = ContextVar("replica_reads", default=False)


def replica_configured():
    return REPLICA in connections.databases


@contextmanager
def replica_reads():
    """Route this block's reads to the replica, when there is one (usable as a decorator too)."""
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if _reading.get() and replica_configured():
            return REPLICA
        return None

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the primary's rows: same objects

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA


def replica_view(view):
    """A view whose reads go to the replica; who is signed in is read from the primary first (a
    replica a moment behind must not sign out someone who has just signed in)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        getattr(request.user, "pk", None)
        with replica_reads():
            return view(request, *args, **kwargs)

    return wrapper
