from django.apps import AppConfig


class SteppedCareConfig(AppConfig):
    name = "stepped_care"
    verbose_name = "Stepped care"
