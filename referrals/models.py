"""Patients, their referrals (the spine of the record) and care contacts (sessions)."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from outcomes.problems import ICD10

from .codes import (
    WAITING_STATUSES,
    AppointmentType,
    Attendance,
    EndCode,
    LongTermCondition,
    Mechanism,
    PresentingProblem,
    ReferralSource,
    ReferralStatus,
    Significance,
    TherapyMode,
    TherapyType,
)
from .queries import CareContactQuerySet, PatientQuerySet, ReferralQuerySet
from .validators import validate_nhs_number

PROBLEM_CODES = [(code, f"{code} {title}") for code, (title, _) in ICD10.items()]
DESCRIPTOR_CODES = {}
for _code, (_title, _descriptor) in ICD10.items():
    DESCRIPTOR_CODES.setdefault(_descriptor, []).append(_code)
DESCRIPTOR_CODES["other"] = [""]


def display_name(family_name, given_name):
    """How the app names a patient everywhere: "SURNAME, Given" (the family name in capitals first, as
    on NHS lists), so that a name read aloud or copied into a search box means one thing."""
    return f"{family_name.upper()}, {given_name}"


class Patient(models.Model):
    # Random ids: URLs reveal nothing about how many patients a service has.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    nhs_number = models.CharField(
        max_length=10,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_nhs_number],
        help_text="Ten digits; optional for self-referrals",
    )
    # Plausible bounds of these details (lengths, characters, age 0–120, list sizes): common/plausibility.py,
    # checked by referrals.services for the web and the API alike.
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    gp_practice = models.CharField(max_length=200, blank=True)
    long_term_conditions = models.JSONField(default=list, blank=True)
    team = models.ForeignKey("stepped_care.Team", on_delete=models.PROTECT, related_name="patients")
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(nhs_number__isnull=True) | Q(nhs_number__regex=r"^[0-9]{10}$"),
                name="nhs_number_ten_digits",
            )
        ]

    def __str__(self):
        return display_name(self.family_name, self.given_name)

    @property
    def long_term_condition_labels(self):
        labels = dict(LongTermCondition.choices)
        return [labels.get(code, code) for code in self.long_term_conditions]

    def clean(self):
        unknown = set(self.long_term_conditions or []) - set(LongTermCondition.values)
        if unknown:
            raise ValidationError({"long_term_conditions": f"Unknown condition codes: {sorted(unknown)}"})


class PatientRegistration(models.Model):
    """A team that registered a person already known to the service (issue 20.4).

    The person is the service's, referrals are the team's: ``Patient.team`` is the team that first
    registered them; each other team that registers the same NHS number and date of birth gets a row
    here, which lets it see the person's details and record its own referrals, never another team's."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="registrations")
    team = models.ForeignKey("stepped_care.Team", on_delete=models.PROTECT, related_name="+")
    # None: linked by the public self-referral form (the person gave their NHS number and date of birth).
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "patient"], name="patient_registered_once_per_team")]

    def __str__(self):
        return f"{self.patient_id} registered by team {self.team_id}"


class Referral(models.Model):
    """One episode of care; contacts, steps, flags and supervision discussions hang off it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="referrals")
    team = models.ForeignKey("stepped_care.Team", on_delete=models.PROTECT, related_name="referrals")
    received_on = models.DateField()  # from 2000 to today: common/plausibility.py
    source = models.CharField(max_length=10, choices=ReferralSource.choices, default=ReferralSource.SELF)
    presenting_problem = models.CharField(
        max_length=20, choices=PresentingProblem.choices, default=PresentingProblem.DEPRESSION
    )
    status = models.CharField(max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.AWAITING_ASSESSMENT)
    care_coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="coordinated"
    )
    ltc_pathway = models.BooleanField("long-term condition pathway", default=False)
    current_step = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    discharged_on = models.DateField(null=True, blank=True)
    end_code = models.CharField(max_length=2, choices=EndCode.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1, help_text="Incremented on every change; stale edits get 409")

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-received_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(discharged_on__isnull=True) | Q(discharged_on__gte=models.F("received_on")),
                name="discharge_not_before_referral",
            ),
            models.CheckConstraint(
                condition=~Q(status="discharged") | (Q(discharged_on__isnull=False) & ~Q(end_code="")),
                name="discharged_has_date_and_end_code",
            ),
        ]
        indexes = [
            models.Index(fields=["team", "status"]),
            models.Index(fields=["care_coordinator", "status"]),
            models.Index(fields=["team", "discharged_on"]),
            models.Index(fields=["team", "received_on"]),
            # The waiting list, longest wait first: a few thousand rows of a team's hundreds of thousands.
            models.Index(
                fields=["team", "received_on"],
                condition=Q(status__in=WAITING_STATUSES),
                name="referral_waiting_by_team",
            ),
        ]

    def __str__(self):
        return f"Referral of {self.patient} received {self.received_on:%d %b %Y}"

    @property
    def is_active(self):
        return self.status != ReferralStatus.DISCHARGED

    def move_to(self, status, by, note=""):
        """Set a new status and append its event to the referral's history (the caller saves the referral)."""
        if self.status == status:
            return
        ReferralEvent.objects.create(
            referral=self,
            kind=ReferralEvent.Kind.STATUS,
            from_value=self.get_status_display(),
            to_value=ReferralStatus(status).label,
            note=note,
            by=by,
        )
        self.status = status


