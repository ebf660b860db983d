"""The audit trail's table: every layer writes it, so it lives with the shared plumbing."""

import uuid

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """Who did or saw what, when and from where. Append-only: never updated or deleted."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    system_actor = models.CharField(
        max_length=60, blank=True, help_text="Who acted when no person did (e.g. the review engine)"
    )
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    patient_id = models.UUIDField(null=True, blank=True, db_index=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]
        # The table and index keep the names they had in the stepped_care app (moved without copying).
        db_table = "stepped_care_auditevent"
        indexes = [models.Index(fields=["actor", "at"], name="stepped_car_actor_i_f471fd_idx")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor or self.system_actor} {self.action} {self.object_type}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only.")


class PendingTask(models.Model):
    """Work that must follow a write (a referral's review), recorded in the write's own transaction.

    The outbox: a row is added with the write and removed once its task was handed to the broker or
    run, so a slow, silent or absent broker neither fails the write nor loses the work
    (``common.outbox``). Not clinical history: rows live for seconds, or until the broker is back.
    """

    task = models.CharField(max_length=100, help_text="Celery task name")
    kwargs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.task}({self.kwargs})"


class IdempotencyKey(models.Model):
    """An API create already answered, by ``Idempotency-Key`` (common/idempotency.py): replayed, not redone.

    Holds the answer as sent (it may carry patient details, like the record it describes) until
    ``expires_at``; purged hourly.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path, query and body")
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField(null=True, blank=True)
    location = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user")]

    def __str__(self):
        return f"{self.user_id}:{self.key}"


class NotifyMessage(models.Model):
    """One message sent through GOV.UK Notify (or the development outbox): what, when, by whom, to which
    channel, and how its delivery went. Not the message: the personalisation (names, links with their
    one-time tokens) is handed to Notify and never stored; ``recipient_hint`` keeps the last digits or
    the domain only, enough to tell a patient "we texted the number ending 678"."""

    class Channel(models.TextChoices):
        SMS = "sms", "Text message"
        EMAIL = "email", "Email"

    class Status(models.TextChoices):
        # Notify's own statuses (https://docs.notifications.service.gov.uk/python.html#status-text-and-email)
        # folded into the ones a clinician needs, plus our own "queued" (not handed over yet).
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        PERMANENT_FAILURE = "permanent-failure", "Not delivered: the number or address is wrong"
        TEMPORARY_FAILURE = "temporary-failure", "Not delivered: the phone or inbox was unavailable"
        TECHNICAL_FAILURE = "technical-failure", "Not sent: a technical problem"

    PENDING = (Status.QUEUED, Status.SENDING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # Notify's `reference`
    channel = models.CharField(max_length=5, choices=Channel.choices)
    template_key = models.CharField(max_length=60, help_text="The key of settings.NOTIFY_TEMPLATES")
    template_id = models.CharField(max_length=64, blank=True)
    recipient_hint = models.CharField(max_length=40, blank=True)
    referral = models.ForeignKey(
        "referrals.Referral", null=True, blank=True, on_delete=models.PROTECT, related_name="messages"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    backend = models.CharField(max_length=10, help_text="notify or outbox")
    notify_id = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    status_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["referral", "created_at"]), models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return f"{self.get_channel_display()} {self.template_key} ({self.status})"

    @property
    def template_label(self):
        return self.template_key.replace("_", " ").capitalize()
