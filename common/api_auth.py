"""API tokens (django-rest-knox): one per client, expiring, revocable.

``POST /api/v1/auth/token/`` signs in with a username and password (and ``otp_token`` for anyone who
signs in with a second factor in the browser) and answers ``{"token": ..., "expiry": ...}``; the
client sends ``Authorization: Token <token>``. Each sign-in makes a new token (one per client; at most
``API_TOKENS_PER_USER`` live, the oldest dropped first), stored only as a hash and valid for
``API_TOKEN_TTL_HOURS``. ``POST /api/v1/auth/logout/`` revokes the token used, ``/auth/logout-all/``
every token of the user; a password change or deactivation revokes them all (``revoke_on_change``).
The endpoint creates no browser session.

Failed attempts count towards the django-axes lockout of that username at that address (the underlying
HttpRequest is passed to ``authenticate`` so AxesMiddleware can answer 429), and towards the looser
limit on failed sign-ins from one address (common/security.py).
"""

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone
from django_otp import match_token
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from . import audit, two_factor
from .security import address_limit


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    otp_token = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=16,
        help_text="Current code from the authenticator app, if two-factor is on",
    )


def issue_token(user):
    """A new token for one client; beyond API_TOKENS_PER_USER live tokens the oldest are revoked."""
    with transaction.atomic():
        instance, token = AuthToken.objects.create(user=user)
        live = AuthToken.objects.filter(user=user, expiry__gt=timezone.now()).order_by("-created", "-pk")
        stale = list(live.values_list("pk", flat=True)[settings.API_TOKENS_PER_USER :])
        AuthToken.objects.filter(pk__in=stale).delete()
        AuthToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
        audit.record(user, "auth.api_token.issued", user)
    return instance, token


class ObtainTokenView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    serializer_class = TokenRequestSerializer

    @extend_schema(
        auth=[],
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer(
                "TokenResponse",
                {
                    "token": serializers.CharField(help_text="Send as 'Authorization: Token <token>'"),
                    "expiry": serializers.DateTimeField(help_text="After this the token no longer works"),
                },
            )
        },
    )
    def post(self, request):
        limited = address_limit(request._request)
        if limited is not None:
            message, seconds = limited
            raise exceptions.Throttled(wait=seconds, detail=message, code="address_rate_limited")
        body = TokenRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = authenticate(
            request._request, username=body.validated_data["username"], password=body.validated_data["password"]
        )
        if user is None:
            raise exceptions.ValidationError(
                {"non_field_errors": ["Unable to sign in with the username and password given."]}
            )
        step = two_factor.pending_step(user)
        if step == two_factor.SETUP:
            raise exceptions.PermissionDenied(
                "Your team requires two-factor sign-in: set it up in the browser first.",
                code="two_factor_setup_required",
            )
        if step == two_factor.VERIFY:
            code = (body.validated_data.get("otp_token") or "").strip()
            if not code:
                raise exceptions.ValidationError({"otp_token": ["Give the current code from your authenticator app."]})
            if match_token(user, code) is None:
                raise exceptions.ValidationError({"otp_token": ["That code is wrong or has expired."]})
        # A token is a sign-in: django-axes logs it and clears this client's failed attempts, as at the form.
        AxesProxyHandler.user_logged_in(sender=type(self), request=request._request, user=user)
        instance, token = issue_token(user)
        return Response({"token": token, "expiry": instance.expiry})


class SignOutView(APIView):
    """Revoke the token this request was made with (the client signs out)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        if not isinstance(request.auth, AuthToken):
            raise exceptions.ValidationError(
                {"non_field_errors": ["This request carries no API token; logout-all revokes all of yours."]}
            )
        request.auth.delete()
        audit.record(request.user, "auth.api_token.revoked", request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SignOutEverywhereView(APIView):
    """Revoke every token of the signed-in person (all their clients sign out); from a browser session too."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        revoked, _ = AuthToken.objects.filter(user=request.user).delete()
        audit.record(request.user, "auth.api_token.revoked_all", request.user, changes={"tokens": revoked})
        return Response(status=status.HTTP_204_NO_CONTENT)


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="common.api_auth.revoke_on_change")
def revoke_on_change(sender, instance, created, **kwargs):
    """A new password or a deactivated account ends every API token of that person."""
    if created:
        return
    if getattr(instance, "_password", None) is not None or not instance.is_active:
        AuthToken.objects.filter(user=instance).delete()
