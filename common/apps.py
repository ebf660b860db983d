from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Plumbing every app uses: who may do what, the audit trail, API errors, scoping, searches."""

    name = "common"
    verbose_name = "Common"

    def ready(self):
        from . import two_factor  # noqa: F401  (connects the sign-in signal that asks for a second factor)
