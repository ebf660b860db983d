"""Benchmark (issue 16 item 7): the national data set on the 150,000-referral benchmark service.

- export one month and one year of the demo service (team TMS, seeded by ``seeded_service``), each by
  ``manage.py export_dataset`` in its own process, so that its wall time and its peak resident memory
  (``getrusage(RUSAGE_CHILDREN).ru_maxrss``) are the export's alone: targets a month < 60 s, a year
  < 10 min, memory < 300 MB whatever the period (rows are streamed, never held);
- import 100,000 referrals of another system (a generated extract: patient, referral, presenting
  problem, four contacts, their activities and PHQ-9/GAD-7 scores, a patient's own score) into an
  empty team by ``manage.py import_dataset``: wall time and peak memory (targets: 20 min, 300 MB).

The figures are printed whatever the verdict; a refused export (the seeded data fails a check) is
timed all the same, with its failure count. PostgreSQL only; ``make bench``.
"""

import csv
import datetime as dt
import io
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from dataset import rules
from stepped_care.models import Role, Staff, Team
from tests.bench.targets import expect
from tests.bench.test_dashboard_bench import TEAM_CODE, seeded_service  # noqa: F401 (the fixture)

REPO = Path(__file__).resolve().parents[2]
IMPORT_REFERRALS = int(os.environ.get("DATASET_BENCH_IMPORT", "100000"))
MEMORY_MB = 300


def _database_url():
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _command(*args):
    """Run ``manage.py`` against the benchmark database in a child process and wait for that child
    alone (``os.wait4``), so that the peak resident memory is the command's own: (seconds, MB, result)."""
    env = {**os.environ, "DATABASE_URL": _database_url(), "DEBUG": "0"}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "manage.py", *args], cwd=REPO, env=env, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        result = subprocess.CompletedProcess(child.args, child.returncode, out.read(), err.read())
    return seconds, usage.ru_maxrss / 1024, result  # ru_maxrss: kilobytes on Linux


def _months(today):
    last = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    first = last.replace(year=last.year - 1, month=last.month % 12 + 1) if last.month < 12 else last.replace(month=1)
    return f"{last:%Y-%m}", f"{first:%Y-%m}..{last:%Y-%m}"


def _export(label, period, tmp_path, target_seconds):
    out = tmp_path / f"export-{label}.zip"
    seconds, peak, result = _command("export_dataset", "--period", period, "--team", TEAM_CODE, "--output", str(out))
    rows = [line for line in result.stdout.splitlines() if " rows sha256 " in line]
    failures = [line for line in result.stderr.splitlines() if line.startswith("IDS")]
    refused = [line for line in result.stderr.splitlines() if "Refused" in line]
    print(f"\nexport {label} ({period}): {seconds:.1f} s, peak {peak:.0f} MB; exit {result.returncode}")
    for line in rows:
        print("  " + line.split(" sha256 ")[0])
    if refused:
        print("  " + refused[-1] + "; the first failures:")
        for line in failures[:5]:
            print("    " + line[:200])
    assert rows, result.stderr[-2000:]
    expect(f"data set export, {label}, wall time", seconds, target_seconds, unit=" s")
    expect(f"data set export, {label}, peak memory", peak, MEMORY_MB, unit=" MB")


# The marker makes pytest-django set up the benchmark database (it sets up only what marked tests use);
# the exports run in their own process and read what is committed, so the test's transaction is idle.
@pytest.mark.django_db
def test_export_a_month(seeded_service, tmp_path):  # noqa: F811 (the fixture)
    month, _ = _months(timezone.localdate())
    _export("month", month, tmp_path, 60)


@pytest.mark.django_db
def test_export_a_year(seeded_service, tmp_path):  # noqa: F811
    _, year = _months(timezone.localdate())
    _export("year", year, tmp_path, 600)


