"""Privacy: no NHS numbers or names in URLs or logs; record ids in URLs reveal nothing about how many
patients a service has."""

import datetime as dt
import logging
import re
import uuid

import pytest
from django.apps import apps
from django.db import models
from django.urls import reverse

from common.security import RedactPatientIdentifiers, redact
from tests.paths import REPO

from . import matrix
from .urlmap import endpoints

IDENTIFYING = re.compile(r"nhs|name|surname|dob|birth|postcode|email|phone|address", re.I)
KIND_MODELS = {kind: label for label, kind in matrix.MODEL_KINDS.items()}


def test_no_url_takes_a_name_or_nhs_number():
    offenders = [f"{e.id}: <{p}>" for e in endpoints() for p in e.params if IDENTIFYING.search(p)]
    assert not offenders, "URLs must carry record ids only: " + ", ".join(offenders)


def _patient_kinds_in_urls():
    used = {}
    for endpoint in endpoints():
        if endpoint.is_admin:
            continue
        for param in endpoint.params:
            kind = matrix.kind_of(endpoint, param)
            if kind in matrix.PATIENT_KINDS:
                used.setdefault(kind, []).append(endpoint.name)
    return used


@pytest.mark.parametrize("kind", sorted(matrix.PATIENT_KINDS))
def test_patient_records_in_urls_have_random_ids(kind):
    """A sequential id in a URL tells anyone who sees two of them how many records lie between."""
    used = _patient_kinds_in_urls().get(kind)
    if not used:
        pytest.skip(f"no URL addresses a {kind}")
    model = apps.get_model(KIND_MODELS[kind])
    random_ids = isinstance(model._meta.pk, models.UUIDField)
    assert random_ids, (
        f"{model.__name__} is addressed in URLs ({', '.join(sorted(set(used)))}) but its id is sequential"
    )


def test_the_core_patient_records_have_random_ids():
    for label in (
        "referrals.Patient",
        "referrals.Referral",
        "referrals.CareContact",
        "stepped_care.ReviewFlag",
        "outcomes.QuestionnaireResponse",
        "workshops.Enrolment",
        "workshops.RegisterEntry",
    ):
        assert isinstance(apps.get_model(label)._meta.pk, models.UUIDField), label


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Patient 9434765919 not found", "Patient [redacted] not found"),
        ("NHS 943 476 5919 seen", "NHS [redacted] seen"),
        ("number 943-476-5919.", "number [redacted]."),
        ("GET /referrals/5f0c9d7e-1b2a-4c3d-9e8f-0a1b2c3d4e5f/ 200", None),
        ("12345678901 is eleven digits", None),
    ],
)
def test_nhs_numbers_are_redacted_from_log_lines(text, expected):
    assert redact(text) == (expected or text)


def test_the_console_log_handler_redacts():
    handler = next(
        h for h in logging.getLogger().handlers if any(isinstance(f, RedactPatientIdentifiers) for f in h.filters)
    )
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "lookup of %s failed", ("9434765919",), None)
    handler.filter(record)
    assert record.getMessage() == "lookup of [redacted] failed"


@pytest.mark.django_db
def test_a_day_of_work_logs_no_patient_names_or_nhs_numbers(client, api, pwp, outsider, caplog):
    """Create, view, fail validation, miss records and get refused, through the API and the pages:
    nothing that Django or our code logs names the patient."""
    caplog.set_level(logging.DEBUG)
    api.force_authenticate(pwp)
    created = api.post(
        "/api/v1/patients/",
        {
            "given_name": "Zebedee",
            "family_name": "Quartermaine",
            "date_of_birth": "1980-02-29",
            "nhs_number": "9434765919",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    patient_id = created.json()["id"]
    referral = api.post(
        "/api/v1/referrals/",
        {
            "patient": patient_id,
            "received_on": str(dt.date.today() - dt.timedelta(days=3)),
            "source": "gp",
            "presenting_problem": "depression",
        },
        format="json",
    ).json()
    api.post("/api/v1/patients/", {"given_name": "Zebedee", "nhs_number": "9434765919"}, format="json")  # invalid
    api.post("/api/v1/contacts/", {"referral": referral["id"], "date": "2001-01-01"}, format="json")  # invalid
    api.get(f"/api/v1/patients/{patient_id}/")
    api.get(f"/api/v1/referrals/{uuid.uuid4()}/")
    client.force_login(pwp)
    client.get(reverse("referrals:detail", args=[referral["id"]]))
    client.get(reverse("referrals:detail", args=[uuid.uuid4()]))
    client.force_login(outsider)
    client.get(reverse("referrals:detail", args=[referral["id"]]))
    client.post(reverse("login"), {"username": "9434765919", "password": "Quartermaine"})

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert logged, "the journey should have logged something (404s, 400s)"
    for secret in ("Zebedee", "Quartermaine", "9434765919", "943 476 5919"):
        assert secret not in redact(logged), f"{secret} reached the logs"


def test_the_production_access_log_leaves_out_query_strings_and_referrers():
    """gunicorn logs the path only (%(U)s): query strings may carry search terms, referrers too."""
    compose = (REPO / "docker-compose.yml").read_text()
    formats = re.findall(r"--access-logformat\s+'([^']+)'", compose)
    assert formats, "docker-compose.yml should set gunicorn's --access-logformat"
    for fmt in formats:
        assert "%(U)s" in fmt
        for leaky in ("%(r)s", "%(q)s", "%(f)s", "%(u)s"):
            assert leaky not in fmt