class PresentingProblemRecord(models.Model):
    """One presenting problem of a referral as the data set keeps it (IDS603): an ICD-10 code, primary or
    secondary, with the date it was recorded. A history: a refined diagnosis is a new record, and the
    latest primary decides the anxiety measure (DOMAIN.md §2). ``problem`` is the code's problem
    descriptor; a referral carried over from before codes were recorded may have a descriptor alone."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="presenting_problems")
    code = models.CharField("ICD-10 code", max_length=8, blank=True, choices=PROBLEM_CODES)
    problem = models.CharField(max_length=20, choices=PresentingProblem.choices)
    significance = models.CharField(max_length=10, choices=Significance.choices, default=Significance.PRIMARY)
    recorded_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["recorded_on", "created_at"]
        indexes = [models.Index(fields=["referral", "recorded_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__in=list(ICD10)) | Q(code="", problem="other"), name="problem_code_listed"
            ),
            models.CheckConstraint(condition=Q(significance__in=Significance.values), name="problem_significance"),
            *[
                models.CheckConstraint(
                    condition=~Q(problem=descriptor) | Q(code__in=codes), name=f"problem_{descriptor}_codes"
                )
                for descriptor, codes in DESCRIPTOR_CODES.items()
            ],
        ]

    def __str__(self):
        return f"{self.code or self.get_problem_display()} ({self.significance}) from {self.recorded_on:%d %b %Y}"

    @property
    def title(self):
        return ICD10[self.code][0] if self.code in ICD10 else self.get_problem_display()


class ReferralEvent(models.Model):
    """Append-only history of a referral: status changes, allocation, discharge, review flags raised and closed."""

    class Kind(models.TextChoices):
        CREATED = "created", "Referral received"
        STATUS = "status", "Status changed"
        ALLOCATED = "allocated", "Allocated"
        DISCHARGED = "discharged", "Discharged"
        FLAG_RAISED = "flag_raised", "Review flag raised"
        FLAG_CLOSED = "flag_closed", "Review flag closed"

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_value = models.CharField(max_length=100, blank=True)
    to_value = models.CharField(max_length=100, blank=True)
    note = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.to_value}".strip()


class CareContact(models.Model):
    """A session (IDS201 care contact). Corrections mark it entered in error; nothing is deleted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="contacts")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contacts")
    date = models.DateField()
    time = models.TimeField(null=True, blank=True)
    appointment_type = models.CharField(max_length=2, choices=AppointmentType.choices)
    attendance = models.CharField(max_length=1, choices=Attendance.choices)
    mechanism = models.CharField(max_length=2, choices=Mechanism.choices, default=Mechanism.FACE_TO_FACE)
    therapy_mode = models.CharField(max_length=1, choices=TherapyMode.choices, default=TherapyMode.INDIVIDUAL)
    # The therapy delivered (IDS202 CodeProcAndProcStatus, SNOMED CT); None where nobody recorded it
    # (contacts logged before the field existed, assessments, non-attendance).
    therapy_type = models.CharField(max_length=18, choices=TherapyType.choices, null=True, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    group_participants = models.PositiveSmallIntegerField(null=True, blank=True)
    group_facilitators = models.PositiveSmallIntegerField(null=True, blank=True)
    ltc_service = models.BooleanField("LTC service", default=False)
    # Free text up to plausibility.NOTE_MAX characters, no control characters (common/plausibility.py).
    notes = models.TextField(blank=True)
    homework = models.TextField("homework set", blank=True)
    risk_note = models.TextField(blank=True, help_text="Required when PHQ-9 item 9 is above 0")
    entered_in_error = models.BooleanField(default=False)
    error_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = CareContactQuerySet.as_manager()

    class Meta:
        ordering = ["date", "time", "created_at"]
        indexes = [
            models.Index(fields=["referral", "date"]),
            # Covers caseload membership and "sessions this month" without touching the table (PostgreSQL).
            models.Index(
                fields=["clinician", "date"],
                include=["referral", "attendance", "entered_in_error"],
                name="contact_clinician_date_cover",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(entered_in_error=True) | ~Q(error_reason=""), name="error_needs_reason"
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__isnull=True) | Q(duration_minutes__lte=600),
                name="contact_duration_plausible",
            ),
            # The key a questionnaire's (contact, referral) points at (outcomes 0010, PostgreSQL): a score
            # cannot be filed under one referral while its contact belongs to another.
            models.UniqueConstraint(fields=["id", "referral"], name="contact_with_its_referral"),
        ]

    def __str__(self):
        return f"{self.get_appointment_type_display()} on {self.date:%d %b %Y}"

    @property
    def attended(self):
        return self.attendance in ("5", "6")

    @property
    def is_treatment(self):
        return self.appointment_type in ("02", "03", "05")


class SessionDraft(models.Model):
    """What a clinician has typed into the session form and not saved yet (issue 20.2): one per clinician
    per referral, kept on the server (never in a URL or the browser's storage), restored with a notice
    when they open the form again, deleted when the session is saved or the draft discarded, and
    purged after ``SESSION_DRAFT_DAYS`` (``referrals.tasks.purge_expired_session_drafts``). It holds
    patient data: only its author reaches it, and only through a referral they can still see."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="+")
    fields = models.JSONField(default=dict, help_text="The form's fields as posted: name → list of values")
    saved_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["author", "referral"], name="one_session_draft_per_author")]

    def __str__(self):
        return f"Draft of {self.author_id} for {self.referral_id} at {self.saved_at:%Y-%m-%d %H:%M}"
