"""The API's token authentication (its own module: DRF imports it while loading its settings)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication
from rest_framework import exceptions


class ExpiringTokenAuthentication(TokenAuthentication):
    """knox's check of ``Authorization: Token <token>`` (hashed, expiring); a header that is not even
    text is 'Invalid token.' (401), not a server error."""

    def authenticate_credentials(self, token):
        try:
            token.decode("utf-8")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        return super().authenticate_credentials(token)


class ExpiringTokenScheme(OpenApiAuthenticationExtension):
    """How the schema describes it: ``Authorization: Token <token>``."""

    target_class = ExpiringTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")  # noqa: S106 - a scheme name
