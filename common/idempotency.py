"""Idempotency-Key for the API's creates: the same request sent twice makes one record.

A client that did not hear the answer to a POST (a timeout, a dropped connection) sends it again with
the same ``Idempotency-Key`` header. The first request with a key runs in one transaction with the
row that claims the key (unique per user and key), so:

- the same key and the same request (path and body) again → the stored answer (status and body),
  marked ``Idempotent-Replayed: true``; nothing runs a second time;
- the same key with another request → 422 problem naming the header; nothing runs;
- two identical requests at the same moment → the second waits on the unique index until the first
  commits, then gets its answer (PostgreSQL), so one row is made;
- a request that fails (4xx/5xx) saves nothing, the key included: the client may retry it.

Keys belong to the user who sent them and expire after ``IDEMPOTENCY_KEY_TTL`` (24 hours by default;
``common.tasks.purge_expired_idempotency_keys`` deletes them). A request without the header behaves
as before. No library fitted (see docs/API.md); this is small and tested in tests/api/test_idempotency.py.

The HTML forms that create (a session, a patient, a referral) use the same table through ``form_once``
with a one-time ``form_token`` field instead of the header (tests/referrals/test_duplicates.py).
"""

import hashlib
import json
import re
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpResponseRedirect
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .api_errors import PROBLEM_CONTENT_TYPE, problem
from .models import IdempotencyKey

HEADER = "Idempotency-Key"
# Visible ASCII, 1 to 255 characters: a UUID is the usual choice.
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")
REPLAYED_HEADER = "Idempotent-Replayed"


def ttl():
    return timedelta(seconds=getattr(settings, "IDEMPOTENCY_KEY_TTL", 24 * 3600))


def schema_parameter():
    return OpenApiParameter(
        HEADER,
        str,
        OpenApiParameter.HEADER,
        required=False,
        pattern=KEY_PATTERN.pattern.join("^$"),
        description="A key of your choosing (a UUID) for this create. Sent again with the same body, the "
        "first answer is returned and nothing is created twice; with another body the answer is 422. "
        "Keys are yours alone and last 24 hours.",
    )


class _AlreadyClaimed(Exception):
    pass


def _fingerprint(request):
    """What makes two requests 'the same': method, path, query and the parsed body (key order ignored)."""
    body = json.dumps(_plain(request.data), sort_keys=True, default=str, ensure_ascii=True)
    text = "\n".join([request.method, request.path, request.META.get("QUERY_STRING", ""), body])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _plain(data):
    if hasattr(data, "lists"):  # a QueryDict (form or multipart body)
        return {key: values for key, values in data.lists()}
    return data


def _stored_body(response):
    data = getattr(response, "data", None)
    if data is None:
        return None
    return json.loads(JSONRenderer().render(data))


def _replay_or_refuse(stored, fingerprint):
    if stored.fingerprint != fingerprint:
        return Response(
            problem(
                422,
                f"This {HEADER} was already used with a different request. Send a new {HEADER} for a new "
                "request; nothing was saved.",
                code="idempotency_key_reused",
                errors={HEADER: ["Already used with a different request."]},
            ),
            status=422,
            content_type=PROBLEM_CONTENT_TYPE,
        )
    headers = {REPLAYED_HEADER: "true"}
    if stored.location:
        headers["Location"] = stored.location
    return Response(stored.body, status=stored.status_code, headers=headers)


def run_once(request, key, call):
    """Run ``call`` (the view's handler) at most once for this user and key; see the module docstring."""
    user = request.user
    fingerprint = _fingerprint(request)
    now = timezone.now()
    mine = IdempotencyKey.objects.filter(user=user, key=key)
    mine.filter(expires_at__lte=now).delete()
    stored = mine.first()
    if stored is not None:
        return _replay_or_refuse(stored, fingerprint)
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyKey.objects.create(
                        user=user, key=key, fingerprint=fingerprint, status_code=0, expires_at=now + ttl()
                    )
            except IntegrityError:
                raise _AlreadyClaimed() from None
            response = call()
            if not 200 <= response.status_code < 300:
                transaction.set_rollback(True)  # nothing of a refused request is kept, the key included
                return response
            record.status_code = response.status_code
            record.body = _stored_body(response)
            record.location = response.get("Location", "")[:500]
            record.save(update_fields=["status_code", "body", "location"])
            return response
    except _AlreadyClaimed:
        return _replay_or_refuse(mine.get(), fingerprint)


class IdempotentCreateMixin:
    """For API views whose POSTs create or change records: honour the ``Idempotency-Key`` header.

    Actions named in ``not_idempotent`` (POSTed reads such as a patient search) ignore the header.
    """

    not_idempotent = ()

    def takes_idempotency_key(self):
        return getattr(self, "action", None) not in self.not_idempotent

    def idempotency_key_parameter(self):
        return schema_parameter()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttles first
        if request.method != "POST" or HEADER not in request.headers or not self.takes_idempotency_key():
            return
        key = request.headers[HEADER]
        if not KEY_PATTERN.fullmatch(key):
            raise exceptions.ValidationError(
                {HEADER: ["Give 1 to 255 visible ASCII characters (a UUID, for example)."]}
            )
        handler = getattr(self, "post", None)
        if handler is None:
            return

        def once(request, *args, **kwargs):
            return run_once(request, key, lambda: handler(request, *args, **kwargs))

        self.post = once


# --- HTML forms: the same table, keyed by a one-time token the form carries -----------------------

FORM_FIELD = "form_token"
FORM_KEY_PREFIX = "form:"
FORM_REDIRECTS = (301, 302, 303)


def new_form_token():
    """A fresh one-time token for a form that creates something (a hidden ``form_token`` field)."""
    return uuid.uuid4().hex


def form_token(request):
    """The token a form page carries: the one posted (a refused save keeps it, so the corrected submit
    is still the first), else a new one."""
    posted = request.POST.get(FORM_FIELD, "") if request.method == "POST" else ""
    return posted if KEY_PATTERN.fullmatch(posted or "") else new_form_token()


def form_once(request, call, *, already="This form was already saved: here is what it saved."):
    """Take an HTML form's create once per one-time token (Save, browser Back, Save makes one record).

    ``call`` handles the POST and returns a redirect on success (to what it made) or the form again.
    The first success keeps the redirect's target under the token, in the table of the API's
    Idempotency-Key (prefixed ``form:``, so the two never meet); the same token again redirects there
    with ``already`` and runs nothing. A refused save keeps nothing, the token included, so the
    corrected form goes through. A POST without a token behaves as before (a form from an old page)."""
    token = request.POST.get(FORM_FIELD, "")
    if not KEY_PATTERN.fullmatch(token):
        return call()
    user, key, now = request.user, FORM_KEY_PREFIX + token, timezone.now()
    mine = IdempotencyKey.objects.filter(user=user, key=key)
    mine.filter(expires_at__lte=now).delete()
    stored = mine.first()
    if stored is None:
        try:
            with transaction.atomic():
                try:
                    with transaction.atomic():
                        record = IdempotencyKey.objects.create(
                            user=user, key=key, fingerprint="form", status_code=0, expires_at=now + ttl()
                        )
                except IntegrityError:
                    raise _AlreadyClaimed() from None
                response = call()
                if response.status_code not in FORM_REDIRECTS:
                    transaction.set_rollback(True)  # refused: nothing kept, the token included
                    return response
                record.status_code = response.status_code
                record.location = response["Location"][:500]
                record.save(update_fields=["status_code", "location"])
                return response
        except _AlreadyClaimed:
            stored = mine.get()
    messages.info(request, already)
    return HttpResponseRedirect(stored.location or "/")
