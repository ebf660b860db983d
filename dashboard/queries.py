"""The service manager dashboard's numbers, computed in the database with a fixed number of queries.

Every number is a count of referrals in a *cohort* (active caseload, waiting list, open flags,
finished-and-ended in the period, ...) under a *condition*. Both are defined once here (or, for the
outcome metrics, in ``outcomes.queries``) and used twice: aggregated with ``Count(filter=...)`` for
the dashboard, and as ``.filter(...)`` for the drill-down list behind the number. No per-referral
Python loops: Python only reshapes the grouped rows (a few hundred at most) into tables.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, Min, OuterRef, Q

from common.standards import standards
from outcomes.queries import (
    COUNT_NAMES,
    NONE,
    ON_REFERRAL,
    ON_REFERRAL_CHILD,
    MetricFilter,
    empty_metrics,
    referrals_counted,
    service_metrics_overview,
)
from referrals.codes import ACTIVE_STATUSES, ATTENDED_CODES, WAITING_STATUSES, Attendance, ReferralStatus
from referrals.models import CareContact, Referral
from stepped_care.models import CLINICAL_ROLES, FlagRule, FlagStatus, ReviewFlag, Staff, Step, rule_rank
from stepped_care.queries import staff_of_team
from supervision import queries as supervision_queries

# How old an open flag is, for the "open flags by rule and age" table: (key, label, from days, to days).
# A display grouping, not a clinical threshold.
FLAG_AGES = (
    ("under_7", "Under 7 days", 0, 7),
    ("7_to_28", "7 to 28 days", 7, 28),
    ("over_28", "Over 28 days", 28, None),
)


def month_start(day):
    return day.replace(day=1)


def month_end(day):
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def add_months(day, months):
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def default_period(today):
    """The last twelve months, this one included."""
    return add_months(month_start(today), -11), today


# --- waiting list -----------------------------------------------------------------------------------


WAIT_BAND_CHOICES = [
    ("within_6_weeks", "Up to 6 weeks"),
    ("6_to_18_weeks", "Over 6, up to 18 weeks"),
    ("over_18_weeks", "Over 18 weeks"),
]


def wait_bands(today):
    """Current waits (referral received → today, no treatment yet) against the 6- and 18-week standards."""
    waits = standards()["waits"]
    six = today - dt.timedelta(days=waits["six_weeks_days"])
    eighteen = today - dt.timedelta(days=waits["eighteen_weeks_days"])
    conditions = {
        "within_6_weeks": Q(received_on__gte=six),
        "6_to_18_weeks": Q(received_on__lt=six, received_on__gte=eighteen),
        "over_18_weeks": Q(received_on__lt=eighteen),
    }
    return {key: (label, conditions[key]) for key, label in WAIT_BAND_CHOICES}


def hidden_wait_now_q(today):
    """Active referrals whose first treatment was more than the hidden-wait limit ago, with no second yet."""
    limit = today - dt.timedelta(days=standards()["waits"]["hidden_wait_days"])
    return Q(
        status__in=ACTIVE_STATUSES,
        summary__first_treatment_on__lt=limit,
        summary__second_treatment_on__isnull=True,
    )


def _referrals():
    return Referral.objects


def _contacts():
    return CareContact.objects


def _flags():
    return ReviewFlag.objects


def active(referrals, flt):
    return referrals.filter(flt.referral_q(ON_REFERRAL), status__in=ACTIVE_STATUSES)


def waiting_list(flt, today):
    """Waiting referrals by status and wait band, the longest wait, and hidden waits now. One query."""
    bands = wait_bands(today)
    aggregates = {}
    for status in WAITING_STATUSES:
        for band, (_, cond) in bands.items():
            aggregates[f"{status}__{band}"] = Count("pk", filter=Q(status=status) & cond)
    aggregates["hidden_wait_now"] = Count("pk", filter=hidden_wait_now_q(today))
    aggregates["flagged"] = Count("pk", filter=Exists(open_flags_of(OuterRef("pk"))))
    aggregates["oldest_received_on"] = Min("received_on", filter=Q(status__in=WAITING_STATUSES))
    row = active(_referrals(), flt).aggregate(**aggregates)
    oldest = row.pop("oldest_received_on")
    hidden_now = row.pop("hidden_wait_now")
    flagged = row.pop("flagged")
    statuses = []
    for status in WAITING_STATUSES:
        counts = {band: row[f"{status}__{band}"] for band in bands}
        statuses.append({"status": status, "label": ReferralStatus(status).label, "bands": counts})
    totals = {band: sum(s["bands"][band] for s in statuses) for band in bands}
    waiting = sum(totals.values())
    return {
        "bands": {band: label for band, (label, _) in bands.items()},
        "statuses": statuses,
        "totals": totals,
        "waiting": waiting,
        "longest_wait_days": (today - oldest).days if oldest else None,
        "share_within_6_weeks": totals["within_6_weeks"] / waiting if waiting else None,
        "share_within_18_weeks": (totals["within_6_weeks"] + totals["6_to_18_weeks"]) / waiting if waiting else None,
        "hidden_wait_now": hidden_now,
        "flagged": flagged,  # active referrals with at least one open review flag
    }


# --- caseload ---------------------------------------------------------------------------------------


def caseload(flt):
    """Active referrals per care coordinator and step. One query; rows (clinician id, step, count)."""
    rows = (
        active(_referrals(), flt).order_by().values_list("care_coordinator_id", "current_step").annotate(n=Count("pk"))
    )
    return [(c or NONE, s or NONE, n) for c, s, n in rows]


def sessions_q(flt, today, team_staff_ids):
    """Contacts this calendar month held by the team's clinicians, under the referral filters.

    The clinician filter applies to who held the session (not to the referral's coordinator). The
    team is matched through the clinicians, as an explicit id list, so the (clinician, date) index
    finds the month's contacts without reading the rest of the contact table or the referrals.
    """
    ids = [flt.clinician] if flt.clinician and flt.clinician in team_staff_ids else list(team_staff_ids)
    q = Q(entered_in_error=False, date__gte=month_start(today), date__lte=today, clinician_id__in=ids)
    return q & flt.replace(clinician=None, team=None).referral_q(ON_REFERRAL_CHILD)


def sessions_this_month(flt, today, team_staff_ids):
    """Per clinician this month: attended sessions, patients seen, DNAs and appointments. One query."""
    attended = Q(attendance__in=ATTENDED_CODES)
    rows = (
        _contacts()
        .filter(sessions_q(flt, today, team_staff_ids))
        .order_by()
        .values("clinician_id")
        .annotate(
            sessions=Count("pk", filter=attended),
            patients=Count("referral_id", filter=attended, distinct=True),
            dna=Count("pk", filter=Q(attendance=Attendance.DID_NOT_ATTEND)),
            appointments=Count("pk"),
        )
    )
    return {row.pop("clinician_id"): row for row in rows}


# --- flags ------------------------------------------------------------------------------------------


def flag_age_q(age, now, prefix=""):
    for key, _, low, high in FLAG_AGES:
        if key == age:
            q = Q(**{f"{prefix}raised_at__lte": now - dt.timedelta(days=low)})
            if high is not None:
                q &= Q(**{f"{prefix}raised_at__gt": now - dt.timedelta(days=high)})
            return q
    raise KeyError(age)


def open_flags_of(referral):
    return _flags().filter(referral=referral, status=FlagStatus.OPEN)


def open_flags(flt, now):
    """Open review flags of the filtered active referrals, per rule and age. One query."""
    rows = (
        _flags()
        .filter(flt.referral_q(ON_REFERRAL_CHILD), status=FlagStatus.OPEN, referral__status__in=ACTIVE_STATUSES)
        .order_by()
        .values("rule")
        .annotate(**{key: Count("pk", filter=flag_age_q(key, now)) for key, *_ in FLAG_AGES}, total=Count("pk"))
    )
    by_rule = {row.pop("rule"): row for row in rows}
    labels = dict(FlagRule.choices)
    out = []
    for rule, counts in by_rule.items():
        out.append({"rule": rule, "label": labels.get(rule, rule), **counts})
    out.sort(key=lambda r: rule_rank(r["rule"]))
    return out


# --- supervision ------------------------------------------------------------------------------------


def supervision_compliance(team, today):
    """Supervision compliance of the team's clinicians (``supervision.queries``)."""
    rows = supervision_queries.team_compliance(team, today=today, detail=False)
    weeks = supervision_queries.parameters(team)["compliance"]["weeks"]
    return {"available": True, "rows": rows, "summary": supervision_queries.compliance_summary(rows), "weeks": weeks}


# --- the whole dashboard ----------------------------------------------------------------------------


@dataclass
class DashboardData:
    filter: MetricFilter
    today: dt.date
    staff: dict
    caseload: list
    sessions: dict
    waiting: dict
    flags: list
    outcomes: dict
    by_month: list
    by_step: list
    by_clinician: list
    supervision: dict


def team_staff(team_id):
    """The team's staff, id -> (name, role label, clinical?). One query."""
    rows = staff_of_team(team_id, active=None)
    labels = dict(Staff._meta.get_field("role").choices)
    return {
        s.pk: {
            "name": s.get_full_name() or s.username,
            "role": labels.get(s.role, s.role),
            "clinical": s.role in CLINICAL_ROLES,
            "active": s.is_active,
        }
        for s in rows.only("id", "first_name", "last_name", "username", "role", "is_active")
    }


def months_between(start, end):
    months, day = [], month_start(start)
    while day <= end:
        months.append(day)
        day = add_months(day, 1)
    return months


def dashboard(team, flt, *, today, now, staff=None):
    """Every number of the dashboard for one team (``flt.team`` is its id) and filter."""
    if flt.team != team.pk:
        raise ValueError("The dashboard is for the filter's team.")
    staff = team_staff(flt.team) if staff is None else staff
    overview = service_metrics_overview(flt, ("month", "step", "clinician"))
    by_month = dict(overview["month"])
    months = months_between(flt.start, flt.end) if flt.start and flt.end else sorted(by_month)
    empty = empty_metrics()
    return DashboardData(
        filter=flt,
        today=today,
        staff=staff,
        caseload=caseload(flt),
        sessions=sessions_this_month(flt, today, staff),
        waiting=waiting_list(flt, today),
        flags=open_flags(flt, now),
        outcomes=overview["total"],
        by_month=[(m, by_month.get(m) or empty) for m in months],
        by_step=overview["step"],
        by_clinician=overview["clinician"],
        supervision=supervision_compliance(team, today),
    )


# --- drill-down -------------------------------------------------------------------------------------

OUTCOME_METRICS = COUNT_NAMES
CASELOAD_METRICS = ("active", "sessions_month", "waiting", "hidden_wait_now", "open_flags")
METRICS = (*OUTCOME_METRICS, *CASELOAD_METRICS)


class DrilldownError(ValueError):
    """A drill-down request that names no known metric or a bad dimension; ``field`` says which."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field
        self.message = message


def drilldown(referrals, metric, flt, *, today, now, staff=(), month=None, status=None, band=None, rule=None, age=None):
    """The referrals behind one dashboard number: ``referrals`` already scoped to the user.

    Dimensions narrow the number the way its table row or column did: ``month`` (first day of the
    month the referral ended), ``status`` and ``band`` (waiting list), ``rule`` and ``age`` (flags);
    clinician and step rows narrow ``flt`` itself.
    """
    if metric in OUTCOME_METRICS:
        if month is not None:
            start = max(month, flt.start) if flt.start else month
            end = min(month_end(month), flt.end) if flt.end else month_end(month)
            flt = flt.replace(start=start, end=end)
        return referrals_counted(referrals, flt, metric)
    if metric == "active":
        return active(referrals, flt)
    if metric == "sessions_month":
        attended = _contacts().filter(
            sessions_q(flt, today, staff), attendance__in=ATTENDED_CODES, referral=OuterRef("pk")
        )
        return referrals.filter(Exists(attended))
    if metric == "waiting":
        qs = active(referrals, flt).filter(status__in=WAITING_STATUSES)
        if status is not None:
            if status not in WAITING_STATUSES:
                raise DrilldownError("status", "Choose a waiting status: awaiting assessment or awaiting treatment.")
            qs = qs.filter(status=status)
        if band is not None:
            bands = wait_bands(today)
            if band not in bands:
                raise DrilldownError("band", "Choose a wait band: " + ", ".join(bands) + ".")
            qs = qs.filter(bands[band][1])
        return qs
    if metric == "hidden_wait_now":
        return active(referrals, flt).filter(hidden_wait_now_q(today))
    if metric == "open_flags":
        flags = open_flags_of(OuterRef("pk"))
        if rule is not None:
            if rule not in FlagRule.values:
                raise DrilldownError("rule", "Choose a flag rule.")
            flags = flags.filter(rule=rule)
        if age is not None:
            try:
                flags = flags.filter(flag_age_q(age, now))
            except KeyError:
                raise DrilldownError("age", "Choose a flag age band.") from None
        return active(referrals, flt).filter(Exists(flags))
    raise DrilldownError("metric", "Choose a dashboard number to list the referrals behind.")


STEP_CHOICES = [(NONE, "Not yet on a step"), *Step.choices]
