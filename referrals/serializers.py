"""API representations of patients, referrals and contacts. Writes go through referrals.services."""

from rest_framework import serializers

from common import plausibility
from common.api_fields import LabelField, ScopedRelatedField, ScopedStaffField, answers_field
from outcomes.problems import CODES
from outcomes.serializers import QuestionnairesField, ScoreValueField
from stepped_care.models import Step, StepAssignment
from stepped_care.queries import staff_of_users_team

from .codes import EndCode, LongTermCondition, Significance
from .models import CareContact, Patient, PresentingProblemRecord, Referral
from .services import PATIENT_EDITABLE_FIELDS
from .validators import normalise_nhs_number, validate_nhs_number


def _visible_patients(user):
    return Patient.objects.visible_to(user)


def _visible_referrals(user):
    return Referral.objects.visible_to(user)


def _team_clinicians(user):
    return staff_of_users_team(user)


class PatientSerializer(serializers.ModelSerializer):
    nhs_number = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=14,
        help_text="Ten digits with a valid Modulus 11 check digit; optional for self-referrals",
    )
    long_term_conditions = serializers.ListField(
        child=serializers.ChoiceField(choices=LongTermCondition.choices),
        required=False,
        max_length=plausibility.MAX_LONG_TERM_CONDITIONS,
    )
    long_term_conditions_display = serializers.ListField(
        child=serializers.CharField(), source="long_term_condition_labels", read_only=True
    )

    class Meta:
        model = Patient
        fields = ["id", *PATIENT_EDITABLE_FIELDS, "long_term_conditions_display", "version", "created_at"]
        read_only_fields = ["id", "version", "created_at"]
        extra_kwargs = {"address": {"max_length": plausibility.ADDRESS_MAX}}

    def validate_nhs_number(self, value):
        if not value:
            return None
        validate_nhs_number(value)
        value = normalise_nhs_number(value)
        # A registration is matched by referrals.services.find_or_register_patient (the person may be
        # known to another team: that is not an error); a change of number must not take another's.
        if self.instance is not None and Patient.objects.filter(nhs_number=value).exclude(pk=self.instance.pk).exists():
            raise serializers.ValidationError("A patient with this NHS number is already registered.")
        return value


class PatientSearchSerializer(serializers.Serializer):
    """Identifying details to look a patient up by. They travel in a POST body, never in a URL, so that
    NHS numbers and names stay out of browser histories, proxies and access logs."""

    nhs_number = serializers.CharField(
        required=False, max_length=14, help_text="Ten digits with a valid check digit; spaces and dashes are ignored"
    )
    q = serializers.CharField(
        required=False,
        max_length=100,
        help_text='Name or NHS number as typed in the app\'s search box: "SURNAME, Given", "Given Surname", '
        '"943 476 5919" or its first digits',
    )
    family_name = serializers.CharField(required=False, max_length=100, help_text="The start of the family name")
    date_of_birth = serializers.DateField(required=False)

    def validate_nhs_number(self, value):
        validate_nhs_number(value)
        return normalise_nhs_number(value)

    def validate_q(self, value):
        value = value.strip()
        if not value:
            raise serializers.ValidationError("Type a name or an NHS number to search for.")
        return value

    def validate_family_name(self, value):
        value = value.strip()
        if not value:
            raise serializers.ValidationError("Type at least one letter of the family name.")
        return value

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(
                "Give an NHS number, a name, a family name or a date of birth to search by."
            )
        return attrs


