"""Reads of patient records, always scoped to what the user may see (outsiders get 404 upstream).

Policy: clinicians see referrals they coordinate or have treated, members of the group courses
they facilitate, and their team's unallocated waiting list; supervisors also see their supervisees'
caseloads; managers and administrators see
their team; superusers see everything.
"""

from functools import cache
from typing import NamedTuple

from django.apps import apps
from django.db import models
from django.db.models import CharField, Count, Exists, F, IntegerField, OuterRef, Q, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from common.permissions import sees_whole_team
from common.plausibility import digits_only
from common.scoping import InIds, team_scope, user_ids_sql
from outcomes.models import QuestionnaireResponse
from outcomes.problems import ProblemRecord, deciding
from outcomes.scoring import PHQ9, RISK_ITEM
from stepped_care.models import FlagRule, Recommendation, ReviewFlag

# The QuerySets below are attached by this app's models.py, which imports this module: they name this
# app's own models through ``apps.get_model`` at call time (the one reason for it here).

WAITING = ("awaiting_assessment", "awaiting_treatment")
NHS_NUMBER_LENGTH = 10
SEPARATORS = str.maketrans("", "", " -")
TREND_MEASURES = ("PHQ9", "GAD7")


def _treated_by(user):
    """Ids of the referrals this clinician has held a contact for."""
    return apps.get_model("referrals", "CareContact").objects.filter(clinician=user).order_by().values("referral_id")


def _ids(*querysets):
    """The union of these referral querysets' ids (unordered: a compound query's parts may not be)."""
    first, *rest = (qs.order_by().values("pk") for qs in querysets)
    return first.union(*rest) if rest else first


def _covered_by(model, user, today=None):
    """Referrals with a live appointment of a colleague this clinician covers (``Leave.cover``) on a day
    of that leave, while the leave lasts: the cover sees the absent clinician's day and records its
    outcomes. Reached through the appointment's clinician's ``leave`` (one filter: the same joins)."""
    today = today or timezone.localdate()
    leave = "appointments__clinician__leave__"
    return model.objects.filter(
        **{
            "appointments__status__in": ("booked", "done"),
            f"{leave}cover": user,
            f"{leave}starts_on__lte": today,
            f"{leave}ends_on__gte": today,
            "appointments__starts_at__date__gte": F(f"{leave}starts_on"),
            "appointments__starts_at__date__lte": F(f"{leave}ends_on"),
        }
    )


