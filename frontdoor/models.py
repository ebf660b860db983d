"""What the front door keeps: each team's public form and its area, what a self-referral said beyond the
patient record, and the one-time questionnaire links (their tokens only as hashes)."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q


class FrontDoor(models.Model):
    """A team's public self-referral form, at /refer/<slug>/, and who it is for (eligibility)."""

    team = models.OneToOneField("stepped_care.Team", on_delete=models.CASCADE, related_name="front_door")
    slug = models.SlugField(max_length=60, unique=True, help_text="The form's address: /refer/<slug>/")
    is_open = models.BooleanField(default=True, help_text="Taking self-referrals now")
    min_age = models.PositiveSmallIntegerField(default=18, validators=[MaxValueValidator(120)])
    max_age = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(120)], help_text="Empty: no upper age limit"
    )
    response_days = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1)], help_text="Working days within which the team makes contact"
    )

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_age__isnull=True) | Q(max_age__gte=F("min_age")), name="front_door_age_range"
            )
        ]

    def __str__(self):
        return f"Self-referral form of {self.team} (/refer/{self.slug}/)"


class GPPractice(models.Model):
    """A GP practice in the team's area: a person registered elsewhere is pointed to their own service."""

    front_door = models.ForeignKey(FrontDoor, on_delete=models.CASCADE, related_name="practices")
    ods_code = models.CharField("ODS code", max_length=10)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["front_door", "ods_code"], name="one_practice_per_code")]

    def __str__(self):
        return f"{self.name} ({self.ods_code})"


class SelfReferral(models.Model):
    """What a self-referral said that the patient record does not hold: how the person may be contacted,
    their practice, in their own words what they want help with, and whether it matched a record."""

    referral = models.OneToOneField("referrals.Referral", on_delete=models.PROTECT, related_name="self_referral")
    front_door = models.ForeignKey(FrontDoor, on_delete=models.PROTECT, related_name="+")
    practice = models.ForeignKey(GPPractice, on_delete=models.PROTECT, related_name="+")
    contact_by_sms = models.BooleanField(default=False)
    contact_by_email = models.BooleanField(default=False)
    contact_by_letter = models.BooleanField(default=False)
    help_with = models.TextField(blank=True, help_text="In the person's own words")
    matched_existing_patient = models.BooleanField(default=False)
    needs_identity_check = models.BooleanField(
        default=False, help_text="The NHS number given is on another record with a different date of birth"
    )
    submitted_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Self-referral {self.referral_id}"

    @property
    def contact_by(self):
        return [
            label
            for flag, label in (
                (self.contact_by_sms, "text message"),
                (self.contact_by_email, "email"),
                (self.contact_by_letter, "letter"),
            )
            if flag
        ]


class QuestionnaireLink(models.Model):
    """A one-time link to complete the referral's questionnaires on a phone. The token is in the link
    only; the database keeps its SHA-256, so a copy of the database opens no link."""

    class Channel(models.TextChoices):
        SMS = "sms", "Text message"
        EMAIL = "email", "Email"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="questionnaire_links")
    token_hash = models.CharField(max_length=64, unique=True)
    measures = models.JSONField(default=list)
    channel = models.CharField(max_length=5, choices=Channel.choices)
    message = models.ForeignKey(
        "common.NotifyMessage", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    verified_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    failed_checks = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["referral", "created_at"])]

    def __str__(self):
        return f"Questionnaire link of {self.referral_id} ({self.get_channel_display()})"
