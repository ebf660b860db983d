"""The access matrix: every URL pattern of the project (HTML, API router routes, admin), found by
walking the resolver, tried by seven personas with every method its view declares.

Parameters are filled with real records of the right kind (tests/security/conftest.py); what each
persona should get comes from tests/security/matrix.py, where a new URL must be classified. Along the
way: each allowed view of a patient's record must be audited, and every HTML page must be free of
inline script that the content security policy would block.
"""

import os
import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from common.models import AuditEvent

from . import matrix
from .conftest import PERSONAS
from .urlmap import endpoints

ENDPOINTS = endpoints()
SITE = [e for e in ENDPOINTS if not e.is_admin]
ADMIN = [e for e in ENDPOINTS if e.is_admin]
SHOW = os.environ.get("MATRIX_SHOW") == "1"  # print what each persona got, to help classify a new URL
TALLY = matrix.TALLY

PROCESSED = {200, 201, 202, 204, 301, 302, 303, 400, 409, 422}
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*\bnonce=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.I)


def _login_url():
    return reverse(settings.LOGIN_URL)


def _is_redirect_to(response, prefix):
    return response.status_code in (301, 302, 303) and response.get("Location", "").startswith(prefix)


def _value(scenario, kind):
    if kind.startswith("="):
        return kind[1:]
    return getattr(scenario, kind)


def _path(endpoint, scenario):
    values = {}
    for param in endpoint.params:
        kind = matrix.kind_of(endpoint, param)
        if kind is None:
            pytest.fail(
                f"The access matrix cannot tell what fills <{param}> in {endpoint.id}. Add it to PARAMS in "
                "tests/security/matrix.py (and, for a new kind of record, a builder in tests/security/conftest.py)."
            )
        values[param] = _value(scenario, kind)
    return endpoint.build(values)


def _send(client, method, path, endpoint):
    TALLY["requests"] += 1
    if method == "GET":
        return client.get(path)
    if endpoint.is_api:
        return client.generic(method, path, "{}", content_type="application/json")
    return client.generic(method, path, "", content_type="application/x-www-form-urlencoded")


def _problem(endpoint, category, persona, method, response):
    """Why this response breaks the policy, or None."""
    expected = category.expected(persona, method)
    status = response.status_code
    location = f" → {response['Location']}" if response.has_header("Location") else ""
    said = f"{persona} {method} got {status}{location}"
    if status >= 500:
        return f"{said}: server error"
    if expected == matrix.ANY:
        return None
    if expected == matrix.ADMIN_LOGIN:  # to the admin's sign-in (or the site's, for anonymous): no content
        if _is_redirect_to(response, reverse("admin:index")) or _is_redirect_to(response, _login_url()):
            return None
        return f"{said}, expected a redirect to sign in"
    if status == 405:
        return None  # method not allowed is decided before any lookup or content: it reveals nothing
    if expected == matrix.LOGIN:
        if status in (401, 403) or (not endpoint.is_api and _is_redirect_to(response, _login_url())):
            return None
        return f"{said}, expected {'401 or 403' if endpoint.is_api else 'a redirect to sign in'}"
    if expected == matrix.NOT_FOUND:
        return None if status == 404 else f"{said}, expected 404 (records of others do not exist for them)"
    if expected == matrix.DENIED:
        return None if status in (403, 404) else f"{said}, expected 403 or 404"
    if _is_redirect_to(response, _login_url()):
        return f"{said}: sent to sign in although allowed"
    if expected == matrix.SEES:
        return None if status not in (401, 404) else f"{said}, expected them to see the record (a role may refuse: 403)"
    # ALLOW
    if method == "GET":
        if status == 200 or (category.redirect_ok and status in (301, 302, 303)):
            return None
        return f"{said}, expected 200"
    return None if status in PROCESSED else f"{said}, expected the request to be processed (2xx/3xx/400/409)"


