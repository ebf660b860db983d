"""Service metrics (DOMAIN.md §3) computed by database aggregation over the outcome summary.

One row of ``OutcomeSummary`` per referral holds its first and last scores, its classification and
its treatment dates, so a year of a large service aggregates in one query instead of walking a
million contact and score rows. The cohort is the national one: referrals that *finished a course
of treatment* and *ended in the period*; waits and hidden waits are measured for the same referrals.

Every count is defined once, as a condition on the summary (:func:`count_conditions`). The same
conditions count (``Count(filter=...)``) and list (``.filter(...)``) the referrals, so a number on
the dashboard and its drill-down list cannot disagree. Paths are relative to either model
(``ON_SUMMARY`` or ``ON_REFERRAL``), because aggregates start from the summary while drill-down
lists start from the referral.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace

from django.db import connection, connections
from django.db.models import (
    Count,
    F,
    FilteredRelation,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.db.models.lookups import GreaterThan, LessThanOrEqual

from common.scoping import rows_of
from common.standards import standards
from referrals.models import CareContact, Referral

from . import trajectories
from .metrics import service_rates
from .models import OutcomeSummary, QuestionnaireResponse, TrajectoryFit
from .trajectories import Cell, Curves, band_cases


@dataclass(frozen=True)
class Paths:
    """Where the summary's and the referral's fields are, seen from the model a query starts on."""

    summary: str
    referral: str

    def s(self, name):
        return self.summary + name

    def r(self, name):
        return self.referral + name


ON_SUMMARY = Paths(summary="", referral="referral__")
ON_REFERRAL = Paths(summary="summary__", referral="")
ON_REFERRAL_CHILD = Paths(summary="referral__summary__", referral="referral__")  # contacts, flags
NONE = 0  # filter value meaning "no care coordinator" / "no step yet"


@dataclass(frozen=True)
class MetricFilter:
    """Which referrals a service metric covers. ``None`` means "any"; dates are inclusive."""

    team: int | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    clinician: int | None = None  # the care coordinator
    step: int | None = None  # the referral's current (for ended referrals: last) step
    presenting_problem: str | None = None
    ltc_pathway: bool | None = None

    def replace(self, **changes):
        return replace(self, **changes)

    def as_params(self):
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    def referral_q(self, paths=ON_SUMMARY):
        """The filters on the referral's own attributes (team, clinician, step, problem, LTC).

        ``clinician=NONE`` selects referrals without a care coordinator, ``step=NONE`` those not yet
        on a step (real ids and steps start at 1).
        """
        q = Q()
        if self.team is not None:
            q &= Q(**{paths.r("team_id"): self.team})
        if self.clinician == NONE:
            q &= Q(**{paths.r("care_coordinator__isnull"): True})
        elif self.clinician is not None:
            q &= Q(**{paths.r("care_coordinator_id"): self.clinician})
        if self.step == NONE:
            q &= Q(**{paths.r("current_step__isnull"): True})
        elif self.step is not None:
            q &= Q(**{paths.r("current_step"): self.step})
        if self.presenting_problem:
            q &= Q(**{paths.r("presenting_problem"): self.presenting_problem})
        if self.ltc_pathway is not None:
            q &= Q(**{paths.r("ltc_pathway"): self.ltc_pathway})
        return q

    def cohort_q(self, paths=ON_SUMMARY):
        """Finished a course of treatment and ended in the period, plus the referral filters.

        The team is also matched on the summary's own team column, so the ``(team, ended_on)``
        index of the summary serves the period filter from either side of the join.
        """
        q = Q(**{paths.s("finished_treatment"): True, paths.s("ended_on__isnull"): False})
        if self.team is not None:
            q &= Q(**{paths.s("team_id"): self.team})
        if self.start is not None:
            q &= Q(**{paths.s("ended_on__gte"): self.start})
        if self.end is not None:
            q &= Q(**{paths.s("ended_on__lte"): self.end})
        return q & self.referral_q(paths)


class DaysBetween(Func):
    """Whole days from ``earlier`` to ``later`` (two dates), as an integer.

    PostgreSQL subtracts dates to an integer directly, which is much cheaper per row than Django's
    generic date difference (an interval multiplied out and compared with an interval).
    """

    output_field = IntegerField()
    arity = 2

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra_context,
        )

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="(%(expressions)s)", arg_joiner=" - ", **extra_context)


def _days(later, earlier):
    return DaysBetween(F(later), F(earlier))


def count_conditions(paths=ON_SUMMARY):
    """name -> condition, for every referral count of the service metrics (within the cohort).

    The names are the keys ``outcomes.metrics.service_rates`` expects, plus a few shown alongside.
    """
    waits = standards()["waits"]
    s = paths.s
    wait = _days(s("first_treatment_on"), paths.r("received_on"))
    gap = _days(s("second_treatment_on"), s("first_treatment_on"))
    return {
        "finished": Q(),
        "not_caseness": Q(**{s("caseness_at_start"): False}),
        # finished − not at caseness: the recovery denominator (a not-computable referral stays in it)
        "at_caseness": ~Q(**{s("caseness_at_start"): False}),
        "not_computable": Q(**{s("computable"): False}),
        # a specific anxiety disorder (the presenting problem calls for an ADSM), and those of them whose
        # outcome was measured with that ADSM (two or more of its scores), not with GAD-7
        "specific_anxiety": ~Q(**{s("adsm"): ""}),
        "measured_with_adsm": ~Q(**{s("adsm"): ""}) & Q(**{s("anxiety_measure"): F(s("adsm"))}),
        "recovered": Q(**{s("recovered"): True}),
        "reliable_improvement": Q(**{s("reliable_improvement"): True}),
        "reliable_deterioration": Q(**{s("reliable_deterioration"): True}),
        "reliable_recovery": Q(**{s("reliable_recovery"): True}),
        "waits_measured": Q(**{s("first_treatment_on__isnull"): False}),
        "within_6_weeks": Q(LessThanOrEqual(wait, waits["six_weeks_days"])),
        "within_18_weeks": Q(LessThanOrEqual(wait, waits["eighteen_weeks_days"])),
        "second_contact_measured": Q(**{s("second_treatment_on__isnull"): False}),
        "hidden_waits": Q(GreaterThan(gap, waits["hidden_wait_days"])),
        "with_dna": Q(**{s("dna_count__gt"): 0}),
    }


COUNT_NAMES = tuple(count_conditions())
SUM_NAMES = ("dna_count", "contact_count")


def aggregates(paths=ON_SUMMARY):
    """The aggregate expressions of the counts above and the appointment sums (for the DNA rate)."""
    out = {name: Count("pk", filter=cond) for name, cond in count_conditions(paths).items()}
    out["dna_count"] = Sum(paths.s("dna_count"), default=0)
    out["contact_count"] = Sum(paths.s("contact_count"), default=0)
    return out


def _finish(counts, targets):
    counts = {name: int(counts.get(name) or 0) for name in (*COUNT_NAMES, *SUM_NAMES)}
    result = service_rates(counts, targets)
    result["counts"] = counts
    result["rates"]["dna_rate"] = counts["dna_count"] / counts["contact_count"] if counts["contact_count"] else None
    return result


def empty_metrics():
    """The metrics of an empty cohort (no query): zero counts, no rates."""
    return _finish({}, standards()["targets"])


def cohort(flt: MetricFilter):
    """The summaries of the referrals the service metrics count (finished, ended in the period)."""
    return OutcomeSummary.objects.filter(flt.cohort_q(ON_SUMMARY))


def service_metrics(flt: MetricFilter):
    """Counts, national rates, targets and whether each is met, for one filter. One query.

    Returns ``{"counts": {...}, "rates": {...}, "targets": {...}, "met": {...}, "at_caseness": n}``.
    """
    targets = standards()["targets"]
    return _finish(cohort(flt).aggregate(**aggregates()), targets)


GROUPS = {
    "month": TruncMonth("ended_on"),
    "step": F("referral__current_step"),
    "clinician": F("referral__care_coordinator_id"),
    "presenting_problem": F("referral__presenting_problem"),
}


def service_metrics_by(flt: MetricFilter, group: str):
    """The same metrics per month of ending, per step, per clinician or per presenting problem.

    One query; returns ``[(key, metrics), ...]`` in key order (``None`` keys last).
    """
    targets = standards()["targets"]
    rows = cohort(flt).annotate(group_key=GROUPS[group]).values("group_key").annotate(**aggregates())
    out = [(row.pop("group_key"), _finish(row, targets)) for row in rows]
    if group == "month":
        out = [(k.date() if isinstance(k, dt.datetime) else k, v) for k, v in out]
    out.sort(key=lambda item: (item[0] is None, item[0] if item[0] is not None else 0))
    return out


# Group keys that are never NULL (a missing step or coordinator is NONE), so that in a GROUPING SETS
# result the one non-NULL key says which grouping a row belongs to, and all-NULL is the total.
OVERVIEW_KEYS = {
    "month": TruncMonth("ended_on"),
    "step": Coalesce(F("referral__current_step"), Value(NONE)),
    "clinician": Coalesce(F("referral__care_coordinator_id"), Value(NONE)),
    "presenting_problem": F("referral__presenting_problem"),
}


def _as_date(value):
    return value.date() if isinstance(value, dt.datetime) else value


def service_metrics_overview(flt: MetricFilter, groups=("month", "step", "clinician")):
    """The total and the metrics per month, step and clinician (or any of ``OVERVIEW_KEYS``): one query.

    On PostgreSQL this is the ORM's own aggregate query with its ``GROUP BY`` widened to
    ``GROUPING SETS``, one per grouping plus the total, so a year of a large service is read once
    rather than once per table. Elsewhere (SQLite) the cohort is grouped by all the keys together
    and the groupings are summed here from those rows (the counts are additive). Returns
    ``{"total": metrics, group: [(key, metrics), ...] for each group}``; a missing step or
    coordinator has the key ``NONE``.
    """
    targets = standards()["targets"]
    names = [f"g_{g}" for g in groups]
    qs = (
        cohort(flt)
        .annotate(**{name: OVERVIEW_KEYS[g] for name, g in zip(names, groups, strict=True)})
        .values(*names)
        .annotate(**aggregates())
        .order_by()
    )
    connection = connections[qs.db]
    sql, params = qs.query.get_compiler(connection=connection).as_sql()
    plain_group_by = "GROUP BY " + ", ".join(str(i) for i in range(1, len(groups) + 1))
    sums = {g: {} for g in groups}
    total = {}

    def add(into, row):
        for name in (*COUNT_NAMES, *SUM_NAMES):
            into[name] = into.get(name, 0) + (row[name] or 0)

    if connection.vendor == "postgresql" and sql.endswith(plain_group_by):
        sets = ", ".join(f"({i})" for i in range(1, len(groups) + 1))
        sql = f"{sql[: -len(plain_group_by)]}GROUP BY GROUPING SETS ({sets}, ())"
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            columns = [c.name for c in cursor.description]
            for values in cursor.fetchall():
                row = dict(zip(columns, values, strict=True))
                keyed = [(g, row[name]) for g, name in zip(groups, names, strict=True) if row[name] is not None]
                if not keyed:
                    add(total, row)
                else:
                    ((g, key),) = keyed
                    add(sums[g].setdefault(_as_date(key), {}), row)
    else:
        for row in qs:
            add(total, row)
            for g, name in zip(groups, names, strict=True):
                add(sums[g].setdefault(_as_date(row[name]), {}), row)
    out = {"total": _finish(total, targets)}
    for g in groups:
        out[g] = [(key, _finish(counts, targets)) for key, counts in sorted(sums[g].items())]
    return out


def referrals_counted(referrals, flt: MetricFilter, name: str):
    """The referrals (a Referral queryset, already scoped) behind one count: for drill-down lists."""
    conditions = count_conditions(ON_REFERRAL)
    if name not in conditions:
        raise KeyError(name)
    return referrals.filter(flt.cohort_q(ON_REFERRAL)).filter(conditions[name])


# ---------------------------------------------------------------------------------------------
# Expected recovery curves (outcomes.trajectories): the finished courses a fit rests on


def finished_courses(team_id, *, ended_from=None, ended_before=None):
    """The summaries of a team's finished courses (ended, 2+ attended treatment contacts), optionally
    those that ended in [ended_from, ended_before)."""
    qs = OutcomeSummary.objects.filter(team_id=team_id, finished_treatment=True, ended_on__isnull=False)
    if ended_from is not None:
        qs = qs.filter(ended_on__gte=ended_from)
    if ended_before is not None:
        qs = qs.filter(ended_on__lt=ended_before)
    return qs


def finished_course_facts(team_id, **window):
    """(courses, earliest end, latest end) of the finished courses (one query)."""
    found = finished_courses(team_id, **window).aggregate(n=Count("pk"), first=Min("ended_on"), last=Max("ended_on"))
    return found["n"], found["first"], found["last"]


def _score_rows(referrals, measures):
    """Valid scores of these referrals' measures, by referral, measure and session order:
    (referral_id, measure, completed_on, total). Streamed: memory stays flat however many rows."""
    return (
        QuestionnaireResponse.objects.filter(
            referral__in=referrals, measure__in=measures, entered_in_error=False, contact__entered_in_error=False
        )
        .order_by("referral_id", "measure", "completed_on", "contact__time", "contact__created_at", "created_at")
        .values_list("referral_id", "measure", "completed_on", "total")
        .iterator(chunk_size=5000)
    )


def course_scores(referrals, measures):
    """(referral_id, {measure: [(date, score), ...]}) per referral, streamed in referral order."""
    current, scores = None, {}
    for rid, measure, on, total in _score_rows(referrals, measures):
        if rid != current:
            if current is not None:
                yield current, scores
            current, scores = rid, {}
        scores.setdefault(measure, []).append((on, float(total)))
    if current is not None:
        yield current, scores


TRAJECTORY_SQL = """
WITH scored AS (
    SELECT q.measure,
           q.total::float8 AS score,
           row_number() OVER w AS session,
           first_value(q.total::float8) OVER w AS intake
    FROM {response} q
    JOIN {summary} o ON o.referral_id = q.referral_id
    JOIN {contact} c ON c.id = q.contact_id
    WHERE o.team_id = %(team)s AND o.finished_treatment AND o.ended_on IS NOT NULL
      AND o.ended_on >= %(ended_from)s AND o.ended_on < %(ended_before)s
      AND q.measure = ANY(%(measures)s) AND NOT q.entered_in_error AND NOT c.entered_in_error
    WINDOW w AS (PARTITION BY q.referral_id, q.measure
                 ORDER BY q.completed_on, c.time NULLS FIRST, c.created_at, q.created_at)
), banded AS (
    SELECT measure, session, {band} AS band, {value} AS value
    FROM scored
    WHERE session BETWEEN 2 AND %(max_session)s
)
SELECT measure, band, session, count(*),
       percentile_cont(%(fractions)s::float8[]) WITHIN GROUP (ORDER BY value)
