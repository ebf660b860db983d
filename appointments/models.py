"""Clinicians' diaries: working patterns, leave, appointments.

Double booking of a clinician is refused by the database: on PostgreSQL an exclusion constraint
(btree_gist) on clinician and the appointment's time range among live appointments (migration 0002);
``services`` checks the same overlap first so SQLite (tests, development) refuses it too.
"""

import uuid

from django.conf import settings
from django.db import models

from referrals.codes import AppointmentType, Attendance, Mechanism


class Location(models.TextChoices):
    REMOTE = "remote", "Remote"
    ROOM = "room", "Room"


class WorkingPattern(models.Model):
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="working_patterns")
    team = models.ForeignKey("stepped_care.Team", on_delete=models.PROTECT, related_name="+")
    weekday = models.PositiveSmallIntegerField(help_text="ISO weekday, 1 = Monday")
    start = models.TimeField()
    end = models.TimeField()
    location = models.CharField(max_length=6, choices=Location.choices, default=Location.ROOM)
    room = models.CharField(max_length=100, blank=True)
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="pattern_end_after_start"),
            models.CheckConstraint(condition=models.Q(weekday__gte=1, weekday__lte=7), name="pattern_iso_weekday"),
        ]

    def __str__(self):
        return f"{self.weekday} {self.start}-{self.end}"

    @property
    def weekday_name(self):
        return ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")[self.weekday - 1]


GROUP = "GR"  # a group session's length: not a data-set appointment type (a group contact is treatment, mode group)
LENGTH_TYPES = [*AppointmentType.choices, (GROUP, "Group session")]


class AppointmentLength(models.Model):
    team = models.ForeignKey("stepped_care.Team", on_delete=models.PROTECT, related_name="+")
    appointment_type = models.CharField(max_length=2, choices=LENGTH_TYPES)
    minutes = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "appointment_type"], name="one_length_per_type")]

    def __str__(self):
        return f"{self.appointment_type}: {self.minutes} min"


class Leave(models.Model):
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="leave")
    starts_on = models.DateField()
    ends_on = models.DateField()
    cover = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="covering"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")), name="leave_ends_after")
        ]

    def __str__(self):
        return f"leave {self.starts_on} to {self.ends_on}"


class Appointment(models.Model):
    """A clinician's booked time: one-to-one with a referral, or (``course_session``, no referral) a
    group course's session held in a facilitator's diary. Both are rows of this one table, so the one
    exclusion constraint refuses any overlap of a clinician's time and the free slots leave both out."""

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        DONE = "done", "Outcome recorded"
        CANCELLED = "cancelled", "Cancelled"

    class CancelReason(models.TextChoices):
        PATIENT = "patient", "Cancelled by the patient"
        PROVIDER = "provider", "Cancelled by the provider"
        RESCHEDULED = "rescheduled", "Rescheduled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # in URLs: reveals no count
    referral = models.ForeignKey(
        "referrals.Referral", null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    # A facilitator's time for a group session (workshops' register records attendance, not this row).
    course_session = models.ForeignKey(
        "workshops.CourseSession", null=True, blank=True, on_delete=models.PROTECT, related_name="diary_blocks"
    )
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    appointment_type = models.CharField(max_length=2, choices=AppointmentType.choices)
    mechanism = models.CharField(max_length=2, choices=Mechanism.choices, default=Mechanism.FACE_TO_FACE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    cancel_reason = models.CharField(max_length=12, choices=CancelReason.choices, blank=True)
    cancel_note = models.TextField(blank=True)
    attendance = models.CharField(max_length=1, choices=Attendance.choices, blank=True)
    contact = models.OneToOneField(
        "referrals.CareContact", null=True, blank=True, on_delete=models.PROTECT, related_name="appointment"
    )
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["clinician", "starts_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="appt_ends_after"),
            models.CheckConstraint(
                condition=models.Q(referral__isnull=False, course_session__isnull=True)
                | models.Q(referral__isnull=True, course_session__isnull=False),
                name="appt_referral_or_group_session",
            ),
            models.UniqueConstraint(
                fields=["course_session", "clinician"],
                condition=models.Q(course_session__isnull=False) & ~models.Q(status="cancelled"),
                name="one_live_block_per_facilitator_session",
            ),
        ]

    def __str__(self):
        return f"appointment {self.starts_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"

    @property
    def is_group(self):
        return self.course_session_id is not None


class GroupReminder(models.Model):
    """One enrolled patient reminded of one group session: the row is the once-only claim (unique), made
    before the message is sent, as ``Appointment.reminder_sent_at`` is for a one-to-one appointment."""

    session = models.ForeignKey("workshops.CourseSession", on_delete=models.PROTECT, related_name="+")
    enrolment = models.ForeignKey("workshops.Enrolment", on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "enrolment"], name="one_reminder_per_session_place")]

    def __str__(self):
        return f"reminder of {self.enrolment_id} for session {self.session_id}"


class CalendarFeed(models.Model):
    """A clinician's secret calendar address: a random token (regenerable), kept as its hash only, so the
    feed's address cannot be read back from the database; the page shows it once, when it is made."""

    clinician = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"calendar feed of {self.clinician}"
