"""Questionnaire responses (every item stored) and the per-referral outcome summary."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.db.models.lookups import Exact

from .fields import JSONArrayLength, ScoreField
from .scoring import INSTRUMENTS, MEAN, NO_MISSING, PHQ9, RISK_ITEM

# Every measure of the measures table, e.g. ("SPIN", "SPIN: Social Phobia Inventory").
Measure = models.TextChoices(
    "Measure", [(code, (code, f"{inst.name}: {inst.title}")) for code, inst in INSTRUMENTS.items()]
)


def _item_constraints():
    """What the database itself defends, per measure of the measures table: a known measure, the number
    of item answers, each answer in the measure's range (empty only where the measure allows a skipped
    item), the score in the measure's range and, for a plain sum, the score equal to the sum.

    One constraint of each kind, each an OR over the measures, rather than one per measure: adding a
    constraint checks every row (and rebuilds the table on SQLite), so fewer constraints migrate faster.
    """
    valid, summed = Q(), Q()
    for code, inst in INSTRUMENTS.items():
        rule = Q(Exact(JSONArrayLength("items"), inst.item_count), total__gte=inst.total_min, total__lte=inst.total_max)
        for index in range(inst.item_count):
            answered = Q(**{f"items__{index}__gte": inst.item_min, f"items__{index}__lte": inst.item_max})
            rule &= answered if inst.missing == NO_MISSING else (Q(**{f"items__{index}": None}) | answered)
        valid |= Q(measure=code) & rule
        if inst.item_count and inst.scoring != MEAN and inst.missing == NO_MISSING and not inst.reverse_items:
            items = [Cast(KeyTextTransform(str(i), "items"), models.IntegerField()) for i in range(inst.item_count)]
            summed |= Q(measure=code, total=sum(items[1:], items[0]))
        else:
            summed |= Q(measure=code)
    return [
        models.CheckConstraint(condition=valid, name="questionnaire_items_in_range"),
        models.CheckConstraint(condition=summed, name="questionnaire_total_is_sum"),
    ]


class Source(models.TextChoices):
    """Who completed the questionnaire: at a contact with the clinician, or the patient on their own
    (the self-referral form, a questionnaire link). National outcomes count both (IDS606)."""

    CLINICIAN = "clinician", "At a contact"
    PATIENT = "patient", "Completed by the patient"


class QuestionnaireResponse(models.Model):
    """One completed questionnaire at one contact, or completed by the patient on their own (no contact,
    no member of staff: ``source`` says so), with every item answer. Corrections mark it entered in error.

    ``items`` holds the answers in item order (``null`` for an item skipped where the measure allows it);
    ``total`` is the score as the data set records it (a sum, or the Mobility Inventory's mean to 2 decimals).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # in URLs: reveals no count
    contact = models.ForeignKey(
        "referrals.CareContact", null=True, blank=True, on_delete=models.PROTECT, related_name="questionnaires"
    )
    referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="questionnaires")
    measure = models.CharField(max_length=16, choices=Measure.choices)
    completed_on = models.DateField()
    items = models.JSONField(default=list, blank=True)
    total = ScoreField()
    entered_in_error = models.BooleanField(default=False)
    error_reason = models.TextField(blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.CLINICIAN)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["completed_on", "created_at"]
        constraints = [
            # A measure of the measures table only: an unknown code would escape every item rule.
            models.CheckConstraint(condition=Q(measure__in=Measure.values), name="questionnaire_measure_known"),
            *_item_constraints(),
            # A clinician's score belongs to a contact and to who typed it; only a patient's has neither.
            models.CheckConstraint(
                condition=Q(source="patient") | Q(contact__isnull=False, created_by__isnull=False),
                name="questionnaire_contact_unless_patient",
            ),
            models.CheckConstraint(
                condition=Q(source="clinician") | Q(source="patient", contact__isnull=True),
                name="questionnaire_source_known",
            ),
            models.UniqueConstraint(
                fields=["contact", "measure"],
                condition=Q(entered_in_error=False),
                name="one_valid_response_per_contact_and_measure",
            ),
        ]
        indexes = [
            models.Index(fields=["referral", "measure", "completed_on"]),
            # The review engine reads the patient's own scores beside the contacts: a few rows of millions.
            models.Index(
                fields=["referral", "completed_on"], condition=Q(source="patient"), name="questionnaire_by_patient"
            ),
        ]

    def __str__(self):
        return f"{self.get_measure_display()} {self.score_display} on {self.completed_on}"

    @property
    def instrument(self):
        return INSTRUMENTS[self.measure]

    @property
    def score_display(self):
        return self.instrument.format(self.total)

    @property
    def completed_by_patient(self):
        return self.source == Source.PATIENT

    @property
    def item_9(self):
        """PHQ-9 item 9 (the risk item); None for other measures."""
        return self.items[RISK_ITEM - 1] if self.measure == PHQ9 and len(self.items) >= RISK_ITEM else None


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
    anxiety_measure = models.CharField(
        max_length=16, blank=True, default="", help_text="The anxiety measure in use (an ADSM or GAD7); empty if none"
    )
    anxiety_first = ScoreField(null=True)
    anxiety_last = ScoreField(null=True)
    adsm = models.CharField(
        max_length=16, blank=True, default="", help_text="The ADSM the presenting problem calls for; empty if none"
    )
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
    computable = models.BooleanField(default=False, help_text="Assessed: paired PHQ-9 and anxiety scores exist")
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

    @property
    def anxiety_name(self):
        return INSTRUMENTS[self.anxiety_measure].name if self.anxiety_measure in INSTRUMENTS else None

    @property
    def anxiety_first_display(self):
        return INSTRUMENTS[self.anxiety_measure].format(self.anxiety_first) if self.anxiety_name else ""

    @property
    def anxiety_last_display(self):
        return INSTRUMENTS[self.anxiety_measure].format(self.anxiety_last) if self.anxiety_name else ""


