"""Benchmark (issue 17 item 6): the public self-referral form.

1. How much a person goes through to refer themselves: pages, and the questions they must answer
   (counted from the form itself, for someone whose difficulty calls for no ADSM).
2. What the form sustains: gunicorn (the production server) on PostgreSQL, its own small database
   (``<bench database>_frontdoor``, made and migrated here, not the seeded 150k one), with
   simulated people each going through the whole form (GET and POST of every page, the last one
   creating the patient, the referral and the scores). Requests per second and the p95 latency.

Measured on the shared 2-core machine (another benchmark running): 29 requests/s, median 110 ms, p95
329 ms with 4 people at a time on 2 workers; one page renders in about 3 ms in-process, so the
figures are the machine's load, not the form's cost. Rate limits are off for the run
(FRONTDOOR_RATE_*=""): the benchmark is one address.
PostgreSQL only; run with ``make bench``.
"""

import http.cookiejar
import os
import re
import statistics
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from frontdoor import forms, views
from tests.bench import servers
from tests.bench.targets import expect

PEOPLE = int(os.environ.get("FRONTDOOR_BENCH_PEOPLE", "60"))
CONCURRENCY = int(os.environ.get("FRONTDOOR_BENCH_CONCURRENCY", "4"))
WORKERS = os.environ.get("FRONTDOOR_BENCH_WORKERS", "2")
SLUG = "bench-service"
PHQ = [2, 2, 2, 2, 1, 1, 1, 1, 0]
GAD = [2, 2, 1, 1, 1, 1, 1]


def test_pages_and_questions_to_refer_yourself():
    steps = views._steps({"help_with": "low_mood"})
    pages = ["start", *steps, "done"]
    form_of = {
        "crisis": forms.CrisisForm,
        "eligibility": forms.EligibilityForm,
        "details": forms.DetailsForm,
        "contact": forms.ContactForm,
        "help": forms.HelpForm,
    }
    questions = required = 0
    for step in steps:
        if step in form_of:
            fields = {n: f for n, f in form_of[step].base_fields.items() if n != "website"}
            questions += len(fields)
            required += sum(1 for f in fields.values() if f.required)
        elif step in ("PHQ9", "GAD7"):
            n = len(forms.MeasureForm(measure=step).fields)
            questions += n
            required += n
    required += 1  # the contact detail the chosen way of contact needs (a phone number for texts)
    print(
        f"FRONTDOOR pages seen {len(pages)} ({', '.join(pages)}); "
        f"questions {questions}, of which {required} must be answered"
    )

    expect("self-referral pages (no ADSM)", len(pages), 10)
    expect("self-referral answers needed (no ADSM)", required, 25)


@pytest.fixture
def small_database():
    """A fresh PostgreSQL database of its own, migrated, with one open form and a practice in its area."""
    name, url = servers.own_database("frontdoor")
    env = {
        **os.environ,
        **servers.PRODUCTION_ENV,
        "DATABASE_URL": url,
        **{f"FRONTDOOR_RATE_{k}": "" for k in ("STEP", "FORM", "SUBMIT", "SUBMIT_FORM", "LINK")},
    }
    servers.manage(env, "migrate", "--noinput", "-v", "0")
    seed = (
        "from stepped_care.models import Team\n"
        "from frontdoor.models import FrontDoor, GPPractice\n"
        "team = Team.objects.create(name='Bench Talking Therapies', code='BENCH')\n"
        f"door = FrontDoor.objects.create(team=team, slug='{SLUG}')\n"
        "GPPractice.objects.create(front_door=door, ods_code='N81001', name='Beech Medical Centre')\n"
        "print(GPPractice.objects.get().pk)\n"
    )
    practice = servers.manage(env, "shell", "-c", seed, capture=True).strip().splitlines()[-1]
    yield env, int(practice)
    servers.drop_database(name)


@pytest.fixture
def gunicorn(small_database):
    env, practice = small_database
    server, base = servers.start_gunicorn(env, WORKERS, ready_path="/refer/")
    yield base, practice
    servers.stop(server, timeout=10)


TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _one_person(base, practice, timings, lock):
    """Everything one person sends, page by page, timing each request."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def call(path, data=None):
        started = time.perf_counter()
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        with opener.open(f"{base}{path}", data=body, timeout=30) as response:  # noqa: S310 - local server
            page = response.read().decode()
            status = response.status
        with lock:
            timings.append(time.perf_counter() - started)
        assert status == 200, (path, status)
        return page

    pages = [
        ("crisis", {"crisis": "no"}),
        (
            "eligibility",
            {"date_of_birth_0": "4", "date_of_birth_1": "5", "date_of_birth_2": "1990", "practice_id": practice},
        ),
        ("details", {"given_name": "Robin", "family_name": "Ashdown"}),
        ("contact", {"contact_by": "sms", "phone": "07700 900123"}),
        ("help", {"help_with": "low_mood"}),
        ("PHQ9", {f"item_{n}": v for n, v in enumerate(PHQ, 1)}),
        ("GAD7", {f"item_{n}": v for n, v in enumerate(GAD, 1)}),
        ("check", {"website": ""}),
    ]
    call(f"/refer/{SLUG}/")
    for name, data in pages:
        page = call(f"/refer/{SLUG}/{name}/")
        token = TOKEN.search(page).group(1)
        final = call(f"/refer/{SLUG}/{name}/", {**data, "csrfmiddlewaretoken": token})  # follows the redirect
    assert "Referral sent" in final


def test_the_public_form_under_load_on_gunicorn_and_postgresql(gunicorn):
    base, practice = gunicorn
    _one_person(base, practice, [], threading.Lock())  # warm up: imports, connections, templates
    timings, lock = [], threading.Lock()
    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        for future in [pool.submit(_one_person, base, practice, timings, lock) for _ in range(PEOPLE)]:
            future.result()
    elapsed = time.perf_counter() - started
    rate = len(timings) / elapsed
    p95 = statistics.quantiles(timings, n=20)[-1] * 1000
    print(
        f"FRONTDOOR {PEOPLE} self-referrals, {len(timings)} requests (a POST and its redirect count once) in "
        f"{elapsed:.1f} s with {CONCURRENCY} at a time on {WORKERS} gunicorn workers: {rate:.1f} requests/s, "
        f"median {statistics.median(timings) * 1000:.0f} ms, p95 {p95:.0f} ms, {PEOPLE / elapsed:.1f} referrals/s"
    )
    # What a service needs: a busy Monday brings a large service ~200 self-referrals an hour, ~17 requests
    # each: about 1 request/s. The target is ten times that (a host serving several services), with a
    # p95 that still feels immediate on a phone, on a machine shared with other work (2 cores).
    expect("public form requests per second (gunicorn, PostgreSQL)", rate, 10, at_most=False, unit=" req/s")
    expect("public form p95 latency", p95, 500, unit=" ms")
