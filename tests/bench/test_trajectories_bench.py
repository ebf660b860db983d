"""Benchmark (issue 19.6): fitting the expected recovery curves of the 150,000-referral demo service
(about 2.5 million scores) in the database, under 60 s, with bounded Python memory: PostgreSQL numbers
the sessions (window functions) and computes the percentiles (``percentile_cont`` within GROUP BY), so
only the cells come back to Python. Also printed: the cost of reading the newest fit (what every review
chunk and referral page adds) and of the managers' validation report.

The test runs in the test's transaction, rolled back at its end: the benchmark database is left as it
was (the review-scan benchmark must not find curves it did not ask for). PostgreSQL only; ``make bench``.
"""

import time
import tracemalloc

import pytest
from django.db import connection

from outcomes import queries, services
from outcomes.models import QuestionnaireResponse
from tests.bench.targets import expect
from tests.bench.test_dashboard_bench import seeded_service  # noqa: F401  (the session fixture)


@pytest.mark.django_db
def test_fit_over_the_benchmark_service(seeded_service):  # noqa: F811
    team = seeded_service
    scores = QuestionnaireResponse.objects.filter(referral__team=team).count()
    print(f"\n{scores:,} scores of team {team.code}")
    tracemalloc.start()
    started = time.perf_counter()
    fit = services.fit_trajectories(team=team)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    cells = fit.cells.count()
    print(
        f"fit v{fit.version} ({fit.method}): {fit.courses:,} finished courses, {cells} cells, "
        f"{fit.scores:,} scores in cells, {elapsed:.1f} s, Python peak {peak / 2**20:.1f} MiB"
    )
    expect("trajectory fit of the 150k service", elapsed, 60, unit=" s")
    expect("trajectory fit Python peak memory", peak / 2**20, 32, unit=" MiB")
    assert cells > 0 and fit.courses > 10_000

    started = time.perf_counter()
    curves = queries.current_curves([team.pk])[team.pk]
    read_ms = (time.perf_counter() - started) * 1000
    print(f"newest fit read back ({len(curves.cells)} cells): {read_ms:.0f} ms")
    expect("newest trajectory fit read (per review chunk / referral page)", read_ms, 100, unit=" ms")

    started = time.perf_counter()
    report = queries.trajectory_validation(team.pk)
    print(
        f"validation report: split {report.split}, {report.fit_courses:,} fitted, {report.held_out:,} "
        f"held out, {report.active_judged:,} active judged, {time.perf_counter() - started:.1f} s"
    )
    for row in report.rows:
        v = row.held_out
        print(
            f"  amber above {row.tolerance}th: flagged {v.flagged_share:.0%}, sensitivity "
            f"{v.sensitivity:.0%}, specificity {v.specificity:.0%}, PPV {v.ppv:.0%}, "
            f"active flagged {row.active_share:.0%}{' <- closest to 20%' if row.closest else ''}"
        )
    assert connection.vendor == "postgresql"
