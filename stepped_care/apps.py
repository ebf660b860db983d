from django.apps import AppConfig


class SteppedCareConfig(AppConfig):
    """The stepped-care core: staff and teams, steps, review rules, flags and the decisions that act on them."""

    name = "stepped_care"
    verbose_name = "Stepped care"
