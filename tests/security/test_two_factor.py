"""Two-factor sign-in (TOTP): optional for anyone, required for managers and administrators when
their team turns it on; the API token endpoint asks for the code too."""

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from common.models import AuditEvent

pytestmark = pytest.mark.django_db


def code_for(device):
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def confirmed_device(user):
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def sign_in(client, user, password):
    return client.post(reverse("login"), {"username": user.username, "password": password})


def test_two_factor_is_optional_and_off_by_default(client, pwp, password):
    sign_in(client, pwp, password)
    assert client.get(reverse("two_factor_setup")).status_code == 200


def test_a_clinician_turns_it_on_by_confirming_a_code_from_the_app(client, pwp):
    client.force_login(pwp)
    page = client.get(reverse("two_factor_setup"))
    assert page.status_code == 200
    assert b"data:image/svg+xml" in page.content  # the QR code, inline, no third-party service
    device = TOTPDevice.objects.get(user=pwp, confirmed=False)

    wrong = client.post(reverse("two_factor_setup"), {"action": "enable", "code": "000000"})
    assert "does not match" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=pwp, confirmed=True).exists()
    device.refresh_from_db()
    device.throttle_reset()

    done = client.post(reverse("two_factor_setup"), {"action": "enable", "code": code_for(device)})
    assert done.status_code == 302
    assert TOTPDevice.objects.filter(user=pwp, confirmed=True).count() == 1
    assert AuditEvent.objects.filter(actor=pwp, action="auth.two_factor_enabled").exists()


def test_once_on_every_sign_in_asks_for_the_code_before_any_page(client, pwp, password):
    device = confirmed_device(pwp)
    response = sign_in(client, pwp, password)
    assert response.status_code == 302
    caseload = reverse("two_factor_setup")  # any page: this one is ours
    blocked = client.get(caseload)
    assert blocked.status_code == 302
    assert blocked["Location"].startswith(reverse("two_factor_verify"))
    assert client.get(reverse("api-me")).status_code == 403  # the API with the session cookie too

    wrong = client.post(reverse("two_factor_verify"), {"code": "123456", "next": caseload})
    assert wrong.status_code == 200
    assert "wrong or has expired" in wrong.content.decode()
    assert client.get(caseload).status_code == 302

    device.refresh_from_db()
    device.throttle_reset()  # the wrong code above started django-otp's back-off
    verified = client.post(reverse("two_factor_verify"), {"code": code_for(device), "next": caseload})
    assert verified.status_code == 302
    assert verified["Location"] == caseload
    assert client.get(caseload).status_code == 200
    assert AuditEvent.objects.filter(actor=pwp, action="auth.two_factor_verified").exists()
    assert AuditEvent.objects.filter(actor=pwp, action="auth.two_factor_failed").exists()


def test_verify_refuses_to_redirect_off_site(client, pwp, password):
    device = confirmed_device(pwp)
    sign_in(client, pwp, password)
    response = client.post(reverse("two_factor_verify"), {"code": code_for(device), "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")


def test_wrong_codes_are_throttled(client, pwp, password):
    device = confirmed_device(pwp)
    sign_in(client, pwp, password)
    client.post(reverse("two_factor_verify"), {"code": "111111"})
    response = client.post(reverse("two_factor_verify"), {"code": code_for(device)})
    assert response.status_code == 200  # inside the back-off window even the right code waits
    assert client.get(reverse("two_factor_setup")).status_code == 302


def test_a_team_requirement_sends_managers_to_set_it_up_first(client, manager, password):
    manager.team.require_two_factor = True
    manager.team.save()
    sign_in(client, manager, password)
    response = client.get(reverse("audit"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor_setup"))
    page = client.get(reverse("two_factor_setup"))
    assert "requires two-factor sign-in" in page.content.decode()
    device = TOTPDevice.objects.get(user=manager, confirmed=False)
    client.post(reverse("two_factor_setup"), {"action": "enable", "code": code_for(device)})
    assert client.get(reverse("audit")).status_code == 200


def test_the_team_requirement_does_not_apply_to_clinicians(client, pwp, password):
    pwp.team.require_two_factor = True
    pwp.team.save()
    sign_in(client, pwp, password)
    assert client.get(reverse("two_factor_setup")).status_code == 200


def test_required_two_factor_cannot_be_turned_off(client, administrator):
    administrator.team.require_two_factor = True
    administrator.team.save()
    device = confirmed_device(administrator)
    client.force_login(administrator)
    client.post(reverse("two_factor_verify"), {"code": code_for(device)})
    client.post(reverse("two_factor_setup"), {"action": "disable", "code": code_for(device)})
    assert TOTPDevice.objects.filter(user=administrator, confirmed=True).exists()


def test_optional_two_factor_can_be_turned_off_with_a_current_code(client, pwp):
    device = confirmed_device(pwp)
    client.force_login(pwp)
    client.post(reverse("two_factor_verify"), {"code": code_for(device)})
    device.refresh_from_db()
    device.last_t = -1  # the same code may not be used twice; pretend a new time step
    device.save()
    response = client.post(reverse("two_factor_setup"), {"action": "disable", "code": code_for(device)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=pwp).exists()
    assert AuditEvent.objects.filter(actor=pwp, action="auth.two_factor_disabled").exists()


def token(client, user, password, **extra):
    return client.post(
        reverse("api-token"),
        {"username": user.username, "password": password, **extra},
        content_type="application/json",
    )


def test_the_api_token_needs_the_code_when_two_factor_is_on(client, pwp, password):
    device = confirmed_device(pwp)
    missing = token(client, pwp, password)
    assert missing.status_code == 400
    assert "otp_token" in missing.json()["errors"]
    wrong = token(client, pwp, password, otp_token="000000")
    assert wrong.status_code == 400
    device.refresh_from_db()
    device.throttle_reset()
    ok = token(client, pwp, password, otp_token=code_for(device))
    assert ok.status_code == 200
    assert ok.json()["token"]


def test_the_api_token_is_refused_until_a_required_second_factor_is_set_up(client, manager, password):
    manager.team.require_two_factor = True
    manager.team.save()
    response = token(client, manager, password)
    assert response.status_code == 403
    assert response.json()["code"] == "two_factor_setup_required"


def test_without_two_factor_the_token_needs_only_the_password(client, pwp, password):
    response = token(client, pwp, password)
    assert response.status_code == 200
    assert set(response.json()) == {"token", "expiry"}
