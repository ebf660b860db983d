"""A newcomer sees the app's own pages for "not found", "not allowed" and an expired form, inside the
app's layout (navigation, sign out), never Django's bare "Not Found" or "403 Forbidden"."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db


def test_an_unknown_address_is_the_apps_404(client, pwp):
    client.force_login(pwp)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html and "Sign out" in html and "My caseload" in html


def test_another_teams_record_is_the_same_404(client, pwp, outsider):
    theirs = ReferralFactory(patient__team=outsider.team, care_coordinator=outsider)
    client.force_login(pwp)
    response = client.get(reverse("referrals:detail", args=[theirs.pk]))
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_a_refused_action_is_the_apps_403_with_the_reason(client, manager, referral):
    client.force_login(manager)
    response = client.get(reverse("referrals:log_session", args=[referral.pk]))
    assert response.status_code == 403
    html = response.content.decode()
    assert "You cannot record a session or an assessment here" in html
    assert "Only <strong>clinicians on the case</strong> may record a session or an assessment." in html
    assert "Sign out" in html


def test_an_expired_form_is_explained(pwp):
    client = Client(enforce_csrf_checks=True)
    client.force_login(pwp)
    response = client.post(reverse("referrals:caseload"), {"q": "x"})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()


def test_signed_out_visitors_get_the_404_page_without_navigation(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode() and "Sign out" not in response.content.decode()
