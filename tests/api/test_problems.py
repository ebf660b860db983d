"""Every API error is a JSON problem document (RFC 9457 style), whatever the cause and wherever it
happens (a view, a middleware, the URL resolver, a server fault); no input makes a 500; API answers
are never cached."""

import json

import pytest
from django.contrib.sessions.models import Session
from django.db.models.signals import post_save
from django.test import Client

from common.models import AuditEvent
from common.sessions import REFRESHED
from referrals.models import Patient
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def assert_problem(response, status):
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"] == "about:blank"
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.fixture
def token_client(pwp):
    from knox.models import AuthToken

    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {AuthToken.objects.create(user=pwp)[1]}"
    return client


def post_json(client, path, body, **extra):
    return client.post(path, json.dumps(body), content_type="application/json", **extra)


# --- each status, from where it arises -----------------------------------------------------------------


def test_400_names_each_field_at_fault(token_client):
    body = assert_problem(post_json(token_client, "/api/v1/patients/", {"given_name": ""}), 400)
    assert body["code"] == "invalid"
    assert {"given_name", "family_name", "date_of_birth"} <= set(body["errors"])
    assert "given_name" in body["detail"] and "family_name" in body["detail"]


def test_400_for_malformed_json(token_client):
    body = assert_problem(token_client.post("/api/v1/patients/", "{", content_type="application/json"), 400)
    assert body["code"] == "parse_error"


def test_401_keeps_its_token_challenge(client):
    response = client.get("/api/v1/me/")
    body = assert_problem(response, 401)
    assert response["WWW-Authenticate"] == "Token"
    assert body["code"] == "not_authenticated"


def test_401_for_a_token_that_is_not_even_text(client):
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION="Token caf\xe9-\xff")
    assert assert_problem(response, 401)["detail"] == "Invalid token."


def test_403_from_a_role_rule(client, manager, referral):
    from stepped_care.models import ReviewFlag

    flag = ReviewFlag.objects.create(
        referral=referral, rule="no_improvement", recommendation="step_up", severity="amber", explanation="x"
    )
    client.force_login(manager)
    assert_problem(post_json(client, f"/api/v1/flags/{flag.pk}/resolve/", {"action": "accept"}), 403)


def test_403_while_a_second_factor_is_owed(client, pwp):
    client.force_login(pwp)
    session = client.session
    session["two_factor"] = "verify"
    session.save()
    assert assert_problem(client.get("/api/v1/me/"), 403)["code"] == "two_factor_required"


def test_404_for_an_unknown_record_and_an_unknown_url(token_client):
    assert_problem(token_client.get("/api/v1/patients/00000000-0000-0000-0000-000000000000/"), 404)
    assert_problem(token_client.get("/api/v1/no-such-thing/"), 404)


def test_405_says_what_is_allowed(token_client):
    response = token_client.delete("/api/v1/patients/")
    assert_problem(response, 405)
    assert "GET" in response["Allow"]


def test_409_for_a_stale_version(token_client, pwp):
    patient = PatientFactory(team=pwp.team)
    Patient.objects.filter(pk=patient.pk).update(version=2)
    response = token_client.patch(
        f"/api/v1/patients/{patient.pk}/", json.dumps({"version": 1, "phone": "01632 960000"}), "application/json"
    )
    assert assert_problem(response, 409)["code"] == "conflict"


def test_413_for_an_over_large_body_before_it_is_read(token_client, settings):
    settings.API_MAX_BODY_BYTES = 10_000
    before = Patient.objects.count()
    big = {"given_name": "Ada", "family_name": "Byron", "date_of_birth": "1990-01-01", "address": "x" * 20_000}
    body = assert_problem(post_json(token_client, "/api/v1/patients/", big), 413)
    assert body["code"] == "request_too_large" and "limit" in body["detail"]
    form = token_client.post("/api/v1/patients/", {"given_name": "y" * 20_000})  # a form body as well
    assert_problem(form, 413)
    assert Patient.objects.count() == before


def test_415_for_a_body_it_does_not_read(token_client):
    response = token_client.post("/api/v1/patients/", "given_name=Ada", content_type="text/plain")
    assert assert_problem(response, 415)["code"] == "unsupported_media_type"


@pytest.mark.axes
def test_429_for_a_locked_sign_in(client, pwp, settings):
    settings.AXES_FAILURE_LIMIT = 1
    post_json(client, "/api/v1/auth/token/", {"username": pwp.username, "password": "wrong-password-1"})
    response = post_json(client, "/api/v1/auth/token/", {"username": pwp.username, "password": "wrong-password-1"})
    assert assert_problem(response, 429)["code"] == "locked_out"


