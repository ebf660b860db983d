"""Runs of the national data set (exports and imports) and what an import brought in."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from outcomes.fields import ScoreField
from outcomes.models import Measure


class DatasetRun(models.Model):
    """One export of a reporting period, or one import (a dry run or the real thing), with its
    progress, its counts per table and every failure found; an export keeps its file until
    ``expires_at`` (``DATASET_KEEP_DAYS``)."""

    class Kind(models.TextChoices):
        EXPORT = "export", "Export"
        DRY_RUN = "dry_run", "Import dry run"
        IMPORT = "import", "Import"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        INVALID = "invalid", "Refused: failures to fix"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "File deleted after the keeping period"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("stepped_care.Team", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Per cent done")
    counts = models.JSONField(default=dict, blank=True, help_text="Rows per table (an import: created, existing)")
    errors = models.JSONField(default=list, blank=True, help_text="The first failures found (DATASET_MAX_ERRORS)")
    error_count = models.PositiveIntegerField(default=0)
    file = models.CharField(max_length=300, blank=True, help_text="The zip, under DATASET_DIR")
    sha256 = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["team", "-created_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="dataset_run_progress_percent"),
        ]

    def __str__(self):
        period = f" {self.period_start:%Y-%m}" if self.period_start else ""
        return f"{self.get_kind_display()}{period} ({self.get_status_display()})"

    @property
    def finished(self):
        return self.status not in (self.Status.QUEUED, self.Status.RUNNING)


class ImportedRecord(models.Model):
    """A row brought in from another system's extract: the system (its provider code), the table and
    the row's key there, and the record it became here. Importing the same files again finds these
    and changes nothing; an export writes the source key back, so the record keeps its identifier
    in every later submission."""

    source = models.CharField(max_length=40, help_text="OrgIDProv of the extract's header")
    table = models.CharField(max_length=6)
    source_key = models.CharField(max_length=255)
    object_id = models.UUIDField(db_index=True)
    run = models.ForeignKey(DatasetRun, null=True, on_delete=models.SET_NULL, related_name="+")
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "table", "source_key"], name="imported_once_per_source_key")
        ]
        indexes = [models.Index(fields=["object_id", "table"])]

    def __str__(self):
        return f"{self.table} {self.source_key} from {self.source}"


class ImportedScore(models.Model):
    """A score brought in from another system (IDS606 at the referral, IDS607 at a contact's activity):
    the data set carries the total only, never the item answers, so it cannot be a
    QuestionnaireResponse (which stores every item); it is kept beside them and exported again."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(
        "referrals.CareContact", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    measure = models.CharField(max_length=16, choices=Measure.choices)
    total = ScoreField()
    item = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="For a measure the data set codes item by item (WSAS): the item number"
    )
    completed_on = models.DateField()
    source = models.CharField(max_length=40)
    run = models.ForeignKey(DatasetRun, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["referral", "completed_on", "measure", "item"]
        indexes = [models.Index(fields=["referral", "completed_on"]), models.Index(fields=["contact"])]
        constraints = [models.CheckConstraint(condition=Q(measure__in=Measure.values), name="imported_score_measure")]

    def __str__(self):
        return f"{self.measure} {self.total} on {self.completed_on}"
