"""Authentication hardening as configured: argon2, password rules, 30-minute idle expiry, CSP, lockout."""

import importlib
import re

import pytest
from django.urls import reverse

from tests.settings_probe import loaded_settings


def production_settings(**env):
    """The settings module as production loads it (DEBUG off, no overrides from the test run)."""
    names = [
        "PASSWORD_HASHERS",
        "AUTH_PASSWORD_VALIDATORS",
        "SESSION_COOKIE_AGE",
        "SESSION_SAVE_EVERY_REQUEST",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_SSL_REDIRECT",
        "AXES_FAILURE_LIMIT",
        "AXES_ENABLED",
        "MIDDLEWARE",
    ]
    expression = "{k: getattr(s, k) for k in %r}" % names  # noqa: UP031 - a literal list in generated code
    return loaded_settings(expression, env=env, drop=("DEBUG", "SECURE_SSL_REDIRECT", "AXES_ENABLED"))


@pytest.fixture(scope="module")
def prod():
    return production_settings()


def test_passwords_are_hashed_with_argon2(prod):
    assert prod["PASSWORD_HASHERS"][0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    importlib.import_module("argon2")  # the hasher's library is installed


def test_password_validators_include_length_similarity_common_and_numeric(prod):
    names = {v["NAME"].rsplit(".", 1)[1] for v in prod["AUTH_PASSWORD_VALIDATORS"]}
    assert names >= {
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    }


def test_sessions_expire_after_30_idle_minutes(prod):
    assert prod["SESSION_COOKIE_AGE"] == 30 * 60
    # idle time, not time since sign-in: the expiry is moved on at most once a minute by the middleware
    # right inside SessionMiddleware (tests/security/test_idle_sign_out.py), not on every request
    assert prod["SESSION_SAVE_EVERY_REQUEST"] is False
    at = prod["MIDDLEWARE"].index("django.contrib.sessions.middleware.SessionMiddleware")
    assert prod["MIDDLEWARE"][at + 1] == "common.sessions.IdleRefreshMiddleware"


def test_production_uses_secure_cookies_hsts_and_https(prod):
    assert prod["SESSION_COOKIE_SECURE"] and prod["CSRF_COOKIE_SECURE"] and prod["SECURE_SSL_REDIRECT"]
    assert prod["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600


def test_lockout_and_two_factor_and_csp_are_wired_in(prod):
    assert prod["AXES_ENABLED"] is True
    assert prod["AXES_FAILURE_LIMIT"] <= 10
    middleware = prod["MIDDLEWARE"]
    for name in (
        "csp.middleware.CSPMiddleware",
        "django_otp.middleware.OTPMiddleware",
        "common.two_factor.TwoFactorMiddleware",
        "axes.middleware.AxesMiddleware",
    ):
        assert name in middleware
    assert middleware.index("django_otp.middleware.OTPMiddleware") > middleware.index(
        "django.contrib.auth.middleware.AuthenticationMiddleware"
    )


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get(reverse("login"))
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip())
    assert policy["default-src"] == "'self'"
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_inline_code_runs_only_with_the_per_request_nonce(client, pwp):
    """The API docs page has inline script and style: each carries the nonce that the header names."""
    client.force_login(pwp)
    docs = client.get(reverse("api-docs"))
    assert docs.status_code == 200
    nonces = set(re.findall(r'nonce="([^"]+)"', docs.content.decode()))
    assert len(nonces) == 1
    assert f"'nonce-{nonces.pop()}'" in docs["Content-Security-Policy"]
    assert "'nonce-" not in client.get(reverse("login"))["Content-Security-Policy"]