class ReferralQuerySet(models.QuerySet):
    def visible_to(self, user):
        scoped = team_scope(self, user)
        if scoped is not None:
            return scoped
        return self.filter(InIds("pk", user_ids_sql("referrals.visible", self._visible_ids, user, self.db)))

    def _visible_ids(self, user, today=None):
        """The ids of the referrals a clinician sees: their cases and their supervisees' (see visible_to).
        Supervision and group courses build on referrals, so they are reached through their relations
        (the supervisor's ``supervising`` relationships, a referral's ``enrolments``), not imported."""
        supervisees = user.supervising.filter(ended_on__isnull=True).values("supervisee_id")
        return self._case_ids(user, self.model.objects.filter(care_coordinator__in=supervisees), today=today)

    def on_the_case_of(self, user):
        """The referrals a clinician is on the case of (common.permissions.on_the_case): coordinates,
        has treated or is booked to see (or covers a colleague on leave who is), facilitates a group they
        are on, or may assess from the team's
        unallocated waiting list. What a clinician sees, less their supervisees' cases (supervisors act
        through decisions)."""
        if not user or not user.is_authenticated or user.team_id is None:
            return self.none()
        return self.filter(InIds("pk", user_ids_sql("referrals.on_the_case", self._case_ids, user, self.db)))

    def _case_ids(self, user, *more, today=None):
        in_my_groups = self.model.objects.filter(
            enrolments__course__facilitators=user, enrolments__withdrawn_on__isnull=True
        )
        # One id list, each part found by its own index (see InIds), rather than an OR across the table.
        return _ids(
            self.model.objects.filter(care_coordinator=user),
            self.model.objects.filter(team_id=user.team_id, care_coordinator__isnull=True, status__in=WAITING),
            in_my_groups,
            # booked to see them (appointments hang off the referral; reached by relation, not imported)
            self.model.objects.filter(appointments__clinician=user, appointments__status__in=("booked", "done")),
            _covered_by(self.model, user, today),
            *more,
        ).union(_treated_by(user))

    def caseload_of(self, user):
        """Active referrals this clinician coordinates or treats."""
        ids = user_ids_sql("referrals.caseload", self._caseload_ids, user, self.db)
        return self.exclude(status="discharged").filter(InIds("pk", ids))

    def _caseload_ids(self, user, today=None):
        return _ids(self.model.objects.filter(care_coordinator=user)).union(_treated_by(user))

    def active(self):
        return self.exclude(status="discharged")

    def with_list_facts(self):
        """Annotate what the caseload and waiting list show, from OutcomeSummary and open flags,
        in the same single query (no per-row queries whatever the list length)."""
        open_flags = ReviewFlag.objects.filter(referral=OuterRef("pk"), status="open")
        flag_count = open_flags.order_by().values("referral").annotate(n=Count("pk")).values("n")
        return self.select_related("patient", "care_coordinator").annotate(
            phq9_last=F("summary__phq9_last"),
            gad7_last=F("summary__gad7_last"),
            phq9_latest_item9=F("summary__phq9_latest_item9"),
            # "sessions attended": one meaning everywhere (outcomes.metrics.SESSIONS_ATTENDED_MEANS)
            sessions_attended=Coalesce(F("summary__attended_treatment_contacts"), 0),
            dna_count=Coalesce(F("summary__dna_count"), 0),
            last_contact_on=F("summary__last_contact_on"),
            last_attended_on=F("summary__last_attended_on"),
            open_flag_count=Coalesce(Subquery(flag_count, output_field=IntegerField()), 0),
            has_risk_flag=Exists(open_flags.filter(rule="risk")),
        )

    def with_next_appointment(self):
        """Annotate ``next_appointment``: the soonest booked appointment's start, None when not booked
        (one subquery, no more queries). Appointments hang off the referral: reached by its relation."""
        Appointment = self.model._meta.get_field("appointments").related_model
        booked = Appointment.objects.filter(referral=OuterRef("pk"), status="booked").order_by("starts_at")
        return self.annotate(next_appointment=Subquery(booked.values("starts_at")[:1]))

    def with_trends_and_flags(self):
        """Fetch (one query each) the valid PHQ-9/GAD-7 totals in date order as ``trend_scores`` and the
        open flags, most urgent first (``ReviewFlag.objects.risk_first``), as ``open_flags``.

        Both come as plain rows (``TrendScore``, ``OpenFlag``), not model instances: a caseload of 60
        has hundreds of them, and building an instance each cost more than the queries (issue 22)."""
        qs = self._chain()
        qs._with_trends = True
        return qs

    def _clone(self):
        clone = super()._clone()
        clone._with_trends = getattr(self, "_with_trends", False)
        return clone

    def _fetch_all(self):
        fetched = self._result_cache is not None
        super()._fetch_all()
        if not fetched and getattr(self, "_with_trends", False) and self._result_cache:
            attach_trend_scores(self._result_cache)
            attach_open_flags(self._result_cache)


def waiting_list_of(user, defer=()):
    """The user's team's referrals waiting (as they see them), with what a waiting-list row shows
    (``with_list_facts``, ``with_next_appointment``), ``defer`` deferred; filter and order it further.

    The annotations are resolved once per process (``_waiting_list_base``) and cloned for each call:
    resolving them cost more Python than the page's query takes SQL (issue 22). The SQL is the same
    as building them per call (tests/referrals/test_views.py holds it)."""
    return _waiting_list_base(tuple(defer)).all().visible_to(user).filter(team_id=user.team_id, status__in=WAITING)


@cache
def _waiting_list_base(defer):
    # Never evaluated itself (no result cache is shared): each call clones it with .all().
    Referral = apps.get_model("referrals", "Referral")
    return Referral.objects.with_list_facts().with_next_appointment().defer(*defer)