FROM banded
WHERE band IS NOT NULL
GROUP BY measure, band, session
"""


def trajectory_cell_rows(team_id, *, method, measures, max_session, ended_from, ended_before, percentiles):
    """PostgreSQL only: (measure, band, session, n, [percentiles]) of the finished courses, computed in
    the database (window functions number the sessions, ``percentile_cont`` within GROUP BY), so a
    fit over millions of scores sends only its cells to Python."""
    band = "CASE measure " + " ".join(f"WHEN '{m}' THEN {band_cases(m, 'intake')}" for m in measures) + " END"
    sql = TRAJECTORY_SQL.format(
        response=QuestionnaireResponse._meta.db_table,
        summary=OutcomeSummary._meta.db_table,
        contact=CareContact._meta.db_table,
        band=band,
        value="score - intake" if method.change else "score",
    )
    params = {
        "team": team_id,
        "ended_from": ended_from or dt.date.min,
        "ended_before": ended_before or dt.date.max,
        "measures": list(measures),
        "max_session": max_session,
        "fractions": [p / 100 for p in percentiles],
    }
    with connections["default"].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# A fit's cells are written with it, in one transaction, and never change (a new fit is a new version):
# {team id: (fit id, fitted at, Curves)} of the newest fit each team was last seen with, so that a page
# reads its cells again only when the team has fitted anew (``forget_curves``, or another process's fit:
# its id differs). Parsing a fit's few hundred cells cost the referral page more than reading them.
_CURVES: dict = {}


def forget_curves(team_id):
    """The team has a new fit (``services.fit_trajectories``): read its cells on the next call."""
    _CURVES.pop(team_id, None)


def _curves_rows(team_ids, held_fits):
    """Each team's newest fit, with its cells unless the fit is among ``held_fits``."""
    newest = TrajectoryFit.objects.filter(team=OuterRef("team")).order_by("-version").values("version")[:1]
    return (
        TrajectoryFit.objects.filter(team__in=team_ids, version=Subquery(newest))
        .annotate(cell=FilteredRelation("cells", condition=~Q(cells__fit__in=list(held_fits) or [0])))
        .order_by("team_id", "cell__measure", "cell__band", "cell__session")
        .values_list(
            "team_id",
            "id",
            "fitted_at",
            "method",
            "version",
            "courses",
            "ended_from",
            "ended_to",
            "cell__measure",
            "cell__band",
            "cell__session",
            "cell__n",
            "cell__values",
        )
    )


