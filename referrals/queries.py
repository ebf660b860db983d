"""Reads of patient records, always scoped to what the user may see (outsiders get 404 upstream).

Policy: clinicians see referrals they coordinate or have treated, and their team's unallocated
waiting list; supervisors also see their supervisees' caseloads; managers and administrators see
their team; superusers see everything.
"""

from django.apps import apps
from django.db import models
from django.db.models import Exists, OuterRef, Q

WAITING = ("awaiting_assessment", "awaiting_treatment")


def _management_role(user):
    return getattr(user, "role", None) in ("manager", "administrator")


class ReferralQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not user or not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        if user.team_id is None:
            return self.none()
        if _management_role(user):
            return self.filter(team_id=user.team_id)
        CareContact = apps.get_model("referrals", "CareContact")
        Relationship = apps.get_model("supervision", "SupervisionRelationship")
        treated = CareContact.objects.filter(referral=OuterRef("pk"), clinician=user)
        supervised = Relationship.objects.filter(
            supervisor=user, supervisee=OuterRef("care_coordinator"), ended_on__isnull=True
        )
        return self.filter(
            Q(care_coordinator=user)
            | Q(team_id=user.team_id, care_coordinator__isnull=True, status__in=WAITING)
            | Exists(treated)
            | Exists(supervised)
        )

    def caseload_of(self, user):
        """Active referrals this clinician coordinates or treats."""
        CareContact = apps.get_model("referrals", "CareContact")
        treated = CareContact.objects.filter(referral=OuterRef("pk"), clinician=user)
        return self.exclude(status="discharged").filter(Q(care_coordinator=user) | Exists(treated))

    def active(self):
        return self.exclude(status="discharged")


class PatientQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not user or not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        if _management_role(user):
            return self.filter(team_id=user.team_id)
        Referral = apps.get_model("referrals", "Referral")
        visible = Referral.objects.visible_to(user).filter(patient=OuterRef("pk"))
        # A patient just registered by this clinician, before any referral, stays visible to the team.
        no_referral = ~Exists(Referral.objects.filter(patient=OuterRef("pk")))
        return self.filter(Exists(visible) | (Q(team_id=user.team_id) & no_referral))


class CareContactQuerySet(models.QuerySet):
    def visible_to(self, user):
        Referral = apps.get_model("referrals", "Referral")
        return self.filter(referral__in=Referral.objects.visible_to(user).values("pk"))

    def valid(self):
        return self.filter(entered_in_error=False)
