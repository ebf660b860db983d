"""Benchmark (issue 21.11, issue 22.4): a bounded load test of the production shape.

gunicorn on PostgreSQL with Redis and a real Celery worker, each its own process, serving a service of its
own (``<bench database>_load``: migrated and seeded here with ``LOAD_BENCH_REFERRALS`` referrals, not the
shared 150k one, because the run writes). Locust (tests/bench/locustfile.py) sends ``LOAD_BENCH_USERS``
clinicians and managers for ``LOAD_BENCH_SECONDS``: clinicians read caseloads, referrals, outcomes and
contacts and log sessions with PHQ-9 and GAD-7; managers read the dashboard, the waiting list, flags and
supervision compliance. It prints requests per second and p50/p95/p99 per endpoint with each p50's ratio
to the trivial endpoint's (``GET /api/v1/me/``) in the same run, then checks the record:

- zero failed requests;
- every contact answered 201 is in the database, with its PHQ-9 and GAD-7;
- the worker has done every review the saves queued (the outbox is empty);
- the stored outcome summaries equal a rebuild from the raw rows (``rebuild_outcome_summaries --check``).

PostgreSQL and Redis only; run with ``make bench``.
"""

import csv
import json
import os
import re
import subprocess
import sys
import time
import uuid

import pytest

from tests.bench import servers
from tests.bench.targets import expect
from tests.paths import REPO

REFERRALS = int(os.environ.get("LOAD_BENCH_REFERRALS", "5000"))
USERS = int(os.environ.get("LOAD_BENCH_USERS", "20"))
SECONDS = int(os.environ.get("LOAD_BENCH_SECONDS", "180"))
WORKERS = int(os.environ.get("LOAD_BENCH_WORKERS", "3"))  # gunicorn processes, as docker-compose runs
BROKER = os.environ.get("LOAD_BENCH_BROKER", "redis://127.0.0.1:6379/12")
PASSWORD = "load-bench-password"  # noqa: S105 - a throwaway database's demo accounts
TRIVIAL = "GET /api/v1/me/ (trivial)"
DONE = re.compile(r"\] succeeded in ")
READ_RATIO = 3  # issue 22.4: each read endpoint's p50 at most 3 x the trivial endpoint's

PEOPLE = """
from stepped_care.models import Staff
from common.roles import Role
staff = Staff.objects.filter(team__code="TMS", is_active=True)
clinicians = staff.filter(role__in=[Role.PWP, Role.HI_THERAPIST, Role.PWP_TRAINEE, Role.HI_TRAINEE])
print(",".join(clinicians.values_list("username", flat=True)))
print(",".join(staff.filter(role=Role.MANAGER).values_list("username", flat=True)))
"""

RECORD = """
import json, pathlib
from common.models import PendingTask
from outcomes.models import QuestionnaireResponse
from referrals.models import CareContact
ids = [line for path in pathlib.Path({folder!r}).glob("created-*.txt") for line in path.read_text().split()]
found = CareContact.objects.filter(pk__in=ids).count()
both = sum(
    1 for measures in [
        set(QuestionnaireResponse.objects.filter(contact_id=pk).values_list("measure", flat=True)) for pk in ids
    ] if {{"PHQ9", "GAD7"}} <= measures
)
print(json.dumps({{"created": len(ids), "unique": len(set(ids)), "found": found,
                   "with_both": both, "pending_reviews": PendingTask.objects.count()}}))
"""


@pytest.fixture(scope="module")
def service():
    """A service of its own: migrated, seeded, its statistics fresh (seed_demo runs ANALYZE)."""
    name, url = servers.own_database("load")
    env = {**os.environ, **servers.PRODUCTION_ENV, "DATABASE_URL": url}
    env.pop("CELERY_BROKER_URL", None)  # seeding runs its tasks in-process
    started = time.perf_counter()
    servers.manage(env, "migrate", "--noinput", "-v", "0")
    servers.manage(env, "seed_demo", "--force", "--referrals", str(REFERRALS), "--password", PASSWORD)
    print(f"\nLOAD service of {REFERRALS} referrals made in {time.perf_counter() - started:.0f} s")
    clinicians, managers = servers.manage(env, "shell", "-c", PEOPLE, capture=True).strip().splitlines()[-2:]
    yield env, clinicians, managers
    servers.drop_database(name)


