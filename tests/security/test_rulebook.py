"""The rulebook itself (common/permissions.py): its table reads as its docstring says, its role rules
say what the issue asked in so many words, and a refusal is a page inside the app that names who may."""

from types import SimpleNamespace

import pytest
from django.urls import reverse

from common import permissions
from common.permissions import RULES, NotAllowed
from common.roles import CLINICAL_ROLES, Role
from stepped_care.models import StepSource
from stepped_care.services import change_step

CLINICAL_DECISIONS = ("record_care", "change_step", "mark_in_error", "resolve_flag", "discharge")
OVERSIGHT = ("see_dashboard", "search_audit")


def staff(role, *, superuser=False, supervisor=False, team_id=1):
    """A member of staff as the rulebook's role rules see one (no database)."""
    return SimpleNamespace(
        pk=99, role=str(role), team_id=team_id, is_superuser=superuser, is_supervisor=supervisor, is_authenticated=True
    )


def test_the_docstring_table_is_the_rulebook():
    """What a service manager reads at the top of the module is what the code decides."""
    assert permissions.table() in permissions.__doc__


@pytest.mark.parametrize("action", CLINICAL_DECISIONS)
def test_clinical_decisions_belong_to_clinicians_only(action):
    for role in Role:
        assert permissions.may(staff(role), action) is (role in CLINICAL_ROLES), (role, action)


@pytest.mark.parametrize("action", [*CLINICAL_DECISIONS, "allocate", "take_register", "supervision_decision"])
def test_administrators_never_make_clinical_decisions(action):
    assert not permissions.may(staff(Role.ADMINISTRATOR), action)
    assert not permissions.may(staff(Role.ADMINISTRATOR, superuser=True), action)


def test_administrators_book_and_register():
    for action in ("register_patient", "register_referral", "update_patient", "book_group_place", "plan_course"):
        assert permissions.may(staff(Role.ADMINISTRATOR), action), action


def test_managers_allocate_and_oversee_but_do_not_record_care():
    manager = staff(Role.MANAGER)
    assert all(permissions.may(manager, a) for a in ("allocate", *OVERSIGHT, "manage_supervision"))
    assert not any(permissions.may(manager, a) for a in (*CLINICAL_DECISIONS, "take_register"))


@pytest.mark.parametrize("role", list(Role))
def test_superuser_status_gives_no_clinical_right(role):
    """A superuser acts by their role; the flag adds only oversight of every team."""
    for action in RULES:
        plain, superuser = staff(role), staff(role, superuser=True)
        if action in OVERSIGHT:
            assert permissions.may(superuser, action)
        else:
            assert permissions.may(superuser, action) == permissions.may(plain, action), (role, action)


def test_staff_without_a_team_may_do_nothing_but_a_superuser_oversees():
    for action in RULES:
        assert not permissions.may(staff(Role.PWP, team_id=None), action)
    assert permissions.may(staff(Role.PWP, team_id=None, superuser=True), "see_dashboard")
    assert not permissions.may(None, "see_dashboard")
    assert not permissions.may(SimpleNamespace(is_authenticated=False), "register_patient")


def test_a_service_must_name_the_record():
    """``require`` without the record a rule needs is a programming error, not a silent yes."""
    with pytest.raises(TypeError):
        permissions.require(staff(Role.PWP), "change_step")
    with pytest.raises(NotAllowed):  # no role to pass first: refused as usual
        permissions.require(staff(Role.MANAGER), "change_step")


# --- with the database: supervisors through decisions, and the 403 page ---------------------------


@pytest.mark.django_db
def test_a_supervisor_changes_a_step_through_a_supervision_decision_only(supervisor, referral):
    with pytest.raises(NotAllowed):
        change_step(referral=referral, step=2, reason="Discussed", by=supervisor)
    step = change_step(referral=referral, step=2, reason="Discussed", by=supervisor, source=StepSource.SUPERVISION)
    assert step.decided_by == supervisor


@pytest.mark.django_db
def test_a_colleague_is_no_supervisor_of_the_case(colleague, referral):
    with pytest.raises(NotAllowed):
        change_step(referral=referral, step=2, reason="x", by=colleague, source=StepSource.SUPERVISION)


@pytest.mark.django_db
def test_the_403_page_is_the_apps_and_says_who_may(client, manager, referral):
    client.force_login(manager)
    response = client.get(reverse("referrals:change_step", args=[referral.pk]))
    assert response.status_code == 403
    page = response.content.decode()
    assert "Stepped Care" in page and "Sign out" in page  # inside the app's layout, signed in
    assert "You cannot change a referral&#x27;s step here" in page
    assert "Only <strong>clinicians on the case</strong> may change a referral&#x27;s step." in page
    assert "Psychological Wellbeing Practitioner" in page and "Counsellor" in page  # the roles that may
    assert "(Service manager, Talking Matters Test)" in page  # who they are signed in as


@pytest.mark.django_db
def test_an_api_refusal_stays_json(api, manager, referral):
    api.force_authenticate(manager)
    response = api.post(f"/api/v1/referrals/{referral.pk}/steps/", {"step": 2, "reason": "x"}, format="json")
    assert response.status_code == 403
    body = response.json()
    assert body["detail"] == "Only clinicians on the case may change a referral's step."
    assert body["code"] == "permission_denied"


@pytest.mark.django_db
def test_a_page_refused_for_another_reason_is_the_apps_page_too(client, pwp):
    client.force_login(pwp)
    response = client.get(reverse("dashboard:index"))
    assert response.status_code == 403
    assert (
        "Only <strong>service managers and administrators (superusers: every team)</strong>"
        in response.content.decode()
    )
