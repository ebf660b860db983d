"""Group workshops at steps 2 and 3 (seed 002): courses, their sessions, who is enrolled, and the
register that turns each session's attendance into care contacts of therapy mode "group"."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from .codes import CourseStatus, Delivery, GroupStep, Topic, WithdrawalReason
from .queries import CourseQuerySet, CourseSessionQuerySet, EnrolmentQuerySet, RegisterEntryQuerySet


class GroupCourse(models.Model):
    """One run of a workshop: a topic at a step, its facilitators, capacity and place."""

    team = models.ForeignKey("stepped_care.Team", on_delete=models.PROTECT, related_name="group_courses")
    title = models.CharField(max_length=200, help_text='e.g. "Stress control, Bootle library, spring"')
    topic = models.CharField(max_length=20, choices=Topic.choices)
    step = models.PositiveSmallIntegerField(choices=GroupStep.choices)
    facilitators = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="facilitated_courses")
    capacity = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(500)], help_text="Most patients enrolled at once"
    )
    delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.VENUE)
    venue = models.CharField(max_length=200, blank=True, help_text="Where it meets (required at a venue)")
    session_minutes = models.PositiveSmallIntegerField(
        default=90, validators=[MinValueValidator(1), MaxValueValidator(600)], help_text="Length of each session"
    )
    status = models.CharField(max_length=20, choices=CourseStatus.choices, default=CourseStatus.PLANNED)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = CourseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(step__in=[2, 3]), name="group_course_step_2_or_3"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="group_course_capacity_positive"),
            models.CheckConstraint(
                condition=Q(session_minutes__gte=1, session_minutes__lte=600), name="group_session_length_plausible"
            ),
            models.CheckConstraint(condition=~Q(delivery="venue") | ~Q(venue=""), name="group_course_venue_named"),
        ]
        indexes = [models.Index(fields=["team", "status"])]

    def __str__(self):
        return self.title

    @property
    def is_online(self):
        return self.delivery == Delivery.ONLINE

    @property
    def place(self):
        return self.venue if self.delivery == Delivery.VENUE else self.get_delivery_display()


class CourseSession(models.Model):
    """One meeting of a course; its register is taken once (corrections aside)."""

    course = models.ForeignKey(GroupCourse, on_delete=models.PROTECT, related_name="sessions")
    number = models.PositiveSmallIntegerField()
    date = models.DateField()
    time = models.TimeField(null=True, blank=True)

    objects = CourseSessionQuerySet.as_manager()

    class Meta:
        ordering = ["course", "number"]
        constraints = [
            models.UniqueConstraint(fields=["course", "number"], name="one_session_number_per_course"),
            models.CheckConstraint(condition=Q(number__gte=1), name="session_number_positive"),
        ]
        indexes = [models.Index(fields=["course", "date"])]

    def __str__(self):
        return f"Session {self.number} on {self.date:%d %b %Y}"


class Enrolment(models.Model):
    """A referral's place on a course. Withdrawal keeps the row, with the date and reason."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # in URLs: reveals no count
    course = models.ForeignKey(GroupCourse, on_delete=models.PROTECT, related_name="enrolments")
    referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="enrolments")
    enrolled_on = models.DateField()
    enrolled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    withdrawn_on = models.DateField(null=True, blank=True)
    withdrawal_reason = models.CharField(max_length=30, choices=WithdrawalReason.choices, blank=True)
    withdrawal_note = models.TextField(blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EnrolmentQuerySet.as_manager()

    class Meta:
        ordering = ["enrolled_on", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "referral"],
                condition=Q(withdrawn_on__isnull=True),
                name="one_active_enrolment_per_course_referral",
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_on__isnull=True) | ~Q(withdrawal_reason=""),
                name="withdrawal_needs_reason",
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gte=F("enrolled_on")),
                name="withdrawal_not_before_enrolment",
            ),
        ]
        indexes = [models.Index(fields=["referral", "withdrawn_on"])]

    def __str__(self):
        return f"{self.referral_id} on {self.course}"

    @property
    def is_active(self):
        return self.withdrawn_on is None


class RegisterEntry(models.Model):
    """Links one patient's row of a session register to the care contact it created."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # in URLs: reveals no count
    session = models.ForeignKey(CourseSession, on_delete=models.PROTECT, related_name="entries")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="entries")
    contact = models.OneToOneField("referrals.CareContact", on_delete=models.PROTECT, related_name="register_entry")
    entered_in_error = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = RegisterEntryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "register entries"
        ordering = ["session", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "enrolment"],
                condition=Q(entered_in_error=False),
                name="one_valid_register_entry_per_session_enrolment",
            )
        ]

    def __str__(self):
        return f"Register entry {self.pk} of {self.session}"