class TrendScore(NamedTuple):
    """One valid PHQ-9 or GAD-7 total of a referral, for its trend line."""

    measure: str
    total: object
    completed_on: object


class OpenFlag(NamedTuple):
    """What a list row shows of an open review flag (its badge)."""

    id: object
    rule: str
    recommendation: str
    severity: str
    explanation: str

    @property
    def rule_label(self):
        return RULE_LABELS.get(self.rule, self.rule)

    @property
    def recommendation_label(self):
        return RECOMMENDATION_LABELS.get(self.recommendation, self.recommendation)


RULE_LABELS = {value: str(label) for value, label in FlagRule.choices}
RECOMMENDATION_LABELS = {value: str(label) for value, label in Recommendation.choices}


def attach_open_flags(referrals):
    """Set ``open_flags`` on each referral (model instances): its open flags, most urgent first, in
    one query."""
    by_referral = {r.pk.hex: [] for r in referrals if isinstance(r, models.Model)}
    if not by_referral:
        return
    rows = (
        ReviewFlag.objects.open()
        .filter(referral_id__in=[r.pk for r in referrals if isinstance(r, models.Model)])
        .risk_first()
        .values_list(Cast("referral_id", CharField()), "id", "rule", "recommendation", "severity", "explanation")
    )
    for rid, *flag in rows:
        by_referral[rid.replace("-", "")].append(OpenFlag(*flag))
    for referral in referrals:
        if isinstance(referral, models.Model):
            referral.open_flags = by_referral[referral.pk.hex]


def attach_trend_scores(referrals):
    """Set ``trend_scores`` on each referral (model instances): its valid PHQ-9/GAD-7 totals in date
    order, in one query."""
    by_referral = {r.pk.hex: [] for r in referrals if isinstance(r, models.Model)}
    if not by_referral:
        return
    rows = (
        QuestionnaireResponse.objects.filter(
            Q(contact__isnull=True) | Q(contact__entered_in_error=False),
            referral_id__in=[r.pk for r in referrals if isinstance(r, models.Model)],
            measure__in=TREND_MEASURES,
            entered_in_error=False,
        )
        .order_by("completed_on", "created_at")
        # The referral id as text: hundreds of rows need no uuid objects made, only matched.
        # PHQ-9 and GAD-7 totals are whole numbers: read as integers, no Decimal made and converted.
        .values_list(Cast("referral_id", CharField()), "measure", Cast("total", IntegerField()), "completed_on")
    )
    for rid, measure, total, on in rows:
        by_referral[rid.replace("-", "")].append(TrendScore(measure, total, on))  # as uuid.hex, any database
    for referral in referrals:
        if isinstance(referral, models.Model):
            referral.trend_scores = by_referral[referral.pk.hex]


class Answer(NamedTuple):
    """What the contacts timeline and the questionnaire table show of a contact's questionnaire."""

    measure: str
    total: object
    entered_in_error: bool
    item_9: int | None  # PHQ-9's risk item (QuestionnaireResponse.item_9); None for other measures


def timeline(referral):
    """The referral's contacts, newest first, with their clinician and, in the ``questionnaires``
    prefetch slot, their questionnaires oldest first as plain rows (``Answer``): two queries, as
    ``prefetch_related("questionnaires")`` made, without building a model instance per answer (the
    referral page's busiest cases have dozens; issue 22)."""
    contacts = list(referral.contacts.select_related("clinician").order_by("-date", "-time", "-created_at"))
    answers = {contact.pk: [] for contact in contacts}
    if answers:  # as a prefetch: no query for no contacts
        rows = (
            QuestionnaireResponse.objects.filter(contact_id__in=list(answers))
            .order_by("completed_on", "created_at")  # the model's ordering, which the prefetch had
            .annotate(item9=Cast(KeyTextTransform(str(RISK_ITEM - 1), "items"), IntegerField()))
            .values_list("contact_id", "measure", "total", "entered_in_error", "item9")
        )
        for contact_id, measure, total, in_error, item9 in rows:
            answers[contact_id].append(Answer(measure, total, in_error, item9 if measure == PHQ9 else None))
    for contact in contacts:
        contact._prefetched_objects_cache = {"questionnaires": answers[contact.pk]}
    return contacts


