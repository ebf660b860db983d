"""The month's submission: one CSV per table with the data set's field names, a manifest that
matches, the period's rows only, written from the records as the services made them."""

import csv
import hashlib
import io
import zipfile

import pytest

from dataset import rules
from dataset.services import write_export

from .conftest import NOW, PERIOD


def export(team, period=PERIOD):
    buffer = io.BytesIO()
    outcome = write_export(buffer, team=team, period=rules.parse_period(period), now=NOW)
    return outcome, zipfile.ZipFile(io.BytesIO(buffer.getvalue()))


def table(archive, code):
    text = archive.read(rules.TABLES[code].file_name).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.django_db
def test_every_table_is_written_with_the_published_field_names(team, month):
    outcome, archive = export(team)
    assert not outcome.failures, outcome.failures
    names = archive.namelist()
    assert names == [rules.TABLES[code].file_name for code in rules.EXPORTED] + ["manifest.csv"]
    with open(rules.FIELDS_CSV, newline="") as handle:
        published = {}
        for row in csv.DictReader(handle):
            published.setdefault(row["table_code"], []).append(row["field"])
    for code in rules.EXPORTED:
        header = archive.read(rules.TABLES[code].file_name).decode().splitlines()[0].split(",")
        assert header == published[code], code


@pytest.mark.django_db
def test_the_manifest_counts_and_hashes_each_file(team, month):
    outcome, archive = export(team)
    manifest = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
    assert [m["table"] for m in manifest] == list(rules.EXPORTED)
    for entry in manifest:
        data = archive.read(entry["file"])
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert len(data.decode().splitlines()) - 1 == int(entry["rows"])
    assert outcome.counts == {m["table"]: int(m["rows"]) for m in manifest}


@pytest.mark.django_db
def test_the_period_holds_what_happened_in_it(team, month):
    _, archive = export(team)
    header = table(archive, "IDS000")
    assert header == [
        {
            "DatSetVer": "2.1",
            "OrgIDProv": "TMT",
            "OrgIDSubmit": "TMT",
            "PrimSystemInUse": "Stepped Care",
            "ReportingPeriodStartDate": "2026-10-01",
            "ReportingPeriodEndDate": "2026-10-31",
            "DateTimeDatSetCreate": "2026-11-03T09:30:00",
        }
    ]
    referrals = {r["ServiceRequestId"]: r for r in table(archive, "IDS101")}
    assert set(referrals) == {str(month.first.pk), str(month.second.pk)}  # not the one discharged in September
    first = referrals[str(month.first.pk)]
    assert (first["EndCode"], first["ServDischDate"], first["SourceOfReferralIAPT"]) == ("46", "2026-10-26", "A1")
    patients = {p["LocalPatientId"]: p for p in table(archive, "IDS001")}
    assert patients[str(month.first.patient_id)]["NHSNumber"] == "9434765919"
    assert patients[str(month.first.patient_id)]["NHSNumberStatus"] == "02"
    assert patients[str(month.second.patient_id)]["NHSNumberStatus"] == "03"
    contacts = table(archive, "IDS201")
    assert sorted(c["CareContDate"] for c in contacts) == ["2026-10-05", "2026-10-09", "2026-10-12", "2026-10-19"]
    assert {c["AttendOrDNACode"] for c in contacts} == {"5", "6", "3"}
    activities = table(archive, "IDS202")
    assert len(activities) == 3  # attended contacts only
    assert {a["CodeProcAndProcStatus"] for a in activities} == {"", "748051000000105"}
    assert {a["CarePersLocalId"] for a in activities} == {"pwp_a"}
    scores = table(archive, "IDS607")
    assert sorted((s["CodedAssToolType"], s["PersScore"]) for s in scores) == sorted(
        [
            ("720433000", "11"),
            ("445455005", "9"),
            ("720433000", "8"),
            ("445455005", "7"),
            ("720433000", "11"),
            ("445552006", "17"),
            # WSAS, item by item (work, home, social leisure, private leisure, relationships)
            ("932621000000100", "8"),
            ("932581000000100", "2"),
            ("932611000000106", "3"),
            ("932591000000103", "4"),
            ("932601000000109", "5"),
        ]
    )
    activity_keys = {a["CareActId"] for a in activities}
    assert {s["CareActId"] for s in scores} <= activity_keys
    assert table(archive, "IDS606") == [
        {
            "ServiceRequestId": str(month.second.pk),
            "CodedAssToolType": "720433000",
            "PersScore": "11",
            "AssToolCompDate": "2026-10-20",
            "AssToolCompTime": "",
        }
    ]
    conditions = table(archive, "IDS602")
    assert conditions == [
        {"ServiceRequestId": str(month.first.pk), "FindSchemeInUse": "04", "LongTermCondition": "73211009"}
    ]
    problems = table(archive, "IDS603")
    assert {(p["ServiceRequestId"], p["PresComp"], p["PresCompCodSig"]) for p in problems} >= {
        (str(month.second.pk), "F40.1", "1")
    }


@pytest.mark.django_db
def test_another_teams_records_are_not_in_it(team, other_team, month, outsider):
    outcome, archive = export(other_team)
    assert outcome.counts["IDS101"] == 0 and outcome.counts["IDS201"] == 0
    assert table(archive, "IDS000")[0]["OrgIDProv"] == "ETT"


@pytest.mark.django_db
def test_a_referral_discharged_after_the_period_is_open_in_it(team, month):
    outcome, archive = export(team, "2026-09")
    assert outcome.failure_count == 0, outcome.failures
    referrals = {r["ServiceRequestId"]: r for r in table(archive, "IDS101")}
    assert (referrals[str(month.first.pk)]["EndCode"], referrals[str(month.first.pk)]["ServDischDate"]) == ("", "")
    assert referrals[str(month.old.pk)]["EndCode"] == "12"  # discharged in September
