"""Two-factor sign-in with a time-based code (TOTP, django-otp): optional for everyone, required for
managers and administrators when their team turns ``Team.require_two_factor`` on.

At sign-in we note in the session whether the person still owes a code ("verify") or must first set
up an authenticator app ("setup"); the middleware then keeps them on those pages until they do. The
decision is made once per sign-in, so ordinary pages pay no extra database query for it.
"""

from base64 import b32encode
from urllib.parse import urlencode

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import audit, permissions
from .api_errors import problem_response
from .redirects import safe_next

SESSION_KEY = "two_factor"
VERIFY, SETUP = "verify", "setup"
DEVICE_NAME = "Authenticator app"


def required_for(user):
    """Managers and administrators (and superusers) must use two-factor sign-in when their team requires it."""
    return permissions.must_use_two_factor(user)


def pending_step(user):
    """What this person owes at sign-in: VERIFY (has an app), SETUP (required, no app yet) or None."""
    if user_has_device(user, confirmed=True):
        return VERIFY
    if required_for(user):
        return SETUP
    return None


@receiver(user_logged_in, dispatch_uid="common.two_factor.mark_pending")
def _mark_pending(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    if getattr(user, "otp_device", None) is not None:  # signed in with a code already
        request.session.pop(SESSION_KEY, None)
        return
    step = pending_step(user)
    if step:
        request.session[SESSION_KEY] = step
    else:
        request.session.pop(SESSION_KEY, None)


def _allowed_while_pending(path, step):
    allowed = [reverse("logout"), reverse("login"), "/static/", reverse("health")]
    allowed.append(reverse("two_factor_setup") if step == SETUP else reverse("two_factor_verify"))
    return any(path == prefix or (prefix.endswith("/") and path.startswith(prefix)) for prefix in allowed)


class TwoFactorMiddleware:
    """Keep a signed-in person who still owes a second factor on the verify (or set-up) page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        step = session.get(SESSION_KEY) if session is not None else None
        if step and not _allowed_while_pending(request.path, step):
            if request.path.startswith("/api/"):
                return problem_response(
                    403, "Finish two-factor sign-in in the browser first.", code="two_factor_required"
                )
            target = reverse("two_factor_setup" if step == SETUP else "two_factor_verify")
            if request.method == "GET":
                target += "?" + urlencode({"next": request.get_full_path()})
            return redirect(target)
        return self.get_response(request)


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Six-digit code from your authenticator app",
        min_length=6,
        max_length=8,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


@require_http_methods(["GET", "POST"])
def verify(request):
    """Second step of sign-in: the code from the person's authenticator app."""
    if request.session.get(SESSION_KEY) != VERIFY:
        return redirect(safe_next(request, "home"))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["code"])  # throttled per device by django-otp
        if device is not None:
            otp_login(request, device)
            request.session.pop(SESSION_KEY, None)
            request.session.cycle_key()
            audit.record(request.user, "auth.two_factor_verified", request.user)
            return redirect(safe_next(request, "home"))
        audit.record(request.user, "auth.two_factor_failed", request.user)
        form.add_error("code", _wrong_code_message(TOTPDevice.objects.filter(user=request.user, confirmed=True)))
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": safe_next(request, "home")})


def _wrong_code_message(devices, wrong="That code is wrong or has expired"):
    """Say when django-otp's back-off (which doubles after each wrong code) is why a code was refused."""
    if any(not device.verify_is_allowed()[0] for device in devices):
        return f"{wrong}, or was entered too soon after a wrong one. Wait a few seconds, then enter a new code."
    return f"{wrong}. Wait for a new code and try again."


def _unconfirmed_device(user):
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


@require_http_methods(["GET", "POST"])
def setup(request):
    """Turn two-factor sign-in on (scan a QR code, confirm a code) or, when not required, off."""
    user = request.user
    required = required_for(user)
    enabled = user_has_device(user, confirmed=True)
    form = CodeForm(request.POST or None)
    action = request.POST.get("action")
    if request.method == "POST" and action == "disable" and enabled and not required and form.is_valid():
        if match_token(user, form.cleaned_data["code"]) is not None:
            with transaction.atomic():
                TOTPDevice.objects.filter(user=user).delete()
                audit.record(user, "auth.two_factor_disabled", user)
            messages.success(request, "Two-factor sign-in is off.")
            return redirect("two_factor_setup")
        form.add_error("code", "That code is wrong or has expired.")
    elif request.method == "POST" and action == "enable" and not enabled and form.is_valid():
        device = _unconfirmed_device(user)
        if device.verify_token(form.cleaned_data["code"]):
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                TOTPDevice.objects.filter(user=user, confirmed=False).delete()
                audit.record(user, "auth.two_factor_enabled", user)
            otp_login(request, device)
            request.session.pop(SESSION_KEY, None)
            messages.success(request, "Two-factor sign-in is on. You will be asked for a code each time you sign in.")
            return redirect(safe_next(request, "two_factor_setup"))
        form.add_error("code", _wrong_code_message([device], "That code does not match. Check the time on your phone"))
    context = {"form": form, "enabled": enabled, "required": required, "next": safe_next(request, "home")}
    if not enabled:
        device = _unconfirmed_device(user)
        secret = b32encode(device.bin_key).decode()
        context["secret"] = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
        context["qr_code"] = segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)
    return render(request, "registration/two_factor_setup.html", context)
