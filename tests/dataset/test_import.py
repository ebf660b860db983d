"""Another system's extract: a dry run reports each line and changes nothing; the import brings each
referral whole or not at all, records where each row came from, and a second import changes nothing."""

import datetime as dt
import io

import pytest

from common.models import AuditEvent
from dataset import imports, rules
from dataset.models import ImportedRecord, ImportedScore
from referrals.models import CareContact, Patient, PresentingProblemRecord, Referral

from .extracts import extract, rows


def state():
    return (
        Patient.objects.count(),
        Referral.objects.count(),
        CareContact.objects.count(),
        PresentingProblemRecord.objects.count(),
        ImportedScore.objects.count(),
        ImportedRecord.objects.count(),
    )


def run(manager, source, *, dry_run=False):
    lines = []
    report = imports.import_extract(
        source, team=manager.team, by=manager, dry_run=dry_run, lines=lambda *row: lines.append(row)
    )
    return report, lines


@pytest.mark.django_db
def test_a_dry_run_reports_each_line_and_changes_nothing(manager, pwp):
    before = state()
    report, lines = run(manager, extract(), dry_run=True)
    assert report.problems == []
    assert (report.referrals_created, report.referrals_skipped) == (2, 0)
    created = {(file, line) for file, line, action, _ in lines if action == "create"}
    # every line of every table but the header is accounted for
    expected = {(rules.TABLES[code].file_name, n + 2) for code, r in rows().items() for n in range(len(r))}
    assert created == expected
    assert state() == before


@pytest.mark.django_db
def test_the_import_brings_each_referral_with_its_rows_and_their_source(manager, pwp):
    report, _ = run(manager, extract())
    assert report.problems == [] and report.referrals_created == 2
    first = Referral.objects.get(pk=ImportedRecord.objects.get(table="IDS101", source_key="SR-1").object_id)
    assert (first.team, first.status, first.end_code, str(first.discharged_on)) == (
        manager.team,
        "discharged",
        "46",
        "2025-03-01",
    )
    assert first.source == "gp" and first.presenting_problem == "depression"
    assert first.patient.nhs_number == "9434765919" and first.patient.long_term_conditions == ["diabetes"]
    contacts = list(first.contacts.order_by("date"))
    assert [c.attendance for c in contacts] == ["5", "5", "3"]
    assert contacts[1].therapy_type == "748051000000105" and str(contacts[1].time) == "14:30:00"
    assert contacts[0].clinician == pwp and contacts[2].clinician == manager  # no activity: the importer
    scores = ImportedScore.objects.filter(referral=first).order_by("contact__date", "measure")
    assert [(s.measure, s.total) for s in scores] == [("GAD7", 13), ("PHQ9", 16), ("PHQ9", 9)]
    assert {r.source for r in ImportedRecord.objects.all()} == {"RXX"}
    second = Referral.objects.get(pk=ImportedRecord.objects.get(table="IDS101", source_key="SR-2").object_id)
    assert second.status == "awaiting_treatment" and second.presenting_problem == "gad"
    assert ImportedScore.objects.get(referral=second, contact=None).total == 12
    assert AuditEvent.objects.filter(action="dataset.import_referral").count() == 2


@pytest.mark.django_db
def test_importing_the_same_files_twice_changes_nothing(manager, pwp):
    run(manager, extract())
    after_first = state()
    report, lines = run(manager, extract())
    assert state() == after_first
    assert (report.referrals_created, report.referrals_existing, report.problem_count) == (0, 2, 0)
    assert {action for _, _, action, _ in lines} == {"exists"}


@pytest.mark.django_db
def test_a_later_extract_adds_only_what_is_new(manager, pwp):
    run(manager, extract())
    tables = rows()
    tables["IDS201"].append(
        {
            "CareContactId": "CC-5",
            "ServiceRequestId": "SR-2",
            "CareContDate": "2026-10-01",
            "AttendOrDNACode": "5",
            "AppType": "02",
            "ConsMechanism": "01",
        }
    )
    before = CareContact.objects.count()
    report, _ = run(manager, extract(tables))
    assert report.problem_count == 0 and CareContact.objects.count() == before + 1


def _broken(change):
    tables = rows()
    change(tables)
    return tables


