"""The audit trail: who did or saw what, when, from where, and what changed.

Writes, the one writer: ``record`` for every clinical write (services call it), ``record_many`` for
many at once (the review engine, a group register) and ``record_view`` for every page or API response
that shows one patient's record (views call it). Work nobody signed in did is recorded with a named
``SystemActor`` (``REVIEW_ENGINE``), never anonymously. The request's client address reaches
``record`` through a context variable set by middleware, so services stay free of HTTP objects.
Reads of the trail (the managers' audit page) live in ``dashboard.audit``.
Events are append-only (AuditEvent.save/delete refuse; on PostgreSQL a trigger refuses too).
"""

from contextvars import ContextVar

from .models import AuditEvent

client_address: ContextVar[str | None] = ContextVar("client_address", default=None)

# Short names for record kinds in action codes ("contact.view", not "carecontact.view").
KIND = {
    "referrals.patient": "patient",
    "referrals.referral": "referral",
    "referrals.carecontact": "contact",
    "stepped_care.reviewflag": "flag",
}


class SystemActor(str):
    """Background work that acts on records: named in the trail as who did it."""


REVIEW_ENGINE = SystemActor("review engine")


def event(actor, action, obj=None, *, patient_id=None, changes=None, object_type=None, object_id=None, at=None):
    """One audit event, not yet saved: ``obj`` is a model instance (its class and pk are recorded), or
    give ``object_type`` and ``object_id``. ``actor`` is a signed-in person or a ``SystemActor``."""
    person = actor if getattr(actor, "is_authenticated", False) else None
    fields = {"at": at} if at is not None else {}
    return AuditEvent(
        actor=person,
        system_actor=str(actor) if isinstance(actor, SystemActor) else "",
        action=action,
        object_type=object_type if object_type is not None else (obj._meta.label_lower if obj is not None else ""),
        object_id=object_id if object_id is not None else (str(obj.pk) if obj is not None else ""),
        patient_id=patient_id,
        client_address=client_address.get(),
        changes=_jsonable(changes or {}),
        **fields,
    )


def record(actor, action, obj, *, patient_id=None, changes=None):
    """Append one audit event (see ``event``)."""
    new = event(actor, action, obj, patient_id=patient_id, changes=changes)
    new.save()
    return new


def record_many(events):
    """Append many events made by ``event`` in one insert."""
    return AuditEvent.objects.bulk_create(list(events), batch_size=1000)


def patient_id_of(obj):
    """The patient a record belongs to: the patient itself, or via its ``patient`` or ``referral``."""
    if obj._meta.label_lower == "referrals.patient":
        return obj.pk
    if hasattr(obj, "patient_id"):
        return obj.patient_id
    if hasattr(obj, "referral_id"):
        if "referral" in obj._state.fields_cache:
            return obj.referral.patient_id
        return obj.referral.patient_id  # one query, through the record's own relation
    return None


def record_view(request, obj, *, action=None, patient_id=None):
    """Record that the signed-in person saw ``obj`` (a patient, referral, contact, flag ...).

    Call it from every view that shows one patient's record, after the scoped lookup succeeded.
    The access-matrix test fails for any patient-record page that does not.
    """
    kind = KIND.get(obj._meta.label_lower, obj._meta.model_name)
    return record(request.user, action or f"{kind}.view", obj, patient_id=patient_id or patient_id_of(obj))


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


# --- reads: the managers' audit page ------------------------------------------------------------

ACTION_LABELS = {
    "patient.create": "Patient registered",
    "patient.update": "Patient details changed",
    "patient.link": "Patient known to the service registered with this team",
    "draft.save": "Unsaved session draft kept",
    "draft.restore": "Unsaved session draft restored",
    "draft.discard": "Unsaved session draft discarded",
    "patient.view": "Patient record viewed",
    "referral.create": "Referral received",
    "referral.view": "Referral viewed",
    "referral.allocate": "Referral allocated",
    "referral.discharge": "Referral discharged",
    "referral.presenting_problem": "Presenting problem recorded",
    "referral.fhir.view": "Referral exported as FHIR (patient, questionnaires, scores)",
    "contact.create": "Session logged",
    "contact.view": "Session viewed",
    "contact.entered_in_error": "Session marked entered in error",
    "step.change": "Step changed",
    "flag.view": "Review flag viewed",
    "flag.raise": "Review flag raised",
    "flag.update": "Review flag updated",
    "flag.clear": "Review flag closed (condition cleared)",
    "flag.accept": "Review flag accepted",
    "flag.dismiss": "Review flag dismissed",
    "audit.search": "Audit trail searched",
    "audit.export": "Audit trail exported",
    "auth.two_factor_enabled": "Two-factor sign-in turned on",
    "auth.two_factor_disabled": "Two-factor sign-in turned off",
    "auth.two_factor_verified": "Signed in with a second factor",
    "auth.two_factor_failed": "Wrong second-factor code",
}


def action_label(action):
    """Words for an action code; unknown codes read as words too ("flag.accept" → "Flag accept")."""
    return ACTION_LABELS.get(action) or action.replace(".", " ").replace("_", " ").capitalize()
