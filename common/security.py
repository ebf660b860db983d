"""Small security helpers shared by the audit trail, the sign-in lockout and logging.

- ``client_ip``: the address a request came from, trusting X-Forwarded-For only as far as our own
  proxies (TRUSTED_PROXY_COUNT), so a client cannot forge its audit address or dodge the lockout.
- ``lockout_response``: what django-axes answers after too many failed sign-ins (JSON for the API,
  a page for people).
- ``RedactPatientIdentifiers``: a logging filter that blanks NHS numbers wherever they would be
  printed, as a safety net behind "never log patient identifiers".
"""

import ipaddress
import logging
import re

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render


def _valid_ip(value):
    try:
        return str(ipaddress.ip_address(value.strip()))
    except (ValueError, AttributeError):
        return None


def client_ip(request):
    """The client's address: REMOTE_ADDR, or behind N trusted proxies the Nth address from the right
    of X-Forwarded-For (the one our outermost proxy saw). Addresses a client added itself are ignored."""
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count:
        forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= count:
            address = _valid_ip(forwarded[-count])
            if address:
                return address
    return _valid_ip(request.META.get("REMOTE_ADDR", ""))


LOCKOUT_MESSAGE = (
    "Too many failed sign-in attempts. Sign-in is locked for {minutes} minutes; "
    "ask your service administrator if you need access sooner."
)


def lockout_minutes():
    return int(float(settings.AXES_COOLOFF_TIME) * 60)


def lockout_response(request, original_response=None, credentials=None):
    """django-axes AXES_LOCKOUT_CALLABLE: 429 with a plain explanation, JSON for API clients."""
    message = LOCKOUT_MESSAGE.format(minutes=lockout_minutes())
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "code": "locked_out"}, status=429)
    return render(request, "registration/locked_out.html", {"message": message}, status=429)


# Ten digits, optionally grouped 3-3-4 with spaces or hyphens, not inside a longer number or a UUID.
NHS_NUMBER = re.compile(r"(?<![\w-])\d{3}[ -]?\d{3}[ -]?\d{4}(?![\w-])")
REDACTED = "[redacted]"


def redact(text):
    return NHS_NUMBER.sub(REDACTED, text)


class RedactPatientIdentifiers(logging.Filter):
    """Blank anything shaped like an NHS number in a log line (message and arguments)."""

    def filter(self, record):
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logger's problem, not ours to hide
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
