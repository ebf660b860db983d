"""Benchmark (issue 5 item 7): the review scan of 100,000 active referrals on PostgreSQL.

Prints the scan's wall time, referrals per second in this one process, and the ratio to the floor:
the time for this process to fetch, in one SQL query, every row the rules need for those referrals
(each contact with its PHQ-9 and GAD-7, about 700,000 rows). Targets: at least 2,000 referrals per
second per worker process and a ratio of at most 2.5 (issue 22: read only what active referrals need).

The data are seeded once with set-based SQL (a separate team, "RVB") and reused with --reuse-db.
``REVIEW_BENCH_REFERRALS`` changes the size. Run with ``make bench``.

The scan reviews every active referral of the database, as the nightly job does: the dashboard
benchmark's service shares this database (most of its 150,000 referrals discharged, their ids between
the active ones), and the scan must read only what the active referrals need (issue 22 item 3).
"""

import os
import statistics
import time

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from outcomes.models import QuestionnaireResponse
from referrals.models import Referral
from stepped_care import services
from stepped_care.models import ReviewFlag, Role, Staff, Team
from stepped_care.queries import uuids_as_text
from tests.bench.targets import expect

N = int(os.environ.get("REVIEW_BENCH_REFERRALS", "100000"))
ROUNDS = int(os.environ.get("REVIEW_BENCH_ROUNDS", "3"))
TEAM = {"code": "RVB", "name": "Review Engine Benchmark"}

# One row per contact with its scores: what the rules read, in one query.
FLOOR_SQL = """
SELECT c.referral_id, c.date, c.appointment_type, c.attendance, p.total, (p.items->>8)::int, g.total
FROM referrals_carecontact c
JOIN referrals_referral r ON r.id = c.referral_id
LEFT JOIN outcomes_questionnaireresponse p
  ON p.contact_id = c.id AND p.measure = 'PHQ9' AND NOT p.entered_in_error
LEFT JOIN outcomes_questionnaireresponse g
  ON g.contact_id = c.id AND g.measure = 'GAD7' AND NOT g.entered_in_error
WHERE r.status <> 'discharged' AND NOT c.entered_in_error
"""

