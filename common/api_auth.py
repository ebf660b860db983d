"""POST /api/v1/auth/token/: a token for API clients, with the same protections as the sign-in page.

Failed attempts count towards the django-axes lockout (the underlying HttpRequest is passed to
``authenticate`` so AxesMiddleware can answer 429), and anyone who signs in with a second factor in
the browser must send the current code as ``otp_token`` here too.
"""

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import authenticate
from django_otp import match_token
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from . import two_factor


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})
    otp_token = serializers.CharField(
        required=False, allow_blank=True, help_text="Current code from the authenticator app, if two-factor is on"
    )


class ObtainTokenView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    serializer_class = TokenRequestSerializer

    @extend_schema(
        auth=[],
        request=TokenRequestSerializer,
        responses={200: inline_serializer("TokenResponse", {"token": serializers.CharField()})},
    )
    def post(self, request):
        body = TokenRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = authenticate(
            request._request, username=body.validated_data["username"], password=body.validated_data["password"]
        )
        if user is None:
            return Response(
                {"non_field_errors": ["Unable to sign in with the username and password given."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        step = two_factor.pending_step(user)
        if step == two_factor.SETUP:
            return Response(
                {
                    "detail": "Your team requires two-factor sign-in: set it up in the browser first.",
                    "code": "two_factor_setup_required",
                },
                status=status.HTTP_403_FORBIDDEN,
            )
        if step == two_factor.VERIFY:
            code = (body.validated_data.get("otp_token") or "").strip()
            if not code:
                return Response(
                    {"otp_token": ["Give the current code from your authenticator app."]},
                    status=status.HTTP_400_BAD_REQUEST,
                )
            if match_token(user, code) is None:
                return Response(
                    {"otp_token": ["That code is wrong or has expired."]}, status=status.HTTP_400_BAD_REQUEST
                )
        # A token is a sign-in: django-axes logs it and clears this client's failed attempts, as at the form.
        AxesProxyHandler.user_logged_in(sender=type(self), request=request._request, user=user)
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
