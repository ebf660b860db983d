"""Benchmark (issue 22 item 5): the nightly scan shared across Celery worker processes.

The scan fans the active referrals out in chunks (``scan_active_referrals``); any number of worker
processes take chunks from the queue. This starts a real ``celery worker`` with 1 and then 2
processes on the benchmark database and Redis, queues the steady scan (nothing changed since the
first) and times it until the worker has finished every chunk; it prints the speed-up. The figure
is what one more process buys on this machine (2 cores shared with PostgreSQL), not a target:
the capacity plan (docs/capacity-plan.md) scales from it. PostgreSQL and Redis only.
"""

import os
import re
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app
from stepped_care import queries, services, tasks

from . import servers
from . import test_dashboard_bench as dashboard_bench

seeded_service = dashboard_bench.seeded_service
BROKER = os.environ.get("SCAN_BENCH_BROKER", "redis://127.0.0.1:6379/13")
CHUNK = int(os.environ.get("SCAN_BENCH_CHUNK", "500"))
DONE = re.compile(r"review_chunk\[[0-9a-f-]+\] succeeded")


def timed_scan(processes, tmp_path, parts):
    queue = f"scan-bench-{uuid.uuid4().hex[:8]}"
    log = tmp_path / f"worker-{processes}.log"
    env = {**os.environ, "DATABASE_URL": servers.database_url(), "CELERY_BROKER_URL": BROKER, "CELERY_QUEUE": queue}
    process = servers.start_worker(env, queue, log, processes)
    saved = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url, app.conf.task_always_eager = BROKER, False
    try:
        started = time.perf_counter()
        for part in parts:
            tasks.review_chunk.apply_async((part,), queue=queue)
        deadline = time.monotonic() + 600
        while len(DONE.findall(log.read_text())) < len(parts):
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail(f"the scan did not finish:\n{log.read_text()[-3000:]}")
            time.sleep(0.05)
        return time.perf_counter() - started
    finally:
        app.conf.broker_url, app.conf.task_always_eager = saved
        servers.stop(process)


@pytest.mark.django_db
def test_scan_workers_need_postgresql():
    """Marked for the database, so that pytest-django sets up the benchmark database for this module;
    the benchmark itself commits as a worker does, outside a test transaction."""
    if connection.vendor != "postgresql":
        pytest.skip("the scan workers benchmark needs PostgreSQL")


def test_scan_workers_share_the_nightly_scan(seeded_service, django_db_blocker, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("benchmarks need PostgreSQL")
    with django_db_blocker.unblock():
        ids = queries.active_referral_ids()
        services.scan(chunk_size=settings.REVIEW_SCAN_CHUNK_SIZE)  # the first scan: later ones change nothing
        in_process_started = time.perf_counter()
        assert services.scan(chunk_size=CHUNK).changes == 0
        in_process = time.perf_counter() - in_process_started
    parts = services.chunks(ids, CHUNK)
    one = timed_scan(1, tmp_path, parts)
    two = timed_scan(2, tmp_path, parts)
    print(
        f"\n== Nightly scan across worker processes: {len(ids):,} active referrals in {len(parts)} chunks of {CHUNK}\n"
        f"in this process        {in_process:.2f}s  {len(ids) / in_process:,.0f} referrals/s\n"
        f"1 worker process       {one:.2f}s  {len(ids) / one:,.0f} referrals/s (queueing and the broker included)\n"
        f"2 worker processes     {two:.2f}s  {len(ids) / two:,.0f} referrals/s\n"
        f"speed-up, 2 over 1     {one / two:.2f}x on {os.cpu_count()} cores shared with PostgreSQL; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    assert one > 0 and two > 0