class TrajectoryFit(models.Model):
    """One fit of a team's expected recovery curves (``outcomes.trajectories``), kept as data: which
    method, over how many finished courses ending when, and its cells. The newest fit of a team is the
    one the review rule and the charts compare with; older fits stay for the record and validation."""

    team = models.ForeignKey("stepped_care.Team", on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField(help_text="1 for the team's first fit, then 2, 3 ...")
    method = models.CharField(max_length=40)
    min_n = models.PositiveIntegerField(help_text="Cells with fewer finished courses were left out")
    max_session = models.PositiveSmallIntegerField()
    courses = models.PositiveIntegerField(help_text="Finished courses the fit rests on (N)")
    scores = models.PositiveIntegerField(default=0, help_text="Scores at sessions 2 and later in the fitted cells")
    ended_from = models.DateField(null=True, help_text="The earliest end date of the courses fitted")
    ended_to = models.DateField(null=True, help_text="The latest end date of the courses fitted")
    held_out_from = models.DateField(null=True, blank=True, help_text="Courses ending on or after this were held out")
    fitted_at = models.DateTimeField()
    seconds = models.FloatField(default=0, help_text="How long the fit took")

    class Meta:
        ordering = ["team", "-version"]
        constraints = [models.UniqueConstraint(fields=["team", "version"], name="one_trajectory_fit_per_version")]

    def __str__(self):
        return f"{self.method} v{self.version} (N = {self.courses})"


class TrajectoryCell(models.Model):
    """One (measure, intake band, session) of a fit: N and the percentiles ``trajectories.PERCENTILES``."""

    fit = models.ForeignKey(TrajectoryFit, on_delete=models.CASCADE, related_name="cells")
    measure = models.CharField(max_length=16, choices=Measure.choices)
    band = models.PositiveSmallIntegerField(help_text="Index of the intake band (trajectories.bands)")
    session = models.PositiveSmallIntegerField()
    n = models.PositiveIntegerField()
    values = models.JSONField(help_text="The 50th, 55th ... 95th percentiles, in that order")

    class Meta:
        ordering = ["fit", "measure", "band", "session"]
        constraints = [
            models.UniqueConstraint(fields=["fit", "measure", "band", "session"], name="one_trajectory_cell_per_key"),
            models.CheckConstraint(condition=Q(measure__in=Measure.values), name="trajectory_cell_measure_known"),
        ]

    def __str__(self):
        return f"{self.measure} band {self.band} session {self.session} (N = {self.n})"
