"""Every view that honours ``next`` sends the browser back only to this site: one helper
(``common.redirects.safe_next``, Django's ``url_has_allowed_host_and_scheme``) decides, and it refuses
the shapes a hand-written prefix check lets through."""

import datetime as dt
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from common.redirects import is_safe, safe_next
from stepped_care.models import ReviewFlag
from tests.factories import ReferralFactory
from workshops import services as workshop_services

UNSAFE = ["/\\evil.example", "//evil.example", "https://evil.example/", "javascript:alert(1)", "\\\\evil.example"]
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("target", UNSAFE)
@pytest.mark.parametrize("method", ["get", "post"])
def test_safe_next_refuses_other_sites_and_schemes(target, method):
    request = getattr(RequestFactory(), method)("/somewhere/", {"next": target})
    assert not is_safe(request, target)
    assert safe_next(request, "/fallback/") == "/fallback/"


@pytest.mark.parametrize("target", ["/waiting-list/?page=2", "http://testserver/referrals/"])
def test_safe_next_keeps_this_sites_urls(target):
    request = RequestFactory().post("/x/", {"next": target})
    assert safe_next(request, "/fallback/") == target


def test_safe_next_takes_a_url_name_as_fallback():
    assert safe_next(RequestFactory().get("/x/"), "referrals:waiting_list") == reverse("referrals:waiting_list")


def test_a_plain_http_next_is_refused_on_a_secure_request():
    request = RequestFactory().get("/x/", {"next": "http://testserver/referrals/"}, secure=True)
    assert safe_next(request, "/fallback/") == "/fallback/"


def test_no_view_reads_next_by_hand():
    """Only common/redirects.py reads ``next`` or calls Django's check: every other view goes through it."""
    offenders = []
    for path in REPO.glob("*/*.py"):
        if path.parts[-2] in ("tests", ".venv") or path.name == "redirects.py":
            continue
        text = path.read_text()
        if re.search(r"""\.get\(\s*["']next["']""", text) or "url_has_allowed_host_and_scheme" in text:
            offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


# --- the views --------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("target", UNSAFE)
def test_allocate_refuses_an_unsafe_next(client, pwp, team, target):
    waiting = ReferralFactory(patient__team=team)
    client.force_login(pwp)
    response = client.post(
        reverse("referrals:allocate", kwargs={"pk": waiting.pk}),
        {"clinician": pwp.pk, "version": waiting.version, "next": target},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:waiting_list")


@pytest.mark.django_db
def test_allocate_keeps_a_safe_next(client, pwp, team):
    waiting = ReferralFactory(patient__team=team)
    client.force_login(pwp)
    back = reverse("referrals:waiting_list") + "?sort=-waited&page=2"
    response = client.post(
        reverse("referrals:allocate", kwargs={"pk": waiting.pk}),
        {"clinician": pwp.pk, "version": waiting.version, "next": back},
    )
    assert response["Location"] == back


@pytest.mark.django_db
@pytest.mark.parametrize("target", UNSAFE)
def test_resolving_a_flag_refuses_an_unsafe_next(client, pwp, referral, target):
    flag = ReviewFlag.objects.create(
        referral=referral, rule="review_overdue", recommendation="review", severity="amber"
    )
    client.force_login(pwp)
    url = reverse("resolve_flag", args=[flag.pk])
    assert (
        f'value="{reverse("referrals:detail", args=[referral.pk])}"'
        in client.get(url, {"next": target}).content.decode()
    )
    response = client.post(url, {"action": "dismiss", "reason": "Seen", "next": target})
    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:detail", args=[referral.pk])


@pytest.mark.django_db
@pytest.mark.parametrize("target", UNSAFE)
def test_withdrawing_from_a_group_refuses_an_unsafe_next(client, pwp, team, target):
    first = timezone.localdate()
    course = workshop_services.create_course(
        by=pwp,
        title="Stress control",
        topic="stress",
        step=2,
        facilitators=[pwp],
        capacity=8,
        venue="Library",
        sessions=[(first + dt.timedelta(days=7 * n), dt.time(18, 0)) for n in range(2)],
    )
    enrolment = workshop_services.enrol(
        course=course, referral=ReferralFactory(patient__team=team, care_coordinator=pwp), by=pwp
    )
    client.force_login(pwp)
    response = client.post(
        reverse("workshops:withdraw", args=[enrolment.pk]),
        {"reason": "cannot_attend", "withdrawn_on": first.isoformat(), "note": "", "next": target},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("workshops:course", args=[course.pk])


@pytest.mark.django_db
@pytest.mark.parametrize("target", UNSAFE)
def test_two_factor_verify_refuses_an_unsafe_next(client, pwp, password, target):
    device = TOTPDevice.objects.create(user=pwp, name="Authenticator app", confirmed=True)
    client.post(reverse("login"), {"username": pwp.username, "password": password})
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    response = client.post(reverse("two_factor_verify"), {"code": code, "next": target})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


@pytest.mark.django_db
def test_the_two_factor_middleware_keeps_the_whole_address_in_next(client, pwp, password):
    TOTPDevice.objects.create(user=pwp, name="Authenticator app", confirmed=True)
    client.post(reverse("login"), {"username": pwp.username, "password": password})
    wanted = reverse("referrals:waiting_list") + "?sort=-waited&page=2"
    response = client.get(wanted)
    assert response.status_code == 302
    assert response["Location"] == reverse("two_factor_verify") + "?" + urlencode({"next": wanted})
