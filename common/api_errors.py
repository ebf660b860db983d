"""Errors of the API, translated and documented in one place.

Service errors become HTTP answers (validation → 400 naming the field, stale version → 409), every
unknown URL under /api/ answers JSON rather than an HTML page, and the schema documents each error
an operation can give, so that clients (and the fuzzer) can rely on it.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.views.defaults import page_not_found
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .exceptions import Conflict

WRITE_METHODS = ("POST", "PUT", "PATCH")


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
        else:
            detail = {"non_field_errors": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Conflict):
        return Response({"detail": exc.message, "code": "conflict"}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoPermissionDenied) and exc.args:  # a service's role rule, with its reason
        return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
    return drf_exception_handler(exc, context)


def not_found(request, exception=None):
    """handler404: JSON for API clients (an id with a slash in it never reaches a view), HTML for people."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


class ErrorSerializer(serializers.Serializer):
    """An error that concerns the whole request."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False, help_text="'conflict' when the record changed since you read it")


VALIDATION_ERROR = {
    "type": "object",
    "description": "Field name → list of messages (for list fields, item position → messages); "
    "'non_field_errors' for problems with the request as a whole. Nothing was saved.",
    "additionalProperties": {},
}


class ErrorDocumentingAutoSchema(AutoSchema):
    """Adds the error answers an operation can give: 400, 401/403, 404, 415 and, for versioned writes, 409.

    A serializer may also name ``always_required`` fields (such as ``version``) that stay required in a
    PATCH, where the schema otherwise marks every field optional.
    """

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        always = getattr(serializer, "always_required", ())
        if direction == "request" and always:
            schema["required"] = sorted(set(schema.get("required", [])) | set(always))
        return schema

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        detail_route = "{" in self.path
        list_view = self.method == "GET" and self._is_list_view()
        errors = {}
        if self.method in WRITE_METHODS or list_view:
            errors["400"] = (self._validation_error_ref(), "Invalid input; the body names each field at fault.")
        if not self._allows_anyone():
            errors["401"] = (self._error_ref(), "Not signed in (no or bad credentials).")
        errors["403"] = (self._error_ref(), "Not signed in, locked out after failed sign-ins, or not allowed.")
        if detail_route or list_view:
            errors["404"] = (self._error_ref(), "Not found, or not visible to you (or no such page).")
        if self.method in WRITE_METHODS:
            errors["415"] = (self._error_ref(), "The body's content type is not one this operation reads.")
        if self.method in WRITE_METHODS and self._carries_version():
            errors["409"] = (self._error_ref(), "The record changed since you read it (stale version): nothing saved.")
        for code, (schema, description) in errors.items():
            if code not in responses:
                responses[code] = {
                    "content": {"application/json": {"schema": schema}},
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
        component = ResolvedComponent(name="Error", type=ResolvedComponent.SCHEMA, object=ErrorSerializer, schema=None)
        if component not in self.registry:
            component.schema = self._map_serializer(ErrorSerializer(), "response")
            self.registry.register_on_missing(component)
        return component.ref

    def _validation_error_ref(self):
        component = ResolvedComponent(
            name="ValidationError", type=ResolvedComponent.SCHEMA, object="ValidationError", schema=VALIDATION_ERROR
        )
        self.registry.register_on_missing(component)
        return component.ref
