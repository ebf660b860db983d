"""Where clinicians look (issue 19.2): the referral page's chart draws the expected band for the
patient's intake band; the caseload and the supervision list mark "not on track" with a fixed number
of queries whatever their length."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from outcomes import services as outcome_services
from stepped_care import services
from tests.outcomes.trajectory_helpers import course, spin_course
from tests.stepped_care.review_helpers import referral_at_step, session

pytestmark = pytest.mark.django_db


@pytest.fixture
def fitted(pwp):
    """Four finished courses of intake 16-18: session 2 scores 13-16, session 3 scores 10-14."""
    course(pwp, [17, 15, 12], ended_days_ago=40)
    course(pwp, [17, 14, 10], ended_days_ago=45)
    course(pwp, [16, 13, 11], ended_days_ago=50)
    course(pwp, [18, 16, 14], ended_days_ago=55)
    return outcome_services.fit_trajectories(team=pwp.team, min_n=3)


def off_track(pwp):
    referral = referral_at_step(pwp)
    session(referral, pwp, 14, 17, 12, kind="01")
    session(referral, pwp, 7, 16, 12)  # PHQ-9 16 at session 2: above the 90th percentile (15.7)
    services.review_referral(referral.pk)
    return referral


def test_the_referral_page_draws_the_expected_band(client, pwp, fitted):
    referral = off_track(pwp)
    client.force_login(pwp)
    response = client.get(reverse("referrals:detail", args=[referral.pk]))
    chart = response.context["chart"]
    assert [b.code for b in chart.bands] == ["PHQ9"]  # no GAD-7 curve was fitted
    band = chart.bands[0]
    assert [(s, m, u, o, n) for s, _, m, u, o, n in band.sessions] == [(2, 14.5, 15.25, 15.7, 4)]
    html = response.content.decode()
    assert 'class="expected-band phq9"' in html
    assert "Expected PHQ-9 band for intake 15–19" in response.context["chart_description"]
    assert "session 2 14.50–15.25, red above 15.70 (N = 4)" in response.context["chart_description"]
    assert "of 4 finished courses (fit v1, empirical-percentiles-v1)" in html


def test_the_adsm_chart_draws_its_own_expected_band(client, pwp):
    for spin, ago in (([40, 36, 30], 40), ([41, 37, 31], 45), ([39, 35, 29], 50), ([40, 38, 32], 55)):
        spin_course(pwp, spin, ended_days_ago=ago)
    outcome_services.fit_trajectories(team=pwp.team, min_n=3)
    referral = spin_course(pwp, [40, 44], ended_days_ago=1)
    client.force_login(pwp)
    response = client.get(reverse("referrals:detail", args=[referral.pk]))
    (spin,) = [mc for mc in response.context["measure_charts"] if mc.code == "SPIN"]
    assert [b.code for b in spin.chart.bands] == ["SPIN"]
    assert [(s, m, u, o, n) for s, _, m, u, o, n in spin.chart.bands[0].sessions] == [(2, 36.5, 37.25, 37.7, 4)]
    assert "Expected SPIN band for intake 19–43" in spin.description
    assert 'class="expected-band adsm"' in response.content.decode()


def test_no_fit_no_band(client, pwp):
    referral = off_track(pwp)
    client.force_login(pwp)
    response = client.get(reverse("referrals:detail", args=[referral.pk]))
    assert response.context["chart"].bands == ()
    assert "expected-band" not in response.content.decode()


def count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx), response


def test_the_caseload_marks_not_on_track_with_fixed_queries(client, pwp, fitted):
    client.force_login(pwp)
    url = reverse("referrals:caseload")
    first = off_track(pwp)
    one, response = count(client, url)
    rows = response.context["rows"]
    assert [r.referral.pk for r in rows] == [first.pk]
    assert rows[0].not_on_track.severity == "red"
    assert "Not on track (red)" in response.content.decode()
    for _ in range(6):
        off_track(pwp)
    many, response = count(client, url)
    assert len(response.context["rows"]) == 7 and all(r.not_on_track for r in response.context["rows"])
    assert one == many


def test_the_supervision_list_marks_not_on_track_with_fixed_queries(client, pwp, supervisor, fitted):
    client.force_login(supervisor)
    url = reverse("supervision:case_list", args=[pwp.pk])
    off_track(pwp)
    one, response = count(client, url)
    rows = response.context["prepared"].rows
    assert len(rows) == 1 and rows[0].not_on_track.severity == "red"
    html = response.content.decode()
    assert "Not on track (red)" in html and "PHQ-9 16 at session 2" in html
    for _ in range(6):
        off_track(pwp)
    many, response = count(client, url)
    assert len(response.context["prepared"].rows) == 7
    assert one == many
