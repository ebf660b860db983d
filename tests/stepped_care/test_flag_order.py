"""Every list of flags is in one order, most urgent first: risk, then red, amber, green, then the
longest open (``ReviewFlag.objects.risk_first``). The caseload, the referral page, the supervision list,
the API and the dashboard's table by rule agree."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from stepped_care.models import ReviewFlag

pytestmark = pytest.mark.django_db

# rule, severity, days ago raised: created in an order that matches neither raised-at direction.
FLAGS = [
    ("deterioration", "red", 9),
    ("review_overdue", "green", 20),
    ("risk", "red", 1),
    ("disengaging", "amber", 3),
    ("not_improving", "red", 5),
]
EXPECTED = ["risk", "deterioration", "not_improving", "disengaging", "review_overdue"]


@pytest.fixture
def flagged(referral):
    now = timezone.now()
    for rule, severity, days in FLAGS:
        flag = ReviewFlag.objects.create(referral=referral, rule=rule, recommendation="review", severity=severity)
        ReviewFlag.objects.filter(pk=flag.pk).update(raised_at=now - dt.timedelta(days=days))
    return referral


def test_the_queryset_orders_risk_first_then_severity_then_longest_open(flagged):
    assert [f.rule for f in ReviewFlag.objects.open().risk_first()] == EXPECTED


def test_the_caseload_and_the_referral_page_show_the_same_order(client, pwp, flagged):
    client.force_login(pwp)
    rows = client.get(reverse("referrals:caseload")).context["rows"]
    assert [f.rule for f in rows[0].flags] == EXPECTED
    page = client.get(reverse("referrals:detail", args=[flagged.pk]))
    assert [f.rule for f in page.context["open_flags"]] == EXPECTED


def test_the_supervision_list_shows_the_same_order(client, supervisor, pwp, flagged):
    client.force_login(supervisor)
    prepared = client.get(reverse("supervision:case_list", args=[pwp.pk])).context["prepared"]
    assert [f.rule for f in prepared.rows[0].open_flags] == EXPECTED
    flag_reasons = [r.flag_id for r in prepared.rows[0].reasons if r.flag_id]
    assert flag_reasons[0] == str(ReviewFlag.objects.get(rule="risk").pk)


def test_the_api_lists_flags_in_the_same_order(api, pwp, flagged):
    api.force_authenticate(pwp)
    body = api.get("/api/v1/flags/", {"referral": str(flagged.pk)}).json()
    assert [f["rule"] for f in body["results"]] == EXPECTED


def test_the_dashboard_table_by_rule_puts_risk_first(client, manager, flagged):
    client.force_login(manager)
    flags = client.get(reverse("dashboard:index")).context["data"].flags
    assert flags[0]["rule"] == "risk"
    assert {f["rule"] for f in flags} == set(EXPECTED)
