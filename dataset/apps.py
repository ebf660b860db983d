from django.apps import AppConfig


class DatasetConfig(AppConfig):
    """The national data set (NHS Talking Therapies v2.1): the monthly submission out, a history in."""

    name = "dataset"
    verbose_name = "National data set"