def current_curves(team_ids, *, _known=None):
    """{team id: trajectories.Curves} of each team's newest fit, in one query (a team never fitted,
    or whose fit has no cells, is absent). The cells of a fit already held (``_CURVES``) are not read
    again: its one row says it is still the newest. The query is compiled once per shape (``rows_of``)."""
    team_ids = sorted(set(team_ids))
    held = {t: _CURVES[t] for t in team_ids if t in _CURVES} if _known is None else _known
    held_fits = sorted(f for f, _, _ in held.values())
    teams = len(team_ids)
    rows = rows_of(
        f"outcomes.current_curves.{teams}.{len(held_fits)}",
        lambda *ids: _curves_rows(ids[:teams], ids[teams:]),
        *team_ids,
        *held_fits,
    )
    cells, facts = {}, {}
    for team, fit, fitted_at, method, version, courses, first, last, measure, band, session, n, values in rows:
        facts[team] = (fit, fitted_at, method, version, courses, first, last)
        if measure is not None:
            cells.setdefault(team, []).append(Cell(measure, band, session, n, tuple(values)))
    found = {}
    for team, (fit, fitted_at, method, version, courses, first, last) in facts.items():
        if team in cells:
            found[team] = Curves.of(
                method, cells[team], version=version, courses=courses, fitted_from=first, fitted_to=last
            )
            _CURVES[team] = (fit, fitted_at, found[team])
        elif held.get(team, (None, None))[:2] == (fit, fitted_at):
            found[team] = held[team][2]
        elif fit in {f for f, _, _ in held.values()}:  # a held fit's id on another fit (ids rolled back): read anew
            for other in held:
                _CURVES.pop(other, None)
            return current_curves(team_ids, _known={})
    return found


