"""Questionnaire responses (every item stored) and the per-referral outcome summary."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce

from .scoring import GAD7, INSTRUMENTS, PHQ9, WSAS

ITEM_FIELDS = [f"item_{n}" for n in range(1, 10)]


class Measure(models.TextChoices):
    PHQ9 = PHQ9, "PHQ-9 (depression)"
    GAD7 = GAD7, "GAD-7 (anxiety)"
    WSAS = WSAS, "WSAS (work and social adjustment)"


def _item_constraints():
    """Per measure: the items it has lie in its range, the items it lacks are empty, total = sum."""
    constraints = []
    for code, inst in INSTRUMENTS.items():
        present = Q()
        for n in range(1, 10):
            field = f"item_{n}"
            if n <= inst.item_count:
                present &= Q(**{f"{field}__isnull": False, f"{field}__gte": 0, f"{field}__lte": inst.item_max})
            else:
                present &= Q(**{f"{field}__isnull": True})
        present &= Q(total__gte=0, total__lte=inst.max_total)
        constraints.append(
            models.CheckConstraint(condition=~Q(measure=code) | present, name=f"{code.lower()}_items_in_range")
        )
    total = F("item_1")
    for n in range(2, 10):
        total = total + Coalesce(F(f"item_{n}"), 0)
    constraints.append(models.CheckConstraint(condition=Q(total=total), name="questionnaire_total_is_sum"))
    return constraints


class QuestionnaireResponse(models.Model):
    """One completed questionnaire at one contact. Corrections mark it entered in error."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # in URLs: reveals no count
    contact = models.ForeignKey("referrals.CareContact", on_delete=models.PROTECT, related_name="questionnaires")
    referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="questionnaires")
    measure = models.CharField(max_length=10, choices=Measure.choices)
    completed_on = models.DateField()
    item_1 = models.SmallIntegerField(null=True)
    item_2 = models.SmallIntegerField(null=True)
    item_3 = models.SmallIntegerField(null=True)
    item_4 = models.SmallIntegerField(null=True)
    item_5 = models.SmallIntegerField(null=True)
    item_6 = models.SmallIntegerField(null=True)
    item_7 = models.SmallIntegerField(null=True)
    item_8 = models.SmallIntegerField(null=True)
    item_9 = models.SmallIntegerField(null=True)
    total = models.SmallIntegerField()
    entered_in_error = models.BooleanField(default=False)
    error_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["completed_on", "created_at"]
        constraints = [
            *_item_constraints(),
            models.UniqueConstraint(
                fields=["contact", "measure"],
                condition=Q(entered_in_error=False),
                name="one_valid_response_per_contact_and_measure",
            ),
        ]
        indexes = [models.Index(fields=["referral", "measure", "completed_on"])]

    def __str__(self):
        return f"{self.get_measure_display()} {self.total} on {self.completed_on}"

    @property
    def items(self):
        count = INSTRUMENTS[self.measure].item_count
        return [getattr(self, f) for f in ITEM_FIELDS[:count]]


class OutcomeSummary(models.Model):
    """One row per referral: the facts the service metrics aggregate over.

    Kept current in the same transaction as every write that changes it (contacts, questionnaires,
    corrections, discharge); ``manage.py rebuild_outcome_summaries`` rebuilds it from the raw rows.
    """

    referral = models.OneToOneField(
        "referrals.Referral", primary_key=True, on_delete=models.CASCADE, related_name="summary"
    )
    team = models.ForeignKey("stepped_care.Team", on_delete=models.CASCADE, related_name="+")
    phq9_first = models.SmallIntegerField(null=True)
    phq9_last = models.SmallIntegerField(null=True)
    gad7_first = models.SmallIntegerField(null=True)
    gad7_last = models.SmallIntegerField(null=True)
    first_scored_on = models.DateField(null=True)
    last_scored_on = models.DateField(null=True)
    phq9_latest_item9 = models.SmallIntegerField(null=True)
    attended_contacts = models.PositiveIntegerField(default=0)
    attended_treatment_contacts = models.PositiveIntegerField(default=0)
    dna_count = models.PositiveIntegerField(default=0)
    contact_count = models.PositiveIntegerField(default=0)
    first_treatment_on = models.DateField(null=True)
    second_treatment_on = models.DateField(null=True)
    last_contact_on = models.DateField(null=True)
    last_attended_on = models.DateField(null=True)
    ended_on = models.DateField(null=True)
    computable = models.BooleanField(default=False)
    caseness_at_start = models.BooleanField(null=True)
    recovered = models.BooleanField(null=True)
    reliable_improvement = models.BooleanField(null=True)
    reliable_deterioration = models.BooleanField(null=True)
    reliable_recovery = models.BooleanField(null=True)
    finished_treatment = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["team", "ended_on"]),
            models.Index(fields=["team", "first_treatment_on"]),
        ]

    def __str__(self):
        return f"Outcome summary of {self.referral_id}"
