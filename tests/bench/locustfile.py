"""The bounded load test's people (issue 21.11, issue 22.4): clinicians and managers using the API.

Run by tests/bench/test_load_bench.py (never on its own in CI): ``locust -f tests/bench/locustfile.py
--headless``, with the environment saying who signs in:

- ``LOAD_CLINICIANS`` / ``LOAD_MANAGERS``: comma-separated usernames; ``LOAD_PASSWORD`` their password;
- ``LOAD_CREATED_DIR``: a folder where each locust process writes the id of every contact it was answered
  201 for (the test then finds each one in the database with its questionnaires).

Clinicians read their caseload, a referral, its outcome and its contacts, and log sessions with PHQ-9 and
GAD-7 (an ``Idempotency-Key`` on each, as a careful client sends). Managers read the dashboard, the
waiting list, the flags and supervision compliance. ``GET /api/v1/me/`` is the trivial endpoint every
other endpoint's median is compared with: token check, one row, no clinical reads.
"""

import datetime as dt
import itertools
import os
import random
import uuid
from pathlib import Path

from locust import HttpUser, between, task

CLINICIANS = itertools.cycle([u for u in os.environ.get("LOAD_CLINICIANS", "").split(",") if u])
MANAGERS = itertools.cycle([u for u in os.environ.get("LOAD_MANAGERS", "").split(",") if u])
PASSWORD = os.environ.get("LOAD_PASSWORD", "")
CREATED = Path(os.environ.get("LOAD_CREATED_DIR", ".")) / f"created-{os.getpid()}.txt"
PHQ9 = [[2, 2, 1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 0, 0, 0, 0, 0], [3, 2, 2, 2, 2, 1, 1, 1, 0]]
GAD7 = [[2, 2, 1, 1, 1, 0, 0], [1, 1, 0, 0, 0, 0, 0], [3, 3, 2, 2, 1, 1, 1]]


class SignedIn(HttpUser):
    abstract = True
    wait_time = between(0.5, 1.5)
    usernames = None

    def on_start(self):
        username = next(self.usernames)
        with self.client.post(
            "/api/v1/auth/token/",
            json={"username": username, "password": PASSWORD},
            name="POST /api/v1/auth/token/",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"sign-in of {username}: {response.status_code} {response.text[:200]}")
                self.stop()
                return
            self.client.headers["Authorization"] = f"Token {response.json()['token']}"
        self.client.headers["Accept"] = "application/json"

    def read(self, path, name):
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} {response.text[:200]}")
                return None
            return response.json()

    @task(2)
    def me(self):
        self.read("/api/v1/me/", "GET /api/v1/me/ (trivial)")


class Clinician(SignedIn):
    weight = 4
    usernames = CLINICIANS

    def on_start(self):
        super().on_start()
        page = self.read("/api/v1/referrals/?caseload=true&status=in_treatment", "GET /api/v1/referrals/?caseload")
        self.cases = [row["id"] for row in (page or {}).get("results", [])]

    @task(4)
    def caseload(self):
        self.read("/api/v1/referrals/?caseload=true", "GET /api/v1/referrals/?caseload")

    @task(3)
    def referral(self):
        if self.cases:
            self.read(f"/api/v1/referrals/{random.choice(self.cases)}/", "GET /api/v1/referrals/[id]/")

    @task(2)
    def outcome(self):
        if self.cases:
            self.read(f"/api/v1/referrals/{random.choice(self.cases)}/outcome/", "GET /api/v1/referrals/[id]/outcome/")

    @task(2)
    def contacts(self):
        if self.cases:
            self.read(f"/api/v1/contacts/?referral={random.choice(self.cases)}", "GET /api/v1/contacts/?referral")

    @task(2)
    def log_a_session(self):
        if not self.cases:
            return
        kind = random.randrange(len(PHQ9))
        body = {
            "referral": random.choice(self.cases),
            "date": (dt.date.today() - dt.timedelta(days=random.randrange(0, 6))).isoformat(),
            "appointment_type": "02",
            "attendance": "5",
            "mechanism": "01",
            "phq9": PHQ9[kind],
            "gad7": GAD7[kind],
            "confirm_duplicate": True,  # several sessions a week on one case is what load looks like
        }
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        with self.client.post(
            "/api/v1/contacts/", json=body, headers=headers, name="POST /api/v1/contacts/", catch_response=True
        ) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code} {response.text[:300]}")
                return
            with CREATED.open("a", encoding="utf-8") as created:
                created.write(f"{response.json()['id']}\n")


class Manager(SignedIn):
    weight = 1
    usernames = MANAGERS

    @task(2)
    def dashboard(self):
        self.read("/api/v1/dashboard/", "GET /api/v1/dashboard/")

    @task(3)
    def waiting_list(self):
        self.read("/api/v1/referrals/?unallocated=true&status=awaiting_assessment", "GET /api/v1/referrals/?waiting")

    @task(2)
    def flags(self):
        self.read("/api/v1/flags/", "GET /api/v1/flags/")

    @task(1)
    def compliance(self):
        self.read("/api/v1/supervision/compliance/", "GET /api/v1/supervision/compliance/")
