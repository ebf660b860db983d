"""Import another system's data set extract (the same tables and fields the export writes).

Three passes:

1. **Read** every file of the zip into a staging database (SQLite in a temporary file, so a large
   extract is never held in memory), checking each file's header (an unknown table or field, a missing
   field) and each line with the export's own checks (``rules.check_row``); then in the staging
   database, duplicate keys and keys that do not join.
2. **Plan** each referral with everything that hangs off it (patient, presenting problems, contacts and
   their activities, scores, long-term conditions), checking what this system can hold (its code lists,
   its staff, a patient already registered here).
3. **Write** the referrals in batches, each referral under its own savepoint: a referral lands whole or
   not at all. A dry run does the same writes inside a transaction it rolls back, so it reports exactly
   what the import would do, line by line.

Every row brought in records its source (``ImportedRecord``: the extract's provider code, the table and
the row's key; rows without a key of their own get one made of their fields), so importing the same
files again changes nothing. A key shaped like a UUID that is free here becomes the record's id, so an
extract of this system read back keeps its identifiers (the round trip gives identical files).

A problem with a whole file (not a zip, an unknown table, a bad header, no header table) refuses the
import: nothing is written. A problem with a line skips that line's referral, whole, and is reported.
"""

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import os
import sqlite3
import tempfile
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from common import audit, outbox, permissions
from common.database import BULK_TABLES, analyze_tables
from outcomes.problems import descriptor
from outcomes.services import refresh_summaries
from referrals.models import CareContact, Patient, PresentingProblemRecord, Referral, ReferralEvent
from stepped_care.queries import staff_of_team

from . import rules
from .models import DatasetRun, ImportedRecord, ImportedScore

log = logging.getLogger(__name__)
BATCH = 200
NAMESPACE = uuid.UUID("6f1c5e2a-3b7d-4c8e-9a1f-2d5b7e9c0a41")  # ids of records keyed by another system
IMPORT_TABLES = [t for t in rules.EXPORTED]  # the tables this system reads back: those it writes
# What this system can hold of the national code lists (referrals.codes).
OUR_APP_TYPES = {"01", "02", "03", "05"}
OUR_MECHANISMS = {"01", "02", "05", "06", "11", "98"}
SOURCES = {code: name for name, code in rules.SOURCE_OF_REFERRAL.items()}
SIGNIFICANCE = {code: name for name, code in rules.PRES_COMP_SIGNIFICANCE.items()}


@dataclass
class Problem:
    file: str
    line: int
    field: str
    value: str
    message: str
    record: str = ""
    link: str = ""

    def as_dict(self):
        return {**self.__dict__, "table": ""}


@dataclass
class Report:
    """What an import did (or, in a dry run, would do): counts per table, every problem, every line."""

    counts: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    problem_count: int = 0
    refused: bool = False  # a whole-file problem: nothing written
    referrals_created: int = 0
    referrals_existing: int = 0
    referrals_skipped: int = 0
    lines: object = None  # a callable (file, line, action, detail) for the line-by-line report

    def problem(self, problem, *, whole_file=False):
        self.problem_count += 1
        self.refused = self.refused or whole_file
        if len(self.problems) < settings.DATASET_MAX_ERRORS:
            self.problems.append(problem)

    def line(self, file, line, action, detail):
        if self.lines:
            self.lines(file, line, action, detail)

    def created(self, table, n=1):
        self.counts[table] = self.counts.get(table, 0) + n


# --- pass 1: read into the staging database --------------------------------------------------------


class Staging:
    """The extract's rows in SQLite: one table per data set table (line, key, parent, row, bad).

    Its SQL names tables by the data set's table codes (constants of ``rules.TABLES``, never input;
    hence the ``nosec B608``) and binds every value."""

    def __init__(self):
        handle, self.path = tempfile.mkstemp(suffix=".sqlite3", prefix="dataset-import-")
        os.close(handle)
        self.db = sqlite3.connect(self.path)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        for code in rules.TABLES:
            self.db.execute(
                f"CREATE TABLE {code} (line INTEGER, key TEXT, parent TEXT, row TEXT, bad INTEGER DEFAULT 0)"
            )

    def index(self):
        for code in rules.TABLES:
            self.db.execute(f"CREATE INDEX {code}_key ON {code}(key)")  # noqa: S608  # nosec B608
            self.db.execute(f"CREATE INDEX {code}_parent ON {code}(parent)")  # noqa: S608  # nosec B608

    def close(self):
        self.db.close()
        Path(self.path).unlink(missing_ok=True)

    def rows(self, code, where="", args=()):
        sql = f"SELECT line, key, parent, row, bad FROM {code} {where} ORDER BY line"  # noqa: S608  # nosec B608
        for line, key, parent, row, bad in self.db.execute(sql, args):
            yield line, key, parent, json.loads(row), bool(bad)