# (what is wrong, the extract, the file, line and field the dry run names, whether the whole import is refused)
BAD = [
    ("bad code", lambda t: t["IDS201"][3].update(AppType="09"), "IDS201CareContact.csv", 5, "AppType", False),
    (
        "code we cannot hold",
        lambda t: t["IDS201"][3].update(AppType="04"),
        "IDS201CareContact.csv",
        5,
        "AppType",
        False,
    ),
    ("bad NHS number", lambda t: t["IDS001"][1].update(NHSNumber="1234567890"), "IDS001MPI.csv", 3, "NHSNumber", False),
    (
        "bad score",
        lambda t: t["IDS607"][3].update(PersScore="28"),
        "IDS607CodedScoreAssessmentAct.csv",
        5,
        "PersScore",
        False,
    ),
    (
        "missing key",
        lambda t: t["IDS101"][1].update(LocalPatientId="P009"),
        "IDS101Referral.csv",
        3,
        "LocalPatientId",
        False,
    ),
    (
        "duplicate key",
        lambda t: t["IDS201"].append(dict(t["IDS201"][3])),
        "IDS201CareContact.csv",
        6,
        "CareContactId",
        False,
    ),
    (
        "unknown staff",
        lambda t: t["IDS202"][2].update(CarePersLocalId="nobody"),
        "IDS202CareActivity.csv",
        4,
        "CarePersLocalId",
        False,
    ),
    (
        "bad date",
        lambda t: t["IDS101"][1].update(ReferralRequestReceivedDate="01/09/2026"),
        "IDS101Referral.csv",
        3,
        "ReferralRequestReceivedDate",
        False,
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("what", "change", "file", "line", "field", "refused"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_line_is_named_and_its_referral_left_out_whole(manager, pwp, what, change, file, line, field, refused):
    source = extract(_broken(change))
    report, _ = run(manager, source, dry_run=True)
    assert any((p.file, p.line, p.field) == (file, line, field) for p in report.problems), report.problems
    assert not report.refused
    before = state()
    source.seek(0)
    report, _ = run(manager, source)
    assert report.referrals_created == 1 and report.referrals_skipped == 1, what
    # the good referral came whole; nothing of the bad one (SR-2) did
    assert Referral.objects.count() == before[1] + 1
    assert not ImportedRecord.objects.filter(source_key__in=["SR-2", "P002", "CC-4", "CA-4"]).exists()
    assert not ImportedScore.objects.filter(total=14).exists()


def _extract_with(extra=None, drop=(), header=None):
    return extract(extra=extra, drop=drop, header=header)


WHOLE = [
    ("not a zip", lambda: io.BytesIO(b"LocalPatientId,NHSNumber\n"), "", 0, ""),
    ("unknown table", lambda: _extract_with({"Colours.csv": "a,b\n1,2\n"}), "Colours.csv", 0, ""),
    (
        "unknown field",
        lambda: _extract_with(
            {"IDS602LongTermCondition.csv": "ServiceRequestId,FindSchemeInUse,Colour\n"}, drop=("IDS602",)
        ),
        "IDS602LongTermCondition.csv",
        1,
        "Colour",
    ),
    ("no header table", lambda: _extract_with(drop=("IDS000",)), "IDS000Header.csv", 0, ""),
    (
        "file not as its manifest says",
        lambda: _extract_with(
            {"manifest.csv": "table,file,rows,sha256\r\nIDS602,IDS602LongTermCondition.csv,1,00ff\r\n"}
        ),
        "IDS602LongTermCondition.csv",
        0,
        "",
    ),
    (
        "malformed CSV",
        lambda: _extract_with(
            {"IDS602LongTermCondition.csv": 'ServiceRequestId,FindSchemeInUse,LongTermCondition\nSR-1,04,"7321"x\n'},
            drop=("IDS602",),
        ),
        "IDS602LongTermCondition.csv",
        None,
        "",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("what", "make", "file", "line", "field"), WHOLE, ids=[w[0] for w in WHOLE])
def test_a_bad_file_refuses_the_whole_import(manager, pwp, what, make, file, line, field):
    before = state()
    report, _ = run(manager, make())
    assert report.refused, what
    assert state() == before
    problem = report.problems[0]
    assert file in problem.file and (line is None or problem.line == line), report.problems
    if field:
        assert any(p.field == field for p in report.problems)


@pytest.mark.django_db
def test_a_row_whose_parent_is_missing_is_named_and_left_out(manager, pwp):
    tables = rows()
    tables["IDS201"][3]["ServiceRequestId"] = "SR-9"
    report, _ = run(manager, extract(tables))
    assert [(p.file, p.line, p.field, p.value) for p in report.problems] == [
        ("IDS201CareContact.csv", 5, "ServiceRequestId", "SR-9")
    ]
    assert not ImportedRecord.objects.filter(source_key__in=["CC-4", "CA-4"]).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("batch", [1, 200])
def test_two_referrals_of_one_patient_share_the_patient(manager, pwp, monkeypatch, batch):
    monkeypatch.setattr(imports, "BATCH", batch)  # in one batch, and in two
    tables = rows()
    tables["IDS101"][1]["LocalPatientId"] = "P001"
    tables["IDS001"].pop()
    report, _ = run(manager, extract(tables))
    assert report.problem_count == 0 and report.referrals_created == 2
    assert Patient.objects.filter(team=manager.team).count() == 1
    assert Referral.objects.filter(patient__nhs_number="9434765919").count() == 2


@pytest.mark.django_db
def test_a_patient_registered_here_already_is_linked_not_duplicated(manager, pwp):
    from tests.factories import PatientFactory

    known = PatientFactory(team=manager.team, nhs_number="9434765919", date_of_birth=dt.date(1980, 1, 2))
    report, _ = run(manager, extract())
    assert report.problem_count == 0
    assert Referral.objects.get(pk=ImportedRecord.objects.get(source_key="SR-1").object_id).patient == known


@pytest.mark.django_db
def test_wsas_comes_in_item_by_item(manager, pwp):
    tables = rows()
    tables["IDS607"] += [
        {"CareActId": "CA-2", "CodedAssToolType": "932621000000100", "PersScore": "9"},
        {"CareActId": "CA-2", "CodedAssToolType": "932601000000109", "PersScore": "3"},
    ]
    report, lines = run(manager, extract(tables))
    assert report.problem_count == 0, report.problems
    items = ImportedScore.objects.filter(measure="WSAS").order_by("item")
    assert [(s.item, s.total) for s in items] == [(1, 9), (5, 3)]
    assert ("IDS607CodedScoreAssessmentAct.csv", 6, "create", "WSAS item 1 score 9") in lines
