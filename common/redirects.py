"""Where to send someone back to after a form: the one check of a ``next`` parameter.

Every view that honours ``next`` asks ``safe_next``. It takes the target only when Django's
``url_has_allowed_host_and_scheme`` says it stays on this site (a relative path or our own host,
http(s) only, https when the request was), which refuses what a hand-written prefix test lets
through: ``//evil.example``, ``/\\evil.example`` (browsers read the backslash as a slash),
``https://evil.example`` and ``javascript:`` URLs.
"""

from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def is_safe(request, target):
    """Whether ``target`` is a URL on this site that a redirect may send the browser to."""
    return bool(target) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


def safe_next(request, fallback):
    """The ``next`` URL of this request (the form's field first, then the query string) when it is safe,
    otherwise ``fallback`` (a URL name, a path or a model with ``get_absolute_url``)."""
    target = request.POST.get("next") or request.GET.get("next")
    if is_safe(request, target):
        return target
    return resolve_url(fallback)
