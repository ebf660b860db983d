"""Errors of the API, translated and documented in one place.

Every error under /api/ answers a JSON problem document (RFC 9457 style, ``application/problem+json``)::

    {"type": "about:blank", "title": "Bad Request", "status": 400,
     "detail": "Invalid input: nhs_number. Nothing was saved.", "code": "invalid",
     "errors": {"nhs_number": ["An NHS number has exactly 10 digits (0 to 9)."]}}

``title`` is the HTTP status phrase, ``detail`` the explanation for a person, ``code`` a stable
machine-readable reason ("conflict", "locked_out", "idempotency_key_reused", ...) and, for invalid
input, ``errors`` maps each field at fault to its messages ("non_field_errors" for the request as a
whole). Service errors become HTTP answers (validation → 400 naming the field, stale version → 409);
the handlers below give the same shape to what happens outside a view (unknown URL 404, a session
deleted mid-request 400, 403, 500), and the schema documents each error an operation can give, so
that clients (and the fuzzer) can rely on it.
"""

from http import HTTPStatus

from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.shortcuts import render
from django.views import defaults
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .database import is_database_busy
from .exceptions import Conflict

WRITE_METHODS = ("POST", "PUT", "PATCH")
PROBLEM_CONTENT_TYPE = "application/problem+json"
API_PREFIX = "/api/"


def problem(status_code, detail, *, code=None, errors=None, **extra):
    """The body of a problem answer: type, title (the status phrase), status, detail, and extensions."""
    body = {"type": "about:blank", "title": HTTPStatus(status_code).phrase, "status": status_code, "detail": detail}
    if code:
        body["code"] = code
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return body