def _nhs_free_extract(path, n, source):
    """Another system's extract of ``n`` referrals, written table by table (never all in memory)."""
    header = {
        "DatSetVer": "2.1",
        "OrgIDProv": source,
        "OrgIDSubmit": source,
        "PrimSystemInUse": "Bench",
        "ReportingPeriodStartDate": "2024-01-01",
        "ReportingPeriodEndDate": "2026-10-31",
        "DateTimeDatSetCreate": "2026-11-01T00:00:00",
    }
    base = dt.date(2024, 1, 1)

    def received(i):
        return base + dt.timedelta(days=i % 600)

    def contacts(i):
        day = received(i)
        return [
            (
                f"{source}C{i}-{k}",
                day + dt.timedelta(days=7 * (k + 1)),
                "01" if k == 0 else "02",
                "3" if k == 3 else "5",
            )
            for k in range(4)
        ]

    def tables():
        yield "IDS000", [header]
        yield (
            "IDS001",
            (
                {
                    "LocalPatientId": f"{source}P{i}",
                    "NHSNumberStatus": "03",
                    "PersonBirthDate": "1980-05-17",
                    "Postcode": "LS1 4AP",
                }
                for i in range(n)
            ),
        )
        yield (
            "IDS101",
            (
                {
                    "ServiceRequestId": f"{source}R{i}",
                    "LocalPatientId": f"{source}P{i}",
                    "ReferralRequestReceivedDate": received(i).isoformat(),
                    "SourceOfReferralIAPT": "B1",
                    **(
                        {"EndCode": "46", "ServDischDate": (received(i) + dt.timedelta(days=60)).isoformat()}
                        if i % 2
                        else {}
                    ),
                }
                for i in range(n)
            ),
        )
        yield (
            "IDS201",
            (
                {
                    "CareContactId": key,
                    "ServiceRequestId": f"{source}R{i}",
                    "CareContDate": day.isoformat(),
                    "AttendOrDNACode": att,
                    "AppType": app,
                    "ConsMechanism": "01",
                    "CareContPatientTherMode": "1",
                    "ClinContDurOfCareCont": "45",
                }
                for i in range(n)
                for key, day, app, att in contacts(i)
            ),
        )
        yield (
            "IDS202",
            (
                {
                    "CareActId": f"{key}-1",
                    "CareContactId": key,
                    "CarePersLocalId": "bench_import_pwp",
                    "CodeProcAndProcStatus": "" if app == "01" else "304891004",
                }
                for i in range(n)
                for key, _day, app, att in contacts(i)
                if att == "5"
            ),
        )
        yield (
            "IDS603",
            (
                {
                    "ServiceRequestId": f"{source}R{i}",
                    "FindSchemeInUse": "01",
                    "PresComp": "F41.1",
                    "PresCompCodSig": "1",
                    "PresCompDate": received(i).isoformat(),
                }
                for i in range(n)
            ),
        )
        yield (
            "IDS606",
            (
                {
                    "ServiceRequestId": f"{source}R{i}",
                    "CodedAssToolType": "720433000",
                    "PersScore": "12",
                    "AssToolCompDate": (received(i) + dt.timedelta(days=3)).isoformat(),
                }
                for i in range(n)
            ),
        )
        yield (
            "IDS607",
            (
                {"CareActId": f"{key}-1", "CodedAssToolType": code, "PersScore": str(score)}
                for i in range(n)
                for key, _day, _app, att in contacts(i)
                if att == "5"
                for code, score in (("720433000", 15 - (i % 5)), ("445455005", 12 - (i % 4)))
            ),
        )

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for code, table_rows in tables():
            table = rules.TABLES[code]
            with archive.open(table.file_name, "w") as entry:
                stream = io.TextIOWrapper(entry, encoding="utf-8", newline="")
                writer = csv.DictWriter(stream, fieldnames=table.field_names, lineterminator="\r\n")
                writer.writeheader()
                for row in table_rows:
                    writer.writerow({name: row.get(name, "") for name in table.field_names})
                stream.flush()
                stream.detach()


@pytest.fixture(scope="session")
def import_team(seeded_service, django_db_blocker):  # noqa: F811
    """An empty team to import into, with its manager and the clinician the extract names (committed:
    the import runs in its own process)."""
    with django_db_blocker.unblock():
        team, _ = Team.objects.get_or_create(code="BIMP", defaults={"name": "Bench import service"})
        manager, _ = Staff.objects.get_or_create(
            username="bench_import_mgr", defaults={"team": team, "role": Role.MANAGER}
        )
        Staff.objects.get_or_create(username="bench_import_pwp", defaults={"team": team, "role": Role.PWP})
    return team, manager


@pytest.mark.django_db
def test_import_100000_referrals(import_team, tmp_path):
    source = f"B{int(time.time()) % 100000}"  # a new source each run: a real import, not a re-read
    _team, manager = import_team
    extract = tmp_path / "extract.zip"
    started = time.perf_counter()
    _nhs_free_extract(extract, IMPORT_REFERRALS, source)
    print(
        f"\nextract of {IMPORT_REFERRALS} referrals written in {time.perf_counter() - started:.0f} s "
        f"({extract.stat().st_size / 1e6:.0f} MB zipped)"
    )
    seconds, peak, result = _command(
        "import_dataset", str(extract), "--team", "BIMP", "--by", manager.username, "--quiet"
    )
    print(f"import: {seconds:.0f} s, peak {peak:.0f} MB; exit {result.returncode}")
    print("  " + (result.stdout.strip().splitlines() or ["(no output)"])[-1])
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"Created {IMPORT_REFERRALS} referrals" in result.stdout, result.stdout[-500:]
    expect("data set import, 100,000 referrals, wall time", seconds, 1200, unit=" s")
    expect("data set import, peak memory", peak, MEMORY_MB, unit=" MB")
