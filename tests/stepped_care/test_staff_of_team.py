""" "Staff of my team" is asked one way (``stepped_care.queries.staff_of_team``): the forms' choice lists,
the dashboard, supervision, group courses, the audit page and the API's staff fields agree on who is
in a team, who is a clinician and who has left."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from dashboard.audit_views import AuditFilterForm
from referrals.forms import AllocateForm
from stepped_care.models import Role
from stepped_care.queries import ALL_TEAMS, staff_of_team, staff_of_users_team
from tests.factories import StaffFactory
from workshops.forms import CourseForm

pytestmark = pytest.mark.django_db
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def people(team, other_team):
    return {
        "walsh": StaffFactory(username="walsh", first_name="Priya", last_name="Walsh", team=team, role=Role.PWP),
        "adeyemi": StaffFactory(
            username="adeyemi", first_name="Ruth", last_name="Adeyemi", team=team, role=Role.COUNSELLOR
        ),
        "doyle": StaffFactory(username="doyle", first_name="Michael", last_name="Doyle", team=team, role=Role.MANAGER),
        "left": StaffFactory(
            username="left", first_name="Lee", last_name="Gone", team=team, role=Role.PWP, is_active=False
        ),
        "parry": StaffFactory(username="parry", first_name="Kim", last_name="Parry", team=other_team, role=Role.PWP),
    }


def names(staff):
    return [s.username for s in staff]


def test_the_selector_filters_by_team_role_and_leaving(team, people):
    assert names(staff_of_team(team)) == ["adeyemi", "doyle", "walsh"]  # by family name
    assert names(staff_of_team(team.pk, clinical=True)) == ["adeyemi", "walsh"]
    assert names(staff_of_team(team, clinical=False)) == ["doyle"]
    assert names(staff_of_team(team, active=None)) == ["adeyemi", "doyle", "left", "walsh"]
    assert names(staff_of_team(team, active=False)) == ["left"]
    assert names(staff_of_team(None)) == []
    assert "parry" in names(staff_of_team(ALL_TEAMS))
    assert names(staff_of_users_team(people["doyle"], clinical=True)) == ["adeyemi", "walsh"]
    assert names(staff_of_users_team(None)) == []


def test_choice_lists_offer_the_teams_current_clinicians(team, people):
    assert names(AllocateForm(team_id=team.pk).fields["clinician"].queryset) == ["adeyemi", "walsh"]
    assert names(CourseForm(team=team).fields["facilitators"].queryset) == ["adeyemi", "walsh"]
    # The audit page names anyone of the team who acted, including those who have left.
    actors = AuditFilterForm(user=people["doyle"]).fields["actor"].queryset
    assert names(actors) == ["adeyemi", "doyle", "left", "walsh"]


def test_the_api_accepts_only_staff_of_the_callers_team(api, team, people, referral):
    api.force_authenticate(people["doyle"])
    ok = api.get("/api/v1/referrals/", {"care_coordinator": people["walsh"].pk})
    assert ok.status_code == 200
    elsewhere = api.get("/api/v1/referrals/", {"care_coordinator": people["parry"].pk})
    assert elsewhere.status_code == 400


def test_the_dashboard_clinician_filter_lists_whole_names(client, team, people):
    client.force_login(people["doyle"])
    html = client.get(reverse("dashboard:index")).content.decode()
    assert ">Priya Walsh</option>" in html and ">Ruth Adeyemi</option>" in html
    assert "Kim Parry" not in html


def test_no_module_but_the_selector_queries_staff_by_team():
    """Every other read of staff goes through ``staff_of_team`` (a prefetch ordering is not a selection)."""
    offenders = []
    pattern = re.compile(r"Staff\.objects\.(filter|exclude|all|get)\(|_staff_model\(\)\s*\.objects\.filter")
    for path in REPO.glob("*/*.py"):
        if (
            path.parts[-2] in ("tests", ".venv", "demo")
            or path.relative_to(REPO).as_posix() == "stepped_care/queries.py"
        ):
            continue
        if pattern.search(path.read_text()):
            offenders.append(path.relative_to(REPO).as_posix())
    assert offenders == []
