"""Supervision (seed 003): relationships, sessions and the case decisions they take.

Sessions and decisions are clinical history: append-only, corrected by marking a row entered in error.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from common.permissions import sees_whole_team


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


class Decision(models.TextChoices):
    """What supervision decided for one case (seed 003: step up, discharge, refer on, risk)."""

    CONTINUE = "continue", "Continue at the current step"
    STEP_UP = "step_up", "Step up"
    STEP_DOWN = "step_down", "Step down"
    DISCHARGE = "discharge", "Discharge"
    REFER_ON = "refer_on", "Refer on to another service"
    RISK_PLAN = "risk_plan", "Risk plan agreed"
    OTHER = "other", "Other"


class SupervisionSessionQuerySet(models.QuerySet):
    def valid(self):
        return self.filter(entered_in_error=False)

    def visible_to(self, user):
        """Sessions the user took part in; managers and administrators see their team's."""
        if not user or not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        if user.team_id is None:
            return self.none()
        if sees_whole_team(user):
            return self.filter(team_id=user.team_id)
        return self.filter(
            Q(supervisor=user) | Q(pk__in=SessionAttendance.objects.filter(supervisee=user).values("session"))
        )


class SupervisionSession(models.Model):
    """One supervision session. Append-only: a wrong record is marked entered in error, never edited."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("stepped_care.Team", on_delete=models.PROTECT, related_name="supervision_sessions")
    kind = models.CharField(max_length=30, choices=SupervisionType.choices)
    date = models.DateField()
    minutes = models.PositiveSmallIntegerField(help_text="Length of the session")
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="supervision_sessions_given"
    )
    supervisees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="SessionAttendance", related_name="supervision_sessions_received"
    )
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    signed_off_at = models.DateTimeField(null=True, blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entered_in_error = models.BooleanField(default=False)
    error_reason = models.TextField(blank=True)

    objects = SupervisionSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-created_at"]
        indexes = [models.Index(fields=["team", "date"]), models.Index(fields=["supervisor", "date"])]
        constraints = [
            models.CheckConstraint(condition=Q(minutes__gte=1, minutes__lte=600), name="session_minutes_plausible"),
            models.CheckConstraint(
                condition=~Q(entered_in_error=True) | ~Q(error_reason=""), name="session_error_needs_reason"
            ),
            models.CheckConstraint(
                condition=Q(signed_off_at__isnull=True, signed_off_by__isnull=True)
                | Q(signed_off_at__isnull=False, signed_off_by__isnull=False),
                name="sign_off_has_who_and_when",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.date:%d %b %Y}"

    @property
    def signed_off(self):
        return self.signed_off_at is not None


class SessionAttendance(models.Model):
    """A supervisee present at a session (clinical skills groups hold up to twelve)."""

    session = models.ForeignKey(SupervisionSession, on_delete=models.PROTECT, related_name="attendance")
    supervisee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "supervisee"], name="one_attendance_per_supervisee")]
        indexes = [models.Index(fields=["supervisee", "session"])]

    def __str__(self):
        return f"{self.supervisee_id} at {self.session_id}"


class CaseDecisionQuerySet(models.QuerySet):
    def valid(self):
        """Decisions that stand: neither they nor their session were entered in error."""
        return self.filter(entered_in_error=False, session__entered_in_error=False)


class CaseDecision(models.Model):
    """What a supervision session decided for one referral, and what the system did about it.

    Append-only: a correction marks this row entered in error and adds a new one that ``corrects`` it.
    Actions already taken (a step change, a discharge) are clinical history of their own and stay.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(SupervisionSession, on_delete=models.PROTECT, related_name="decisions")
    referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="supervision_decisions")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    notes = models.TextField(blank=True)
    to_step = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The new step of a step change")
    end_code = models.CharField(max_length=2, blank=True, help_text="Referral end code of a discharge or referral on")
    reasons = models.JSONField(default=list, blank=True, help_text="Why the case was on the list when discussed")
    step_assignment = models.ForeignKey(
        "stepped_care.StepAssignment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    flags_resolved = models.ManyToManyField(
        "stepped_care.ReviewFlag", blank=True, related_name="+", help_text="Flags this decision accepted or dismissed"
    )
    corrects = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrected_by"
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    entered_in_error = models.BooleanField(default=False)
    error_reason = models.TextField(blank=True)

    objects = CaseDecisionQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["referral", "created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "referral"],
                condition=Q(entered_in_error=False),
                name="one_decision_per_case_and_session",
            ),
            models.CheckConstraint(
                condition=~Q(entered_in_error=True) | ~Q(error_reason=""), name="decision_error_needs_reason"
            ),
            models.CheckConstraint(
                condition=Q(to_step__isnull=True) | Q(to_step__gte=1, to_step__lte=5),
                name="decision_step_between_1_and_5",
            ),
        ]

    def __str__(self):
        return f"{self.get_decision_display()} ({self.session.date:%d %b %Y})"
