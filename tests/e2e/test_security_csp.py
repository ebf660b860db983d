"""The content security policy in a real browser: the pages people use run with no violation (no
inline script, no blocked style or image), and two-factor sign-in works end to end."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from referrals import services
from stepped_care.models import ReviewFlag


def watch(page):
    """Collect what the browser refused because of the policy, and script errors."""
    problems = []
    page.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type in ("error", "warning") and "Content Security Policy" in msg.text
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    return problems


@pytest.fixture
def case(pwp):
    referral = services.create_referral(
        by=pwp,
        patient=services.create_patient(
            by=pwp, given_name="Casey", family_name="Browser", date_of_birth=dt.date(1988, 5, 5)
        ),
        received_on=timezone.localdate() - dt.timedelta(days=60),
        source="gp",
        presenting_problem="depression",
        care_coordinator=pwp,
    )
    for days, phq, gad, kind in ((50, 16, 14, "01"), (35, 12, 10, "02"), (20, 8, 7, "02")):
        services.log_contact(
            referral=referral,
            by=pwp,
            date=timezone.localdate() - dt.timedelta(days=days),
            appointment_type=kind,
            attendance="5",
            phq9=[2] * (phq // 2) + [0] * (9 - phq // 2),
            gad7=[2] * (gad // 2) + [0] * (7 - gad // 2),
        )
    ReviewFlag.objects.create(
        referral=referral, rule="long_wait", recommendation="review", severity="amber", explanation="Waiting"
    )
    return referral


@pytest.mark.django_db(transaction=True)
def test_clinician_pages_run_without_policy_violations(page, sign_in, pwp, case, screenshot, audit):
    problems = watch(page)
    sign_in(pwp)
    for path in (
        reverse("home"),
        reverse("referrals:caseload"),
        reverse("referrals:waiting_list"),
        reverse("referrals:detail", args=[case.pk]),
        reverse("referrals:log_session", args=[case.pk]),
        reverse("workshops:list"),
        reverse("supervision:index"),
        reverse("two_factor_setup"),
        reverse("api-docs"),
    ):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert page.url.endswith(path) or path == reverse("home"), page.url
    page.goto(reverse("api-docs"))
    page.wait_for_selector(".swagger-ui .info", timeout=15000)  # the docs' script ran under the policy
    audit.check()  # the API docs as Swagger UI drew them after the page loaded
    assert not problems, "\n".join(problems)


@pytest.mark.django_db(transaction=True)
def test_manager_pages_run_without_policy_violations(page, sign_in, manager, case, screenshot):
    problems = watch(page)
    sign_in(manager)
    for path in (reverse("dashboard:index"), reverse("audit"), reverse("supervision:compliance")):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    page.goto(reverse("audit"))
    page.get_by_label("Patient name or NHS number").fill("Casey Browser")
    page.get_by_role("button", name="Find patient").click()
    page.wait_for_load_state()
    assert "BROWSER, Casey" in page.content()
    assert "Casey" not in page.url and "Browser" not in page.url
    screenshot("audit-trail")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db(transaction=True)
def test_two_factor_sign_in_in_the_browser(page, sign_in, manager, password, screenshot):
    manager.team.require_two_factor = True
    manager.team.save()
    sign_in(manager)
    assert reverse("two_factor_setup") in page.url
    screenshot("two-factor-setup")
    device = TOTPDevice.objects.get(user=manager, confirmed=False)
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    page.get_by_label("Six-digit code from your authenticator app").fill(code)
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    page.wait_for_load_state()
    assert "Two-factor sign-in is on" in page.content()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/**")
    page.get_by_label("Username").fill(manager.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert reverse("two_factor_verify") in page.url
    device.refresh_from_db()
    device.last_t = -1  # a code may be used once; the test reuses this time step
    device.save()
    page.get_by_label("Six-digit code from your authenticator app").fill(code)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_load_state()
    page.goto(reverse("audit"))
    assert page.url.endswith(reverse("audit"))
