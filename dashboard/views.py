"""Dashboard pages: parse the filter, call the queries, hand tables to templates. No rules here.

Who may see it is the rulebook's ``see_dashboard``: managers and administrators their own team,
superusers any team. Another team's dashboard or drill-down is a 404 (it leaks nothing); anyone else
gets the 403 page naming who may.
"""

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from appointments.queries import diary_figures
from common import audit, permissions
from common.csv_export import csv_response
from common.replica import replica_view
from outcomes.queries import NONE, trajectory_validation
from outcomes.trajectories import DEFAULT_MIN_N
from referrals.codes import PresentingProblem, ReferralStatus
from referrals.models import Referral
from stepped_care import review
from stepped_care.models import FlagRule, Team

from . import queries
from .charts import percent
from .forms import AlertValidationForm, DashboardFilterForm, DrilldownForm, filter_form_html, filter_params
from .tables import BUILDERS, METRIC_LABELS, Links, step_label, tables

PAGE_SIZE = 50


def management_teams(user):
    """The teams whose dashboard this user may see (a manager's or administrator's own team; every
    team for a superuser)."""
    if not permissions.may(user, "see_dashboard"):
        return []
    if user.is_superuser:
        return list(Team.objects.order_by("name"))
    return [user.team]


def resolve_team(request, teams):
    """The team asked for: a manager's own by default; any other team answers 404."""
    if not teams:
        raise permissions.NotAllowed("see_dashboard")
    wanted = request.GET.get("team")
    if not wanted:
        return teams[0]
    for team in teams:
        if str(team.pk) == wanted.strip():
            return team
    raise Http404("No such team.")


def bound_form(form_class, request, teams, team, staff, today):
    data = request.GET.copy()
    data["team"] = str(team.pk)
    start, end = queries.default_period(today)
    if not data.get("from"):
        data["from"] = start.isoformat()
    if not data.get("to"):
        data["to"] = end.isoformat()
    return form_class(data, teams=[(t.pk, t.name) for t in teams], staff=staff, today=today)


def prepare(request, form_class=DashboardFilterForm):
    """Team, staff and the bound filter form of a dashboard request (two queries)."""
    teams = management_teams(request.user)
    team = resolve_team(request, teams)
    today = timezone.localdate()
    staff = queries.team_staff(team.pk)
    form = bound_form(form_class, request, teams, team, staff, today)
    return team, staff, form, today


def drilldown_links(flt):
    return Links(reverse("dashboard:referrals"), filter_params(flt))


def headline_cards(data, links):
    """The numbers at the top: each rate with its target, numerator and denominator linked."""
    m = data.outcomes
    c, r, targets, met = m["counts"], m["rates"], m["targets"], m["met"]
    spec = [
        ("Recovery", "recovery_rate", "recovered", "at_caseness"),
        ("Reliable improvement", "reliable_improvement_rate", "reliable_improvement", "finished"),
        ("Reliable recovery", "reliable_recovery_rate", "reliable_recovery", "at_caseness"),
        ("Reliable deterioration", "reliable_deterioration_rate", "reliable_deterioration", "finished"),
        ("First treatment within 6 weeks", "wait_6_weeks_share", "within_6_weeks", "waits_measured"),
        ("First treatment within 18 weeks", "wait_18_weeks_share", "within_18_weeks", "waits_measured"),
    ]
    return [
        {
            "label": label,
            "key": key,
            "rate": r.get(key),
            "rate_text": percent(r.get(key)),
            "target": targets.get(key),
            "target_text": percent(targets.get(key)),
            "met": met.get(key),
            "numerator": c[num],
            "numerator_href": links(num),
            "denominator": c[den],
            "denominator_href": links(den),
        }
        for label, key, num, den in spec
    ]


@require_GET
@replica_view
def index(request):
    team, staff, form, today = prepare(request)
    if not form.is_valid():
        return render(request, "dashboard/index.html", {"form": form, "team": team}, status=400)
    flt = form.metric_filter()
    data = queries.dashboard(team, flt, today=today, now=timezone.now(), staff=staff)
    links = drilldown_links(flt)
    query = urlencode(filter_params(flt))
    context = {
        "form": form,
        "team": team,
        "data": data,
        "cards": headline_cards(data, links),
        "tables": {t.key: preview(t) for t in tables(data, links)},
        "query": query,
        "waiting_href": links("waiting"),
        "hidden_now_href": links("hidden_wait_now"),
        "flags_href": links("open_flags"),
        "open_flags": sum(f["total"] for f in data.flags),
        "flagged": data.waiting["flagged"],
        "dna_rate_text": percent(data.outcomes["rates"]["dna_rate"]),
        "diaries": diary_figures(team.pk, today),
        "filter_form_html": filter_form_html(form),
    }
    return render(request, "dashboard/index.html", context)


# Rows of a per-clinician table on the dashboard itself: the busiest, the rest one click away. Keeps the
# page of a 386-clinician service small (issue 22: under 300 KB) without hiding a number.
PREVIEW_ROWS = 25


def preview(table):
    if table.per_person:
        table.limit = PREVIEW_ROWS
    return table


@require_GET
@replica_view
def table(request, key):
    """One dashboard table in full (every clinician), under the same filter."""
    if key not in BUILDERS:
        raise Http404("No such table.")
    team, staff, form, today = prepare(request)
    if not form.is_valid():
        return render(request, "dashboard/index.html", {"form": form, "team": team}, status=400)
    flt = form.metric_filter()
    data = queries.dashboard(team, flt, today=today, now=timezone.now(), staff=staff)
    (one,) = tables(data, drilldown_links(flt), only=key)
    context = {"team": team, "data": data, "table": one, "query": urlencode(filter_params(flt))}
    return render(request, "dashboard/table.html", context)


