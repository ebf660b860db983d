"""The service manager dashboard: scoping, numbers equal to their drill-down lists, CSV, API, query counts."""

import csv
import datetime as dt
import io
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dashboard.queries import default_period
from dashboard.tables import BUILDERS
from outcomes.queries import MetricFilter, service_metrics
from referrals.models import Referral
from stepped_care.models import Role
from stepped_care.services import review_referrals
from tests.factories import ReferralFactory, StaffFactory, TeamFactory
from tests.outcomes.population import build_population

DASHBOARD = "/dashboard/"
DRILLDOWN = "/dashboard/referrals/"
LINK = re.compile(r'<a href="(/dashboard/referrals/\?[^"]+)">([0-9]+)</a>')


@pytest.fixture(scope="module")
def service(django_db_setup, django_db_blocker):
    """A team with a generated population (through the services, flags raised by the review rules),
    its manager, a clinician, and another team with its own manager and a referral."""
    with django_db_blocker.unblock(), transaction.atomic():
        team = TeamFactory(name="Dashboard Team", code="DSH")
        other = TeamFactory(name="Other Dashboard Team", code="ODT")
        clinicians = [
            StaffFactory(username="dash_pwp", team=team, role=Role.PWP, first_name="Dana", last_name="Pwp"),
            StaffFactory(username="dash_hit", team=team, role=Role.HI_THERAPIST, first_name="Hal", last_name="Hit"),
        ]
        manager = StaffFactory(username="dash_manager", team=team, role=Role.MANAGER)
        other_manager = StaffFactory(username="dash_other_manager", team=other, role=Role.MANAGER)
        today = timezone.localdate()
        referrals = build_population(team=team, clinicians=clinicians, by=clinicians[0], today=today, n=24, seed=3)
        review_referrals([r.pk for r in referrals], today=today)
        other_referral = ReferralFactory(patient__team=other)
        yield {
            "team": team,
            "other": other,
            "clinicians": clinicians,
            "manager": manager,
            "other_manager": other_manager,
            "other_referral": other_referral,
            "today": today,
        }
        transaction.set_rollback(True)


@pytest.fixture
def svc(service, db):
    return service


def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_a_manager_sees_their_team_dashboard_with_every_section(client, svc):
    response = signed_in(client, svc["manager"]).get(DASHBOARD)
    assert response.status_code == 200
    html = response.content.decode()
    assert svc["team"].name in html
    for title in (
        "Caseload by clinician and step",
        "Waiting list against the 6- and 18-week standards",
        "Hidden waits",
        "Monthly trend",
        "Outcomes by step",
        "Outcomes by clinician",
        "Open review flags by rule and age",
        "DNA rate",
        "Supervision compliance",
    ):
        assert title in html, title
    assert html.count("<svg") >= 3 and 'role="img"' in html
    assert "Dana Pwp" in html and "Hal Hit" in html


@pytest.mark.django_db
def test_the_headline_equals_the_service_metrics(client, svc):
    response = signed_in(client, svc["manager"]).get(DASHBOARD)
    start, end = default_period(svc["today"])
    metrics = service_metrics(MetricFilter(team=svc["team"].pk, start=start, end=end))
    cards = response.context["cards"]
    recovery = next(c for c in cards if c["key"] == "recovery_rate")
    assert recovery["numerator"] == metrics["counts"]["recovered"]
    assert recovery["denominator"] == metrics["counts"]["at_caseness"]
    assert recovery["rate"] == metrics["rates"]["recovery_rate"]


@pytest.mark.django_db
def test_the_headline_counts_specific_anxiety_disorders_measured_with_their_own_adsm(client, svc):
    html = signed_in(client, svc["manager"]).get(DASHBOARD).content.decode()
    start, end = default_period(svc["today"])
    counts = service_metrics(MetricFilter(team=svc["team"].pk, start=start, end=end))["counts"]
    assert counts["specific_anxiety"] > 0
    row = html[html.index("Specific anxiety disorders measured with their own ADSM") :].split("</tr>")[0]
    measured, of = (int(n) for _, n in LINK.findall(row))
    assert (measured, of) == (counts["measured_with_adsm"], counts["specific_anxiety"])
    assert 0 < measured < of  # some measured with their ADSM, some with GAD-7 only
    listed = client.get(DRILLDOWN, {"metric": "measured_with_adsm", "start": start, "end": end})
    assert listed.context["page"].paginator.count == measured
    for referral in listed.context["page"]:
        assert referral.summary.anxiety_measure == referral.summary.adsm != ""


