"""The API's token authentication (its own module: DRF imports it while loading its settings)."""

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
