from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo and benchmark data (seed_demo, seed_groups): the one place that fabricates records."""

    name = "demo"