def fitted_cells(team_id, how, min_n, max_session, ended_from, ended_before):
    """The fitted cells: in the database on PostgreSQL; elsewhere (SQLite, ``make test``) the courses
    are streamed and fitted by the pure module. Both interpolate percentiles the same way."""
    measures = trajectories.FITTED_MEASURES
    if connection.vendor == "postgresql":
        rows = trajectory_cell_rows(
            team_id,
            method=how,
            measures=measures,
            max_session=max_session,
            ended_from=ended_from,
            ended_before=ended_before,
            percentiles=trajectories.PERCENTILES,
        )
        cells = (
            trajectories.Cell(m, band, session, n, tuple(round(v, 4) for v in values))
            for m, band, session, n, values in rows
        )
        return trajectories.keep(cells, min_n)
    referrals = finished_courses(team_id, ended_from=ended_from, ended_before=ended_before).values("referral_id")
    courses = (
        trajectories.Course(measure, tuple(score for _, score in series))
        for _, by_measure in course_scores(referrals, measures)
        for measure, series in by_measure.items()
    )
    return trajectories.fit(courses, method_name=how.name, min_n=min_n, max_session=max_session)


@dataclass(frozen=True)
class ValidationRow:
    tolerance: int
    held_out: trajectories.Validation
    active_share: float | None
    closest: bool  # the percentile whose share of active cases flagged is closest to the target
    current: bool  # the team's setting now


