"""API representations of patients, referrals and contacts. Writes go through referrals.services."""

from rest_framework import serializers

from stepped_care.api_fields import LabelField, ScopedRelatedField, ScopedStaffField, answers_field
from stepped_care.models import Staff, Step, StepAssignment

from .codes import EndCode, LongTermCondition
from .models import CareContact, Patient, Referral
from .validators import normalise_nhs_number, validate_nhs_number


def _visible_patients(user):
    return Patient.objects.visible_to(user)


def _visible_referrals(user):
    return Referral.objects.visible_to(user)


def _team_clinicians(user):
    if user is None or not user.is_authenticated:
        return Staff.objects.none()
    return Staff.objects.filter(team_id=user.team_id, is_active=True)


class PatientSerializer(serializers.ModelSerializer):
    nhs_number = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=14,
        help_text="Ten digits with a valid Modulus 11 check digit; optional for self-referrals",
    )
    long_term_conditions = serializers.ListField(
        child=serializers.ChoiceField(choices=LongTermCondition.choices), required=False
    )

    class Meta:
        model = Patient
        fields = [
            "id",
            "nhs_number",
            "given_name",
            "family_name",
            "date_of_birth",
            "phone",
            "email",
            "address",
            "postcode",
            "gp_practice",
            "long_term_conditions",
            "version",
        ]
        read_only_fields = ["id", "version"]

    def validate_nhs_number(self, value):
        if not value:
            return None
        validate_nhs_number(value)
        value = normalise_nhs_number(value)
        if Patient.objects.filter(nhs_number=value).exists():
            raise serializers.ValidationError("A patient with this NHS number is already registered.")
        return value


class StepSerializer(serializers.ModelSerializer):
    step_display = LabelField("step")
    source_display = LabelField("source")
    decided_by = serializers.StringRelatedField()

    class Meta:
        model = StepAssignment
        fields = [
            "id",
            "step",
            "step_display",
            "started_on",
            "ended_on",
            "reason",
            "source",
            "source_display",
            "decided_by",
            "flag",
        ]
        read_only_fields = fields


class StepChangeSerializer(serializers.Serializer):
    step = serializers.ChoiceField(choices=Step.choices)
    reason = serializers.CharField(max_length=2000)
    version = serializers.IntegerField(required=False, help_text="The referral version you read; stale → 409")


class DischargeSerializer(serializers.Serializer):
    end_code = serializers.ChoiceField(choices=EndCode.choices)
    discharged_on = serializers.DateField(required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    version = serializers.IntegerField(required=False, help_text="The referral version you read; stale → 409")


class AllocateSerializer(serializers.Serializer):
    care_coordinator = ScopedStaffField(_team_clinicians)
    version = serializers.IntegerField(required=False)


class ReferralSerializer(serializers.ModelSerializer):
    patient = ScopedRelatedField(_visible_patients)
    care_coordinator = ScopedRelatedField(_team_clinicians, required=False, allow_null=True)
    source_display = LabelField("source")
    presenting_problem_display = LabelField("presenting_problem")
    status_display = LabelField("status")
    end_code_display = LabelField("end_code")

    class Meta:
        model = Referral
        fields = [
            "id",
            "patient",
            "team",
            "received_on",
            "source",
            "source_display",
            "presenting_problem",
            "presenting_problem_display",
            "status",
            "status_display",
            "care_coordinator",
            "ltc_pathway",
            "current_step",
            "discharged_on",
            "end_code",
            "end_code_display",
            "version",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "team",
            "status",
            "current_step",
            "discharged_on",
            "end_code",
            "version",
            "created_at",
        ]
        extra_kwargs = {"source": {"required": True}, "presenting_problem": {"required": True}}


class ContactSerializer(serializers.ModelSerializer):
    referral = ScopedRelatedField(_visible_referrals)
    clinician = ScopedRelatedField(_team_clinicians, required=False)
    appointment_type_display = LabelField("appointment_type")
    attendance_display = LabelField("attendance")
    mechanism_display = LabelField("mechanism")
    therapy_mode_display = LabelField("therapy_mode")
    phq9 = answers_field(9, 3, "PHQ-9 answers, items 1 to 9, each 0 to 3")
    gad7 = answers_field(7, 3, "GAD-7 answers, items 1 to 7, each 0 to 3")
    wsas = answers_field(5, 8, "WSAS answers, items 1 to 5, each 0 to 8")
    version = serializers.IntegerField(
        required=False, write_only=True, help_text="The referral version you read; stale → 409"
    )

    class Meta:
        model = CareContact
        fields = [
            "id",
            "referral",
            "clinician",
            "date",
            "time",
            "appointment_type",
            "appointment_type_display",
            "attendance",
            "attendance_display",
            "mechanism",
            "mechanism_display",
            "therapy_mode",
            "therapy_mode_display",
            "duration_minutes",
            "group_participants",
            "group_facilitators",
            "ltc_service",
            "notes",
            "homework",
            "risk_note",
            "phq9",
            "gad7",
            "wsas",
            "entered_in_error",
            "error_reason",
            "created_at",
            "version",
        ]
        read_only_fields = ["id", "entered_in_error", "error_reason", "created_at"]
        extra_kwargs = {"ltc_service": {"required": False, "allow_null": True}}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        valid = {q.measure: q for q in instance.questionnaires.all() if not q.entered_in_error}
        for field, measure in (("phq9", "PHQ9"), ("gad7", "GAD7"), ("wsas", "WSAS")):
            data[field] = valid[measure].items if measure in valid else None
        return data


class ContactErrorSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class OutcomeSerializer(serializers.Serializer):
    """The paired outcome of a referral (first and last scores). ``null`` where it does not apply."""

    phq9_first = serializers.IntegerField(allow_null=True)
    phq9_last = serializers.IntegerField(allow_null=True)
    gad7_first = serializers.IntegerField(allow_null=True)
    gad7_last = serializers.IntegerField(allow_null=True)
    phq9_last_severity = serializers.CharField(allow_null=True)
    gad7_last_severity = serializers.CharField(allow_null=True)
    computable = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True)
    caseness_at_start = serializers.BooleanField(allow_null=True)
    recovered = serializers.BooleanField(allow_null=True)
    reliable_improvement = serializers.BooleanField(allow_null=True)
    reliable_deterioration = serializers.BooleanField(allow_null=True)
    no_reliable_change = serializers.BooleanField(allow_null=True)
    reliable_recovery = serializers.BooleanField(allow_null=True)
    finished_treatment = serializers.BooleanField()
    attended_treatment_contacts = serializers.IntegerField()
    ended = serializers.BooleanField()
    summary = serializers.CharField()
