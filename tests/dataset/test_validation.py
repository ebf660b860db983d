"""Validated before it leaves: the checks NHS England applies, table by table, and an export that
finds any failure is refused with every failure named (table, field, value, record, link)."""

import datetime as dt
import io

import pytest

from dataset import rules
from dataset.services import write_export
from outcomes.services import record_questionnaire
from referrals.models import CareContact, Patient

from .conftest import NOW, PERIOD, PHQ

OCTOBER = rules.parse_period(PERIOD)

GOOD = {
    "IDS001": {
        "LocalPatientId": "P1",
        "NHSNumber": "9434765919",
        "NHSNumberStatus": "02",
        "PersonBirthDate": "1985-03-14",
        "Postcode": "LS1 4AP",
    },
    "IDS101": {
        "ServiceRequestId": "R1",
        "LocalPatientId": "P1",
        "ReferralRequestReceivedDate": "2026-09-15",
        "SourceOfReferralIAPT": "B1",
        "EndCode": "46",
        "ServDischDate": "2026-10-26",
    },
    "IDS201": {
        "CareContactId": "C1",
        "ServiceRequestId": "R1",
        "CareContDate": "2026-10-05",
        "CareContTime": "10:00:00",
        "AttendOrDNACode": "5",
        "AppType": "01",
        "ConsMechanism": "01",
        "CareContPatientTherMode": "1",
        "IAPTLTCServiceInd": "N",
        "ClinContDurOfCareCont": "45",
    },
    "IDS202": {"CareActId": "C1-1", "CareContactId": "C1", "CodeProcAndProcStatus": "304891004"},
    "IDS602": {"ServiceRequestId": "R1", "FindSchemeInUse": "04", "LongTermCondition": "73211009"},
    "IDS603": {
        "ServiceRequestId": "R1",
        "FindSchemeInUse": "01",
        "PresComp": "F41.1",
        "PresCompCodSig": "1",
        "PresCompDate": "2026-09-15",
    },
    "IDS606": {
        "ServiceRequestId": "R1",
        "CodedAssToolType": "720433000",
        "PersScore": "14",
        "AssToolCompDate": "2026-10-20",
    },
    "IDS607": {"CareActId": "C1-1", "CodedAssToolType": "473355002", "PersScore": "2.35"},
}

# (table, change, the field named, a fragment of the message)
BAD = [
    ("IDS001", {"NHSNumber": "9434765918"}, "NHSNumber", "check digit"),
    ("IDS001", {"NHSNumber": "943476591"}, "NHSNumber", "check digit"),
    ("IDS001", {"NHSNumberStatus": "09"}, "NHSNumberStatus", "NHS number status"),
    ("IDS001", {"PersonBirthDate": "1985-02-30"}, "PersonBirthDate", "YYYY-MM-DD"),
    ("IDS001", {"PersonBirthDate": "2026-11-01"}, "PersonBirthDate", "on or before 2026-10-31"),
    ("IDS001", {"Postcode": "NOT A CODE"}, "Postcode", "postcode"),
    ("IDS001", {"LocalPatientId": ""}, "LocalPatientId", "key"),
    ("IDS101", {"EndCode": "15"}, "EndCode", "end code"),
    ("IDS101", {"EndCode": "", "ServDischDate": "2026-10-26"}, "EndCode", "go together"),
    ("IDS101", {"PrevDiagCondInd": "X"}, "PrevDiagCondInd", "previous diagnosed"),
    ("IDS101", {"SourceOfReferralIAPT": "self"}, "SourceOfReferralIAPT", "letter and a digit"),
    ("IDS101", {"ReferralRequestReceivedDate": "2026-11-02"}, "ReferralRequestReceivedDate", "reporting period"),
    ("IDS101", {"ServDischDate": "2026-09-30"}, "ServDischDate", "reporting period"),
    ("IDS101", {"ServiceRequestId": "R,1"}, "ServiceRequestId", "without commas"),
    ("IDS201", {"AppType": "09"}, "AppType", "appointment type"),
    ("IDS201", {"AppType": ""}, "AppType", "must be given"),
    ("IDS201", {"AttendOrDNACode": "1"}, "AttendOrDNACode", "attendance"),
    ("IDS201", {"ConsMechanism": "07"}, "ConsMechanism", "consultation mechanism"),
    ("IDS201", {"CareContDate": "2026-09-30"}, "CareContDate", "reporting period"),
    ("IDS201", {"CareContTime": "10:00"}, "CareContTime", "hh:mm:ss"),
    ("IDS201", {"ClinContDurOfCareCont": "45.5"}, "ClinContDurOfCareCont", "whole number"),
    ("IDS201", {"IAPTLTCServiceInd": "yes"}, "IAPTLTCServiceInd", "Y/N"),
    ("IDS202", {"CodeProcAndProcStatus": "12345678"}, "CodeProcAndProcStatus", "therapy type"),
    ("IDS202", {"CareContactId": ""}, "CareContactId", "key"),
    ("IDS602", {"LongTermCondition": "diabetes"}, "LongTermCondition", "SNOMED"),
    ("IDS602", {"FindSchemeInUse": "01"}, "FindSchemeInUse", "finding scheme"),
    ("IDS603", {"PresComp": "F99"}, "PresComp", "ICD-10"),
    ("IDS603", {"PresCompCodSig": "3"}, "PresCompCodSig", "coding significance"),
    ("IDS606", {"CodedAssToolType": "123456"}, "CodedAssToolType", "known assessment tool"),
    ("IDS606", {"PersScore": "28"}, "PersScore", "between 0 and 27"),
    ("IDS606", {"PersScore": "14.0"}, "PersScore", "whole number"),
    ("IDS606", {"AssToolCompDate": "2026-11-01"}, "AssToolCompDate", "reporting period"),
    ("IDS607", {"PersScore": "2.3"}, "PersScore", "d.dd"),
    ("IDS607", {"PersScore": "5.01"}, "PersScore", "between"),
    ("IDS607", {"CodedAssToolType": "445552006", "PersScore": "69"}, "PersScore", "between 0 and 68"),
    ("IDS607", {"CodedAssToolType": "491581000000104", "PersScore": "80"}, None, None),  # PCL-5 top score
    ("IDS607", {"CodedAssToolType": "450324005", "PersScore": "168"}, None, None),  # OCI top score
    ("IDS607", {"CodedAssToolType": "932621000000100", "PersScore": "9"}, None, None),  # WSAS work: 0-9
    ("IDS607", {"CodedAssToolType": "932581000000100", "PersScore": "9"}, "PersScore", "WSAS item 2"),
    ("IDS607", {"CodedAssToolType": "932601000000109", "PersScore": "4.0"}, "PersScore", "0 to 8"),
]


