"""Reads of the audit trail for the managers' audit page and its CSV export (the writer is common.audit)."""

from django.db.models import OuterRef, Q, Subquery, Value
from django.db.models.functions import Concat, Upper

from common import permissions
from common.models import AuditEvent
from referrals.models import Patient


def events_visible_to(user):
    """Events about the team's patients or done by the team's staff (``search_audit`` in the rulebook:
    managers and administrators their team's, superusers everyone's)."""
    if not permissions.may(user, "search_audit"):
        return AuditEvent.objects.none()
    if user.is_superuser:
        return AuditEvent.objects.all()
    team_patients = Patient.objects.filter(team_id=user.team_id).values("pk")
    return AuditEvent.objects.filter(Q(patient_id__in=team_patients) | Q(actor__team_id=user.team_id))


def search(user, *, patient_id=None, actor=None, action="", date_from=None, date_to=None):
    """The events this user may see, newest first, filtered; one query, with actor and patient name."""
    patient = Patient.objects.filter(pk=OuterRef("patient_id"))
    events = (
        events_visible_to(user)
        .select_related("actor")
        .annotate(
            # "SURNAME, Given", as referrals.models.display_name writes it
            patient_name=Subquery(patient.values(name=Concat(Upper("family_name"), Value(", "), "given_name"))[:1]),
            patient_nhs_number=Subquery(patient.values("nhs_number")[:1]),
            patient_date_of_birth=Subquery(patient.values("date_of_birth")[:1]),
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
