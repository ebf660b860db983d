from django.apps import AppConfig


class FrontDoorConfig(AppConfig):
    """The front door: the public self-referral form and the questionnaire links patients complete."""

    name = "frontdoor"
    verbose_name = "Front door"
