"""Shared fixtures: personas of one service and an outsider team."""

import pytest
from rest_framework.test import APIClient

from stepped_care.models import Role

from .factories import PASSWORD, ReferralFactory, RelationshipFactory, StaffFactory, TeamFactory


@pytest.fixture
def team(db):
    return TeamFactory(name="Talking Matters Test", code="TMT")


@pytest.fixture
def other_team(db):
    return TeamFactory(name="Elsewhere Talking Therapies", code="ETT")


@pytest.fixture
def pwp(team):
    return StaffFactory(username="pwp_a", team=team, role=Role.PWP)


@pytest.fixture
def colleague(team):
    """A clinician of the same team who is not on the case."""
    return StaffFactory(username="pwp_b", team=team, role=Role.PWP)


@pytest.fixture
def supervisor(team, pwp):
    sup = StaffFactory(username="sup_a", team=team, role=Role.HI_THERAPIST, is_supervisor=True)
    RelationshipFactory(supervisor=sup, supervisee=pwp)
    return sup


@pytest.fixture
def manager(team):
    return StaffFactory(username="manager_a", team=team, role=Role.MANAGER)


@pytest.fixture
def administrator(team):
    return StaffFactory(username="admin_a", team=team, role=Role.ADMINISTRATOR)


@pytest.fixture
def outsider(other_team):
    return StaffFactory(username="pwp_x", team=other_team, role=Role.PWP)


@pytest.fixture
def referral(pwp):
    """A referral coordinated by ``pwp``, received 120 days ago."""
    return ReferralFactory(patient__team=pwp.team, care_coordinator=pwp)


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def api():
    """An API client; ``api.force_authenticate(user)`` to act as a persona."""
    return APIClient()


def login(client, user):
    client.force_login(user)
    return client