SEED_SQL = [
    # One row per referral: its shape (status, sessions, trajectory) drawn at random.
    """
    CREATE TEMP TABLE bench_r ON COMMIT DROP AS
    SELECT gen_random_uuid() AS id, gen_random_uuid() AS patient_id, s.*,
           CASE WHEN s.u < 0.10 THEN 'awaiting_assessment' WHEN s.u < 0.20 THEN 'awaiting_treatment'
                ELSE 'in_treatment' END AS status,
           CASE WHEN s.u < 0.20 THEN 0 ELSE 1 + floor(random() * 14)::int END AS sessions,
           CASE WHEN random() < 0.7 THEN 2 ELSE 3 END AS step,
           6 + floor(random() * 19)::int AS phq0, 4 + floor(random() * 16)::int AS gad0,
           (ARRAY[-1.2, -0.8, 0, 0, 0.3, 0.9])[1 + floor(random() * 6)::int] AS slope
    FROM (SELECT i, random() AS u, floor(random() * 21)::int AS slack, 3 + floor(random() * 38)::int AS wait
          FROM generate_series(1, %(n)s) i) s
    """,
    """
    CREATE TEMP TABLE bench_r2 ON COMMIT DROP AS
    SELECT *, CASE WHEN status = 'awaiting_assessment' THEN NULL
                   ELSE current_date - (14 + 7 * sessions + slack) END AS assessed_on,
              current_date - (14 + 7 * sessions + slack) - wait
                - CASE WHEN status = 'awaiting_assessment' THEN floor(random() * 150)::int ELSE 0 END
                AS received_on
    FROM bench_r
    """,
    # Rows go in in date order, as a live service writes them: a referral's contacts are spread over
    # the weeks of its treatment, and each contact's PHQ-9 and GAD-7 sit together.
    """
    INSERT INTO referrals_patient (id, nhs_number, given_name, family_name, date_of_birth, phone, email, address,
        postcode, gp_practice, long_term_conditions, team_id, created_at, version)
    SELECT patient_id, NULL, 'Bench', 'Patient ' || i, DATE '1980-01-01' + (i %% 9000), '', '', '', '', '',
        '[]'::jsonb, %(team)s, now(), 1
    FROM bench_r2 ORDER BY received_on
    """,
    """
    INSERT INTO referrals_referral (id, patient_id, team_id, received_on, source, presenting_problem, status,
        care_coordinator_id, ltc_pathway, current_step, discharged_on, end_code, created_at, version)
    SELECT id, patient_id, %(team)s, received_on, 'gp', 'depression', status, %(clinician)s, false,
        CASE WHEN assessed_on IS NULL THEN NULL ELSE step END, NULL, '', now(), 1
    FROM bench_r2 ORDER BY received_on
    """,
    """
    INSERT INTO stepped_care_stepassignment (referral_id, step, started_on, ended_on, reason, source,
        decided_by_id, flag_id, created_at)
    SELECT id, step, assessed_on, NULL, 'Assessed', 'assessment', %(clinician)s, NULL, now()
    FROM bench_r2 WHERE assessed_on IS NOT NULL ORDER BY assessed_on
    """,
    # Contacts: the assessment (n = 0), then weekly sessions from two weeks later.
    """
    CREATE TEMP TABLE bench_c ON COMMIT DROP AS
    SELECT gen_random_uuid() AS id, r.id AS referral_id, n,
           CASE WHEN n = 0 THEN r.assessed_on ELSE r.assessed_on + 7 + 7 * n END AS date,
           CASE WHEN n = 0 THEN '01' ELSE '02' END AS appointment_type,
           CASE WHEN n = 0 THEN '5' ELSE (ARRAY['5','5','5','5','5','5','5','5','5','5','5','5','5','5','6','3','2']
                )[1 + floor(random() * 17)::int] END AS attendance,
           LEAST(27, GREATEST(0, round(r.phq0 + r.slope * n + random() * 3 - 1.5)))::int AS phq,
           CASE WHEN random() < 0.03 THEN 1 ELSE 0 END AS item9,
           LEAST(21, GREATEST(0, round(r.gad0 + r.slope * 0.8 * n + random() * 3 - 1.5)))::int AS gad
    FROM bench_r2 r CROSS JOIN LATERAL generate_series(0, r.sessions) n
    WHERE r.assessed_on IS NOT NULL
    """,
    """
    INSERT INTO referrals_carecontact (id, referral_id, clinician_id, date, time, appointment_type, attendance,
        mechanism, therapy_mode, duration_minutes, group_participants, group_facilitators, ltc_service, notes,
        homework, risk_note, entered_in_error, error_reason, created_at, created_by_id)
    SELECT id, referral_id, %(clinician)s, date, NULL, appointment_type, attendance, '01', '1', 45, NULL, NULL,
        false, '', '', CASE WHEN item9 > 0 THEN 'Risk assessed.' ELSE '' END, false, '', now(), %(clinician)s
    FROM bench_c ORDER BY date, id
    """,
    # PHQ-9 items fill from item 1 (item 9 drawn apart), GAD-7 likewise: totals always equal the items
    # (one JSON array of answers per questionnaire, as the model stores them).
    """
    INSERT INTO outcomes_questionnaireresponse ({qr_id}contact_id, referral_id, measure, completed_on, items,
        total, entered_in_error, error_reason, source, created_at, created_by_id)
    SELECT {qr_id_value}c.id, referral_id, m.measure, date,
        CASE WHEN m.k = 1 THEN jsonb_build_array(i1, i2, i3, i4, i5, i6, i7, LEAST(3, GREATEST(0, t - x - 21)), item9)
             ELSE jsonb_build_array(i1, i2, i3, i4, i5, i6, i7) END,
        t, false, '', 'clinician', now(), %(clinician)s
    FROM (SELECT *, GREATEST(LEAST(phq, 24 + item9), item9) AS tp FROM bench_c WHERE attendance IN ('5', '6')) c
    CROSS JOIN (VALUES (1, 'PHQ9'), (2, 'GAD7')) AS m(k, measure)
    CROSS JOIN LATERAL (SELECT CASE WHEN m.k = 1 THEN c.tp ELSE c.gad END AS t,
                               CASE WHEN m.k = 1 THEN c.item9 ELSE 0 END AS x) v
    CROSS JOIN LATERAL (SELECT LEAST(3, GREATEST(0, t - x)) AS i1, LEAST(3, GREATEST(0, t - x - 3)) AS i2,
                               LEAST(3, GREATEST(0, t - x - 6)) AS i3, LEAST(3, GREATEST(0, t - x - 9)) AS i4,
                               LEAST(3, GREATEST(0, t - x - 12)) AS i5, LEAST(3, GREATEST(0, t - x - 15)) AS i6,
                               LEAST(3, GREATEST(0, t - x - 18)) AS i7) i
    ORDER BY c.date, c.id, m.k
    """,
]


def seed(team, clinician, n):
    started = time.monotonic()
    uuid_pk = QuestionnaireResponse._meta.pk.get_internal_type() == "UUIDField"
    names = {"qr_id": "id, " if uuid_pk else "", "qr_id_value": "gen_random_uuid(), " if uuid_pk else ""}
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in SEED_SQL:
            sql = sql.replace("{qr_id}", names["qr_id"]).replace("{qr_id_value}", names["qr_id_value"])
            cursor.execute(sql, {"n": n, "team": team.pk, "clinician": clinician.pk})
    return time.monotonic() - started


