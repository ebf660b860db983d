"""Schemathesis fuzzes every operation of the published schema, in-process against the WSGI app, with a
clinician's token: no answer may be a server error, and every answer must be one the schema documents
(status code, content type, body). Positive and negative (invalid) inputs are both generated.

Generated ids are random, so part of them are swapped for ids of real records (the clinician's own and
another service's), which takes the fuzzer past the 404 into the views, services and serializers.
"""

import hashlib
import json
import logging
import uuid

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import FUZZ_STATS

MAX_EXAMPLES = 25  # per operation, positive and negative together; keeps the run to a minute or two
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def _pick(options, seed):
    """A stable choice driven by the generated value, so that Hypothesis can replay a failure."""
    if not options:
        return None
    digest = hashlib.sha256(str(seed).encode()).digest()
    return options[digest[0] % len(options)] if digest[1] % 4 else None  # one in four stays random


def _point_at_real_records(case, world):
    """Swap some well-formed generated ids for real ones (the caller's, and an outsider's that must 404)."""
    resource = case.path.strip("/").split("/")[2]
    generated = case.path_parameters.get("id") if case.path_parameters else None
    if generated is not None and _is_uuid(generated):
        real = _pick(world.ids.get(resource, []), generated)
        if real:
            case.path_parameters["id"] = real
    if isinstance(case.body, dict):
        for name, resource in (("referral", "referrals"), ("patient", "patients")):
            if _is_uuid(case.body.get(name)):
                real = _pick(world.ids[resource], case.body[name])
                if real:
                    case.body[name] = real
        for name in ("care_coordinator", "clinician"):
            if isinstance(case.body.get(name), int) and not isinstance(case.body[name], bool):
                real = _pick(world.staff_ids, case.body[name])
                if real:
                    case.body[name] = real


def _is_uuid(value):
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@pytest.fixture
def wsgi_app():
    """Django's WSGI handler, sharing the test's transaction: the handler must not close the connection
    at the end of each request (Django's own test client disconnects the same signal)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.CRITICAL)  # hundreds of expected 4xx lines would bury a real failure
    yield WSGIHandler()
    request_log.setLevel(level)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def published_schema():
    """The schema drf-spectacular publishes at /api/schema/ (built here, at collection, without a request)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "database": "none"},
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "suppress-health-check": ["all"],
    }
)
schema = schemathesis.openapi.from_dict(published_schema(), config=CONFIG)


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
def test_every_operation_answers_as_documented(case, world, wsgi_app):
    _point_at_real_records(case, world)
    response = case.call_and_validate(app=wsgi_app, headers={"Authorization": f"Token {world.token}"}, checks=CHECKS)
    FUZZ_STATS["cases"] += 1
    FUZZ_STATS["by_status"][response.status_code] = FUZZ_STATS["by_status"].get(response.status_code, 0) + 1