@dataclass(frozen=True)
class ValidationReport:
    """How the not-on-track alert would have done on the team's own history (issue 19.4): curves fitted
    on finished courses that ended before ``split``, judged on those that ended on or after it."""

    split: dt.date | None
    method: str
    fit_courses: int
    cells: int
    held_out: int
    by_session: int
    target: float
    outer: int
    active_judged: int
    rows: tuple

    @property
    def empty(self):
        return not self.cells or not self.held_out


def default_split(first, last, held_out_share=0.2):
    """The date that holds out roughly the latest fifth of the period the finished courses ended in."""
    if first is None or last is None or first == last:
        return None
    return last - dt.timedelta(days=round((last - first).days * held_out_share))


def trajectory_validation(
    team_id,
    *,
    split=None,
    by_session=4,
    target=0.20,
    tolerance=trajectories.DEFAULT_TOLERANCE,
    outer=trajectories.DEFAULT_OUTER,
    method_name=trajectories.DEFAULT_METHOD,
    min_n=trajectories.DEFAULT_MIN_N,
) -> ValidationReport:
    """Fit on the courses ending before ``split`` (default: the latest fifth is held out), judge the
    held-out courses by session ``by_session`` against non-recovery, and the active cases at their
    latest scores, for every tolerance percentile below ``outer``. The PHQ-9, GAD-7 and the ADSMs are
    judged, as the review rule judges them. Nothing is written."""
    how = trajectories.method(method_name)
    trajectories.check_percentiles(tolerance, outer)
    if split is None:
        split = default_split(*finished_course_facts(team_id)[1:])
    fit_courses = finished_course_facts(team_id, ended_before=split)[0] if split else 0
    cells = fitted_cells(team_id, how, min_n, trajectories.DEFAULT_MAX_SESSION, None, split) if split else []
    curves = Curves.of(how.name, cells, courses=fit_courses)
    measures = trajectories.FITTED_MEASURES
    held = finished_courses(team_id, ended_from=split) if split else OutcomeSummary.objects.none()
    recovered = dict(held.values_list("referral_id", "recovered"))
    held_out = [
        trajectories.HeldOut(scores, recovered.get(rid))
        for rid, scores in course_scores(held.values("referral_id"), measures)
    ]
    active = [s for _, s in course_scores(Referral.objects.active().filter(team_id=team_id).values("pk"), measures)]
    tuning = {pct: (share, best) for pct, share, best in trajectories.tune(curves, active, target, outer)}
    judged = sum(1 for s in active if any(len(v) >= trajectories.FIRST_JUDGED_SESSION for v in s.values()))
    rows = tuple(
        ValidationRow(
            pct,
            trajectories.validate(curves, held_out, by_session=by_session, tolerance=pct, outer=outer),
            tuning.get(pct, (None, False))[0] if active else None,
            tuning.get(pct, (None, False))[1] and bool(active),
            pct == tolerance,
        )
        for pct in trajectories.PERCENTILES
        if pct < outer
    )
    return ValidationReport(
        split,
        how.name,
        fit_courses,
        len(cells),
        sum(1 for h in held_out if h.recovered is not None),
        by_session,
        target,
        outer,
        judged,
        rows,
    )
