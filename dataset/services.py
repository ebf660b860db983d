"""The national data set's use cases: export a reporting period (validated before it leaves), let a
manager download it, and import another system's extract (a dry run first).

Who may: the team's service managers (``export_dataset``, ``import_dataset`` in the rulebook).
Every run and every download leaves an audit event.

Invalid rows are never exported silently: a run that finds any failure is **refused** (status
``invalid``), its file deleted and every failure kept on the run (table, field, value, record, link),
so the manager fixes the records and runs it again. A partial submission would be worse than none: NHS
England counts what it receives.
"""

import csv
import datetime as dt
import hashlib
import io
import logging
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from common import audit, outbox, permissions

from . import queries, rules
from .models import DatasetRun

log = logging.getLogger(__name__)
MANIFEST = "manifest.csv"


# --- export -----------------------------------------------------------------------------------------


@dataclass
class Failure:
    table: str
    field: str
    value: str
    message: str
    record: str  # the row's key
    link: str  # the page of the record (a referral's page)

    def as_dict(self):
        return {**self.__dict__, "file": rules.TABLES[self.table].file_name, "line": ""}


@dataclass
class Outcome:
    """What an export found and wrote."""

    counts: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)  # the first DATASET_MAX_ERRORS
    failure_count: int = 0
    manifest: list = field(default_factory=list)  # (table, file, rows, sha256)

    def fail(self, failure):
        self.failure_count += 1
        if len(self.failures) < settings.DATASET_MAX_ERRORS:
            self.failures.append(failure)


class _Hashing(io.RawIOBase):
    """Passes bytes on to the zip entry while hashing them (the manifest's sha256 of each file)."""

    def __init__(self, target):
        self.target = target
        self.digest = hashlib.sha256()

    def writable(self):
        return True

    def write(self, data):
        self.digest.update(data)
        return self.target.write(data)


def _link(referral_id):
    return reverse("referrals:detail", args=[referral_id]) if referral_id else ""


def _key(row, name="key", pk="id"):
    return row.get(name) or str(row[pk])


def _rows_ids000(team, period, now):
    yield (
        {
            "DatSetVer": rules.DATA_SET_VERSION,
            "OrgIDProv": team.code,
            "OrgIDSubmit": team.code,
            "PrimSystemInUse": settings.DATASET_SYSTEM_NAME,
            "ReportingPeriodStartDate": rules.text(period.start),
            "ReportingPeriodEndDate": rules.text(period.end),
            "DateTimeDatSetCreate": rules.text(now),
        },
        None,
        None,
    )


def _rows_ids001(team, period, now):
    for row in queries.patients(team, period):
        nhs = row["nhs_number"] or ""
        yield (
            {
                "LocalPatientId": _key(row),
                "OrgIDLocalPatientId": team.code,
                "NHSNumber": nhs,
                "NHSNumberStatus": "02" if nhs else "03",  # present, not traced here / trace required
                "PersonBirthDate": rules.text(row["date_of_birth"]),
                "Postcode": (row["postcode"] or "").upper(),
            },
            row["referral_id"],
            None,
        )


def _rows_ids101(team, period, now):
    for row in queries.referrals(team, period):
        # Discharged after the period: still open as the period's submission sees it.
        ended = bool(row["end_code"]) and row["discharged_on"] is not None and row["discharged_on"] <= period.end
        yield (
            {
                "ServiceRequestId": _key(row),
                "LocalPatientId": row["patient_key"] or str(row["patient_id"]),
                "ReferralRequestReceivedDate": rules.text(row["received_on"]),
                "SourceOfReferralIAPT": rules.SOURCE_OF_REFERRAL.get(row["source"], ""),
                "EndCode": row["end_code"] if ended else "",
                "ServDischDate": rules.text(row["discharged_on"]) if ended else "",
            },
            row["id"],
            None,
        )


def _rows_ids201(team, period, now):
    for row in queries.contacts(team, period):
        ids = {
            "CareContactId": _key(row),
            "ServiceRequestId": row["referral_key"] or str(row["referral_id"]),
            "CareContDate": rules.text(row["date"]),
            "CareContTime": rules.text(row["time"]),
            "AttendOrDNACode": row["attendance"],
            "ClinContDurOfCareCont": rules.text(row["duration_minutes"]),
            "IAPTLTCServiceInd": rules.text(row["ltc_service"]),
            "AppType": row["appointment_type"],
            "ConsMechanism": row["mechanism"],
            "CareContPatientTherMode": row["therapy_mode"],
            "NumGroupTherParticipants": rules.text(row["group_participants"]),
            "NumGroupTherFacilitators": rules.text(row["group_facilitators"]),
        }
        broken = None if row["referral_open"] else ("ServiceRequestId", "The referral is not open in the period.")
        yield ids, row["referral_id"], broken


