"""The command-line doors: ``export_dataset`` and ``import_dataset`` do what the pages do."""

import zipfile

import pytest
from django.core.management import CommandError, call_command

from common.models import AuditEvent
from common.permissions import NotAllowed
from dataset.models import ImportedRecord
from referrals.models import Patient

from .extracts import extract


@pytest.mark.django_db
def test_export_dataset_writes_the_month(team, month, tmp_path, capsys):
    out = tmp_path / "october.zip"
    call_command("export_dataset", "--period", "2026-10", "--team", "TMT", "--output", str(out))
    assert "IDS101Referral.csv" in zipfile.ZipFile(out).namelist()
    assert "IDS101 IDS101Referral.csv: 2 rows" in capsys.readouterr().out
    assert AuditEvent.objects.filter(action="dataset.export", system_actor="manage.py export_dataset").exists()


@pytest.mark.django_db
def test_export_dataset_refuses_an_invalid_month_and_writes_nothing(team, month, tmp_path, capsys):
    Patient.objects.filter(pk=month.first.patient_id).update(nhs_number="9434765918")
    out = tmp_path / "october.zip"
    with pytest.raises(CommandError, match="Refused: 1 failures"):
        call_command("export_dataset", "--period", "2026-10", "--team", "TMT", "--output", str(out))
    assert not out.exists() and not list(tmp_path.iterdir())
    assert "IDS001 NHSNumber = '9434765918'" in capsys.readouterr().err


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2026-13", "--team", "TMT"], "not a month"),
        (["--period", "2026-10"], "Name the team"),
        (["--period", "2026-10", "--team", "NOPE"], "No team"),
    ],
)
def test_export_dataset_names_what_is_wrong(team, other_team, tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("export_dataset", *args, "--output", str(tmp_path / "x.zip"))


@pytest.mark.django_db
def test_import_dataset_dry_run_prints_each_line_and_changes_nothing(manager, pwp, tmp_path, capsys):
    path = tmp_path / "extract.zip"
    path.write_bytes(extract().getvalue())
    call_command("import_dataset", str(path), "--team", "TMT", "--by", manager.username, "--dry-run")
    out = capsys.readouterr().out
    assert "IDS201CareContact.csv:2: create: contact CC-1 on 2025-01-20" in out
    assert "Would create 2 referrals" in out
    assert not ImportedRecord.objects.exists()
    call_command("import_dataset", str(path), "--team", "TMT", "--by", manager.username, "--quiet")
    assert "Created 2 referrals" in capsys.readouterr().out
    assert ImportedRecord.objects.filter(table="IDS101").count() == 2


@pytest.mark.django_db
def test_import_dataset_is_for_the_teams_managers(pwp, tmp_path):
    path = tmp_path / "extract.zip"
    path.write_bytes(extract().getvalue())
    with pytest.raises(NotAllowed, match="service managers"):
        call_command("import_dataset", str(path), "--team", "TMT", "--by", pwp.username)
    assert not ImportedRecord.objects.exists()
