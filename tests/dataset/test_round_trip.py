"""Export, import into an empty database, export again: the same files, byte for byte. This is what
lets a service move its history between systems (and NHS England see the same identifiers)."""

import io
import zipfile

import pytest
from django.core.management import call_command

from dataset import imports, rules
from dataset.services import write_export
from referrals.models import Referral
from stepped_care.models import Role

from ..factories import StaffFactory, TeamFactory
from .conftest import NOW, build_month
from .extracts import extract


def export(team, period):
    buffer = io.BytesIO()
    outcome = write_export(buffer, team=team, period=rules.parse_period(period), now=NOW)
    assert outcome.failure_count == 0, outcome.failures
    return buffer.getvalue()


def files(data):
    archive = zipfile.ZipFile(io.BytesIO(data))
    return {name: archive.read(name) for name in archive.namelist()}


def fresh_service():
    """An empty database with the same team and staff (who the contacts name by username)."""
    call_command("flush", interactive=False, verbosity=0)
    team = TeamFactory(name="Talking Matters Test", code="TMT")
    manager = StaffFactory(username="manager_a", team=team, role=Role.MANAGER)
    StaffFactory(username="pwp_a", team=team, role=Role.PWP)
    return team, manager


@pytest.mark.django_db(transaction=True)
def test_export_import_export_gives_identical_files(team, pwp, manager):
    build_month(pwp)
    first = export(team, "2026-10")
    assert files(first)["IDS607CodedScoreAssessmentAct.csv"].count(b"\r\n") > 1  # there is something to compare
    team, manager = fresh_service()
    assert not Referral.objects.exists()
    report = imports.import_extract(io.BytesIO(first), team=team, by=manager, dry_run=False)
    assert report.problem_count == 0, report.problems
    assert report.referrals_created == 2
    second = export(team, "2026-10")
    assert files(second) == files(first)
    assert second == first


@pytest.mark.django_db(transaction=True)
def test_another_systems_extract_comes_back_out_with_its_own_keys(team, pwp, manager):
    report = imports.import_extract(extract(), team=team, by=manager, dry_run=False)
    assert report.problem_count == 0, report.problems
    out = files(export(team, "2024-04..2026-10"))
    referrals = out["IDS101Referral.csv"].decode()
    assert "SR-1," in referrals and "SR-2," in referrals
    assert "CA-1,CC-1,pwp_a" in out["IDS202CareActivity.csv"].decode()
    scores = out["IDS607CodedScoreAssessmentAct.csv"].decode().splitlines()
    assert sorted(scores[1:]) == sorted(
        ["CA-1,720433000,16", "CA-1,445455005,13", "CA-2,720433000,9", "CA-4,720433000,14"]
    )