@pytest.mark.parametrize("table", sorted(GOOD))
def test_a_good_row_passes(table):
    assert rules.check_row(table, GOOD[table], OCTOBER) == []


@pytest.mark.parametrize(("table", "change", "field", "fragment"), BAD)
def test_each_check_names_the_field_and_value(table, change, field, fragment):
    row = {**GOOD[table], **change}
    found = rules.check_row(table, row, OCTOBER)
    if field is None:
        assert found == []
        return
    assert found, (table, change)
    assert any(f.field == field and fragment in f.message and f.value == row.get(field, "") for f in found), found


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("9434765919", True),
        ("9434765918", False),
        ("4010232137", True),
        ("1000000010", False),
        ("943476591X", False),
        ("", False),
        ("94347659190", False),
    ],
)
def test_the_nhs_number_check_digit(number, valid):
    assert rules.nhs_number_is_valid(number) is valid


def test_every_measure_with_a_snomed_code_is_known_and_checked_at_its_range():
    for snomed, code in rules.MEASURE_BY_SNOMED.items():
        inst = rules.INSTRUMENTS[code]
        top = rules.score_text(code, inst.total_max)
        assert rules.check_score(snomed, top) is None, code
        over = f"{inst.total_max + 1:.2f}" if inst.decimals else str(inst.total_max + 1)
        assert rules.check_score(snomed, over).field == "PersScore", code


def test_the_therapy_types_are_the_session_forms():
    from referrals.codes import TherapyType

    assert set(TherapyType.values) == rules.THERAPY_TYPES


def test_the_long_term_conditions_are_the_models():
    from referrals.codes import LongTermCondition

    assert set(rules.LONG_TERM_CONDITIONS) == set(LongTermCondition.values) - {"other"}


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-10", dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
        ("2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
        ("2025-11..2026-10", dt.date(2025, 11, 1), dt.date(2026, 10, 31)),
    ],
)
def test_a_period_is_whole_calendar_months(text, start, end):
    assert rules.parse_period(text) == rules.Period(start, end)


@pytest.mark.parametrize("text", ["2026-13", "October", "2026-10..2026-09", "26-10"])
def test_a_bad_period_is_refused(text):
    with pytest.raises(ValueError):
        rules.parse_period(text)


def test_a_header_names_unknown_and_missing_fields():
    names = [*rules.TABLES["IDS602"].field_names[:-1], "Colour"]
    found = rules.check_header("IDS602", names)
    assert {(f.field, f.message.split(" ")[0]) for f in found} == {("Colour", "Not"), ("LongTermCondition", "The")}


@pytest.mark.django_db
def test_an_export_with_a_bad_record_names_it_with_a_link(team, pwp, month):
    Patient.objects.filter(pk=month.first.patient_id).update(nhs_number="9434765918")
    # A contact dated after its referral's discharge (in September), as another system's history may
    # hold (the services refuse it): the referral is not in October's submission, so the key does not join.
    late = month.old
    contact = CareContact.objects.create(
        referral=late, clinician=pwp, created_by=pwp, date=dt.date(2026, 10, 7), appointment_type="02", attendance="5"
    )
    record_questionnaire(contact=contact, measure="PHQ9", answers=PHQ, by=pwp)
    outcome = write_export(io.BytesIO(), team=team, period=OCTOBER, now=NOW)
    assert outcome.failure_count == 3  # the patient, the contact and the contact's PHQ-9
    by_field = {f.field: f for f in outcome.failures}
    nhs = by_field["NHSNumber"]
    assert (nhs.table, nhs.value, nhs.record) == ("IDS001", "9434765918", str(month.first.patient_id))
    join = by_field["ServiceRequestId"]
    assert (join.table, join.value, join.link) == ("IDS201", str(late.pk), f"/referrals/{late.pk}/")
    assert "not open in the period" in join.message
    score = by_field["CareActId"]
    assert (score.table, score.value) == ("IDS607", rules.care_activity_key(str(contact.pk)))