def run_locust(base, env, tmp_path):
    prefix = tmp_path / "locust"
    command = [sys.executable, "-m", "locust", "-f", str(REPO / "tests" / "bench" / "locustfile.py"), "--headless"]
    command += ["-u", str(USERS), "-r", str(max(1, USERS // 5)), "-t", f"{SECONDS}s", "--host", base]
    command += ["--csv", str(prefix), "--only-summary", "--stop-timeout", "15", "--loglevel", "WARNING"]
    done = subprocess.run(  # noqa: S603 - locust on our own locustfile
        command, env=env, cwd=REPO, capture_output=True, text=True, timeout=SECONDS + 120
    )
    rows = list(csv.DictReader((tmp_path / "locust_stats.csv").open()))
    failures = (tmp_path / "locust_failures.csv").read_text() if (tmp_path / "locust_failures.csv").exists() else ""
    return rows, failures, done


def wait_for_the_worker(env, folder, queue, log, deadline_s=180):
    """The record once the outbox is empty and the worker's queue drained (or the deadline passed)."""
    import redis

    broker = redis.Redis.from_url(BROKER)
    deadline = time.monotonic() + deadline_s
    while True:
        out = servers.manage(env, "shell", "-c", RECORD.format(folder=str(folder)), capture=True)
        record = json.loads(out.strip().splitlines()[-1])
        record["queued"] = broker.llen(queue)
        if (not record["pending_reviews"] and not record["queued"]) or time.monotonic() > deadline:
            time.sleep(2)  # the task the worker took last
            record["tasks_done"] = len(DONE.findall(log.read_text()))
            return record
        time.sleep(2)


def test_clinicians_and_managers_under_load_lose_nothing(service, tmp_path):
    env, clinicians, managers = service
    queue = f"load-bench-{uuid.uuid4().hex[:8]}"
    env = {**env, "CELERY_BROKER_URL": BROKER, "CELERY_QUEUE": queue}
    created = tmp_path / "created"
    created.mkdir()
    worker = servers.start_worker(env, queue, tmp_path / "worker.log", processes=1)
    server, base = servers.start_gunicorn(env, WORKERS, log=tmp_path / "gunicorn.log")
    try:
        people = {"LOAD_CLINICIANS": clinicians, "LOAD_MANAGERS": managers, "LOAD_PASSWORD": PASSWORD}
        rows, failures, done = run_locust(base, {**env, **people, "LOAD_CREATED_DIR": str(created)}, tmp_path)
        record = wait_for_the_worker(env, created, queue, tmp_path / "worker.log")
    finally:
        servers.stop(server)
    try:
        servers.manage(env, "rebuild_outcome_summaries", "--check")
        summaries_equal = True
    except subprocess.CalledProcessError:
        summaries_equal = False
    finally:
        servers.stop(worker)

    by_name = {row["Name"]: row for row in rows}
    total = by_name["Aggregated"]
    trivial_p50 = float(by_name[TRIVIAL]["50%"])
    print(
        f"\nLOAD {USERS} users for {SECONDS} s on {WORKERS} gunicorn workers, PostgreSQL, Redis and a worker "
        f"({REFERRALS} referrals): {int(total['Request Count'])} requests, {float(total['Requests/s']):.1f} req/s, "
        f"{int(total['Failure Count'])} failed"
    )
    print(f"{'endpoint':46} {'requests':>8} {'failed':>6} {'p50':>6} {'p95':>6} {'p99':>6} {'p50/trivial':>11}")
    for row in rows:
        if row["Name"] == "Aggregated":
            continue
        ratio = float(row["50%"]) / trivial_p50 if trivial_p50 else float("inf")
        print(
            f"{row['Name']:46} {int(row['Request Count']):>8} {int(row['Failure Count']):>6} {row['50%']:>6} "
            f"{row['95%']:>6} {row['99%']:>6} {ratio:>11.2f}"
        )
    print(f"LOAD record after the run: {record}; summaries equal a rebuild: {summaries_equal}")
    if failures.count("\n") > 1:
        print(f"LOAD failures:\n{failures[:3000]}")
    if int(total["Failure Count"]):
        print(f"LOAD gunicorn's last words:\n{(tmp_path / 'gunicorn.log').read_text()[-3000:]}")
    if done.returncode not in (0, 1):  # 1: some request failed, which the targets below report
        pytest.fail(f"locust exited {done.returncode}:\n{done.stderr[-3000:]}")

    expect("load test failed requests", int(total["Failure Count"]), 0)
    expect("load test sessions logged (201)", record["created"], 1, at_most=False)
    expect("load test 201s missing from the database", record["created"] - record["found"], 0)
    expect("load test 201s without both PHQ-9 and GAD-7", record["created"] - record["with_both"], 0)
    expect("load test reviews left undone (outbox + queue)", record["pending_reviews"] + record["queued"], 0)
    expect("load test tasks the real worker did", record["tasks_done"], 1, at_most=False)
    expect("load test summaries differing from a rebuild", 0 if summaries_equal else 1, 0)
    for row in rows:
        if row["Name"].startswith("GET ") and row["Name"] != TRIVIAL:
            expect(f"load test p50 of {row['Name']} / trivial p50", float(row["50%"]) / trivial_p50, READ_RATIO)
