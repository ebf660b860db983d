"""Staff and teams, the step a referral sits on, review flags and the audit trail."""

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Case, F, IntegerField, Q, Value, When

from common.roles import CLINICAL_ROLES, LOW_INTENSITY_ROLES, MANAGEMENT_ROLES, Role

__all__ = ["CLINICAL_ROLES", "LOW_INTENSITY_ROLES", "MANAGEMENT_ROLES", "Role"]  # re-exported for the models' users


class Team(models.Model):
    """A Talking Therapies service (e.g. "Talking Matters Sefton"); staff and referrals belong to one."""

    name = models.CharField(max_length=200, unique=True)
    code = models.CharField(max_length=20, unique=True, help_text="Short code or ODS code")
    require_two_factor = models.BooleanField(
        default=False, help_text="Require two-factor sign-in for managers and administrators"
    )
    review_parameters = models.JSONField(
        default=dict, blank=True, help_text="Overrides of the review rule parameters for this team"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Staff(AbstractUser):
    """A member of staff: clinician, manager or administrator."""

    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="staff")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.PWP)
    is_supervisor = models.BooleanField(default=False, help_text="Supervises other staff")

    class Meta:
        verbose_name = "staff member"
        verbose_name_plural = "staff"
        ordering = ["last_name", "first_name", "username"]

    def __str__(self):
        return self.get_full_name() or self.username

    # Facts about the role, not rights: who may do what is decided in common.permissions.
    @property
    def is_clinician(self):
        return self.role in CLINICAL_ROLES

    @property
    def is_manager(self):
        return self.role == Role.MANAGER

    @property
    def is_administrator(self):
        return self.role == Role.ADMINISTRATOR


class Step(models.IntegerChoices):
    PREVENTION = 1, "Step 1: prevention and promotion"
    LOW_INTENSITY = 2, "Step 2: low intensity"
    HIGH_INTENSITY = 3, "Step 3: high intensity"
    SPECIALIST = 4, "Step 4: secondary and specialist"
    INPATIENT = 5, "Step 5: specialist and inpatient"


class StepSource(models.TextChoices):
    ASSESSMENT = "assessment", "Assessment"
    CLINICIAN = "clinician", "Clinician decision"
    REVIEW_FLAG = "review_flag", "Review flag"
    SUPERVISION = "supervision", "Supervision decision"


class StepAssignment(models.Model):
    """One period on a step. Append-only: a change ends the open row and adds a new one."""

    referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="steps")
    step = models.PositiveSmallIntegerField(choices=Step.choices)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    reason = models.TextField()
    source = models.CharField(max_length=20, choices=StepSource.choices, default=StepSource.CLINICIAN)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    flag = models.ForeignKey("ReviewFlag", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["started_on", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["referral"], condition=Q(ended_on__isnull=True), name="one_open_step_per_referral"
            ),
            models.CheckConstraint(condition=Q(step__gte=1, step__lte=5), name="step_between_1_and_5"),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="step_ends_after_it_starts",
            ),
        ]

    def __str__(self):
        return f"Step {self.step} from {self.started_on}"


class FlagRule(models.TextChoices):
    RISK = "risk", "Risk"
    DETERIORATION = "deterioration", "Reliable deterioration"
    NOT_IMPROVING = "not_improving", "Not improving"
    RECOVERED = "recovered", "Recovered"
    DISENGAGING = "disengaging", "Disengaging"
    REVIEW_OVERDUE = "review_overdue", "Review overdue"
    LONG_WAIT = "long_wait", "Long wait"
    NOT_ON_TRACK = "not_on_track", "Not on track"


class Recommendation(models.TextChoices):
    STEP_UP = "step_up", "Consider stepping up"
    STEP_DOWN = "step_down", "Consider stepping down"
    STEP_OUT = "step_out", "Consider stepping out"
    REVIEW = "review", "Review"
    RISK = "risk", "Urgent risk review"


class Severity(models.TextChoices):
    RED = "red", "Red"
    AMBER = "amber", "Amber"
    GREEN = "green", "Green"


class FlagStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    DISMISSED = "dismissed", "Dismissed"
    CLEARED = "cleared", "Closed: condition cleared"


# The one order of a list of flags, most urgent first: risk before anything else, then red, amber,
# green, then the longest open first (it has waited longest for a decision). The caseload, the
# referral page, the supervision list and the API all read flags through ``risk_first()``.
URGENCY = (
    Case(When(rule=FlagRule.RISK, then=Value(0)), default=Value(1), output_field=IntegerField()),
    Case(
        When(severity=Severity.RED, then=Value(0)),
        When(severity=Severity.AMBER, then=Value(1)),
        When(severity=Severity.GREEN, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    ),
    F("raised_at").asc(),
    F("id").asc(),
)


class ReviewFlagQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=FlagStatus.OPEN)

    def risk_first(self):
        """Most urgent first (``URGENCY``): the order every list of flags is shown in."""
        return self.order_by(*URGENCY)


def rule_rank(rule):
    """Where a rule's row goes in a table of flags by rule: risk first, then the rules' own order."""
    rules = list(FlagRule.values)
    return (rule != FlagRule.RISK, rules.index(rule) if rule in rules else len(rules))


class ReviewFlag(models.Model):
    """An explainable finding of the review rules: which rule, what it recommends, and the evidence."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="flags")
    rule = models.CharField(max_length=30, choices=FlagRule.choices)
    recommendation = models.CharField(max_length=20, choices=Recommendation.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    explanation = models.TextField(blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    raised_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution_note = models.TextField(blank=True)
    # The occurrence of the condition (e.g. the date of the PHQ-9 that raised it): a flag resolved by a
    # clinician is not raised again for the same episode. The digest changes when the finding does.
    episode = models.CharField(max_length=100, blank=True)
    digest = models.CharField(max_length=32, blank=True, editable=False)
    updated_at = models.DateTimeField(null=True, blank=True, help_text="When a review last changed the finding")

    objects = ReviewFlagQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "rule"], condition=Q(status="open"), name="one_open_flag_per_referral_rule"
            )
        ]
        indexes = [models.Index(fields=["status", "rule"])]

    def __str__(self):
        return f"{self.get_rule_display()} ({self.get_status_display()})"
