"""The audit trail: who did or saw what, when, from where, and what changed.

Writes: ``record`` for every clinical write (services call it) and ``record_view`` for every page or
API response that shows one patient's record (views call it). The request's client address reaches
``record`` through a context variable set by middleware, so services stay free of HTTP objects.
Reads: ``events_visible_to`` and ``search`` for the managers' audit page and its CSV export.
Events are append-only (AuditEvent.save/delete refuse; on PostgreSQL a trigger refuses too).
"""

from contextvars import ContextVar

from django.apps import apps
from django.db.models import OuterRef, Q, Subquery, Value
from django.db.models.functions import Concat

from . import permissions
from .models import AuditEvent

client_address: ContextVar[str | None] = ContextVar("client_address", default=None)

# Short names for record kinds in action codes ("contact.view", not "carecontact.view").
KIND = {
    "referrals.patient": "patient",
    "referrals.referral": "referral",
    "referrals.carecontact": "contact",
    "stepped_care.reviewflag": "flag",
}


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


def patient_id_of(obj):
    """The patient a record belongs to: the patient itself, or via its ``patient`` or ``referral``."""
    if obj._meta.label_lower == "referrals.patient":
        return obj.pk
    if hasattr(obj, "patient_id"):
        return obj.patient_id
    if hasattr(obj, "referral_id"):
        if "referral" in obj._state.fields_cache:
            return obj.referral.patient_id
        Referral = apps.get_model("referrals", "Referral")
        return Referral.objects.filter(pk=obj.referral_id).values_list("patient_id", flat=True).first()
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
    "patient.view": "Patient record viewed",
    "referral.create": "Referral received",
    "referral.view": "Referral viewed",
    "referral.allocate": "Referral allocated",
    "referral.discharge": "Referral discharged",
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


def events_visible_to(user):
    """Events about the team's patients or done by the team's staff (``search_audit`` in the rulebook:
    managers and administrators their team's, superusers everyone's)."""
    if not permissions.may(user, "search_audit"):
        return AuditEvent.objects.none()
    if user.is_superuser:
        return AuditEvent.objects.all()
    Patient = apps.get_model("referrals", "Patient")
    team_patients = Patient.objects.filter(team_id=user.team_id).values("pk")
    return AuditEvent.objects.filter(Q(patient_id__in=team_patients) | Q(actor__team_id=user.team_id))


def search(user, *, patient_id=None, actor=None, action="", date_from=None, date_to=None):
    """The events this user may see, newest first, filtered; one query, with actor and patient name."""
    Patient = apps.get_model("referrals", "Patient")
    patient = Patient.objects.filter(pk=OuterRef("patient_id"))
    events = (
        events_visible_to(user)
        .select_related("actor")
        .annotate(
            patient_name=Subquery(patient.values(name=Concat("given_name", Value(" "), "family_name"))[:1]),
            patient_nhs_number=Subquery(patient.values("nhs_number")[:1]),
        )
        .order_by("-at", "-id")
    )
    if patient_id:
        events = events.filter(patient_id=patient_id)
    if actor is not None:
        events = events.filter(actor=actor)
    if action:
        events = events.filter(action__startswith=action)
    if date_from:
        events = events.filter(at__date__gte=date_from)
    if date_to:
        events = events.filter(at__date__lte=date_to)
    return events