@pytest.mark.django_db
def test_every_number_equals_the_length_of_its_drilldown_list(client, svc):
    signed_in(client, svc["manager"])
    html = client.get(DASHBOARD).content.decode()
    links = {}
    for href, number in LINK.findall(html):
        links.setdefault(unescape(href), set()).add(int(number))
    assert len(links) > 50
    metrics = {parse_qs(urlsplit(h).query)["metric"][0] for h in links}
    assert {"recovered", "active", "waiting", "open_flags", "hidden_wait_now", "sessions_month"} <= metrics
    assert {"specific_anxiety", "measured_with_adsm"} <= metrics
    checked = 0
    for href, numbers in sorted(links.items()):
        assert len(numbers) == 1, href  # one link, one number
        response = client.get(href)
        assert response.status_code == 200, href
        assert response.context["page"].paginator.count == numbers.pop(), href
        checked += 1
    assert checked == len(links)


@pytest.mark.django_db
def test_drilldown_lists_only_the_team_and_names_the_number(client, svc):
    signed_in(client, svc["manager"])
    response = client.get(DRILLDOWN, {"metric": "active"})
    assert response.status_code == 200
    listed = {r.pk for r in response.context["page"].object_list}
    assert svc["other_referral"].pk not in listed
    assert listed <= set(Referral.objects.filter(team=svc["team"]).values_list("pk", flat=True))
    assert "Active referrals" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", [DASHBOARD, DRILLDOWN + "?metric=active", "/dashboard/export/caseload.csv", "/api/v1/dashboard/"]
)
def test_another_teams_numbers_are_404(client, svc, path):
    signed_in(client, svc["manager"])
    joiner = "&" if "?" in path else "?"
    assert client.get(f"{path}{joiner}team={svc['other'].pk}").status_code == 404
    assert client.get(f"{path}{joiner}team=not-a-number").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", [DASHBOARD, DRILLDOWN + "?metric=active", "/dashboard/export/caseload.csv", "/api/v1/dashboard/"]
)
def test_clinicians_cannot_see_the_dashboard(client, svc, path):
    assert signed_in(client, svc["clinicians"][0]).get(path).status_code == 403


@pytest.mark.django_db
def test_the_other_manager_sees_only_their_own_team(client, svc):
    response = signed_in(client, svc["other_manager"]).get("/api/v1/dashboard/")
    assert response.status_code == 200
    body = response.json()
    assert body["team"]["code"] == "ODT"
    assert sum(row["active"] for row in body["caseload"]) == 1


@pytest.mark.django_db
def test_a_superuser_may_choose_any_team(client, svc):
    admin = StaffFactory(username="dash_root", team=None, role=Role.ADMINISTRATOR, is_superuser=True)
    signed_in(client, admin)
    assert client.get(DASHBOARD, {"team": svc["other"].pk}).context["team"] == svc["other"]
    assert client.get(DASHBOARD, {"team": 999999}).status_code == 404


