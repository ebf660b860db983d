"""An anonymous API client is told how to authenticate (401 with a Token challenge), not just refused."""

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_anonymous_api_request_gets_401_with_a_token_challenge(api):
    response = api.get(reverse("api-me"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