class _HashingReader(io.RawIOBase):
    """Reads a zip entry through, hashing it on the way (the manifest's sha256), so that a large
    file is checked without being held in memory."""

    def __init__(self, source):
        self.source = source
        self.digest = hashlib.sha256()

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.source.read(len(buffer))
        self.digest.update(data)
        buffer[: len(data)] = data
        return len(data)


def _own_key(code, row):
    """The row's key: its own identifier, or (tables without one) its fields joined."""
    if code in rules.KEYS:
        return row.get(rules.KEYS[code], "")
    if code == "IDS000":
        return "header"
    parent_field = rules.PARENTS[code][1]
    return "|".join(row.get(name, "") for name in rules.TABLES[code].field_names if name != parent_field) + (
        "|" + row.get(parent_field, "")
    )


def _read(archive, report, staging):
    """Pass 1: each file's header and lines into the staging database; returns the header row."""
    names = {}
    manifest = {}
    for info in archive.infolist():
        if info.is_dir():
            continue
        base = PurePosixPath(info.filename).name
        if base == "manifest.csv":
            with archive.open(info) as handle:
                for entry in csv.DictReader(io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")):
                    manifest[entry.get("file", "")] = entry
            continue
        table = rules.TABLE_BY_FILE.get(base) or rules.TABLES.get(base.split(".")[0][:6])
        if table is None:
            report.problem(
                Problem(
                    base,
                    0,
                    "",
                    base,
                    "Not a table of the data set: name each file as the export does "
                    f"({', '.join(rules.TABLES[c].file_name for c in IMPORT_TABLES)}).",
                ),
                whole_file=True,
            )
            continue
        if table.code not in IMPORT_TABLES:
            report.problem(
                Problem(base, 0, "", base, f"{table.name} is not read by this system: its lines are left out.")
            )
            continue
        if table.code in names.values():
            report.problem(Problem(base, 0, "", base, f"A second file for {table.name}."), whole_file=True)
            continue
        names[info.filename] = table.code
    for missing in ("IDS000", "IDS101"):
        if missing not in names.values():
            report.problem(
                Problem(rules.TABLES[missing].file_name, 0, "", "", "This file is missing from the extract."),
                whole_file=True,
            )
    if report.refused:
        return None
    header = None
    for filename, code in sorted(names.items(), key=lambda item: rules.EXPORTED.index(item[1])):
        base = PurePosixPath(filename).name
        expected = manifest.get(base)
        raw = archive.open(filename)
        hashing = _HashingReader(raw)
        reader = csv.reader(io.TextIOWrapper(hashing, encoding="utf-8-sig", newline=""), strict=True)
        try:
            fields = next(reader)
        except StopIteration:
            report.problem(Problem(base, 1, "", "", "The file is empty: no header line."), whole_file=True)
            continue
        except (csv.Error, UnicodeDecodeError) as exc:
            report.problem(Problem(base, 1, "", "", f"Not a well-formed CSV file in UTF-8: {exc}."), whole_file=True)
            continue
        found = rules.check_header(code, fields)
        for finding in found:
            report.problem(Problem(base, 1, finding.field, finding.value, finding.message), whole_file=True)
        if found:
            continue
        batch = []
        line = 1
        try:
            for values in reader:
                line += 1
                if len(values) != len(fields):
                    report.problem(
                        Problem(
                            base,
                            line,
                            "",
                            ",".join(values)[:80],
                            f"{len(values)} fields; the header has {len(fields)}.",
                        )
                    )
                    batch.append((line, "", "", json.dumps({}), 1))
                    continue
                row = dict(zip(fields, values, strict=True))
                if code == "IDS000":
                    if header is not None:
                        report.problem(Problem(base, line, "", "", "The header table has one line."), whole_file=True)
                    header = row
                    continue
                parent = row.get(rules.PARENTS[code][1], "") if code in rules.PARENTS else ""
                batch.append((line, _own_key(code, row), parent, json.dumps(row), 0))
                if len(batch) >= 5000:
                    staging.db.executemany(f"INSERT INTO {code} VALUES (?, ?, ?, ?, ?)", batch)  # noqa: S608  # nosec B608
                    batch = []
        except (csv.Error, UnicodeDecodeError) as exc:
            report.problem(Problem(base, line, "", "", f"Not a well-formed CSV file in UTF-8: {exc}."), whole_file=True)
        if batch:
            staging.db.executemany(f"INSERT INTO {code} VALUES (?, ?, ?, ?, ?)", batch)  # noqa: S608  # nosec B608
        raw.close()
        if expected and expected.get("sha256") and hashing.digest.hexdigest() != expected["sha256"]:
            report.problem(Problem(base, 0, "", "", "The file does not match the manifest's sha256."), whole_file=True)
    if header is None and not report.refused:
        report.problem(
            Problem(rules.TABLES["IDS000"].file_name, 2, "", "", "The header line is missing."), whole_file=True
        )
    staging.db.commit()
    return header


def _period(header, report):
    start = rules.parse_date(header.get("ReportingPeriodStartDate", ""))
    end = rules.parse_date(header.get("ReportingPeriodEndDate", ""))
    name = rules.TABLES["IDS000"].file_name
    if start is None or end is None or end < start:
        report.problem(
            Problem(
                name,
                2,
                "ReportingPeriodStartDate",
                header.get("ReportingPeriodStartDate", ""),
                "The reporting period is not two dates written YYYY-MM-DD, the end after the start.",
            ),
            whole_file=True,
        )
        return None
    if not header.get("OrgIDProv"):
        report.problem(Problem(name, 2, "OrgIDProv", "", "The provider's code names the source."), whole_file=True)
        return None
    return rules.Period(start, end)


def _check_lines(staging, report, period):
    """Each line by the export's checks; then duplicate keys and keys that do not join."""
    for code in IMPORT_TABLES:
        if code == "IDS000":
            continue
        name = rules.TABLES[code].file_name
        bad = []
        for line, _key, _parent, row, was_bad in staging.rows(code):
            if was_bad:
                continue
            findings = rules.check_row(code, row, period)
            for finding in findings:
                report.problem(Problem(name, line, finding.field, finding.value, finding.message))
            if findings:
                bad.append((line,))
        staging.db.executemany(f"UPDATE {code} SET bad = 1 WHERE line = ?", bad)  # noqa: S608  # nosec B608
    staging.index()
    for code, key_field in rules.KEYS.items():
        name = rules.TABLES[code].file_name
        sql = (
            f"SELECT line, key FROM {code} t WHERE EXISTS "  # noqa: S608  # nosec B608
            f"(SELECT 1 FROM {code} o WHERE o.key = t.key AND o.line < t.line)"  # noqa: S608  # nosec B608
        )
        for line, key in staging.db.execute(sql).fetchall():
            report.problem(Problem(name, line, key_field, key, "This key is on an earlier line already."))
            staging.db.execute(f"UPDATE {code} SET bad = 1 WHERE line = ?", (line,))  # noqa: S608  # nosec B608
    for code, (parent, parent_field) in rules.PARENTS.items():
        name = rules.TABLES[code].file_name
        sql = (
            f"SELECT line, parent FROM {code} c WHERE NOT EXISTS "  # noqa: S608  # nosec B608
            f"(SELECT 1 FROM {parent} p WHERE p.key = c.parent)"  # noqa: S608  # nosec B608
        )
        for line, value in staging.db.execute(sql).fetchall():
            report.problem(
                Problem(name, line, parent_field, value, f"No line of {rules.TABLES[parent].name} has this key.")
            )
    numbers = (
        "SELECT line, json_extract(row, '$.NHSNumber') n FROM IDS001 t WHERE n != '' AND EXISTS "
        "(SELECT 1 FROM IDS001 o WHERE json_extract(o.row, '$.NHSNumber') = n AND o.line < t.line)"
    )
    for line, number in staging.db.execute(numbers).fetchall():
        report.problem(
            Problem(
                rules.TABLES["IDS001"].file_name, line, "NHSNumber", number, "Another patient line has this NHS number."
            )
        )
        staging.db.execute("UPDATE IDS001 SET bad = 1 WHERE line = ?", (line,))
    staging.db.commit()


# --- pass 2 and 3: plan and write each referral ----------------------------------------------------


def _uuid(value):
    try:
        parsed = uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None
    return parsed if str(parsed) == value.lower() or parsed.hex == value.lower() else None


class _Saved:
    """A patient already written: what later referrals of the same patient need of it."""

    __slots__ = ("pk", "long_term_conditions", "_unsaved")

    def __init__(self, pk, long_term_conditions):
        self.pk = pk
        self.long_term_conditions = long_term_conditions
        self._unsaved = False


@dataclass
class Plan:
    """One referral and everything that hangs off it, ready to write, or why it cannot be."""

    key: str
    line: int
    problems: list = field(default_factory=list)
    objects: dict = field(default_factory=dict)  # model → [instances]
    records: list = field(default_factory=list)  # ImportedRecord
    lines: list = field(default_factory=list)  # (file, line, action, detail)
    exists: bool = False
    referral: object = None
    patient: object = None
    patient_key: str = ""

    def add(self, obj, file=None, line=None, what=""):
        self.objects.setdefault(type(obj), []).append(obj)
        if file:
            self.lines.append((file, line, "create", what))


class Importer:
    def __init__(self, *, staging, report, team, by, source, period, run=None):
        self.staging = staging
        self.report = report
        self.team = team
        self.by = by
        self.source = source
        self.period = period
        self.run = run
        # the team's staff by username, those who have left too (their past contacts come in)
        self.staff = dict(staff_of_team(team, active=None).values_list("username", "pk"))
        self.patients = {}  # patient key → Patient (being made) or _Saved, made or found during this import
        self.created_referrals = 0
        # A source never imported before has no records to find: no lookups per line.
        self.fresh = not ImportedRecord.objects.filter(source=source).exists()
        # Patients with more than one referral in the extract: the only ones remembered once written.
        self.shared = {
            key for (key,) in staging.db.execute("SELECT parent FROM IDS101 GROUP BY parent HAVING count(*) > 1")
        }

    # identifiers
    def _id(self, table, key):
        """This system's own key read back keeps its id; another system's key gets one made from it."""
        return _uuid(key) or uuid.uuid5(NAMESPACE, f"{self.source}|{table}|{key}")

    def _record(self, plan, table, key, obj_id):
        plan.records.append(
            ImportedRecord(source=self.source, table=table, source_key=key, object_id=obj_id, run=self.run)
        )

    def _known(self, table, keys):
        if self.fresh:
            return {}
        rows = ImportedRecord.objects.filter(source=self.source, table=table, source_key__in=list(keys))
        return dict(rows.values_list("source_key", "object_id"))

    def plan(self, line, key, parent, row, bad):
        """Everything one referral line brings, or its problems."""
        plan = Plan(key, line)
        name101 = rules.TABLES["IDS101"].file_name
        if bad:
            plan.problems.append(
                Problem(name101, line, "ServiceRequestId", key, "Not imported: this line has problems.")
            )
            return plan
        contacts = list(self.staging.rows("IDS201", "WHERE parent = ?", (key,)))
        contact_keys = [c[1] for c in contacts]
        q = ",".join("?" * len(contact_keys))
        activities = list(self.staging.rows("IDS202", f"WHERE parent IN ({q})", contact_keys)) if contact_keys else []
        activity_keys = [a[1] for a in activities]
        qa = ",".join("?" * len(activity_keys))
        scores = list(self.staging.rows("IDS607", f"WHERE parent IN ({qa})", activity_keys)) if activity_keys else []
        problems = list(self.staging.rows("IDS603", "WHERE parent = ?", (key,)))
        conditions = list(self.staging.rows("IDS602", "WHERE parent = ?", (key,)))
        referral_scores = list(self.staging.rows("IDS606", "WHERE parent = ?", (key,)))
        patient_rows = list(self.staging.rows("IDS001", "WHERE key = ?", (parent,)))
        if not patient_rows:
            plan.problems.append(
                Problem(name101, line, "LocalPatientId", parent, "Not imported: no line of IDS001MPI has this patient.")
            )
            return plan
        broken = [
            r
            for rows in (contacts, activities, scores, problems, conditions, referral_scores, patient_rows)
            for r in rows
            if r[4]
        ]
        if broken:
            plan.problems.append(
                Problem(
                    name101, line, "ServiceRequestId", key, f"Not imported: {len(broken)} of its lines have problems."
                )
            )
            return plan
        known = self._known("IDS101", [key])
        native = _uuid(key)
        if key in known or (native is not None and Referral.objects.filter(pk=native).exists()):
            plan.exists = True
            referral_id = known.get(key) or native
            plan.referral = Referral.objects.filter(pk=referral_id).first()
            if plan.referral is None or plan.referral.team_id != self.team.pk:
                plan.problems.append(
                    Problem(name101, line, "ServiceRequestId", key, "A referral of another team has this key.")
                )
                return plan
            if key not in known:  # this system's own record read back: nothing to add
                plan.lines.append((name101, line, "exists", f"referral {key} is this system's own record"))
                return plan
        patient = self._patient(plan, parent, patient_rows, conditions)
        if plan.problems:
            return plan
        plan.patient, plan.patient_key = patient, parent
        if plan.exists:
            referral = plan.referral
            plan.lines.append((name101, line, "exists", f"referral {key} imported before"))
        else:
            referral = self._referral(plan, row, patient, contacts, activities, problems)
        self._problems(plan, referral, problems)
        by_contact = self._contacts(plan, referral, contacts, activities)
        self._scores(plan, referral, by_contact, activities, scores, referral_scores)
        return plan

    def _patient(self, plan, key, rows, conditions):
        name = rules.TABLES["IDS001"].file_name
        line, _key, _parent, row, _bad = rows[0]
        wanted = []
        for c_line, _k, _p, c_row, _b in conditions:
            ours = rules.LONG_TERM_CONDITION_BY_SNOMED.get(c_row["LongTermCondition"])
            if ours is None:
                plan.problems.append(
                    Problem(
                        rules.TABLES["IDS602"].file_name,
                        c_line,
                        "LongTermCondition",
                        c_row["LongTermCondition"],
                        "Not a long-term condition this system records.",
                    )
                )
            wanted.append(ours)
        if plan.problems:
            return None
        patient = self.patients.get(key)
        if patient is None:
            known = self._known("IDS001", [key])
            native = _uuid(key)
            if key in known:
                patient = Patient.objects.get(pk=known[key])
            elif native is not None and Patient.objects.filter(pk=native, team=self.team).exists():
                patient = Patient.objects.get(pk=native)
            elif row["NHSNumber"] and (found := Patient.objects.filter(nhs_number=row["NHSNumber"]).first()):
                if found.team_id != self.team.pk or found.date_of_birth != rules.parse_date(row["PersonBirthDate"]):
                    plan.problems.append(
                        Problem(
                            name,
                            line,
                            "NHSNumber",
                            row["NHSNumber"],
                            "A patient with this NHS number is registered here (another date of birth or team).",
                        )
                    )
                    return None
                patient = found
                self._record(plan, "IDS001", key, patient.pk)
                plan.lines.append((name, line, "link", f"patient {key} is {patient.pk}, registered here already"))
            else:
                patient = Patient(
                    id=self._id("IDS001", key),
                    nhs_number=row["NHSNumber"] or None,
                    given_name=key[:100],
                    family_name="IMPORTED",
                    date_of_birth=rules.parse_date(row["PersonBirthDate"]),
                    postcode=row["Postcode"][:10],
                    team=self.team,
                    long_term_conditions=[],
                )
                patient._unsaved = True
                plan.lines.append((name, line, "create", f"patient {key}"))
                plan.objects.setdefault("patients", [])
                self._record(plan, "IDS001", key, patient.id)
            self.patients[key] = patient
        added = [c for c in wanted if c and c not in patient.long_term_conditions]
        if added:
            patient.long_term_conditions = [*patient.long_term_conditions, *dict.fromkeys(added)]
            plan.objects.setdefault("conditions", []).append(patient)
            for c_line, *_ in conditions:
                plan.lines.append(
                    (rules.TABLES["IDS602"].file_name, c_line, "create", f"long-term condition of patient {key}")
                )
        return patient

    def _referral(self, plan, row, patient, contacts, activities, problems):
        name = rules.TABLES["IDS101"].file_name
        primary = [p[3] for p in problems if p[3]["PresCompCodSig"] == "1"]
        latest = max(primary, key=lambda p: p["PresCompDate"]) if primary else None
        attended = [c[3] for c in contacts if c[3]["AttendOrDNACode"] in rules.ATTENDED]
        if row["EndCode"]:
            status = "discharged"
        elif any(c["AppType"] in ("02", "03", "05") for c in attended):
            status = "in_treatment"
        elif attended:
            status = "awaiting_treatment"
        else:
            status = "awaiting_assessment"
        referral = Referral(
            id=self._id("IDS101", plan.key),
            patient_id=patient.pk,
            team=self.team,
            received_on=rules.parse_date(row["ReferralRequestReceivedDate"]),
            source=SOURCES.get(row["SourceOfReferralIAPT"], "other"),
            presenting_problem=(descriptor(latest["PresComp"]) if latest else None) or "other",
            status=status,
            discharged_on=rules.parse_date(row["ServDischDate"]) if row["EndCode"] else None,
            end_code=row["EndCode"],
        )
        plan.add(referral, name, plan.line, f"referral {plan.key} ({referral.get_status_display().lower()})")
        plan.add(
            ReferralEvent(
                referral=referral,
                kind=ReferralEvent.Kind.CREATED,
                to_value=referral.get_status_display(),
                note=f"Imported from {self.source}",
                by=self.by,
            )
        )
        self._record(plan, "IDS101", plan.key, referral.id)
        plan.referral = referral
        return referral

    def _problems(self, plan, referral, problems):
        name = rules.TABLES["IDS603"].file_name
        known = self._known("IDS603", [p[1] for p in problems])
        for line, key, _parent, row, _bad in problems:
            if key in known:
                plan.lines.append((name, line, "exists", "presenting problem imported before"))
                continue
            if row["FindSchemeInUse"] != rules.FIND_SCHEME_ICD10:
                plan.problems.append(
                    Problem(
                        name,
                        line,
                        "FindSchemeInUse",
                        row["FindSchemeInUse"],
                        "This system records presenting problems as ICD-10 codes (01).",
                    )
                )
                continue
            record = PresentingProblemRecord(
                referral=referral,
                code=row["PresComp"],
                problem=descriptor(row["PresComp"]),
                significance=SIGNIFICANCE[row["PresCompCodSig"]],
                recorded_on=rules.parse_date(row["PresCompDate"]),
                created_by=self.by,
            )
            plan.add(record, name, line, f"presenting problem {row['PresComp']}")
            self._record(plan, "IDS603", key, record.id)

    def _contacts(self, plan, referral, contacts, activities):
        name = rules.TABLES["IDS201"].file_name
        name202 = rules.TABLES["IDS202"].file_name
        by_parent = {}
        for activity in activities:
            by_parent.setdefault(activity[2], []).append(activity)
        known = self._known("IDS201", [c[1] for c in contacts])
        known_acts = self._known("IDS202", [a[1] for a in activities])
        out = {}  # activity key → contact id
        for line, key, _parent, row, _bad in contacts:
            acts = by_parent.get(key, [])
            therapy = {a[3]["CodeProcAndProcStatus"] for a in acts} - {""}
            staff = {a[3]["CarePersLocalId"] for a in acts} - {""}
            if key in known:
                plan.lines.append((name, line, "exists", f"contact {key} imported before"))
                for a in acts:
                    out[a[1]] = known[key]
                continue
            for field_name, value, ours, what in (
                ("AppType", row["AppType"], OUR_APP_TYPES, "appointment type"),
                ("ConsMechanism", row["ConsMechanism"] or "01", OUR_MECHANISMS, "consultation mechanism"),
            ):
                if value not in ours:
                    plan.problems.append(
                        Problem(
                            name,
                            line,
                            field_name,
                            value,
                            f"Not an {what} this system records ({', '.join(sorted(ours))}).",
                        )
                    )
            if len(therapy) > 1:
                plan.problems.append(
                    Problem(
                        name202,
                        acts[1][0],
                        "CodeProcAndProcStatus",
                        ",".join(sorted(therapy)),
                        "This system records one therapy per contact.",
                    )
                )
            unknown = [s for s in staff if s not in self.staff]
            for person in unknown:
                plan.problems.append(
                    Problem(
                        name202,
                        acts[0][0],
                        "CarePersLocalId",
                        person,
                        f"No member of staff of {self.team.code} has this username.",
                    )
                )
            duration = row["ClinContDurOfCareCont"]
            if duration and int(duration) > 600:
                plan.problems.append(
                    Problem(name, line, "ClinContDurOfCareCont", duration, "A contact lasts at most 600 minutes.")
                )
            if plan.problems:
                continue
            clinician = self.staff[next(iter(staff))] if staff else self.by.pk
            contact = CareContact(
                id=self._id("IDS201", key),
                referral=referral,
                clinician_id=clinician,
                date=rules.parse_date(row["CareContDate"]),
                time=dt.time.fromisoformat(row["CareContTime"])
                if rules.TIME_SHAPE.match(row["CareContTime"])
                else None,
                appointment_type=row["AppType"],
                attendance=row["AttendOrDNACode"],
                mechanism=row["ConsMechanism"] or "01",
                therapy_mode=row["CareContPatientTherMode"] or "1",
                therapy_type=next(iter(therapy)) if therapy else None,
                duration_minutes=int(duration) if duration else None,
                group_participants=int(row["NumGroupTherParticipants"]) if row["NumGroupTherParticipants"] else None,
                group_facilitators=int(row["NumGroupTherFacilitators"]) if row["NumGroupTherFacilitators"] else None,
                ltc_service=row["IAPTLTCServiceInd"] == "Y",
                created_by=self.by,
            )
            plan.add(contact, name, line, f"contact {key} on {row['CareContDate']}")
            self._record(plan, "IDS201", key, contact.id)
            for a_line, a_key, *_ in acts:
                out[a_key] = contact.id
                if a_key not in known_acts:
                    self._record(plan, "IDS202", a_key, contact.id)
                    plan.lines.append((name202, a_line, "create", f"care activity {a_key} of contact {key}"))
        return out

    def _scores(self, plan, referral, by_activity, activities, scores, referral_scores):
        contact_dates = {}
        for obj in plan.objects.get(CareContact, []):
            contact_dates[obj.id] = obj.date
        for code, rows in (("IDS607", scores), ("IDS606", referral_scores)):
            name = rules.TABLES[code].file_name
            known = self._known(code, [r[1] for r in rows])
            for line, key, parent, row, _bad in rows:
                if key in known:
                    plan.lines.append((name, line, "exists", "score imported before"))
                    continue
                item = rules.WSAS_ITEM_BY_SNOMED.get(row["CodedAssToolType"])
                measure = rules.WSAS if item else rules.MEASURE_BY_SNOMED[row["CodedAssToolType"]]
                contact_id = by_activity.get(parent) if code == "IDS607" else None
                if code == "IDS607" and contact_id is None:
                    plan.problems.append(Problem(name, line, "CareActId", parent, "Its contact was not imported."))
                    continue
                if code == "IDS607":
                    completed = contact_dates.get(contact_id) or CareContact.objects.values_list("date", flat=True).get(
                        pk=contact_id
                    )
                else:
                    completed = rules.parse_date(row["AssToolCompDate"])
                score = ImportedScore(
                    referral=referral,
                    contact_id=contact_id,
                    measure=measure,
                    total=int(row["PersScore"]) if item else rules.INSTRUMENTS[measure].check_total(row["PersScore"]),
                    item=item,
                    completed_on=completed,
                    source=self.source,
                    run=self.run,
                )
                what = f"WSAS item {item}" if item else rules.INSTRUMENTS[measure].name
                plan.add(score, name, line, f"{what} score {row['PersScore']}")
                self._record(plan, code, key, score.id)

    # writing
    def write(self, plans):
        """Write a batch of plans in one transaction; when the database refuses the batch, each plan
        again under its own savepoint, so that one referral's failure costs only that referral."""
        good = [p for p in plans if not p.problems]
        try:
            with transaction.atomic():
                _constraints_now()
                self._insert(good)
            self._saved(good)
        except (IntegrityError, DatabaseError):
            for plan in good:
                try:
                    with transaction.atomic():
                        _constraints_now()
                        self._insert([plan])
                    self._saved([plan])
                except (IntegrityError, DatabaseError) as exc:
                    plan.problems.append(
                        Problem(
                            rules.TABLES["IDS101"].file_name,
                            plan.line,
                            "ServiceRequestId",
                            plan.key,
                            f"Not imported: the database refused it ({exc.__class__.__name__}: {str(exc)[:120]}).",
                        )
                    )
        for plan in plans:
            self._account(plan)

    def _saved(self, plans):
        """Once written, a patient is remembered by its id and conditions only (a large extract's
        patients are not kept in memory)."""
        for plan in plans:
            if plan.patient is None:
                continue
            if plan.patient_key in self.shared:
                self.patients[plan.patient_key] = _Saved(plan.patient.pk, list(plan.patient.long_term_conditions))
            else:  # the patient's only referral: nothing later needs it
                self.patients.pop(plan.patient_key, None)

    def _insert(self, plans):
        patients = {p.patient.pk: p.patient for p in plans if getattr(p.patient, "_unsaved", False)}
        Patient.objects.bulk_create(list(patients.values()))
        for patient in {o.pk: o for p in plans for o in p.objects.get("conditions", [])}.values():
            Patient.objects.filter(pk=patient.pk).update(long_term_conditions=patient.long_term_conditions)
        for model in (Referral, ReferralEvent, PresentingProblemRecord, CareContact, ImportedScore):
            rows = [o for p in plans for o in p.objects.get(model, [])]
            if rows:
                model.objects.bulk_create(rows, batch_size=1000)
        ImportedRecord.objects.bulk_create([r for p in plans for r in p.records], batch_size=1000)
        referrals = [p.referral for p in plans if p.referral is not None and Referral in p.objects]
        touched = [
            p.referral for p in plans if p.referral is not None and (Referral in p.objects or CareContact in p.objects)
        ]
        if touched:
            refresh_summaries(touched)
        events = [
            audit.event(
                self.by,
                "dataset.import_referral",
                p.referral,
                patient_id=p.referral.patient_id,
                changes={"source": self.source, "key": p.key, "run": str(self.run.pk) if self.run else ""},
            )
            for p in plans
            if p.referral is not None and any(p.objects.values())
        ]
        audit.record_many(events)
        self.created_referrals += len(referrals)

    def _account(self, plan):
        report = self.report
        for problem in plan.problems:
            report.problem(problem)
        if plan.problems:
            report.referrals_skipped += 1
            report.line(rules.TABLES["IDS101"].file_name, plan.line, "skip", f"referral {plan.key} not imported")
            return
        if plan.exists:
            report.referrals_existing += 1
        else:
            report.referrals_created += 1
        for file, line, action, detail in plan.lines:
            report.line(file, line, action, detail)
        for model, objects in plan.objects.items():
            if model == "patients":
                report.created("referrals.Patient")
            elif model == "conditions":
                report.created("IDS602", len(objects))
            elif model is not ReferralEvent:
                report.created(model._meta.label, len(objects))

    def run_all(self, progress=None):
        total = self.staging.db.execute("SELECT count(*) FROM IDS101").fetchone()[0] or 1
        batch = []
        done = 0
        for line, key, parent, row, bad in self.staging.rows("IDS101"):
            batch.append(self.plan(line, key, parent, row, bad))
            if len(batch) >= BATCH:
                self.write(batch)
                done += len(batch)
                batch = []
                if progress:
                    progress(done * 100 // total)
        if batch:
            self.write(batch)


class _DryRun(Exception):
    """Raised to roll back a dry run's writes."""


def _constraints_now():
    """Check foreign keys at each statement (PostgreSQL defers them to COMMIT), so that a referral's
    failure shows at its own savepoint, not at the end of the batch."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def import_extract(source_file, *, team, by, dry_run, run=None, lines=None, progress=None):
    """Read, check and (unless ``dry_run``) import the extract in ``source_file`` (a path or binary file)
    into ``team``. Returns the ``Report``. ``lines(file, line, action, detail)`` hears each line's fate."""
    permissions.require(by, "import_dataset", team)
    report = Report(lines=lines)
    staging = Staging()
    try:
        try:
            archive = zipfile.ZipFile(source_file)
        except (zipfile.BadZipFile, OSError):
            report.problem(
                Problem(str(getattr(source_file, "name", source_file)), 0, "", "", "Not a zip file."), whole_file=True
            )
            return report
        with archive:
            header = _read(archive, report, staging)
        if report.refused or header is None:
            return report
        period = _period(header, report)
        if period is None:
            return report
        _check_lines(staging, report, period)
        source = header["OrgIDProv"][:40]
        importer = Importer(staging=staging, report=report, team=team, by=by, source=source, period=period, run=run)
        if dry_run:
            try:
                with transaction.atomic():
                    importer.run_all()
                    raise _DryRun
            except _DryRun:
                pass
        else:
            importer.run_all(progress)
        if not dry_run and importer.created_referrals:
            analyze_tables([*BULK_TABLES, "dataset_importedrecord", "dataset_importedscore"])
        return report
    finally:
        staging.close()


# --- the run: started by a manager, done by a task -------------------------------------------------


def start_import(*, team, upload, dry_run, by):
    """A manager uploads an extract: it is kept under DATASET_DIR and its run queued."""
    permissions.require(by, "import_dataset", team)
    with transaction.atomic():
        run = DatasetRun.objects.create(
            team=team, kind=DatasetRun.Kind.DRY_RUN if dry_run else DatasetRun.Kind.IMPORT, created_by=by
        )
        path = Path(settings.DATASET_DIR) / team.code / f"upload-{run.pk}.zip"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            chunks = upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1 << 20), b"")
            for chunk in chunks:
                handle.write(chunk)
        run.message = f"Extract {getattr(upload, 'name', 'upload')} ({path.stat().st_size} bytes)"
        run.save(update_fields=["message"])
        audit.record(by, f"dataset.{run.kind}", run, changes={"file": getattr(upload, "name", ""), "team": team.code})
        outbox.enqueue("dataset.tasks.run_import", run_id=str(run.pk))
    return run


