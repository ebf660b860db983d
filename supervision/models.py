"""Supervision relationships (seed 003). Sessions, case lists and decisions build on these."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class SupervisionType(models.TextChoices):
    CASE_MANAGEMENT = "case_management", "Case-management supervision"
    CLINICAL_SKILLS = "clinical_skills", "Clinical skills supervision (group)"
    HIGH_INTENSITY = "high_intensity", "High-intensity clinical supervision"
    PROFESSIONAL = "professional", "Professional / management supervision"


class SupervisionRelationship(models.Model):
    """Who supervises whom, in which kind of supervision, how often and for how long."""

    supervisor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="supervising")
    supervisee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="supervised_by")
    kind = models.CharField(max_length=30, choices=SupervisionType.choices)
    frequency_days = models.PositiveSmallIntegerField(default=7, help_text="Expected interval between sessions")
    minutes = models.PositiveSmallIntegerField(default=60, help_text="Expected length of a session")
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["supervisor", "supervisee", "kind"],
                condition=Q(ended_on__isnull=True),
                name="one_active_relationship_per_kind",
            ),
            models.CheckConstraint(condition=~Q(supervisor=F("supervisee")), name="no_self_supervision"),
        ]

    def __str__(self):
        return f"{self.supervisor} supervises {self.supervisee} ({self.get_kind_display()})"
