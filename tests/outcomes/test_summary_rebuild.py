"""The outcome summary the services keep current equals a rebuild from the raw rows."""

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from common.models import AuditEvent
from outcomes.models import OutcomeSummary
from stepped_care.models import Role
from tests.factories import StaffFactory

from .population import build_population

COMPARED = [f.attname for f in OutcomeSummary._meta.concrete_fields if f.name != "updated_at"]


def table():
    return {row["referral_id"]: row for row in OutcomeSummary.objects.values(*COMPARED)}


@pytest.fixture
def population(team, pwp, colleague):
    hit = StaffFactory(username="hit_r", team=team, role=Role.HI_THERAPIST)
    return build_population(team=team, clinicians=[pwp, hit], by=colleague, today=timezone.localdate(), n=16, seed=5)


@pytest.mark.django_db
def test_the_summary_kept_by_the_services_equals_a_rebuild(population):
    kept = table()
    assert len(kept) == len(population)
    call_command("rebuild_outcome_summaries", "--check")  # raises if any row differs
    call_command("rebuild_outcome_summaries")
    assert table() == kept


@pytest.mark.django_db
def test_check_reports_drift_and_changes_nothing_and_a_rebuild_repairs_it(population):
    kept = table()
    first, second = population[0].pk, population[1].pk
    OutcomeSummary.objects.filter(pk=first).delete()
    OutcomeSummary.objects.filter(pk=second).update(attended_treatment_contacts=99, recovered=None)
    drifted = table()
    with pytest.raises(CommandError, match="2 outcome summaries differ"):
        call_command("rebuild_outcome_summaries", "--check", "--batch-size", "5")
    assert table() == drifted
    call_command("rebuild_outcome_summaries", "--batch-size", "5")
    assert table() == kept
    assert AuditEvent.objects.filter(action="outcomes.rebuild_summaries").exists()


@pytest.mark.django_db
def test_rebuild_of_one_team_leaves_the_others_alone(population, other_team):
    call_command("rebuild_outcome_summaries", "--team", population[0].team.code, "--check")
    with pytest.raises(CommandError, match="No team"):
        call_command("rebuild_outcome_summaries", "--team", "NOPE")


@pytest.mark.django_db
def test_seed_demo_writes_the_same_summaries_as_a_rebuild(settings):
    settings.DEBUG = True
    call_command("seed_demo", "--password", "demo-password-123", "--referrals", "60")
    assert OutcomeSummary.objects.count() == 60
    call_command("rebuild_outcome_summaries", "--check")