def run_import(run_id):
    """The work of an import run: the line-by-line report is written beside the upload (and offered
    for download); the run keeps the counts and the problems."""
    claimed = DatasetRun.objects.filter(pk=run_id, status=DatasetRun.Status.QUEUED).update(
        status=DatasetRun.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    run = DatasetRun.objects.select_related("team", "created_by").get(pk=run_id)
    folder = Path(settings.DATASET_DIR) / run.team.code
    upload = folder / f"upload-{run.pk}.zip"
    report_path = folder / f"{run.kind}-report-{run.pk}.csv"
    try:
        with open(report_path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["file", "line", "action", "detail"])
            report = import_extract(
                upload,
                team=run.team,
                by=run.created_by,
                dry_run=run.kind == DatasetRun.Kind.DRY_RUN,
                run=run,
                lines=lambda *row: writer.writerow(row),
                progress=lambda percent: DatasetRun.objects.filter(pk=run.pk).update(progress=min(percent, 99)),
            )
            for problem in report.problems:
                writer.writerow(
                    [problem.file, problem.line, "problem", f"{problem.field}={problem.value!r}: {problem.message}"]
                )
    except Exception:
        log.exception("Import %s failed", run_id)
        run.status, run.message, run.finished_at = DatasetRun.Status.FAILED, "The import failed.", timezone.now()
        run.save()
        raise
    run.counts = {
        **report.counts,
        "referrals created": report.referrals_created,
        "referrals already here": report.referrals_existing,
        "referrals not imported": report.referrals_skipped,
    }
    run.errors = [p.as_dict() for p in report.problems]
    run.error_count = report.problem_count
    run.status = DatasetRun.Status.INVALID if report.refused else DatasetRun.Status.DONE
    run.message = (
        "Refused: the extract has problems with whole files; nothing was imported."
        if report.refused
        else f"{'Would create' if run.kind == DatasetRun.Kind.DRY_RUN else 'Created'} "
        f"{report.referrals_created} referrals; "
        f"{report.referrals_existing} already here; {report.referrals_skipped} not imported."
    )
    run.file = str(report_path.relative_to(settings.DATASET_DIR))
    run.sha256 = hashlib.sha256(report_path.read_bytes()).hexdigest()
    run.expires_at = timezone.now() + dt.timedelta(days=settings.DATASET_KEEP_DAYS)
    run.progress = 100
    run.finished_at = timezone.now()
    run.save()
    upload.unlink(missing_ok=True) if run.kind == DatasetRun.Kind.IMPORT else None
    audit.record(audit.SystemActor("data set import"), f"dataset.{run.kind}_{run.status}", run, changes=run.counts)
    return run
