"""API shapes of appointments and working patterns. Related records are scoped to what the caller sees."""

from rest_framework import serializers

from common.api_fields import LabelField, ScopedRelatedField
from referrals.codes import AppointmentType, Mechanism
from referrals.models import Referral
from stepped_care.queries import staff_of_users_team

from .models import Appointment, Leave, Location, WorkingPattern
from .services import ONE_CLICK, SERIES_MAX


def _visible_referrals(user):
    return Referral.objects.visible_to(user)


def _team_staff(user):
    return staff_of_users_team(user)


class AppointmentSerializer(serializers.ModelSerializer):
    referral = ScopedRelatedField(_visible_referrals)
    clinician = ScopedRelatedField(_team_staff)
    appointment_type = serializers.ChoiceField(choices=AppointmentType.choices)
    mechanism = serializers.ChoiceField(choices=Mechanism.choices, default=Mechanism.FACE_TO_FACE)
    appointment_type_display = LabelField("appointment_type")
    status_display = LabelField("status")
    cancel_reason = serializers.CharField(
        read_only=True, help_text="patient, provider or rescheduled; empty unless cancelled"
    )
    attendance = serializers.CharField(
        read_only=True, help_text="The data-set attendance code once the outcome is recorded; else empty"
    )
    minutes = serializers.IntegerField(
        required=False,
        write_only=True,
        min_value=5,
        max_value=480,
        help_text="Length; the team's for the type if not given",
    )

    class Meta:
        model = Appointment
        fields = [
            "id",
            "referral",
            "clinician",
            "starts_at",
            "ends_at",
            "minutes",
            "appointment_type",
            "appointment_type_display",
            "mechanism",
            "status",
            "status_display",
            "cancel_reason",
            "cancel_note",
            "attendance",
            "contact",
            "reminder_sent_at",
            "version",
            "created_at",
        ]
        read_only_fields = [
            "ends_at",
            "status",
            "cancel_reason",
            "cancel_note",
            "attendance",
            "contact",
            "reminder_sent_at",
            "version",
            "created_at",
        ]


class CancelSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=[("patient", "By the patient"), ("provider", "By the provider")])
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")
    version = serializers.IntegerField(help_text="The version you read; stale → 409")


class RescheduleSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    version = serializers.IntegerField(help_text="The version you read; stale → 409")


OUTCOME_CHOICES = [(c.value, c.label) for c in ONE_CLICK]  # AppointmentOutcomeEnum in the schema


class OutcomeSerializer(serializers.Serializer):
    attendance = serializers.ChoiceField(
        choices=OUTCOME_CHOICES,
        help_text="Did not attend, cancelled, arrived late and not seen (an attended session is a contact: "
        "POST /contacts/ from the session form)",
    )


class SeriesSerializer(serializers.Serializer):
    count = serializers.IntegerField(min_value=1, max_value=SERIES_MAX)


class WorkingPatternSerializer(serializers.ModelSerializer):
    clinician = ScopedRelatedField(_team_staff)
    location = serializers.ChoiceField(choices=Location.choices, default=Location.ROOM)

    class Meta:
        model = WorkingPattern
        fields = ["id", "clinician", "weekday", "start", "end", "location", "room", "valid_from", "valid_until"]


class LeaveSerializer(serializers.ModelSerializer):
    clinician = ScopedRelatedField(_team_staff)
    cover = ScopedRelatedField(_team_staff, required=False, allow_null=True)

    class Meta:
        model = Leave
        fields = ["id", "clinician", "starts_on", "ends_on", "cover"]


class NoBodySerializer(serializers.Serializer):
    """An action that takes no body (withdraw leave, hold a course's sessions in the diaries)."""


class PatternEndSerializer(serializers.Serializer):
    valid_until = serializers.DateField(help_text="The last day of these hours")