def own_scores(referral, limit=None):
    """The questionnaires the patient completed on their own (no contact) for this referral, newest
    first (``limit`` of them), for the questionnaire table and the next session form."""
    scores = QuestionnaireResponse.objects.filter(referral=referral, contact__isnull=True, entered_in_error=False)
    scores = scores.order_by("-completed_on", "-created_at")
    return list(scores[:limit] if limit else scores)


def patient_search(text="", *, family_name="", date_of_birth=None, prefix=""):
    """The one patient search, as a condition on patients (``prefix="patient__"`` on referrals).

    ``text`` is what a person types in a search box:

    - an NHS number, with or without spaces or dashes ("943 476 5919"): ten digits find that number,
      fewer find numbers that start with them;
    - "SURNAME, Given", the way the app itself shows names ("QUILL, Jo" or "Quill,"): the part before
      the comma is in the family name, the part after in the given name;
    - words in any order ("Jo Quill", "Quill Jo", "quill"): every word is in the given or family name.

    The API's structured search adds ``family_name`` (the start of it) and ``date_of_birth``; every
    part given must match. Nothing given matches everybody.
    """
    condition = Q()
    text = " ".join((text or "").split())
    digits = text.translate(SEPARATORS)
    if text and digits_only(digits):  # '0'-'9' only: '²'.isdigit() is true
        lookup = "exact" if len(digits) == NHS_NUMBER_LENGTH else "startswith"
        condition &= Q(**{f"{prefix}nhs_number__{lookup}": digits})
    elif "," in text:
        family, given = (part.strip() for part in text.split(",", 1))
        if family:
            condition &= Q(**{f"{prefix}family_name__icontains": family})
        if given:
            condition &= Q(**{f"{prefix}given_name__icontains": given})
    else:
        for word in text.split():
            condition &= Q(**{f"{prefix}given_name__icontains": word}) | Q(**{f"{prefix}family_name__icontains": word})
    if family_name:
        condition &= Q(**{f"{prefix}family_name__istartswith": family_name.strip()})
    if date_of_birth is not None:
        condition &= Q(**{f"{prefix}date_of_birth": date_of_birth})
    return condition


class PatientQuerySet(models.QuerySet):
    def visible_to(self, user):
        scoped = team_scope(self, user)
        if scoped is not None:
            if sees_whole_team(user) and not user.is_superuser:  # and the people their team registered too
                return self.registered_with(user.team_id)
            return scoped
        Referral = apps.get_model("referrals", "Referral")
        with_referral = Referral.objects.visible_to(user).order_by().values("patient_id")
        # A patient just registered by this clinician's team, before the team has a referral for them,
        # stays visible to the team (another team's referrals of the same person never show here).
        no_referral = (
            self.model.objects.registered_with(user.team_id)
            .filter(~Exists(Referral.objects.filter(patient=OuterRef("pk"), team_id=user.team_id)))
            .order_by()
            .values("pk")
        )
        return self.filter(InIds("pk", with_referral.union(no_referral)))  # one id list, as for referrals

    def _registered_by_other_teams(self, team_id):
        """Patients first registered by another team whom this team registered too (PatientRegistration)."""
        registrations = apps.get_model("referrals", "PatientRegistration").objects
        return registrations.filter(team_id=team_id).values("patient_id")

    def registered_with(self, team_id):
        """Patients registered with the team: first by it, or linked to it since (either way, its people)."""
        return self.filter(Q(team_id=team_id) | Q(pk__in=self._registered_by_other_teams(team_id)))


class CareContactQuerySet(models.QuerySet):
    def visible_to(self, user):
        Referral = apps.get_model("referrals", "Referral")
        return self.filter(referral__in=Referral.objects.visible_to(user).values("pk"))

    def valid(self):
        return self.filter(entered_in_error=False)


def deciding_problem(referral):
    """The presenting problem that decides the referral's anxiety measure (one query), or None."""
    return deciding(
        ProblemRecord(*row)
        for row in referral.presenting_problems.values_list(
            "code", "significance", "recorded_on", "created_at", "problem"
        )
    )