class PatientUpdateSerializer(PatientSerializer):
    """A change of a patient's details. ``version`` is required: a stale one gets 409, never an overwrite."""

    version = serializers.IntegerField(help_text="The version you read; if it has changed since, the answer is 409")
    always_required = ("version",)

    class Meta(PatientSerializer.Meta):
        read_only_fields = ["id", "created_at"]


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
    started_on = serializers.DateField(
        required=False,
        help_text="The step's effective date (default today); not in the future, not before the referral, "
        "not before the current step began. The review rules count from it.",
    )
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
    patient_name = serializers.CharField(source="patient.__str__", read_only=True)
    care_coordinator = ScopedRelatedField(_team_clinicians, required=False, allow_null=True)
    care_coordinator_name = serializers.CharField(
        source="care_coordinator.__str__", read_only=True, default=None, allow_null=True
    )
    current_step_display = serializers.SerializerMethodField()
    source_display = LabelField("source")
    presenting_problem_display = LabelField("presenting_problem")
    status_display = LabelField("status")
    end_code = serializers.ChoiceField(
        choices=EndCode.choices, allow_blank=True, read_only=True, help_text="Empty until the referral is discharged"
    )
    end_code_display = LabelField("end_code")
    presenting_problem_code = serializers.CharField(
        required=False,
        write_only=True,
        max_length=10,
        help_text="ICD-10 code of the presenting problem (e.g. F40.1), when known: recorded as the first primary "
        "problem; presenting_problem then follows it. Codes: " + ", ".join(CODES),
    )

    class Meta:
        model = Referral
        fields = [
            "id",
            "patient",
            "patient_name",
            "team",
            "received_on",
            "source",
            "source_display",
            "presenting_problem",
            "presenting_problem_display",
            "presenting_problem_code",
            "status",
            "status_display",
            "care_coordinator",
            "care_coordinator_name",
            "ltc_pathway",
            "current_step",
            "current_step_display",
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

    def get_current_step_display(self, obj) -> str | None:
        return Step(obj.current_step).label if obj.current_step else None


class ContactSerializer(serializers.ModelSerializer):
    referral = ScopedRelatedField(_visible_referrals)
    clinician = ScopedRelatedField(_team_clinicians, required=False)
    appointment_type_display = LabelField("appointment_type")
    attendance_display = LabelField("attendance")
    mechanism_display = LabelField("mechanism")
    therapy_mode_display = LabelField("therapy_mode")
    therapy_type_display = LabelField("therapy_type", allow_null=True)
    phq9 = answers_field(9, 3, "PHQ-9 answers, items 1 to 9, each 0 to 3")
    gad7 = answers_field(7, 3, "GAD-7 answers, items 1 to 7, each 0 to 3")
    wsas = answers_field(5, 8, "WSAS answers, items 1 to 5, each 0 to 8")
    version = serializers.IntegerField(
        required=False, write_only=True, help_text="The referral version you read; stale → 409"
    )
    confirm_duplicate = serializers.BooleanField(
        required=False,
        default=False,
        write_only=True,
        help_text="true: save even though a contact of this type on this date is already recorded "
        "(without it the answer is 409 duplicate_contact naming that contact)",
    )
    questionnaires = QuestionnairesField(
        help_text='Write: questionnaires completed at the contact, [{"measure": "SPIN", "items": [...]}] with '
        "the codes of GET /api/v1/measures/. Read: each one with its score and severity band."
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
            "therapy_type",
            "therapy_type_display",
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
            "questionnaires",
            "entered_in_error",
            "error_reason",
            "created_at",
            "version",
            "confirm_duplicate",
        ]
        read_only_fields = ["id", "entered_in_error", "error_reason", "created_at"]
        extra_kwargs = {
            "ltc_service": {"required": False, "allow_null": True},
            **{field: {"max_length": plausibility.NOTE_MAX} for field in ("notes", "homework", "risk_note")},
        }

    def to_representation(self, instance):
        data = super().to_representation(instance)
        valid = {q.measure: q for q in instance.questionnaires.all() if not q.entered_in_error}
        for field, measure in (("phq9", "PHQ9"), ("gad7", "GAD7"), ("wsas", "WSAS")):
            data[field] = valid[measure].items if measure in valid else None
        return data


class ContactErrorSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class PresentingProblemSerializer(serializers.ModelSerializer):
    """A presenting problem (IDS603): ICD-10 code, primary or secondary, and the date it was recorded."""

    code = serializers.CharField(max_length=10, help_text="ICD-10 code, e.g. F40.1 (F401 is read as F40.1)")
    significance = serializers.ChoiceField(choices=Significance.choices)
    recorded_on = serializers.DateField(help_text="Not in the future, not before the referral was received")
    title = serializers.CharField(read_only=True, help_text="The ICD-10 title")
    problem_display = LabelField("problem")
    recorded_by = serializers.CharField(
        source="created_by", read_only=True, allow_null=True, help_text="Who recorded it (null: carried over)"
    )
    version = serializers.IntegerField(required=False, write_only=True, help_text="The referral version you read")

    class Meta:
        model = PresentingProblemRecord
        fields = [
            "id",
            "code",
            "title",
            "problem",
            "problem_display",
            "significance",
            "recorded_on",
            "recorded_by",
            "created_at",
            "version",
        ]
        read_only_fields = ["id", "title", "problem", "problem_display", "recorded_by", "created_at"]


class OutcomeSerializer(serializers.Serializer):
    """The paired outcome of a referral (first and last scores). ``null`` where it does not apply; the
    classification booleans are null when the referral is not assessed (no paired scores)."""

    phq9_first = serializers.IntegerField(allow_null=True)
    phq9_last = serializers.IntegerField(allow_null=True)
    gad7_first = serializers.IntegerField(allow_null=True)
    gad7_last = serializers.IntegerField(allow_null=True)
    phq9_last_severity = serializers.CharField(allow_null=True)
    gad7_last_severity = serializers.CharField(allow_null=True)
    assessed = serializers.BooleanField(
        help_text="Paired scores exist: two or more PHQ-9 and two or more of the anxiety measure in use"
    )
    anxiety_measure = serializers.CharField(
        allow_null=True, help_text="The anxiety measure in use (a measure code: SPIN, PCL5, MI_ALONE ... or GAD7)"
    )
    anxiety_first = ScoreValueField(allow_null=True, help_text="First score of the anxiety measure (MI: mean)")
    anxiety_last = ScoreValueField(allow_null=True, help_text="Last score of the anxiety measure (MI: mean)")
    anxiety_basis = serializers.CharField(help_text="Which anxiety measure decides and why, in words")
    adsm = serializers.CharField(
        allow_null=True, help_text="The disorder-specific measure the presenting problem calls for, if any"
    )
    problem_code = serializers.CharField(allow_null=True, help_text="ICD-10 code of the deciding presenting problem")
    phq9_scores = serializers.IntegerField()
    anxiety_scores = serializers.IntegerField()
    computable = serializers.BooleanField(help_text="The same as 'assessed' (kept for older clients)")
    reason = serializers.CharField(allow_blank=True, help_text="Why not assessed, in plain words")
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
