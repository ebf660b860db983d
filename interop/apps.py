from django.apps import AppConfig


class InteropConfig(AppConfig):
    """Records for other systems: a referral as a FHIR R4 (UK Core) Bundle. Owns no tables."""

    name = "interop"
    verbose_name = "Interoperability"
