"""Another system's extract, made by hand: the data set's tables as CSV files in a zip."""

import csv
import io
import zipfile

from dataset import rules

HEADER = {
    "DatSetVer": "2.1",
    "OrgIDProv": "RXX",
    "OrgIDSubmit": "RXX",
    "PrimSystemInUse": "Other System",
    "ReportingPeriodStartDate": "2024-04-01",
    "ReportingPeriodEndDate": "2026-10-31",
    "DateTimeDatSetCreate": "2026-11-01T08:00:00",
}


def rows():
    """Two referrals of two patients: one treated (three contacts, scores at each, discharged), one
    waiting (assessed), with presenting problems, a long-term condition and a patient's own score."""
    return {
        "IDS001": [
            {
                "LocalPatientId": "P001",
                "NHSNumber": "9434765919",
                "NHSNumberStatus": "01",
                "PersonBirthDate": "1980-01-02",
                "Postcode": "LS1 4AP",
            },
            {"LocalPatientId": "P002", "NHSNumber": "", "NHSNumberStatus": "03", "PersonBirthDate": "1999-12-31"},
        ],
        "IDS101": [
            {
                "ServiceRequestId": "SR-1",
                "LocalPatientId": "P001",
                "ReferralRequestReceivedDate": "2025-01-10",
                "SourceOfReferralIAPT": "A1",
                "EndCode": "46",
                "ServDischDate": "2025-03-01",
            },
            {
                "ServiceRequestId": "SR-2",
                "LocalPatientId": "P002",
                "ReferralRequestReceivedDate": "2026-09-01",
                "SourceOfReferralIAPT": "B1",
            },
        ],
        "IDS201": [
            {
                "CareContactId": "CC-1",
                "ServiceRequestId": "SR-1",
                "CareContDate": "2025-01-20",
                "AttendOrDNACode": "5",
                "AppType": "01",
                "ConsMechanism": "02",
                "CareContPatientTherMode": "1",
                "ClinContDurOfCareCont": "50",
            },
            {
                "CareContactId": "CC-2",
                "ServiceRequestId": "SR-1",
                "CareContDate": "2025-02-03",
                "AttendOrDNACode": "5",
                "AppType": "02",
                "ConsMechanism": "01",
                "CareContPatientTherMode": "1",
                "CareContTime": "14:30:00",
            },
            {
                "CareContactId": "CC-3",
                "ServiceRequestId": "SR-1",
                "CareContDate": "2025-02-10",
                "AttendOrDNACode": "3",
                "AppType": "02",
                "ConsMechanism": "01",
            },
            {
                "CareContactId": "CC-4",
                "ServiceRequestId": "SR-2",
                "CareContDate": "2026-09-15",
                "AttendOrDNACode": "5",
                "AppType": "01",
                "ConsMechanism": "11",
            },
        ],
        "IDS202": [
            {"CareActId": "CA-1", "CareContactId": "CC-1", "CarePersLocalId": "pwp_a"},
            {
                "CareActId": "CA-2",
                "CareContactId": "CC-2",
                "CarePersLocalId": "pwp_a",
                "CodeProcAndProcStatus": "748051000000105",
            },
            {"CareActId": "CA-4", "CareContactId": "CC-4", "CarePersLocalId": "pwp_a"},
        ],
        "IDS602": [{"ServiceRequestId": "SR-1", "FindSchemeInUse": "04", "LongTermCondition": "73211009"}],
        "IDS603": [
            {
                "ServiceRequestId": "SR-1",
                "FindSchemeInUse": "01",
                "PresComp": "F32.1",
                "PresCompCodSig": "1",
                "PresCompDate": "2025-01-20",
            },
            {
                "ServiceRequestId": "SR-2",
                "FindSchemeInUse": "01",
                "PresComp": "F41.1",
                "PresCompCodSig": "1",
                "PresCompDate": "2026-09-15",
            },
        ],
        "IDS606": [
            {
                "ServiceRequestId": "SR-2",
                "CodedAssToolType": "445455005",
                "PersScore": "12",
                "AssToolCompDate": "2026-09-10",
            }
        ],
        "IDS607": [
            {"CareActId": "CA-1", "CodedAssToolType": "720433000", "PersScore": "16"},
            {"CareActId": "CA-1", "CodedAssToolType": "445455005", "PersScore": "13"},
            {"CareActId": "CA-2", "CodedAssToolType": "720433000", "PersScore": "9"},
            {"CareActId": "CA-4", "CodedAssToolType": "720433000", "PersScore": "14"},
        ],
    }


def extract(tables=None, *, header=None, extra=None, drop=()):
    """A zip of the tables (each row completed with empty fields); ``extra``: {file name: text}."""
    tables = rows() if tables is None else tables
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for code, table_rows in {"IDS000": [header or HEADER], **tables}.items():
            if code in drop:
                continue
            table = rules.TABLES[code]
            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=table.field_names, lineterminator="\r\n")
            writer.writeheader()
            for row in table_rows:
                writer.writerow({name: row.get(name, "") for name in table.field_names})
            archive.writestr(table.file_name, text.getvalue())
        for name, text in (extra or {}).items():
            archive.writestr(name, text)
    buffer.seek(0)
    return buffer
