"""Reads of patient records, always scoped to what the user may see (outsiders get 404 upstream).

Policy: clinicians see referrals they coordinate or have treated, members of the group courses
they facilitate, and their team's unallocated waiting list; supervisors also see their supervisees'
caseloads; managers and administrators see
their team; superusers see everything.
"""

from django.apps import apps
from django.db import models
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Prefetch, Subquery, Value, When
from django.db.models.functions import Coalesce

from common.scoping import InIds, team_scope

WAITING = ("awaiting_assessment", "awaiting_treatment")
TREND_MEASURES = ("PHQ9", "GAD7")


def _treated_by(user):
    """Ids of the referrals this clinician has held a contact for."""
    return apps.get_model("referrals", "CareContact").objects.filter(clinician=user).order_by().values("referral_id")


def _ids(*querysets):
    """The union of these referral querysets' ids (unordered: a compound query's parts may not be)."""
    first, *rest = (qs.order_by().values("pk") for qs in querysets)
    return first.union(*rest) if rest else first


class ReferralQuerySet(models.QuerySet):
    def visible_to(self, user):
        scoped = team_scope(self, user)
        if scoped is not None:
            return scoped
        Relationship = apps.get_model("supervision", "SupervisionRelationship")
        supervisees = Relationship.objects.filter(supervisor=user, ended_on__isnull=True).values("supervisee_id")
        ids = self._case_ids(user, self.model.objects.filter(care_coordinator__in=supervisees))
        return self.filter(InIds("pk", ids))

    def on_the_case_of(self, user):
        """The referrals a clinician is on the case of (common.permissions.on_the_case): coordinates,
        has treated, facilitates a group they are on, or may assess from the team's unallocated waiting
        list. What a clinician sees, less their supervisees' cases (supervisors act through decisions)."""
        if not user or not user.is_authenticated or user.team_id is None:
            return self.none()
        return self.filter(InIds("pk", self._case_ids(user)))

    def _case_ids(self, user, *more):
        Enrolment = apps.get_model("workshops", "Enrolment")
        enrolments = Enrolment.objects.filter(course__facilitators=user, withdrawn_on__isnull=True)
        # One id list, each part found by its own index (see InIds), rather than an OR across the table.
        return _ids(
            self.model.objects.filter(care_coordinator=user),
            self.model.objects.filter(team_id=user.team_id, care_coordinator__isnull=True, status__in=WAITING),
            *more,
        ).union(_treated_by(user), enrolments.order_by().values("referral_id"))

    def caseload_of(self, user):
        """Active referrals this clinician coordinates or treats."""
        ids = _ids(self.model.objects.filter(care_coordinator=user)).union(_treated_by(user))
        return self.exclude(status="discharged").filter(InIds("pk", ids))

    def active(self):
        return self.exclude(status="discharged")

    def with_list_facts(self):
        """Annotate what the caseload and waiting list show, from OutcomeSummary and open flags,
        in the same single query (no per-row queries whatever the list length)."""
        ReviewFlag = apps.get_model("stepped_care", "ReviewFlag")
        open_flags = ReviewFlag.objects.filter(referral=OuterRef("pk"), status="open")
        flag_count = open_flags.order_by().values("referral").annotate(n=Count("pk")).values("n")
        return self.select_related("patient", "care_coordinator").annotate(
            phq9_last=F("summary__phq9_last"),
            gad7_last=F("summary__gad7_last"),
            phq9_latest_item9=F("summary__phq9_latest_item9"),
            attended_contacts=Coalesce(F("summary__attended_contacts"), 0),
            dna_count=Coalesce(F("summary__dna_count"), 0),
            last_contact_on=F("summary__last_contact_on"),
            last_attended_on=F("summary__last_attended_on"),
            open_flag_count=Coalesce(Subquery(flag_count, output_field=IntegerField()), 0),
            has_risk_flag=Exists(open_flags.filter(rule="risk")),
        )

    def with_trends_and_flags(self):
        """Prefetch (one query each) the valid PHQ-9/GAD-7 totals in date order as ``trend_scores``
        and the open flags, risk first, as ``open_flags``."""
        Response = apps.get_model("outcomes", "QuestionnaireResponse")
        scores = (
            Response.objects.filter(measure__in=TREND_MEASURES, entered_in_error=False, contact__entered_in_error=False)
            .order_by("completed_on", "created_at")
            .only("id", "referral_id", "measure", "completed_on", "total")
        )
        return self.prefetch_related(
            Prefetch("questionnaires", queryset=scores, to_attr="trend_scores"),
            Prefetch("flags", queryset=open_flags_risk_first(), to_attr="open_flags"),
        )


def open_flags_risk_first():
    """Open review flags in the order a clinician should read them: risk, then red, amber, green."""
    ReviewFlag = apps.get_model("stepped_care", "ReviewFlag")
    return (
        ReviewFlag.objects.filter(status="open")
        .annotate(
            risk_order=Case(When(rule="risk", then=Value(0)), default=Value(1), output_field=IntegerField()),
            severity_order=Case(
                When(severity="red", then=Value(0)),
                When(severity="amber", then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
        )
        .order_by("risk_order", "severity_order", "-raised_at")
    )


class PatientQuerySet(models.QuerySet):
    def visible_to(self, user):
        scoped = team_scope(self, user)
        if scoped is not None:
            return scoped
        Referral = apps.get_model("referrals", "Referral")
        with_referral = Referral.objects.visible_to(user).order_by().values("patient_id")
        # A patient just registered by this clinician, before any referral, stays visible to the team.
        no_referral = (
            self.model.objects.filter(team_id=user.team_id)
            .filter(~Exists(Referral.objects.filter(patient=OuterRef("pk"))))
            .order_by()
            .values("pk")
        )
        return self.filter(InIds("pk", with_referral.union(no_referral)))  # one id list, as for referrals


class CareContactQuerySet(models.QuerySet):
    def visible_to(self, user):
        Referral = apps.get_model("referrals", "Referral")
        return self.filter(referral__in=Referral.objects.visible_to(user).values("pk"))

    def valid(self):
        return self.filter(entered_in_error=False)