@pytest.mark.django_db
def test_filters_narrow_every_section(client, svc):
    signed_in(client, svc["manager"])
    pwp = svc["clinicians"][0]
    response = client.get(DASHBOARD, {"clinician": pwp.pk, "step": 2, "ltc": "no", "problem": "depression"})
    assert response.status_code == 200
    flt = response.context["data"].filter
    assert (flt.clinician, flt.step, flt.ltc_pathway, flt.presenting_problem) == (pwp.pk, 2, False, "depression")
    expected = Referral.objects.filter(
        team=svc["team"], care_coordinator=pwp, current_step=2, ltc_pathway=False, presenting_problem="depression"
    ).exclude(status="discharged")
    assert sum(n for _, _, n in response.context["data"].caseload) == expected.count()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "2026-05-01", "to": "2026-01-01"}, "end", "must not be before"),
        ({"from": "not-a-date"}, "start", "valid date"),
        ({"step": "9"}, "step", "valid choice"),
        ({"from": "2000-01-01", "to": "2026-01-01"}, "start", "at most five years"),
    ],
)
def test_bad_filters_are_form_errors_and_400s(client, svc, params, field, message):
    signed_in(client, svc["manager"])
    response = client.get(DASHBOARD, params)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    api = client.get("/api/v1/dashboard/", params)
    assert api.status_code == 400
    assert {"start": "from", "end": "to"}.get(field, field) in api.json()["errors"]


@pytest.mark.django_db
def test_a_bad_drilldown_is_a_400_naming_the_field(client, svc):
    signed_in(client, svc["manager"])
    assert client.get(DRILLDOWN, {"metric": "nonsense"}).status_code == 400
    response = client.get(DRILLDOWN, {"metric": "waiting", "band": "forever"})
    assert response.status_code == 400 and "band" in response.context["form"].errors


@pytest.mark.django_db
def test_each_table_exports_as_csv_with_its_numbers(client, svc):
    signed_in(client, svc["manager"])
    page = client.get(DASHBOARD).context
    for key in BUILDERS:
        response = client.get(f"/dashboard/export/{key}.csv")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        table = page["tables"][key]
        assert rows[0] == table.columns
        assert len(rows) == 1 + len(table.rows) + len(table.foot)
    assert client.get("/dashboard/export/nothing.csv").status_code == 404


@pytest.mark.django_db
def test_the_api_returns_the_same_numbers(client, svc):
    signed_in(client, svc["manager"])
    start = svc["today"] - dt.timedelta(days=200)
    body = client.get("/api/v1/dashboard/", {"from": start.isoformat(), "to": svc["today"].isoformat()}).json()
    expected = service_metrics(MetricFilter(team=svc["team"].pk, start=start, end=svc["today"]))
    assert body["outcomes"]["counts"] == expected["counts"]
    assert body["outcomes"]["rates"] == pytest.approx(expected["rates"])
    assert body["filter"]["from"] == start.isoformat()
    page = client.get(DASHBOARD, {"from": start.isoformat(), "to": svc["today"].isoformat()}).context["data"]
    assert body["waiting"]["waiting"] == page.waiting["waiting"]
    assert sum(f["total"] for f in body["open_flags"]) == sum(f["total"] for f in page.flags)
    assert [m["month"] for m in body["trend"]][-1] == svc["today"].strftime("%Y-%m")


@pytest.mark.django_db
def test_managers_start_at_the_dashboard(client, svc):
    response = signed_in(client, svc["manager"]).get("/")
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:index")
    assert 'href="/dashboard/"' in client.get(DASHBOARD).content.decode()  # the nav link


def count_queries(client, path, params=None):
    client.get(path, params)  # warm the session
    with CaptureQueriesContext(transaction.get_connection()) as queries:
        assert client.get(path, params).status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_the_dashboard_runs_a_fixed_number_of_queries(client, django_assert_num_queries):
    """With one referral and with many, the same number of queries (no per-referral or per-row queries)."""
    team = TeamFactory(name="Count Team", code="CNT")
    manager = StaffFactory(username="count_manager", team=team, role=Role.MANAGER)
    pwp = StaffFactory(username="count_pwp", team=team, role=Role.PWP)
    hit = StaffFactory(username="count_hit", team=team, role=Role.HI_THERAPIST)
    signed_in(client, manager)
    today = timezone.localdate()
    build_population(team=team, clinicians=[pwp, hit], by=pwp, today=today, n=1, seed=1)
    one = count_queries(client, DASHBOARD)
    listing = count_queries(client, DRILLDOWN, {"metric": "active"})
    assert one <= 25 and listing <= 10
    referrals = build_population(team=team, clinicians=[pwp, hit], by=pwp, today=today, n=14, seed=2)
    review_referrals([r.pk for r in referrals], today=today)
    assert Referral.objects.filter(team=team).count() == 15
    with django_assert_num_queries(one):
        client.get(DASHBOARD)
    with django_assert_num_queries(one):
        client.get("/api/v1/dashboard/")
    with django_assert_num_queries(listing):
        client.get(DRILLDOWN, {"metric": "active"})


