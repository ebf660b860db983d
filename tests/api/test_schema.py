"""The OpenAPI schema generates without a warning, documents the errors, and the Swagger UI needs no CDN."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command


def test_schema_validates_with_zero_warnings(tmp_path):
    """``manage.py spectacular --validate --fail-on-warn`` fails on any warning or an invalid schema."""
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert text.startswith("openapi: 3")
    for path in (
        "/api/v1/patients/{id}/:",
        "/api/v1/questionnaires/:",
        "/api/v1/referrals/{id}/outcome/:",
        "/api/v1/referrals/{id}/fhir/:",
    ):
        assert path in text


@pytest.mark.django_db
def test_schema_is_served_to_signed_in_clients_only(api, pwp):
    assert api.get("/api/schema/").status_code in (401, 403)
    api.force_authenticate(pwp)
    response = api.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    patch = schema["paths"]["/api/v1/patients/{id}/"]["patch"]
    assert {"200", "400", "401", "403", "404", "409", "413", "415", "429", "500"} <= set(patch["responses"])
    assert "version" in schema["components"]["schemas"]["PatchedPatientUpdateRequest"]["required"]
    contacts = schema["paths"]["/api/v1/contacts/"]
    assert "409" in contacts["post"]["responses"] and "404" in contacts["get"]["responses"]
    names = {p["name"] for p in contacts["get"]["parameters"]}
    assert {"referral", "attendance", "date_after", "date_before", "ordering", "page"} <= names


@pytest.mark.django_db
def test_swagger_ui_loads_from_our_own_static_files(client, pwp):
    client.force_login(pwp)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sum(url.startswith("/static/") for url in urls) >= 3, urls  # stylesheet, bundle, preset
    for url in urls:
        assert not re.match(r"^(https?:)?//", url), f"{url} is not served by us"
        assert url.startswith(("/static/", "/api/docs/")), url
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), f"{url} is not among our static files"
    assert '"/api/schema/"' in html  # the inline start-up script loads our schema


@pytest.mark.django_db
def test_unknown_api_url_answers_json_404(api, pwp):
    api.force_authenticate(pwp)
    response = api.get("/api/v1/referrals/a%2Fb/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Not found.",
        "code": "not_found",
    }
