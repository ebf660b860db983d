"""The access matrix: every URL pattern of the project (HTML, API router routes, admin), found by
walking the resolver, tried by every persona (a role each, and an outsider) with every method its view
declares.

Parameters are filled with real records of the right kind (tests/security/conftest.py); what each
persona should get comes from tests/security/matrix.py, where a new URL must be classified. Every
write is sent with a valid body (tests/security/bodies.py), so the matrix proves both halves of the
rulebook through both doors: whoever may, does (the write's audit event is there), and whoever may not
is refused (403 with the page or JSON saying who may, or 404 for a record they cannot see) and leaves
nothing behind. Each attempt runs in a savepoint rolled back afterwards, so every persona meets the
same world. Along the way: each allowed view of a patient's record must be audited, and every HTML
page must be free of inline script that the content security policy would block.
"""

import json
import os
import re

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse

from common.models import AuditEvent

from . import matrix
from .bodies import BODIES
from .conftest import PERSONAS
from .urlmap import WRITE_METHODS, endpoints

ENDPOINTS = endpoints()
SITE = [e for e in ENDPOINTS if not e.is_admin]
ADMIN = [e for e in ENDPOINTS if e.is_admin]
SHOW = os.environ.get("MATRIX_SHOW") == "1"  # print what each persona got, to help classify a new URL
TALLY = matrix.TALLY

PROCESSED = {200, 201, 202, 204, 301, 302, 303, 400, 409, 422}
DONE = {200, 201, 204, 302, 303}
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


def _send(client, method, path, endpoint, data=None):
    TALLY["requests"] += 1
    if method == "GET":
        return client.get(path)
    if endpoint.is_api:
        return client.generic(method, path, json.dumps(data or {}), content_type="application/json")
    if method == "POST":
        return client.post(path, data or {})
    return client.generic(method, path, "", content_type="application/x-www-form-urlencoded")


def _last_event():
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _changes_since(last):
    """The audit events recorded after ``last`` that record a change (every write service leaves one):
    views and audit searches do not count."""
    return list(
        AuditEvent.objects.filter(pk__gt=last)
        .exclude(action__endswith=".view")
        .exclude(action__startswith="audit.")
        .values_list("action", "actor_id")
    )


def _said(persona, method, response):
    location = f" → {response['Location']}" if response.has_header("Location") else ""
    return f"{persona} {method} got {response.status_code}{location}"


def _refusal_problem(endpoint, response, said):
    """A 403 must say who may: the app's page for people, JSON for the API."""
    if endpoint.is_api:
        is_json = "json" in response.get("Content-Type", "")  # application/json or application/problem+json
        return None if is_json and response.json().get("detail") else f"{said}: a 403 without a JSON detail"
    body = response.content.decode(errors="replace")
    if "Go to your start page" not in body or "may" not in body:
        return f"{said}: a bare 403, not the app's page saying who may"
    return None


def _problem(endpoint, category, persona, method, response):
    """Why this response breaks the policy for a read (or a write without a body), or None."""
    expected = category.expected(persona, method)
    status = response.status_code
    said = _said(persona, method, response)
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
    if expected == matrix.NOT_FOUND or isinstance(expected, matrix.Hidden):
        return None if status == 404 else f"{said}, expected 404 (records of others do not exist for them)"
    if expected == matrix.FORBIDDEN:
        return _refusal_problem(endpoint, response, said) if status == 403 else f"{said}, expected 403"
    if _is_redirect_to(response, _login_url()):
        return f"{said}: sent to sign in although allowed"
    if expected == matrix.PROCESSED or method != "GET":
        return None if status in PROCESSED else f"{said}, expected the request to be processed (2xx/3xx/400/409)"
    # ALLOW, GET
    if status == 200 or (category.redirect_ok and status in (301, 302, 303)):
        return None
    return f"{said}, expected 200"


def _write_problem(endpoint, category, persona, method, response, wrote, done):
    """Why this answer to a valid write breaks the policy, or None. ``wrote``: change events recorded
    during the request; ``done``: the write's own audit event by this persona among them."""
    expected = category.expected(persona, method)
    status = response.status_code
    said = _said(persona, method, response)
    if status >= 500:
        return f"{said}: server error"
    if expected == matrix.ALLOW:
        if status in DONE and done:
            TALLY["allowed"] += 1
            return None
        detail = response.content.decode(errors="replace")[:300] if status == 400 else ""
        return f"{said}, expected the write to be done (and audited) {detail}"
    if wrote:
        return f"{said}: expected {expected}, but the write went through ({wrote} change(s) recorded)"
    TALLY["refused"] += 1
    if expected == matrix.LOGIN:
        TALLY["sign_in"] += 1
        if status in (401, 403) or (not endpoint.is_api and _is_redirect_to(response, _login_url())):
            return None
        return f"{said}, expected to be sent to sign in"
    if expected == matrix.FORBIDDEN:
        TALLY["forbidden"] += 1
        return _refusal_problem(endpoint, response, said) if status == 403 else f"{said}, expected 403"
    if expected == matrix.NOT_FOUND:
        TALLY["not_found"] += 1
        return None if status == 404 else f"{said}, expected 404 (records of others do not exist for them)"
    if isinstance(expected, matrix.Hidden):
        TALLY["hidden"] += 1
        named = status == 400 and expected.field in response.json().get("errors", {})  # a problem document
        return None if status == 404 or named else f"{said}, expected 404 or 400 naming {expected.field!r}"
    return f"{said}: no expectation {expected!r} for a write"


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
            "clinical-act, management, signed-in, public ...), or give the pattern a name first."
        )
    return category