@require_GET
@replica_view
def export(request, key):
    """One dashboard table as CSV, under the same filter."""
    if key not in BUILDERS:
        raise Http404("No such table.")
    team, staff, form, today = prepare(request)
    if not form.is_valid():
        return render(request, "dashboard/index.html", {"form": form, "team": team}, status=400)
    flt = form.metric_filter()
    data = queries.dashboard(team, flt, today=today, now=timezone.now(), staff=staff)
    (table,) = tables(data, drilldown_links(flt), only=key)
    return csv_response(f"{team.code}-{key}-{flt.start:%Y%m%d}-{flt.end:%Y%m%d}.csv", table.csv_rows())


def referral_url_name():
    """The referral page's URL name, if the referral pages exist (they are another module's)."""
    for name in ("referrals:detail", "referrals:referral"):
        try:
            reverse(name, args=["00000000-0000-0000-0000-000000000000"])
        except NoReverseMatch:
            continue
        return name
    return None


def describe(flt, dims, staff):
    """The filter and dimensions of a drill-down list, in words."""
    parts = []
    if dims.get("month"):
        parts.append(f"ended in {dims['month']:%B %Y}")
    else:
        parts.append(f"period {flt.start:%d %b %Y} to {flt.end:%d %b %Y}")
    if flt.clinician == NONE:
        parts.append("no care coordinator")
    elif flt.clinician is not None:
        parts.append(staff.get(flt.clinician, {}).get("name", f"staff {flt.clinician}"))
    if flt.step is not None:
        parts.append(step_label(flt.step))
    if flt.presenting_problem:
        parts.append(PresentingProblem(flt.presenting_problem).label)
    if flt.ltc_pathway is not None:
        parts.append("on the LTC pathway" if flt.ltc_pathway else "not on the LTC pathway")
    if dims.get("status"):
        parts.append(ReferralStatus(dims["status"]).label)
    if dims.get("band"):
        parts.append("waited " + queries.wait_bands(timezone.localdate())[dims["band"]][0].lower())
    if dims.get("rule"):
        parts.append("rule: " + FlagRule(dims["rule"]).label)
    if dims.get("age"):
        parts.append(
            "flag raised " + dict((k, label) for k, label, *_ in queries.FLAG_AGES)[dims["age"]].lower() + " ago"
        )
    return parts


@require_GET
@replica_view
def referrals(request):
    """The referrals behind one dashboard number, paginated."""
    team, staff, form, today = prepare(request, DrilldownForm)
    if not form.is_valid():
        return render(request, "dashboard/referrals.html", {"form": form, "team": team}, status=400)
    flt = form.metric_filter()
    dims = {k: form.cleaned_data.get(k) or None for k in ("month", "status", "band", "rule", "age")}
    metric = form.cleaned_data["metric"]
    scoped = Referral.objects.visible_to(request.user).filter(team_id=team.pk)
    try:
        qs = queries.drilldown(scoped, metric, flt, today=today, now=timezone.now(), staff=staff, **dims)
    except queries.DrilldownError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return render(request, "dashboard/referrals.html", {"form": form, "team": team}, status=400)
    qs = qs.select_related("patient", "care_coordinator", "summary").order_by("-received_on", "id")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    audit.record(
        request.user,
        "dashboard.drilldown",
        team,
        changes={"metric": metric, **filter_params(flt), **{k: v for k, v in dims.items() if v}},
    )
    params = {**filter_params(flt), "metric": metric, **{k: v for k, v in dims.items() if v}}
    if dims["month"]:
        params["month"] = dims["month"].strftime("%Y-%m")
    context = {
        "form": form,
        "team": team,
        "metric": metric,
        "metric_label": METRIC_LABELS.get(metric, metric),
        "dims": dims,
        "description": describe(flt, dims, staff),
        "page": page,
        "query": urlencode(params),
        "dashboard_query": urlencode(filter_params(flt)),
        "referral_url": referral_url_name(),
    }
    return render(request, "dashboard/referrals.html", context)


def _share(value):
    return "–" if value is None else f"{value:.0%}"


@require_GET
def not_on_track(request):
    """How the not-on-track alert would have done on the team's own held-out history (issue 19.4), and
    which percentile flags the chosen share of active cases. The team's service managers only."""
    permissions.require_role(request.user, "validate_alerts")
    team = request.user.team
    permissions.require(request.user, "validate_alerts", team)
    data = {k: v for k, v in request.GET.items() if v} or None
    form = AlertValidationForm(data, initial={"by_session": 4, "target": 20})
    report = None
    if data is None or form.is_valid():
        values = form.cleaned_data if data is not None else {}
        params = review.parameters(team.review_parameters, strict=False)
        report = trajectory_validation(
            team.pk,
            split=values.get("split"),
            by_session=values.get("by_session") or 4,
            target=(values.get("target") or 20) / 100,
            tolerance=params["not_on_track_percentile"],
            outer=params["not_on_track_outer"],
            min_n=values.get("min_n") or DEFAULT_MIN_N,
        )
        audit.record(request.user, "trajectories.validation.view", team, changes={"split": report.split})
    rows = [
        {
            "row": row,
            "flagged": f"{_share(row.held_out.flagged_share)} ({row.held_out.flagged} of {row.held_out.courses})",
            "sensitivity": _share(row.held_out.sensitivity),
            "specificity": _share(row.held_out.specificity),
            "ppv": _share(row.held_out.ppv),
            "active": _share(row.active_share),
        }
        for row in (report.rows if report else ())
    ]
    return render(
        request,
        "dashboard/not_on_track.html",
        {"team": team, "form": form, "report": report, "rows": rows},
        status=200 if report is not None else 400,
    )
