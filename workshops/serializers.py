"""API representations of courses, enrolments and registers. Writes go through workshops.services."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.api_fields import LabelField, ScopedRelatedField, ScopedStaffField, answers_field
from referrals.codes import Attendance
from referrals.models import Referral
from stepped_care.queries import staff_of_users_team

from .codes import CourseStatus, WithdrawalReason
from .models import CourseSession, Enrolment, GroupCourse
from .presenters import figures


def _team_clinicians(user):
    return staff_of_users_team(user, clinical=True)


def _offerable_courses(user):
    return GroupCourse.objects.offerable_to(user)


def _visible_referrals(user):
    return Referral.objects.visible_to(user)


def _visible_sessions(user):
    return CourseSession.objects.visible_to(user)


@extend_schema_field(OpenApiTypes.INT)
class ScopedIdField(ScopedRelatedField):
    """A related record by integer id, among those the caller may see."""


class CourseSessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = CourseSession
        fields = ["id", "number", "date", "time"]
        read_only_fields = fields


class CourseScheduleSerializer(serializers.Serializer):
    date = serializers.DateField()
    time = serializers.TimeField(required=False, allow_null=True)


class CourseSerializer(serializers.ModelSerializer):
    facilitators = ScopedStaffField(_team_clinicians, many=True, help_text="Clinicians of your team")
    topic_display = LabelField("topic")
    step_display = LabelField("step")
    delivery_display = LabelField("delivery")
    status_display = LabelField("status")
    sessions = CourseSessionSerializer(many=True, read_only=True)
    schedule = CourseScheduleSerializer(many=True, write_only=True, help_text="The sessions' dates (and start times)")
    enrolled = serializers.IntegerField(read_only=True)
    places_left = serializers.SerializerMethodField()
    fill_rate = serializers.SerializerMethodField(help_text="Enrolled over capacity, 0 to 1")
    attendance_rate = serializers.SerializerMethodField(
        help_text="Places attended over places recorded on registers (service cancellations left out); null before any"
    )
    sessions_held = serializers.IntegerField(read_only=True)
    starts_on = serializers.DateField(read_only=True)
    ends_on = serializers.DateField(read_only=True)
    next_session_on = serializers.DateField(read_only=True)

    class Meta:
        model = GroupCourse
        fields = [
            "id",
            "team",
            "title",
            "topic",
            "topic_display",
            "step",
            "step_display",
            "facilitators",
            "capacity",
            "delivery",
            "delivery_display",
            "venue",
            "session_minutes",
            "status",
            "status_display",
            "sessions",
            "schedule",
            "enrolled",
            "places_left",
            "fill_rate",
            "attendance_rate",
            "sessions_held",
            "starts_on",
            "ends_on",
            "next_session_on",
            "created_at",
        ]
        read_only_fields = ["id", "team", "status", "created_at"]

    def get_places_left(self, course) -> int:
        return figures(course)["places_left"]

    def get_fill_rate(self, course) -> float | None:
        return figures(course)["fill_rate"]

    def get_attendance_rate(self, course) -> float | None:
        return figures(course)["attendance_rate"]


class CourseStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CourseStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class EnrolmentSerializer(serializers.ModelSerializer):
    course = ScopedRelatedField(_offerable_courses, help_text="An open course of your team")
    referral = ScopedRelatedField(_visible_referrals)
    withdrawal_reason_display = LabelField("withdrawal_reason")
    active = serializers.BooleanField(source="is_active", read_only=True)
    enrolled_on = serializers.DateField(required=False, help_text="Defaults to today")

    class Meta:
        model = Enrolment
        fields = [
            "id",
            "course",
            "referral",
            "enrolled_on",
            "active",
            "withdrawn_on",
            "withdrawal_reason",
            "withdrawal_reason_display",
            "withdrawal_note",
            "created_at",
        ]
        read_only_fields = ["id", "withdrawn_on", "withdrawal_reason", "withdrawal_note", "created_at"]

    def to_representation(self, instance):
        # The course field only scopes input; a withdrawn or finished course still reads as its id.
        data = super().to_representation(instance)
        data["course"] = instance.course_id
        return data


class EnrolmentWithdrawSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=WithdrawalReason.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    withdrawn_on = serializers.DateField(required=False, help_text="Defaults to today")


class RegisterRowSerializer(serializers.Serializer):
    enrolment = serializers.UUIDField(help_text="An enrolment due on this session's register")
    attendance = serializers.ChoiceField(choices=Attendance.choices)
    phq9 = answers_field(9, 3, "PHQ-9 answers, items 1 to 9, each 0 to 3; only when attended")
    gad7 = answers_field(7, 3, "GAD-7 answers, items 1 to 7, each 0 to 3; only when attended")
    risk_note = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Required when PHQ-9 item 9 is above 0"
    )


class TakeRegisterSerializer(serializers.Serializer):
    session = ScopedIdField(_visible_sessions, help_text="The course session (its id)")
    rows = RegisterRowSerializer(many=True, help_text="One row for every patient due on the register")


class RegisterEntrySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    contact = serializers.UUIDField()
    attendance = serializers.CharField()
    attendance_display = serializers.CharField()
    phq9_total = serializers.IntegerField(allow_null=True)
    gad7_total = serializers.IntegerField(allow_null=True)
    group_participants = serializers.IntegerField(allow_null=True)
    group_facilitators = serializers.IntegerField(allow_null=True)


class RegisterLineSerializer(serializers.Serializer):
    enrolment = serializers.UUIDField()
    referral = serializers.UUIDField()
    patient_name = serializers.CharField()
    entry = RegisterEntrySerializer(allow_null=True, help_text="null while the row is still to be registered")


class RegisterSerializer(serializers.Serializer):
    session = serializers.IntegerField()
    course = serializers.IntegerField()
    number = serializers.IntegerField()
    date = serializers.DateField()
    time = serializers.TimeField(allow_null=True)
    rows = RegisterLineSerializer(many=True)


class RegisterSummarySerializer(serializers.ModelSerializer):
    registered = serializers.IntegerField(read_only=True, help_text="Rows recorded so far")

    class Meta:
        model = CourseSession
        fields = ["id", "course", "number", "date", "time", "registered"]
        read_only_fields = fields


class RegisterCorrectionSerializer(serializers.Serializer):
    entry = serializers.UUIDField(help_text="The register entry (row) to mark entered in error")
    reason = serializers.CharField(max_length=2000)
