"""Shared fixtures: personas of one service and an outsider team."""

import pytest
from rest_framework.test import APIClient

from stepped_care.models import Role

from .factories import PASSWORD, ReferralFactory, RelationshipFactory, StaffFactory, TeamFactory


@pytest.fixture(autouse=True)
def _axes_lockout(request, settings):
    """django-axes is off in tests (so repeated wrong passwords in one test cannot lock out the next,
    and client.login() works); tests marked ``@pytest.mark.axes`` turn it on."""
    settings.AXES_ENABLED = request.node.get_closest_marker("axes") is not None
    if settings.AXES_ENABLED:  # the per-address sign-in limit counts in the cache: start each test afresh
        from django.core.cache import cache

        cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 (production, see tests/security/test_settings.py) takes about a second per password on a
    busy CI machine; tests hash with a fast hasher instead."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _dataset_files(settings, tmp_path_factory):
    """Data set exports and uploads are written under a temporary directory, never the project's."""
    settings.DATASET_DIR = tmp_path_factory.getbasetemp() / "dataset"


@pytest.fixture
def tasks_in_process():
    """Queued tasks run here, in the test's process, even when the run has a broker (CI's second pass):
    for tests of what a task does, not of how it travels (tests/stepped_care/test_celery_worker.py)."""
    from config.celery import app  # here: only the tests that ask for it touch the Celery app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


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
