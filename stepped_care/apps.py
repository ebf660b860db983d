from django.apps import AppConfig


class SteppedCareConfig(AppConfig):
    name = "stepped_care"
    verbose_name = "Stepped care"

    def ready(self):
        from . import two_factor  # noqa: F401  (connects the sign-in signal that asks for a second factor)