def _html_problems(response):
    if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
        return []
    if getattr(response, "streaming", False):
        return []
    body = response.content.decode(errors="replace")
    found = []
    for pattern, what in (
        (INLINE_SCRIPT, "inline <script> without the CSP nonce"),
        (INLINE_HANDLER, "inline event handler attribute (onclick= ...)"),
        (JAVASCRIPT_URL, "javascript: URL"),
    ):
        match = pattern.search(body)
        if match:
            found.append(f"{what}: {match.group(0)[:80]}")
    return found


def _audit_mark(user, scenario):
    return AuditEvent.objects.filter(actor=user, patient_id=scenario.patient.pk, action__endswith=".view").count()


def _category(endpoint):
    category = matrix.category_of(endpoint)
    if category is None:
        pytest.fail(
            f"{endpoint.id} is not in the access matrix. Add its URL name to CLASSIFICATION in "
            "tests/security/matrix.py with the category that says who may use it (case-record, "
            "case-action, group, management, signed-in, public), or give the pattern a name first."
        )
    return category


def _clients(scenario):
    clients = {}
    for persona in PERSONAS:
        clients[persona] = Client()
        if scenario.users[persona] is not None:
            clients[persona].force_login(scenario.users[persona])
    return clients


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", SITE, ids=[e.id for e in SITE])
def test_access_matrix(endpoint, scenario):
    category = _category(endpoint)
    TALLY["patterns"] += 1
    path = _path(endpoint, scenario)
    clients = _clients(scenario)
    problems, audit_gaps, seen = [], [], []
    for persona in PERSONAS:
        user = scenario.users[persona]
        client = clients[persona]
        for method in endpoint.methods():
            if user is not None and "_auth_user_id" not in client.session:
                client.force_login(user)  # once per persona, again only after signing out
            audited_before = _audit_mark(user, scenario) if user and category.audit and method == "GET" else None
            response = _send(client, method, path, endpoint)
            seen.append(f"{persona:13} {method:6} {response.status_code} {response.get('Location', '')}")
            problem = _problem(endpoint, category, persona, method, response)
            if problem:
                problems.append(problem)
                continue
            if (
                audited_before is not None
                and response.status_code == 200
                and _audit_mark(user, scenario) <= audited_before
            ):
                audit_gaps.append(
                    f"{persona} viewed a patient's record at {path} and no audit event was recorded: "
                    "call common.audit.record_view(request, obj) in the view"
                )
            problems += [f"{persona} {method} {path}: {p}" for p in _html_problems(response)]
    if SHOW:
        print(f"\n{endpoint.id} [{category.name}] {path}\n  " + "\n  ".join(seen))
    assert not problems, f"{endpoint.id} ({category.name}) at {path}:\n  " + "\n  ".join(problems)
    assert not audit_gaps, f"{endpoint.id} at {path}:\n  " + "\n  ".join(audit_gaps)


@pytest.mark.django_db
def test_admin_routes_refuse_every_persona(scenario):
    """No persona is Django staff: every admin route (named or not) sends each of them to sign in.
    They share one guard (AdminSite.admin_view), so one world and one sign-in per persona serve all."""
    clients = _clients(scenario)
    problems = []
    for endpoint in ADMIN:
        category = _category(endpoint)
        TALLY["patterns"] += 1
        path = _path(endpoint, scenario)
        for persona in PERSONAS:
            client = clients[persona]
            user = scenario.users[persona]
            if user is not None and "_auth_user_id" not in client.session:
                client.force_login(user)
            response = _send(client, "GET", path, endpoint)
            problem = _problem(endpoint, category, persona, "GET", response)
            if problem:
                problems.append(f"{endpoint.id}: {problem}")
    assert not problems, "\n".join(problems)


def test_the_matrix_covers_every_url_pattern():
    """The walk finds the project's own pages, the API router's routes and the admin."""
    names = {e.name for e in ENDPOINTS}
    assert {"login", "referral-detail", "patient-detail", "api-root", "admin:index", "referrals:detail"} <= names
    assert len(ENDPOINTS) > 100
