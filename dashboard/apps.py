from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """Service managers' dashboard: reads every app's data, owns none."""

    name = "dashboard"
