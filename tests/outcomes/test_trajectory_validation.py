"""Validation on held-out finished courses split by time (issue 19.4): the report, the command, and
the managers' page with its permission for every role."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from common.roles import Role
from outcomes import queries
from tests.factories import StaffFactory
from tests.outcomes.trajectory_helpers import course
from tests.stepped_care.review_helpers import referral_at_step, session, today

pytestmark = pytest.mark.django_db
FLAT_GAD = [9, 7, 7]


@pytest.fixture
def split(pwp):
    """Four courses before the split (PHQ-9 at session 2: 13-16; session 3: 10-14; GAD-7 9, 7, 7), four
    after it with known outcomes, and one active case above the band."""
    course(pwp, [17, 15, 12], FLAT_GAD, ended_days_ago=40)
    course(pwp, [17, 14, 10], FLAT_GAD, ended_days_ago=45)
    course(pwp, [16, 13, 11], FLAT_GAD, ended_days_ago=50)
    course(pwp, [18, 16, 14], FLAT_GAD, ended_days_ago=55)
    course(pwp, [17, 17, 17], [9, 7, 7], ended_days_ago=2)  # flagged at session 2, not recovered
    course(pwp, [17, 16, 9], [9, 7, 5], ended_days_ago=3)  # flagged at session 2, recovered
    course(pwp, [17, 14, 8], [9, 7, 5], ended_days_ago=4)  # on track, recovered
    course(pwp, [17, 14, 12], [9, 7, 7], ended_days_ago=5)  # on track at the 75th, not recovered
    active = referral_at_step(pwp)
    session(active, pwp, 14, 17, 9, kind="01")
    session(active, pwp, 7, 16, 7)
    return today() - dt.timedelta(days=20)


def by_tolerance(report):
    return {row.tolerance: row for row in report.rows}


def test_held_out_courses_against_non_recovery(pwp, split):
    report = queries.trajectory_validation(pwp.team_id, split=split, min_n=3)
    assert (report.fit_courses, report.held_out, report.split, report.active_judged) == (4, 4, split, 1)
    rows = by_tolerance(report)
    at75 = rows[75].held_out
    assert (at75.true_positive, at75.false_positive, at75.true_negative, at75.false_negative) == (1, 1, 1, 1)
    assert (at75.flagged_share, at75.sensitivity, at75.specificity, at75.ppv) == (0.5, 0.5, 0.5, 0.5)
    assert rows[75].current and not rows[50].current
    # amber above the median also flags the course at 12 in session 3 (median 11.5)
    at50 = rows[50].held_out
    assert (at50.flagged, at50.sensitivity, at50.specificity) == (3, 1.0, 0.5)
    assert rows[75].active_share == 1.0  # the one active case is above every band


def test_by_session_two_misses_the_later_signal(pwp, split):
    report = queries.trajectory_validation(pwp.team_id, split=split, min_n=3, by_session=2)
    assert by_tolerance(report)[50].held_out.flagged == 2


def test_the_default_split_holds_out_the_latest_fifth(pwp, split):
    assert queries.default_split(dt.date(2026, 1, 1), dt.date(2026, 1, 11)) == dt.date(2026, 1, 9)
    assert queries.default_split(None, None) is None
    report = queries.trajectory_validation(pwp.team_id, min_n=3)
    assert report.split == today() - dt.timedelta(days=2 + round(53 * 0.2))


def test_nothing_to_validate_without_history(team):
    report = queries.trajectory_validation(team.pk)
    assert report.empty and report.split is None


def test_the_command(pwp, split):
    out = StringIO()
    call_command(
        "validate_trajectories", "--team", pwp.team.code, "--split", split.isoformat(), "--min-n", "3", stdout=out
    )
    text = out.getvalue()
    assert "fitted on 4 finished courses" in text and "4 held-out courses" in text
    assert "75th" in text and "(current)" in text
    with pytest.raises(CommandError, match="between 0 and 1"):
        call_command("validate_trajectories", "--team", pwp.team.code, "--target", "20")
    with pytest.raises(CommandError, match="No team"):
        call_command("validate_trajectories", "--team", "NOPE")


@pytest.mark.parametrize("role", list(Role))
def test_the_page_is_for_the_teams_managers_only(client, team, role):
    user = StaffFactory(username=f"user_{role}", team=team, role=role)
    client.force_login(user)
    response = client.get(reverse("dashboard:not_on_track"))
    assert response.status_code == (200 if role == Role.MANAGER else 403)


def test_superuser_status_gives_no_access_and_a_manager_sees_only_their_team(client, team, other_team, split, pwp):
    client.force_login(StaffFactory(username="root", team=team, role=Role.PWP, is_superuser=True))
    assert client.get(reverse("dashboard:not_on_track")).status_code == 403
    client.force_login(StaffFactory(username="elsewhere", team=other_team, role=Role.MANAGER))
    response = client.get(reverse("dashboard:not_on_track"))
    assert response.status_code == 200 and response.context["report"].empty  # their own team: no history
    client.logout()
    assert client.get(reverse("dashboard:not_on_track")).status_code == 302


def test_the_page_reports_and_refuses_bad_input(client, manager, split):
    client.force_login(manager)
    url = reverse("dashboard:not_on_track")
    response = client.get(url, {"split": split.isoformat(), "by_session": 4, "target": 20, "min_n": 3})
    assert response.status_code == 200
    html = response.content.decode()
    assert "fitted on <strong>4</strong> finished courses" in html
    assert "50% (2 of 4)" in html
    response = client.get(url, {"by_session": 1, "target": 90})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"by_session", "target"}
