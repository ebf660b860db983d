"""Small security helpers shared by the audit trail, the sign-in lockout and logging.

- ``client_ip``: the address a request came from, trusting X-Forwarded-For only as far as our own
  proxies (TRUSTED_PROXY_COUNT), so a client cannot forge its audit address or dodge the lockout.
- ``lockout_response``: what django-axes answers after too many failed sign-ins (JSON for the API,
  a page for people). django-axes locks a *username at an address* (AXES_LOCKOUT_PARAMETERS), so one
  person's mistakes never lock out colleagues behind the same NHS network address.
- ``address_limit`` / ``address_refusal`` (common.views.SignInView, the API token endpoint): a second,
  looser limit on failed sign-ins from one address across all usernames (django-ratelimit,
  SIGN_IN_ADDRESS_FAILURE_RATE), against password spraying.
- ``RedactPatientIdentifiers``: a logging filter that blanks NHS numbers wherever they would be
  printed, as a safety net behind "never log patient identifiers".
"""

import ipaddress
import logging
import re

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.shortcuts import render
from django_ratelimit.core import get_usage


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
    return _refused(request, LOCKOUT_MESSAGE.format(minutes=lockout_minutes()), "locked_out")


ADDRESS_LIMIT_MESSAGE = (
    "Too many failed sign-in attempts from your network address. Wait {minutes} minutes and try again, "
    "or ask your service administrator."
)
ADDRESS_GROUP = "sign-in-failures-by-address"


def _refused(request, message, code, retry_after=None):
    # Imported here: the logging configuration loads this module before Django's apps are ready.
    from .api_errors import is_api, problem_response

    headers = {"Retry-After": str(retry_after)} if retry_after else None
    if is_api(request):
        return problem_response(429, message, code=code, headers=headers)
    response = render(request, "registration/locked_out.html", {"message": message}, status=429)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _address(group, request):
    return client_ip(request) or "unknown"


def _address_usage(request, increment):
    """django-ratelimit's count of failed sign-ins from this address in the current window (None: off)."""
    if not getattr(settings, "AXES_ENABLED", True):  # sign-in protection off (most tests)
        return None
    return get_usage(
        request, group=ADDRESS_GROUP, key=_address, rate=settings.SIGN_IN_ADDRESS_FAILURE_RATE, increment=increment
    )


def address_limit(request):
    """(message, seconds to wait) when this address has failed SIGN_IN_ADDRESS_FAILURE_RATE times with
    any usernames in the current window, else None."""
    usage = _address_usage(request, increment=False)
    if usage is None or usage["count"] < usage["limit"]:
        return None
    seconds = max(usage["time_left"], 1)
    return ADDRESS_LIMIT_MESSAGE.format(minutes=max(1, -(-seconds // 60))), seconds


def address_refusal(request):
    """The 429 answer (a page, or JSON under /api/) when ``address_limit`` says so, else None."""
    limited = address_limit(request)
    if limited is None:
        return None
    message, seconds = limited
    return _refused(request, message, "address_rate_limited", seconds)


@receiver(user_login_failed, dispatch_uid="common.security.count_address_failure")
def _count_address_failure(sender, credentials=None, request=None, **kwargs):
    """Every failed sign-in (form or API token) counts against the address it came from."""
    if request is not None:
        _address_usage(request, increment=True)


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
