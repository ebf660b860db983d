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


# --- beyond the schema: hostile inputs an outside tester sends ------------------------------------------
#
# Schemathesis keeps to the schema's types. These go further, to every write operation it publishes:
# other scripts' digits where digits belong (an NHS number in superscripts), control and invisible
# characters, broken surrogates, huge numbers, deeply nested JSON, over-large and undecodable bodies,
# hostile Idempotency-Keys, and OPTIONS everywhere. No answer may be a server error, and every error must
# be a JSON problem document.

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

PROBLEM = "application/problem+json"
UNICODE_DIGITS = "\u00b2\u00b3\u00b9\u2070\u2074\u2079\u0660\u0669\u06f5\u0966\u09e7\uff10\uff19\U0001d7d8"

hostile_text = st.one_of(
    st.text(alphabet=UNICODE_DIGITS, min_size=1, max_size=12),  # '²³…' (str.isdigit() is true)
    st.builds(
        lambda a, b: a + b, st.sampled_from(["943476591", "943 476 ", "2024-01-"]), st.text(UNICODE_DIGITS, max_size=3)
    ),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Mn"]), min_size=1, max_size=20),
    st.sampled_from(["\u200b", "\x1b[2J\x1b[H", "\ud800", "A\u202eB", "\x00", "0001-01-01", "1900-02-29", "-1"]),
    st.text(max_size=30),
)


def nested(depth):
    value = []
    for _ in range(depth):
        value = [value]
    return value


hostile_value = st.one_of(
    hostile_text,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.booleans(),
    st.lists(hostile_text, max_size=3),
    st.builds(nested, st.integers(min_value=1, max_value=60)),
    st.dictionaries(hostile_text, hostile_text, max_size=2),
)


def _write_operations():
    schema = published_schema()
    operations = []
    for path, item in schema["paths"].items():
        for method in ("post", "patch", "put"):
            operation = item.get(method)
            if operation is None:
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            ref = body.get("$ref", "")
            properties = (
                schema["components"]["schemas"].get(ref.split("/")[-1], {}).get("properties", {}) if ref else {}
            )
            operations.append((method, path, sorted(properties) or ["value"]))
    return operations


WRITES = _write_operations()


def _real_path(path, world):
    resource = path.strip("/").split("/")[2]
    mine = world.ids.get(resource, [str(uuid.uuid4())])[0]
    return path.replace("{id}", mine)


def _assert_no_fault(response, what):
    assert response.status_code < 500, (what, response.status_code, response.content[:300])
    if response.status_code >= 400:
        assert response["Content-Type"] == PROBLEM, (what, response.status_code, response["Content-Type"])
        body = response.json()
        assert body["status"] == response.status_code and body["title"] and body["detail"], body


@pytest.fixture
def token_api(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {world.token}")
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "fields"), WRITES, ids=[f"{m.upper()} {p}" for m, p, _ in WRITES])
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@given(data=st.data())
def test_hostile_values_in_every_field_are_refused_not_a_500(method, path, fields, world, token_api, data):
    body = {field: data.draw(hostile_value, label=field) for field in fields if data.draw(st.booleans())}
    if "version" in fields and data.draw(st.booleans()):
        body["version"] = 1
    key = data.draw(st.one_of(st.none(), st.uuids().map(str), st.sampled_from(["", " ", "x" * 300, "k\u00e9y"])))
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key.encode("utf-8").decode("latin-1")}
    text = json.dumps(body, allow_nan=True)
    response = getattr(token_api, method)(_real_path(path, world), text, content_type="application/json", **headers)
    _assert_no_fault(response, (method, path, text[:200]))


RAW_BODIES = {
    "nested 100 000 deep": ("[" * 100_000 + "]" * 100_000).encode(),
    "nested objects 5 000 deep": ('{"a":' * 5_000 + "1" + "}" * 5_000).encode(),
    "not UTF-8": b'{"given_name": "\xff\xfe"}',
    "not JSON": b"{'given_name': Ada",
    "a bare string": b'"hello"',
    "a huge number": b'{"version": 1' + b"0" * 5_000 + b"}",
    "2 MB of notes": json.dumps({"notes": "x" * 2_000_000}).encode(),
}


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "fields"), WRITES, ids=[f"{m.upper()} {p}" for m, p, _ in WRITES])
def test_hostile_bodies_and_content_types_are_refused_not_a_500(method, path, fields, world, token_api):
    url = _real_path(path, world)
    for name, raw in RAW_BODIES.items():
        response = token_api.generic(method.upper(), url, raw, content_type="application/json")
        _assert_no_fault(response, (method, path, name))
    for content_type in ("text/plain", "application/xml", "multipart/form-data; boundary=x"):
        response = token_api.generic(method.upper(), url, b"--x\r\n", content_type=content_type)
        _assert_no_fault(response, (method, path, content_type))


def test_options_on_every_api_path_answers_json(world, token_api):
    paths = [_real_path(p, world) for p in published_schema()["paths"]] + ["/api/docs/", "/api/schema/", "/api/v1/"]
    for path in paths:
        response = token_api.options(path)
        _assert_no_fault(response, ("OPTIONS", path))
        assert "json" in response["Content-Type"], (path, response["Content-Type"])
