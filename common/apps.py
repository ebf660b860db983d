from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Plumbing every app uses: who may do what, the audit trail, API errors, scoping, searches."""

    name = "common"
    verbose_name = "Common"

    def ready(self):
        # Signal receivers: the sign-in step that asks for a second factor, failed sign-ins counted per
        # address, API tokens revoked on a password change or deactivation, the session's first refresh.
        from . import api_auth, security, sessions, two_factor  # noqa: F401