@pytest.mark.django_db
def test_a_large_service_shows_its_busiest_clinicians_and_the_rest_a_click_away(client, django_assert_num_queries):
    """Issue 22: per-clinician tables show the busiest PREVIEW_ROWS rows; the full table has every row,
    the same numbers, in a fixed number of queries; other teams' managers get 404, clinicians 403."""
    from dashboard.views import PREVIEW_ROWS

    team = TeamFactory(name="Large Team", code="LRG")
    manager = StaffFactory(username="large_manager", team=team, role=Role.MANAGER)
    clinicians = [
        StaffFactory(username=f"large_pwp_{i}", team=team, role=Role.PWP, last_name=f"Pwp{i:02d}")
        for i in range(PREVIEW_ROWS + 5)
    ]
    busiest = clinicians[-1]
    for _ in range(3):
        ReferralFactory(patient__team=team, team=team, care_coordinator=busiest)
    signed_in(client, manager)
    page = client.get(DASHBOARD)
    caseload = page.context["tables"]["caseload"]
    assert len(caseload.rows) >= PREVIEW_ROWS + 5 and len(caseload.shown_rows) == PREVIEW_ROWS
    body = page.content.decode()
    shown = re.search(r'id="table-caseload".*?</table>', body, re.S).group(0)
    assert shown.count("<tr>") == 1 + PREVIEW_ROWS + 1  # header, the preview, the total
    assert busiest.last_name in caseload.rows[0][0].text  # the largest caseload first
    assert f"Show all {len(caseload.rows)}" in body
    full = client.get("/dashboard/table/caseload/")
    assert full.status_code == 200
    whole = re.search(r'id="table-caseload".*?</table>', full.content.decode(), re.S).group(0)
    assert whole.count("<tr>") == 1 + len(caseload.rows) + 1
    queries = count_queries(client, "/dashboard/table/caseload/")
    ReferralFactory(patient__team=team, team=team, care_coordinator=clinicians[0])
    with django_assert_num_queries(queries):
        client.get("/dashboard/table/caseload/")
    assert client.get("/dashboard/table/nothing/").status_code == 404
    other = TeamFactory(name="Other Large Team", code="OLG")
    assert client.get(f"/dashboard/table/caseload/?team={other.pk}").status_code == 404
    client.force_login(clinicians[0])
    assert client.get("/dashboard/table/caseload/").status_code == 403


@pytest.mark.django_db
def test_the_kept_filter_form_follows_the_filter_and_the_team_s_staff(client, svc):
    """The filter form's HTML is kept per filter, staff list and day (dashboard.forms.filter_form_html):
    another filter, or a clinician joining the team, is a new form, never yesterday's."""
    signed_in(client, svc["manager"])
    first = client.get(DASHBOARD).content.decode()
    stepped = client.get(DASHBOARD + "?step=2").content.decode()

    def chosen_step(html):
        select = re.search(r'<select[^>]*name="step".*?</select>', html, re.S).group(0)
        return re.findall(r'<option value="([^"]*)" selected>', select)

    assert chosen_step(first) == [""] and chosen_step(stepped) == ["2"]
    StaffFactory(username="newcomer", first_name="Nadia", last_name="Newcomer", team=svc["team"], role=Role.PWP)
    assert "Nadia Newcomer" not in first and "Nadia Newcomer" in client.get(DASHBOARD).content.decode()
    bad = client.get(DASHBOARD + "?from=not-a-date")
    assert bad.status_code == 400 and "Enter a valid date" in bad.content.decode()
