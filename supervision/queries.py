"""Supervision reads: prepared case-management lists, sessions and compliance.

Every function runs a fixed number of SQL queries whatever the number of rows, and every patient
record it returns is scoped with ``Referral.objects.visible_to(viewer)``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, Max, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce, Greatest

from common.permissions import sees_whole_team
from common.standards import standards
from referrals.models import CareContact, Referral
from stepped_care.models import (
    FlagRule,
    Recommendation,
    ReviewFlag,
    Role,
    Staff,
    Step,
    StepAssignment,
)
from stepped_care.queries import ALL_TEAMS, staff_of_team

from . import rules
from .models import CaseDecision, SessionAttendance, SupervisionRelationship, SupervisionSession, SupervisionType

CASE_REVIEW_KINDS = (SupervisionType.CASE_MANAGEMENT, SupervisionType.HIGH_INTENSITY)


def parameters(team=None) -> dict:
    """The supervision parameters: national defaults, this deployment's settings, then the team's own."""
    params = standards()["supervision"]
    overrides = ((getattr(team, "review_parameters", None) or {}).get("supervision")) or {}
    return rules.merge(params, overrides) if overrides else params


def _staff_model():
    return Staff


def _referral_model():
    return Referral


def _summary_model():
    return Referral._meta.get_field("summary").related_model  # outcomes' summary, through the relation


def staff_visible_to(user):
    """Staff whose case lists and compliance ``user`` may see: themselves, whom they supervise now,
    and (managers, administrators) their whole team. Anyone else reads as not found."""
    if not user or not user.is_authenticated:
        return staff_of_team(None)
    if user.is_superuser:
        return staff_of_team(ALL_TEAMS, active=None)
    if sees_whole_team(user):
        return staff_of_team(user.team_id, active=None)
    supervised = SupervisionRelationship.objects.filter(supervisor=user, ended_on__isnull=True).values("supervisee")
    return staff_of_team(ALL_TEAMS, active=None).filter(Q(pk=user.pk) | Q(pk__in=supervised))


def supervisees_of(user):
    """Active relationships in which ``user`` supervises, with the supervisee (one query)."""
    return (
        SupervisionRelationship.objects.filter(supervisor=user, ended_on__isnull=True)
        .select_related("supervisee")
        .order_by("supervisee__last_name", "supervisee__first_name", "kind")
    )


def supervisors_of(user):
    return (
        SupervisionRelationship.objects.filter(supervisee=user, ended_on__isnull=True)
        .select_related("supervisor")
        .order_by("kind")
    )


def relationships_visible_to(user):
    if not user or not user.is_authenticated:
        return SupervisionRelationship.objects.none()
    if user.is_superuser:
        return SupervisionRelationship.objects.all()
    if sees_whole_team(user):
        return SupervisionRelationship.objects.filter(supervisee__team_id=user.team_id)
    return SupervisionRelationship.objects.filter(Q(supervisor=user) | Q(supervisee=user))


# ---- The prepared case-management list ----------------------------------------------------------


@dataclass
class CaseRow:
    """One case on a prepared list, ready for a template, a CSV row or the API."""

    referral: object
    step: int | None
    step_label: str
    sessions: int
    dna_count: int
    trends: dict
    reasons: list
    last_decision: dict | None
    last_discussed_on: dt.date | None
    days_since_discussed: int
    open_flags: list = field(default_factory=list)

    @property
    def listed(self):
        return bool(self.reasons)

    @property
    def not_on_track(self):
        """The open not-on-track flag (amber or red) of the review engine, or None."""
        return next((f for f in self.open_flags if f.rule == "not_on_track"), None)

    @property
    def patient(self):
        return self.referral.patient

    @property
    def why(self):
        return "; ".join(r.text for r in self.reasons)


@dataclass
class CaseList:
    supervisee: object
    rows: list[CaseRow]
    last_session_on: dt.date | None
    today: dt.date
    include_all: bool

    @property
    def listed(self):
        return [r for r in self.rows if r.listed]


def _summary(referral):
    try:
        return referral.summary
    except Exception:  # a bare referral without its summary row yet
        return None


def case_list(viewer, supervisee, *, today: dt.date, include_all: bool = False) -> CaseList:
    """The cases ``supervisee`` coordinates that belong in their next case-management supervision,
    each with why it is listed and the last decision, most urgent first. ``include_all`` adds the
    rest of the active caseload after them (for a full caseload walk).

    Five queries whatever the caseload: referrals with patient and summary, contacts, open flags,
    decisions, and the supervisee's last case-review session.
    """

    params = parameters(supervisee.team)
    referrals = list(
        _referral_model()
        .objects.visible_to(viewer)
        .filter(care_coordinator=supervisee)
        .exclude(status="discharged")
        .select_related("patient", "summary")
        .order_by("patient__family_name", "patient__given_name", "id")
    )
    ids = [r.pk for r in referrals]
    contacts = {}
    for rid, day, appt, att in (
        CareContact.objects.valid()
        .filter(referral_id__in=ids)
        .order_by("date")
        .values_list("referral_id", "date", "appointment_type", "attendance")
    ):
        contacts.setdefault(rid, []).append(rules.Contact(day, appt, att))
    flags = {}
    rule_labels, rec_labels = dict(FlagRule.choices), dict(Recommendation.choices)
    for flag in (
        ReviewFlag.objects.filter(referral_id__in=ids)
        .open()
        .risk_first()
        .values("id", "referral_id", "rule", "recommendation", "severity", "explanation")
    ):
        flags.setdefault(flag["referral_id"], []).append(
            rules.OpenFlag(
                id=str(flag["id"]),
                rule=flag["rule"],
                rule_label=rule_labels.get(flag["rule"], flag["rule"]),
                recommendation=flag["recommendation"],
                recommendation_label=rec_labels.get(flag["recommendation"], flag["recommendation"]),
                severity=flag["severity"],
                explanation=flag["explanation"],
            )
        )
    last = {}
    decision_labels = dict(CaseDecision._meta.get_field("decision").choices)
    for row in (
        CaseDecision.objects.valid()
        .filter(referral_id__in=ids)
        .order_by("session__date", "created_at")
        .values("referral_id", "decision", "notes", "to_step", "session__date", "session__kind")
    ):
        last[row["referral_id"]] = {
            "decision": row["decision"],
            "label": decision_labels.get(row["decision"], row["decision"]),
            "date": row["session__date"],
            "notes": row["notes"],
            "to_step": row["to_step"],
        }
    last_session_on = (
        SupervisionSession.objects.valid()
        .filter(attendance__supervisee=supervisee, kind__in=CASE_REVIEW_KINDS, date__lte=today)
        .aggregate(last=Max("date"))["last"]
    )
    step_labels = dict(Step.choices)
    rows = []
    for referral in referrals:
        summary = _summary(referral)
        decided = last.get(referral.pk)
        last_discussed_on = decided["date"] if decided else None
        case = rules.Case(
            received_on=referral.received_on,
            contacts=tuple(contacts.get(referral.pk, ())),
            flags=tuple(flags.get(referral.pk, ())),
            last_discussed_on=last_discussed_on,
            phq9_latest_item9=getattr(summary, "phq9_latest_item9", None),
            last_scored_on=getattr(summary, "last_scored_on", None),
            reliable_deterioration=getattr(summary, "reliable_deterioration", None),
            phq9_first=getattr(summary, "phq9_first", None),
            phq9_last=getattr(summary, "phq9_last", None),
            gad7_first=getattr(summary, "gad7_first", None),
            gad7_last=getattr(summary, "gad7_last", None),
        )
        reasons = rules.case_reasons(case, today=today, last_session_on=last_session_on, params=params)
        if not reasons and not include_all:
            continue
        single = summary is not None and summary.first_scored_on == summary.last_scored_on
        rows.append(
            CaseRow(
                referral=referral,
                step=referral.current_step,
                step_label=step_labels.get(referral.current_step, "No step yet"),
                sessions=getattr(summary, "attended_treatment_contacts", 0),
                dna_count=getattr(summary, "dna_count", 0),
                trends=rules.trends(case, single=single),
                reasons=reasons,
                last_decision=decided,
                last_discussed_on=last_discussed_on,
                days_since_discussed=(today - (last_discussed_on or referral.received_on)).days,
                open_flags=list(case.flags),
            )
        )
    rows.sort(
        key=lambda r: rules.priority_key(
            r.reasons,
            days_since_discussed=r.days_since_discussed,
            name=f"{r.patient.family_name} {r.patient.given_name}",
        )
    )
    return CaseList(supervisee, rows, last_session_on, today, include_all)


def caseload_choices(viewer, supervisees):
    """Active referrals of these supervisees the viewer may see: cases that can be discussed."""
    return (
        _referral_model()
        .objects.visible_to(viewer)
        .filter(care_coordinator__in=supervisees)
        .exclude(status="discharged")
        .select_related("patient")
        .order_by("patient__family_name", "patient__given_name", "id")
    )


# ---- Sessions -----------------------------------------------------------------------------------


def sessions_visible_to(user):
    """Sessions with their people; decisions are only shown for referrals the user may see."""
    Staff = _staff_model()
    return (
        SupervisionSession.objects.visible_to(user)
        .select_related("supervisor", "recorded_by", "signed_off_by", "team")
        .prefetch_related(Prefetch("supervisees", queryset=Staff.objects.order_by("last_name", "first_name")))
        .order_by("-date", "-created_at")
    )


def referral_visible(user):
    """A correlated EXISTS on the row's referral: cheap per decision row, unlike IN over every
    referral the user may see."""
    return Exists(_referral_model().objects.visible_to(user).filter(pk=OuterRef("referral_id")))


def decisions_visible_to(user):
    return (
        CaseDecision.objects.filter(
            referral_visible(user),
            Exists(SupervisionSession.objects.visible_to(user).filter(pk=OuterRef("session_id"))),
        )
        .select_related("session", "referral__patient", "recorded_by", "step_assignment", "corrects")
        .prefetch_related("flags_resolved")
        .order_by("session__date", "created_at")
    )


def session_decisions(user, session):
    return decisions_visible_to(user).filter(session=session)


# ---- Compliance ---------------------------------------------------------------------------------


def high_intensity_cases(coordinator_ids, *, today: dt.date, days: int, detail: bool = True) -> dict:
    """Per high-intensity therapist: cases in treatment, how many are overdue a review, and which.

    A case is overdue when more than ``days`` have passed since it was last discussed in supervision
    or, never discussed, since it became active (the latest of referral, first treatment and current
    step; ``rules.hi_case_overdue``). Counted in the database: one aggregate query, plus one listing
    only the overdue cases when ``detail``. Returns ``{coordinator id: {"active", "overdue_count",
    "overdue": [{"referral_id", "days_since_review", "last_discussed_on"}, ...] longest first}}``.
    """

    if not coordinator_ids:
        return {}
    last_discussed = (
        CaseDecision.objects.valid().filter(referral=OuterRef("pk")).order_by("-session__date").values("session__date")
    )
    step_since = StepAssignment.objects.filter(referral=OuterRef("pk"), ended_on__isnull=True).values("started_on")
    step_since = step_since.order_by()  # one open step per referral (a constraint)
    received = F("received_on")
    first_treatment = _summary_model().objects.filter(referral=OuterRef("pk")).values("first_treatment_on")
    cases = (
        _referral_model()
        .objects.filter(care_coordinator_id__in=coordinator_ids, status="in_treatment")
        .annotate(
            last_discussed=Subquery(last_discussed[:1]),
            # the date the review clock runs from: the last discussion, else when the case became active
            reference=Coalesce(
                "last_discussed",
                Greatest(
                    received,
                    # A lookup per case, not a join: the planner would hash-join every summary of
                    # the service (a full scan) for the few thousand cases in treatment.
                    Coalesce(Subquery(first_treatment[:1]), received),
                    Coalesce(Subquery(step_since[:1]), received),
                ),
            ),
        )
    )
    overdue = Q(reference__lt=today - dt.timedelta(days=days))
    out = {}
    counts = cases.order_by().values("care_coordinator_id").annotate(n=Count("pk"), late=Count("pk", filter=overdue))
    for row in counts:
        out[row["care_coordinator_id"]] = {"active": row["n"], "overdue_count": row["late"], "overdue": []}
    if detail:
        rows = (
            cases.filter(overdue)
            .order_by("reference")
            .values_list("id", "care_coordinator_id", "reference", "last_discussed")
        )
        for rid, coordinator, reference, discussed in rows:
            gap = rules.hi_case_overdue(active_since=reference, last_discussed_on=discussed, today=today, days=days)
            out[coordinator]["overdue"].append(
                {"referral_id": rid, "days_since_review": gap, "last_discussed_on": discussed}
            )
    return out


def compliance(staff, *, today: dt.date, weeks: int | None = None, team=None, detail: bool = True) -> list[dict]:
    """Whether each of these staff got the supervision the guidance asks for over the last ``weeks``.

    Requirements come by role from ``parameters(team)["compliance"]`` (PWPs: case management weekly,
    at least 60 minutes in each 7-day period; clinical skills fortnightly; HI therapists: clinical
    supervision weekly and every case in treatment reviewed within 28 days). Periods run back from
    ``today``; periods before the supervisee's relationship of that kind began are not due.

    Four queries whatever the number of staff (three with ``detail=False``, which leaves out the
    periods one by one and the list of overdue high-intensity cases, keeping their counts: the
    dashboard needs only those). Returns one dict per staff member: ``staff``, ``staff_id``,
    ``name``, ``role``, ``role_display``, ``met`` (None when no requirement applies),
    ``requirements`` (list of dicts: ``kind``, ``label``, ``every_days``, ``min_minutes``,
    ``supervisor_assigned``, ``periods_due``, ``periods_met``, ``met``, ``last_session_on``,
    ``periods`` [``start``, ``end``, ``sessions``, ``minutes``, ``applicable``, ``met``]),
    ``hi_cases`` (None, or ``active``, ``reviewed``, ``met``, ``overdue_count``, ``overdue``
    [``referral_id``, ``days_since_review``, ``last_discussed_on``]) and
    ``unsigned_sessions``.
    """

    staff = list(staff)
    if team is None and staff:
        team = staff[0].team
    params = parameters(team)["compliance"]
    weeks = int(weeks or params["weeks"])
    window_start = today - dt.timedelta(days=weeks * 7 + 31)
    ids = [s.pk for s in staff]
    kind_labels = dict(SupervisionType.choices)
    role_labels = dict(Role.choices)

    starts = {}
    for supervisee_id, kind, started_on in SupervisionRelationship.objects.filter(
        Q(ended_on__isnull=True) | Q(ended_on__gte=window_start), supervisee_id__in=ids
    ).values_list("supervisee_id", "kind", "started_on"):
        key = (supervisee_id, kind)
        starts[key] = min(started_on, starts.get(key, started_on))

    sessions, unsigned, last_session = {}, {}, {}
    for supervisee_id, kind, day, minutes, signed in SessionAttendance.objects.filter(
        supervisee_id__in=ids,
        session__entered_in_error=False,
        session__date__gte=window_start,
        session__date__lte=today,
    ).values_list("supervisee_id", "session__kind", "session__date", "session__minutes", "session__signed_off_at"):
        sessions.setdefault((supervisee_id, kind), []).append((day, minutes))
        key = (supervisee_id, kind)
        last_session[key] = max(day, last_session.get(key, day))
        if signed is None:
            unsigned[supervisee_id] = unsigned.get(supervisee_id, 0) + 1

    hi_roles = set(params["hi_roles"])
    hi_ids = [s.pk for s in staff if s.role in hi_roles]
    hi_cases = high_intensity_cases(hi_ids, today=today, days=params["hi_case_review_days"], detail=detail)

    out = []
    for person in staff:
        results = []
        for req in params["requirements"].get(person.role, []):
            key = (person.pk, req["kind"])
            result = rules.requirement(
                sessions.get(key, []),
                kind=req["kind"],
                today=today,
                weeks=weeks,
                every_days=req["every_days"],
                min_minutes=req.get("min_minutes") or 0,
                applies_from=starts.get(key),
            )
            results.append(
                {
                    "kind": req["kind"],
                    "label": kind_labels.get(req["kind"], req["kind"]),
                    "every_days": result.every_days,
                    "min_minutes": result.min_minutes,
                    "supervisor_assigned": result.supervisor_assigned,
                    "periods_due": len(result.due),
                    "periods_met": result.periods_met,
                    "met": result.met,
                    "last_session_on": last_session.get(key),
                    "periods": [p._asdict() for p in result.periods] if detail else [],
                }
            )
        hi = None
        if person.role in hi_roles:
            entry = hi_cases.get(person.pk, {"active": 0, "overdue_count": 0, "overdue": []})
            hi = {
                "active": entry["active"],
                "reviewed": entry["active"] - entry["overdue_count"],
                "overdue_count": entry["overdue_count"],
                "overdue": entry["overdue"],
                "review_days": params["hi_case_review_days"],
                "met": not entry["overdue_count"],
            }
        checks = [r["met"] for r in results] + ([hi["met"]] if hi else [])
        out.append(
            {
                "staff": person,
                "staff_id": person.pk,
                "name": str(person),
                "role": person.role,
                "role_display": role_labels.get(person.role, person.role),
                "met": all(checks) if checks else None,
                "requirements": results,
                "hi_cases": hi,
                "unsigned_sessions": unsigned.get(person.pk, 0),
            }
        )
    return out


def team_compliance(team, *, today: dt.date, weeks: int | None = None, detail: bool = True) -> list[dict]:
    """Compliance of every active clinician of ``team`` that the guidance covers (for the dashboard)."""
    staff = staff_of_team(team, clinical=True)
    return compliance(staff, today=today, weeks=weeks, team=team, detail=detail)


def compliance_summary(rows: list[dict]) -> dict:
    """Counts for a dashboard tile: staff assessed, staff meeting every requirement, and the share."""
    assessed = [r for r in rows if r["met"] is not None]
    met = sum(1 for r in assessed if r["met"])
    return {"assessed": len(assessed), "met": met, "share": (met / len(assessed)) if assessed else None}