def _rows_ids202(team, period, now):
    for row in queries.contacts(team, period, attended_only=True):
        if not row["referral_open"]:
            continue  # its contact is refused in IDS201 already
        contact_key = _key(row)
        yield (
            {
                "CareActId": row["activity_key"] or rules.care_activity_key(contact_key),
                "CareContactId": contact_key,
                "CarePersLocalId": row["clinician__username"],
                "ClinContactDurOfCareAct": rules.text(row["duration_minutes"]),
                "CodeProcAndProcStatus": row["therapy_type"] or "",
            },
            row["referral_id"],
            None,
        )


def _rows_ids602(team, period, now):
    for row in queries.long_term_conditions(team, period):
        for condition in row["patient__long_term_conditions"] or []:
            code = rules.LONG_TERM_CONDITIONS.get(condition)
            if code:
                yield (
                    {
                        "ServiceRequestId": _key(row),
                        "FindSchemeInUse": rules.FIND_SCHEME_SNOMED,
                        "LongTermCondition": code,
                    },
                    row["id"],
                    None,
                )


def _rows_ids603(team, period, now):
    for row in queries.presenting_problems(team, period):
        yield (
            {
                "ServiceRequestId": row["referral_key"] or str(row["referral_id"]),
                "FindSchemeInUse": rules.FIND_SCHEME_ICD10,
                "PresComp": row["code"],
                "PresCompCodSig": rules.PRES_COMP_SIGNIFICANCE.get(row["significance"], ""),
                "PresCompDate": rules.text(row["recorded_on"]),
            },
            row["referral_id"],
            None,
        )


def _scores(row):
    """(CodedAssToolType, PersScore) of one stored score: its measure's code and total, or for WSAS
    (coded item by item) each item's code and answer."""
    if row["measure"] != rules.WSAS:
        return [(rules.INSTRUMENTS[row["measure"]].snomed_ct, rules.score_text(row["measure"], row["total"]))]
    if "item" in row:  # an item imported from another system
        return [(rules.WSAS_ITEMS[row["item"] - 1], rules.text(row["total"]))] if row["item"] else []
    return [(code, rules.text(answer)) for code, answer in zip(rules.WSAS_ITEMS, row["items"] or [], strict=False)]


def _rows_ids606(team, period, now):
    for row in queries.referral_scores(team, period):
        for tool, score in _scores(row):
            yield (
                {
                    "ServiceRequestId": row["referral_key"] or str(row["referral_id"]),
                    "CodedAssToolType": tool,
                    "PersScore": score,
                    "AssToolCompDate": rules.text(row["completed_on"]),
                },
                row["referral_id"],
                None,
            )


def _rows_ids607(team, period, now):
    for row in queries.contact_scores(team, period):
        contact_key = row["contact_key"] or str(row["contact_id"])
        broken = (
            None if row["activity_written"] else ("CareActId", "The contact's care activity is not in the submission.")
        )
        for tool, score in _scores(row):
            yield (
                {
                    "CareActId": row["activity_key"] or rules.care_activity_key(contact_key),
                    "CodedAssToolType": tool,
                    "PersScore": score,
                },
                row["referral_id"],
                broken,
            )


WRITERS = {
    "IDS000": _rows_ids000,
    "IDS001": _rows_ids001,
    "IDS101": _rows_ids101,
    "IDS201": _rows_ids201,
    "IDS202": _rows_ids202,
    "IDS602": _rows_ids602,
    "IDS603": _rows_ids603,
    "IDS606": _rows_ids606,
    "IDS607": _rows_ids607,
}