def timed(fn):
    started = time.monotonic()
    result = fn()
    return time.monotonic() - started, result


def floor_fetch():
    """The floor, read as the scan reads: uuids as text, the cycle collector held."""
    with services.gc_paused(), connection.cursor() as cursor:
        uuids_as_text(cursor)
        cursor.execute(FLOOR_SQL)
        return len(cursor.fetchall())


@pytest.mark.django_db
def test_the_benchmark_database_is_postgresql():
    """Marked for the database, so that pytest-django sets it up for this module; the benchmark itself
    runs outside a test transaction, committing chunk by chunk as a worker does."""
    if connection.vendor != "postgresql":
        pytest.skip("the review scan benchmark needs PostgreSQL (DATABASE_URL=postgres://...)")


@pytest.fixture(scope="module")
def bench_team(django_db_setup, django_db_blocker):
    if "postgresql" not in connection.vendor:
        pytest.skip("the review scan benchmark needs PostgreSQL (DATABASE_URL=postgres://...)")
    with django_db_blocker.unblock():
        team, _ = Team.objects.get_or_create(code=TEAM["code"], defaults={"name": TEAM["name"]})
        clinician, _ = Staff.objects.get_or_create(
            username="review_bench_pwp", defaults={"team": team, "role": Role.PWP, "password": "!"}
        )
        active = Referral.objects.active().filter(team=team).count()
        if active < N:
            seconds = seed(team, clinician, N - active)
            print(f"\nseeded {N - active:,} active referrals in {seconds:.1f}s")
        yield team


def test_review_scan_of_active_referrals(bench_team, django_db_blocker):
    """The first scan raises every flag; then floor and steady scans alternate, so that both meet the
    same load on a shared machine, and the median of their ratios is reported."""
    chunk = settings.REVIEW_SCAN_CHUNK_SIZE
    with django_db_blocker.unblock():
        referrals = Referral.objects.active().count()  # every team's, as the nightly scan
        ReviewFlag.objects.all().delete()  # a cold first scan each run
        with connection.cursor() as cursor:  # as autovacuum keeps a live database
            for table in ("referrals_referral", "referrals_carecontact", "outcomes_questionnaireresponse"):
                cursor.execute(f"VACUUM ANALYZE {table}")
            cursor.execute("VACUUM ANALYZE stepped_care_reviewflag")
        floor_fetch()  # warm the caches: both sides then read from memory
        today = timezone.localdate()
        first_floor, rows = timed(floor_fetch)
        first, created = timed(lambda: services.scan(today=today, chunk_size=chunk))
        pairs = []
        for _ in range(ROUNDS):
            floor, _ = timed(floor_fetch)
            steady, again = timed(lambda: services.scan(today=today, chunk_size=chunk))
            assert again.changes == 0, "a scan of unchanged data must change nothing"
            pairs.append((floor, steady))
        by_rule = dict(
            ReviewFlag.objects.filter(status="open")
            .values_list("rule")
            .annotate(n=Count("pk"))
            .values_list("rule", "n")
        )

    floor = statistics.median(f for f, _ in pairs)
    steady = statistics.median(s for _, s in pairs)
    ratio = statistics.median(s / f for f, s in pairs)
    print(
        f"\n== Review scan benchmark (PostgreSQL, one process, chunks of {chunk:,})\n"
        f"active referrals            {referrals:,} (every team: {bench_team.code} and any other in the database)\n"
        f"rows the rules need         {rows:,} contacts with their PHQ-9 and GAD-7\n"
        f"floor (1 query, fetch all)  median {floor:.2f}s  (rounds: {', '.join(f'{f:.2f}' for f, _ in pairs)})\n"
        f"steady scan (no changes)    median {steady:.2f}s  {referrals / steady:,.0f} referrals/s  "
        f"ratio to floor {ratio:.2f}  (rounds: {', '.join(f'{s:.2f}/{f:.2f}' for f, s in pairs)})\n"
        f"first scan (raises flags)   {first:.2f}s  {referrals / first:,.0f} referrals/s  "
        f"ratio {first / first_floor:.2f}  ({len(created.raised):,} flags raised, with their audit events)\n"
        f"open flags by rule          {by_rule}\n"
        f"targets                     >= 2,000 referrals/s per process, ratio <= 2.5"
    )
    assert created.reviewed == referrals
    expect("review scan throughput, referrals/s", referrals / steady, 2000, at_most=False)
    expect("review scan / its floor", ratio, 2.5)