def problem_response(status_code, detail, *, code=None, errors=None, headers=None, **extra):
    """A problem answer outside DRF (middleware, URL handlers)."""
    response = JsonResponse(
        problem(status_code, detail, code=code, errors=errors, **extra),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def is_api(request):
    return request.path.startswith(API_PREFIX)


def invalid_input(errors):
    """The problem for invalid input: ``detail`` names every field at fault."""
    if not isinstance(errors, dict):
        errors = {"non_field_errors": errors if isinstance(errors, list) else [errors]}
    fields = [name for name in errors if name != "non_field_errors"]
    if fields:
        detail = f"Invalid input: {', '.join(fields)}. Nothing was saved."
    else:
        detail = "Invalid request. Nothing was saved."
    first = errors.get("non_field_errors")
    if not fields and first:
        detail = f"{_first_message(first)} Nothing was saved."
    return problem(400, detail, code="invalid", errors=errors)


def _first_message(messages):
    message = messages[0] if isinstance(messages, list) and messages else messages
    return str(message).rstrip(".") + "."


def _django_validation_errors(exc):
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
    return {"non_field_errors": [str(m) for m in exc.messages]}


def _codes(exc):
    codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
    return codes if isinstance(codes, str) else None


def _as_problem(exc, context):
    """(status, body, headers) for an exception we know, or None to let Django answer 500."""
    if is_database_busy(exc):
        return 503, problem(503, DATABASE_BUSY, code="busy"), {"Retry-After": str(BUSY_RETRY_AFTER)}
    if isinstance(exc, DjangoValidationError):
        return 400, invalid_input(_django_validation_errors(exc)), {}
    if isinstance(exc, Conflict):
        return 409, problem(409, exc.message, code=exc.code, **exc.extra), {}
    if isinstance(exc, (RequestDataTooBig, TooManyFieldsSent)):
        return 413, problem(413, BODY_TOO_LARGE, code="request_too_large"), {}
    if isinstance(exc, DjangoPermissionDenied) and exc.args:  # a service's role rule, with its reason
        return 403, problem(403, str(exc), code="permission_denied"), {}
    if isinstance(exc, exceptions.ValidationError):
        return 400, invalid_input(exc.detail), {}
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    extra = {}
    if isinstance(data, dict) and "detail" in data:
        detail = str(data["detail"])
        extra = {k: v for k, v in data.items() if k not in ("detail", "type", "title", "status")}
    else:
        detail = str(data)
    code = extra.pop("code", None) or _codes(exc)
    headers = {name: value for name, value in response.items() if name in ("WWW-Authenticate", "Allow", "Retry-After")}
    return response.status_code, problem(response.status_code, detail, code=code, **extra), headers


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every known error as a problem document, always rendered as JSON."""
    translated = _as_problem(exc, context)
    if translated is None:
        return None
    status_code, body, headers = translated
    request = context.get("request")
    if request is not None:  # never the browsable API's HTML for an error
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = "application/json"
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


BODY_TOO_LARGE = "The request body is too large."
DATABASE_BUSY = "The service is busy and gave up on this request; nothing of it was saved. Try again shortly."
BUSY_RETRY_AFTER = 10  # seconds


def database_busy(request):
    """The answer when the database gave up on a statement (issue 21.9): 503 with Retry-After, JSON for API
    clients, a page for people that says their work was not saved and is still in the form behind Back."""
    headers = {"Retry-After": str(BUSY_RETRY_AFTER)}
    if is_api(request):
        return problem_response(503, DATABASE_BUSY, code="busy", headers=headers)
    response = render(request, "503.html", {"retry_after": BUSY_RETRY_AFTER}, status=503)
    response["Retry-After"] = str(BUSY_RETRY_AFTER)
    return response


# --- handlers for what happens outside a view (config/urls.py) ---------------------------------------


def not_found(request, exception=None):
    """handler404: JSON for API clients (an id with a slash in it never reaches a view), HTML for people."""
    if is_api(request):
        return problem_response(404, "Not found.", code="not_found")
    return defaults.page_not_found(request, exception)


def bad_request(request, exception=None):
    """handler400: a session deleted by a concurrent sign-out (SessionInterrupted), a suspicious request."""
    if is_api(request):
        if isinstance(exception, (RequestDataTooBig, TooManyFieldsSent)):
            return problem_response(413, BODY_TOO_LARGE, code="request_too_large")
        if exception.__class__.__name__ == "SessionInterrupted":
            detail = "Your session ended during this request (signed out elsewhere?). Sign in again and retry."
            return problem_response(400, detail, code="session_interrupted")
        detail = str(exception) if isinstance(exception, BadRequest) and str(exception) else "Bad request."
        if isinstance(exception, SuspiciousOperation) and not isinstance(exception, BadRequest):
            detail = "Bad request."
        return problem_response(400, detail, code="bad_request")
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    """handler403: refused outside a DRF view (a CSRF failure, a role check in a plain view)."""
    if is_api(request):
        return problem_response(403, "You are not allowed to do this.", code="permission_denied")
    return defaults.permission_denied(request, exception)


def server_error(request):
    """handler500: the API still answers JSON, and says nothing of the cause (it is logged)."""
    if is_api(request):
        return problem_response(
            500, "Something went wrong on our side; nothing you sent was wrongly saved. Try again.", code="error"
        )
    return defaults.server_error(request)


# --- the schema ----------------------------------------------------------------------------------------


class ProblemSerializer(serializers.Serializer):
    """An error (RFC 9457 problem details)."""

    type = serializers.CharField(help_text="'about:blank': the status says what kind of problem it is")
    title = serializers.CharField(help_text="The HTTP status phrase")
    status = serializers.IntegerField()
    detail = serializers.CharField(help_text="What went wrong, for a person")
    code = serializers.CharField(
        required=False,
        help_text="A stable reason: 'invalid', 'conflict' (the record changed since you read it), "
        "'locked_out', 'idempotency_key_reused', 'not_found', ...",
    )


VALIDATION_PROBLEM = {
    "type": "object",
    "description": "Invalid input (a problem document): 'errors' maps each field at fault to its messages "
    "(for list fields, item position → messages); 'non_field_errors' for the request as a whole. Nothing was saved.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {}},
    },
    "required": ["type", "title", "status", "detail"],
}


class ErrorDocumentingAutoSchema(AutoSchema):
    """Adds the error answers an operation can give: 400, 401/403, 404, 405, 413, 415, 429, 500 and, for
    versioned writes, 409; and the optional ``Idempotency-Key`` header of creates (422 when reused).

    A serializer may also name ``always_required`` fields (such as ``version``) that stay required in a
    PATCH, where the schema otherwise marks every field optional.
    """

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        always = getattr(serializer, "always_required", ())
        if direction == "request" and always:
            schema["required"] = sorted(set(schema.get("required", [])) | set(always))
        return schema

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self._takes_idempotency_key():
            parameters.append(self.view.idempotency_key_parameter())
        return parameters

    def _takes_idempotency_key(self):
        """Views with common.idempotency.IdempotentCreateMixin say so (asked, not imported: no cycle)."""
        takes = getattr(self.view, "takes_idempotency_key", None)
        return self.method == "POST" and takes is not None and takes()

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        detail_route = "{" in self.path
        list_view = self.method == "GET" and self._is_list_view()
        errors = {}
        if self.method in WRITE_METHODS or list_view or self._takes_idempotency_key():
            errors["400"] = (self._validation_error_ref(), "Invalid input; 'errors' names each field at fault.")
        if not self._allows_anyone():
            errors["401"] = (self._error_ref(), "Not signed in (no, bad or expired credentials).")
        errors["403"] = (self._error_ref(), "Not signed in, or not allowed.")
        if detail_route or list_view:
            errors["404"] = (self._error_ref(), "Not found, or not visible to you (or no such page).")
        errors["405"] = (self._error_ref(), "This method is not allowed here.")
        if self.method in WRITE_METHODS:
            errors["413"] = (self._error_ref(), "The request body is too large.")
            errors["415"] = (self._error_ref(), "The body's content type is not one this operation reads.")
        if self.method in WRITE_METHODS and self._carries_version():
            errors["409"] = (self._error_ref(), "The record changed since you read it (stale version): nothing saved.")
        if self._takes_idempotency_key():
            errors["422"] = (self._error_ref(), "This Idempotency-Key was used before with another request.")
        errors["429"] = (self._error_ref(), "Too many requests (or sign-in attempts): wait and try again.")
        errors["500"] = (self._error_ref(), "A fault on our side: nothing was half-saved.")
        for code, (schema, description) in errors.items():
            if code not in responses:
                responses[code] = {
                    "content": {PROBLEM_CONTENT_TYPE: {"schema": schema}},
                    "description": description,
                }
        return responses

    def _allows_anyone(self):
        return any(isinstance(p, AllowAny) for p in self.view.get_permissions())

    def _carries_version(self):
        serializer = self.get_request_serializer()
        fields = getattr(serializer, "fields", None) if isinstance(serializer, serializers.Serializer) else None
        if fields is None and isinstance(serializer, type) and issubclass(serializer, serializers.Serializer):
            fields = serializer().fields
        return bool(fields) and "version" in fields and not fields["version"].read_only

    def _error_ref(self):
        component = ResolvedComponent(
            name="Problem", type=ResolvedComponent.SCHEMA, object=ProblemSerializer, schema=None
        )
        if component not in self.registry:
            component.schema = self._map_serializer(ProblemSerializer(), "response")
            self.registry.register_on_missing(component)
        return component.ref

    def _validation_error_ref(self):
        component = ResolvedComponent(
            name="ValidationProblem",
            type=ResolvedComponent.SCHEMA,
            object="ValidationProblem",
            schema=VALIDATION_PROBLEM,
        )
        self.registry.register_on_missing(component)
        return component.ref