@pytest.mark.urls("tests.api.urls_with_a_fault")
def test_500_is_json_and_says_nothing_of_the_cause(pwp):
    client = Client(raise_request_exception=False)
    client.force_login(pwp)
    body = assert_problem(client.get("/api/v1/broken/"), 500)
    assert "fault on our side" not in json.dumps(body)
    assert client.get("/broken-page-elsewhere/").status_code == 404  # the web keeps its HTML pages


def test_a_session_ended_mid_request_is_a_json_400(client, pwp):
    """Signed out in another tab while a request was running: Django's SessionInterrupted."""
    patient = PatientFactory(team=pwp.team)
    client.force_login(pwp)
    # The session is written at most once a minute (common.sessions): make this request one that
    # writes it, so that Django finds it deleted meanwhile.
    session = client.session
    session[REFRESHED] = 0
    session.save()

    def sign_out_elsewhere(sender, **kwargs):
        Session.objects.all().delete()

    post_save.connect(sign_out_elsewhere, sender=AuditEvent, dispatch_uid="test-sign-out-elsewhere")
    try:
        response = client.get(f"/api/v1/patients/{patient.pk}/")
    finally:
        post_save.disconnect(sender=AuditEvent, dispatch_uid="test-sign-out-elsewhere")
    assert assert_problem(response, 400)["code"] == "session_interrupted"


# --- inputs that used to make a 500 ----------------------------------------------------------------------


def test_deeply_nested_json_is_a_400(token_client):
    for depth in (50, 100_000):
        nested = "[" * depth + "]" * depth
        response = token_client.post("/api/v1/patients/", nested, content_type="application/json")
        assert assert_problem(response, 400)["code"] == "parse_error", depth


def test_options_on_the_api_docs_answers_json(client, pwp):
    client.force_login(pwp)
    response = client.options("/api/docs/")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"


SUPERSCRIPT = "\u00b2\u00b3" * 5  # '²³²³…': str.isdigit() is true for each
FULL_WIDTH = "\uff19\uff14\uff13\uff14\uff17\uff16\uff15\uff19\uff11\uff19"  # ９４３４７６５９１９
ARABIC_INDIC = "\u0669\u0664\u0663\u0664\u0667\u0666\u0665\u0669\u0661\u0669"


@pytest.mark.parametrize("number", [SUPERSCRIPT, FULL_WIDTH, ARABIC_INDIC, "943476591\u2079"])
def test_nhs_numbers_in_other_digits_are_refused_everywhere(token_client, client, pwp, number):
    message = "only the digits 0 to 9"
    new = {"nhs_number": number, "given_name": "Ada", "family_name": "Byron", "date_of_birth": "1990-12-10"}
    created = assert_problem(post_json(token_client, "/api/v1/patients/", new), 400)
    assert message in created["errors"]["nhs_number"][0]

    patient = PatientFactory(team=pwp.team)
    url = f"/api/v1/patients/{patient.pk}/"
    updated = token_client.patch(url, json.dumps({"version": 1, "nhs_number": number}), "application/json")
    assert message in assert_problem(updated, 400)["errors"]["nhs_number"][0]

    searched = assert_problem(post_json(token_client, "/api/v1/patients/search/", {"nhs_number": number}), 400)
    assert message in searched["errors"]["nhs_number"][0]

    client.force_login(pwp)
    page = client.post("/patients/new/", new)
    assert page.status_code == 400
    assert message in " ".join(page.context["form"].errors["nhs_number"])
    assert Patient.objects.filter(given_name="Ada").count() == 0


@pytest.mark.parametrize(
    "path",
    ["/caseload/?step=%C2%B2", "/supervision/sessions/new/?supervisee=%C2%B2", "/waiting-list/?step=%C2%B2"],
)
def test_superscript_digits_in_page_parameters_are_no_500(client, pwp, path):
    client.force_login(pwp)
    assert client.get(path).status_code < 500


# --- not cached ------------------------------------------------------------------------------------------


def test_api_answers_with_patient_data_are_not_cached(token_client, pwp):
    patient = PatientFactory(team=pwp.team)
    for response in (
        token_client.get(f"/api/v1/patients/{patient.pk}/"),
        token_client.get("/api/v1/patients/"),
        post_json(token_client, "/api/v1/patients/search/", {"family_name": patient.family_name}),
        token_client.get("/api/v1/patients/00000000-0000-0000-0000-000000000000/"),
    ):
        assert "no-store" in response["Cache-Control"], response.status_code
        assert "private" in response["Cache-Control"]