def write_export(target, *, team, period, now, progress=None):
    """Write the period's submission as a zip into ``target`` (a path or a binary file), one CSV per
    table with the data set's field names and a manifest (table, file, rows, sha256). Rows go from
    the database cursor into the zip as they come. Returns the ``Outcome``: counts and every failure."""
    outcome = Outcome()
    with queries.whole_reads(), zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for index, code in enumerate(rules.EXPORTED):
            table = rules.TABLES[code]
            info = zipfile.ZipInfo(table.file_name, date_time=(now.year, now.month, now.day, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            count = 0
            with archive.open(info, "w") as entry:
                hashing = _Hashing(entry)
                stream = io.TextIOWrapper(hashing, encoding="utf-8", newline="", write_through=True)
                writer = csv.DictWriter(stream, fieldnames=table.field_names, lineterminator="\r\n")
                writer.writeheader()
                for row, referral_id, broken in WRITERS[code](team, period, now):
                    findings = rules.check_row(code, row, period)
                    if broken:
                        findings.append(rules.Finding(broken[0], row.get(broken[0], ""), broken[1]))
                    record = row.get(rules.KEYS.get(code, ""), "") or row.get("ServiceRequestId", "")
                    for finding in findings:
                        outcome.fail(
                            Failure(code, finding.field, finding.value, finding.message, record, _link(referral_id))
                        )
                    writer.writerow(row)
                    count += 1
                stream.flush()
                stream.detach()
            outcome.counts[code] = count
            outcome.manifest.append((code, table.file_name, count, hashing.digest.hexdigest()))
            if progress:
                progress(round(100 * (index + 1) / (len(rules.EXPORTED) + 1)))
        manifest = io.StringIO()
        writer = csv.writer(manifest, lineterminator="\r\n")
        writer.writerow(["table", "file", "rows", "sha256"])
        writer.writerows(outcome.manifest)
        info = zipfile.ZipInfo(MANIFEST, date_time=(now.year, now.month, now.day, 0, 0, 0))
        archive.writestr(info, manifest.getvalue(), compress_type=zipfile.ZIP_DEFLATED)
    return outcome


def _export_path(run):
    return Path(settings.DATASET_DIR) / run.team.code / f"export-{run.period_start:%Y-%m}-{run.pk}.zip"


def start_export(*, team, period, by):
    """A manager asks for a period's submission: the run is recorded and its work queued (a Celery
    worker, or here when no broker is configured)."""
    permissions.require(by, "export_dataset", team)
    with transaction.atomic():
        run = DatasetRun.objects.create(
            team=team, kind=DatasetRun.Kind.EXPORT, period_start=period.start, period_end=period.end, created_by=by
        )
        audit.record(by, "dataset.export", run, changes={"period": period.label, "team": team.code})
        outbox.enqueue("dataset.tasks.run_export", run_id=str(run.pk))
    return run


def _progress(run):
    def update(percent):
        DatasetRun.objects.filter(pk=run.pk).update(progress=min(percent, 100))

    return update


def run_export(run_id, *, now=None):
    """The work of an export run (the task calls this): write the file, validate every row, keep the
    file only when nothing failed. Idempotent: a run already finished is left as it is."""
    claimed = DatasetRun.objects.filter(pk=run_id, status=DatasetRun.Status.QUEUED).update(
        status=DatasetRun.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    run = DatasetRun.objects.select_related("team").get(pk=run_id)
    period = rules.Period(run.period_start, run.period_end)
    path = _export_path(run)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    try:
        outcome = write_export(
            partial, team=run.team, period=period, now=now or timezone.localtime(), progress=_progress(run)
        )
    except Exception as exc:
        log.exception("Export %s failed", run_id)
        partial.unlink(missing_ok=True)
        _finish(run, DatasetRun.Status.FAILED, message=f"The export failed: {exc.__class__.__name__}")
        raise
    run.counts = outcome.counts
    run.errors = [f.as_dict() for f in outcome.failures]
    run.error_count = outcome.failure_count
    if outcome.failure_count:
        partial.unlink(missing_ok=True)
        _finish(run, DatasetRun.Status.INVALID, message=f"{outcome.failure_count} failures: fix them and run it again.")
    else:
        os.replace(partial, path)
        run.file = str(path.relative_to(settings.DATASET_DIR))
        run.sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        run.expires_at = timezone.now() + dt.timedelta(days=settings.DATASET_KEEP_DAYS)
        _finish(run, DatasetRun.Status.DONE)
    return run


def _finish(run, status, *, message=""):
    run.status = status
    run.progress = 100
    run.message = message
    run.finished_at = timezone.now()
    run.save()
    audit.record(
        audit.SystemActor("data set export"),
        f"dataset.{run.kind}_{status}",
        run,
        changes={"counts": run.counts, "failures": run.error_count},
    )


def export_file(run, *, by):
    """The path of a run's file for a manager to download (audited): an export's submission, an
    import's line-by-line report. None when there is none (refused, failed, expired)."""
    permissions.require(by, "export_dataset" if run.kind == DatasetRun.Kind.EXPORT else "import_dataset", run.team)
    if not run.file or run.status == DatasetRun.Status.EXPIRED:
        return None
    path = Path(settings.DATASET_DIR) / run.file
    if not path.exists() or (run.expires_at and run.expires_at <= timezone.now()):
        return None
    audit.record(by, "dataset.download", run, changes={"file": path.name, "sha256": run.sha256})
    return path


def purge_expired_files(now=None):
    """Delete the files of exports past their keeping period (DATASET_KEEP_DAYS); the run stays."""
    now = now or timezone.now()
    done = 0
    for run in DatasetRun.objects.filter(expires_at__lte=now).exclude(file=""):
        (Path(settings.DATASET_DIR) / run.file).unlink(missing_ok=True)
        DatasetRun.objects.filter(pk=run.pk).update(status=DatasetRun.Status.EXPIRED, file="")
        done += 1
    return done


def command_export(*, team, period, output, now):
    """``manage.py export_dataset``: the same export written to ``output``, removed again when any row
    failed; audited as the command."""
    output = Path(output)
    partial = output.with_name(output.name + ".part")
    outcome = write_export(partial, team=team, period=period, now=now)
    if outcome.failure_count:
        partial.unlink(missing_ok=True)
    else:
        os.replace(partial, output)
    audit.record(
        audit.SystemActor("manage.py export_dataset"),
        "dataset.export",
        team,
        changes={"period": period.label, "counts": outcome.counts, "failures": outcome.failure_count},
    )
    return outcome
