"""The audit trail: one function that every clinical write and every record view calls.

The request's client address reaches it through a context variable set by middleware, so services
stay free of HTTP objects.
"""

from contextvars import ContextVar

from .models import AuditEvent

client_address: ContextVar[str | None] = ContextVar("client_address", default=None)


def record(actor, action, obj, *, patient_id=None, changes=None):
    """Append one audit event. ``obj`` is a model instance (its class and pk are recorded)."""
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        patient_id=patient_id,
        client_address=client_address.get(),
        changes=_jsonable(changes or {}),
    )


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