_CLIENT = Client()  # one test client for the module: each new one loads the middleware (and scans static files)


class Doors:
    """One signed-in session per persona, on one test client: ``as_(persona)`` puts that persona's
    session cookie on it (or none, for anonymous) before a request."""

    def __init__(self, scenario):
        self.client = _CLIENT
        self.client.cookies.clear()
        self.scenario = scenario
        self.sessions = {}
        for persona in PERSONAS:
            if scenario.users[persona] is not None:
                self.sign_in(persona)

    def sign_in(self, persona):
        self.client.cookies.clear()
        self.client.force_login(self.scenario.users[persona])
        self.sessions[persona] = self.client.cookies[settings.SESSION_COOKIE_NAME].value

    def as_(self, persona):
        self.client.cookies.clear()
        if persona in self.sessions:
            self.client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[persona]
            if "_auth_user_id" not in self.client.session:  # signed out by the request before
                self.sign_in(persona)
        return self.client


def _body_for(endpoint, method):
    """The valid body this write is tried with, None for a write that changes no record; fails for a
    write nobody has given a body yet."""
    if method not in WRITE_METHODS:
        return None
    if endpoint.name in matrix.NOT_RECORD_WRITES:
        return None
    spec = BODIES.get(endpoint.name)
    if spec is not None and method in spec.methods:
        return spec
    return "405"  # no body: the method must be refused to everyone (405)


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", SITE, ids=[e.id for e in SITE])
def test_access_matrix(endpoint, scenario):
    category = _category(endpoint)
    TALLY["patterns"] += 1
    path = _path(endpoint, scenario)
    doors = Doors(scenario)
    problems, audit_gaps, seen = [], [], []
    for persona in PERSONAS:
        user = scenario.users[persona]
        for method in endpoint.methods():
            client = doors.as_(persona)
            spec = _body_for(endpoint, method)
            data = spec.data(scenario, user) if spec not in (None, "405") else None  # built outside the savepoint
            url = path + (spec.query if spec not in (None, "405") else "")
            with transaction.atomic():
                audited_before = _audit_mark(user, scenario) if user and category.audit and method == "GET" else None
                last = _last_event()
                response = _send(client, method, url, endpoint, data)
                changes = _changes_since(last)
                wrote = len(changes)
                seen.append(f"{persona:13} {method:6} {response.status_code} {response.get('Location', '')}")
                if spec == "405":
                    sent_away = user is None and _problem(endpoint, category, persona, method, response) is None
                    problem = None
                    if response.status_code != 405 and not sent_away:
                        problem = (
                            f"{_said(persona, method, response)}: {method} {endpoint.id} is a write without a body in "
                            "tests/security/bodies.py (add one, so the matrix tries it for every persona); or list "
                            "it in NOT_RECORD_WRITES if it changes no record"
                        )
                elif spec is not None:
                    TALLY["writes"] += 1
                    done = user is not None and (spec.audit, user.pk) in changes
                    problem = _write_problem(endpoint, category, persona, method, response, wrote, done)
                else:
                    problem = _problem(endpoint, category, persona, method, response)
                gap = (
                    audited_before is not None
                    and response.status_code == 200
                    and _audit_mark(user, scenario) <= audited_before
                )
                transaction.set_rollback(True)
            if problem:
                problems.append(problem)
                continue
            if gap:
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
def test_admin_routes_refuse_every_persona_but_the_superuser(scenario, client):
    """No persona but the superuser is Django staff: every admin route (named or not) sends each of them
    to sign in. They share one guard (AdminSite.admin_view), so one world and one sign-in per persona
    serve all. The superuser configures the system there: the admin opens for them."""
    client.force_login(scenario.users["superuser"])
    assert client.get(reverse("admin:index")).status_code == 200
    doors = Doors(scenario)
    problems = []
    for endpoint in ADMIN:
        category = _category(endpoint)
        TALLY["patterns"] += 1
        path = _path(endpoint, scenario)
        for persona in PERSONAS:
            if persona == "superuser":
                continue  # placeholder ids in the admin's own views are not a policy question
            client = doors.as_(persona)
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


def test_every_write_body_belongs_to_a_route():
    """A body for a route that no longer exists would hide that its replacement is untested."""
    names = {e.name for e in ENDPOINTS}
    assert set(BODIES) <= names, sorted(set(BODIES) - names)
