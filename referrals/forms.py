"""HTML forms: they parse input into the arguments of a service call and show the service's errors.

Clinical validation (NHS number check digit, dates, questionnaire items, the risk note, step reasons,
end codes) lives in the services; a form only turns text into Python values and then places the
service's ``ValidationError`` dict on its fields, so the browser and the API give the same answers.
"""

from __future__ import annotations

import re

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from common import permissions
from outcomes.problems import DESCRIPTORS, ICD10
from outcomes.scoring import (
    GAD7,
    INSTRUMENTS,
    MI_ACCOMPANIED,
    MI_ALONE,
    PHQ9,
    RISK_ITEM,
    WSAS,
    ScoringError,
    adsm_for,
    score,
)
from stepped_care.models import Staff, Step
from stepped_care.queries import staff_of_team

from .codes import (
    AppointmentType,
    Attendance,
    EndCode,
    LongTermCondition,
    Mechanism,
    PresentingProblem,
    ReferralSource,
    Significance,
    TherapyMode,
    TherapyType,
)

MEASURE_FIELDS = {PHQ9: "phq9", GAD7: "gad7", WSAS: "wsas"}  # instrument code -> service argument


def field_prefix(code):
    """Form field names of a measure's items: phq9_1 ... phq9_9, spin_1 ..., mi_alone_1 ..."""
    return code.lower()


def measures_called_for(problem):
    """The questionnaires a session offers first: PHQ-9, the disorder-specific measure the presenting
    problem calls for (with the Mobility Inventory's accompanied subscale beside the alone one), GAD-7."""
    adsm = adsm_for(problem.code) if problem else None
    out = [PHQ9]
    if adsm:
        out.append(adsm)
        if adsm == MI_ALONE:
            out.append(MI_ACCOMPANIED)
    out.append(GAD7)
    return out


def date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def coded(choices):
    """Code lists show their words with the code beside them (data-set codes stay visible)."""
    return [(value, f"{label} ({value})") for value, label in choices]


def _helper(*layout):
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    helper.template = "referrals/_crispy_fields.html"
    if layout:
        helper.layout = Layout(*layout)
    return helper


class ServiceErrorsMixin:
    """Place a service's ValidationError on the matching fields; anything else on the whole form."""

    error_field_map: dict = {}

    def add_service_errors(self, exc: ValidationError):
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)
            return
        for key, messages in exc.message_dict.items():
            target = self.error_field_map.get(key, key)
            self.add_error(target if target in self.fields else None, messages)

    def error_summary(self):
        """(field id or "", message) pairs for the error summary at the top of the page."""
        out = [("", str(m)) for m in self.non_field_errors()]
        for name, errors in self.errors.items():
            if name == "__all__":
                continue
            out += [(self[name].auto_id, str(m)) for m in errors]
        return out


class PatientForm(ServiceErrorsMixin, forms.Form):
    nhs_number = forms.CharField(
        label="NHS number",
        required=False,
        max_length=14,
        help_text="10 digits, spaces allowed. Leave empty if the patient does not know it (self-referral).",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    given_name = forms.CharField(label="Given name", max_length=100)
    family_name = forms.CharField(label="Family name", max_length=100)
    date_of_birth = forms.DateField(label="Date of birth", widget=date_input())
    phone = forms.CharField(label="Phone", required=False, max_length=30)
    email = forms.EmailField(label="Email", required=False)
    address = forms.CharField(label="Address", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    postcode = forms.CharField(label="Postcode", required=False, max_length=10)
    gp_practice = forms.CharField(label="GP practice", required=False, max_length=200)
    long_term_conditions = forms.MultipleChoiceField(
        label="Long-term physical conditions",
        required=False,
        choices=LongTermCondition.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(
            Div(Div("nhs_number", css_class="col-md-4"), css_class="row"),
            Div(
                Div("given_name", css_class="col-md-4"),
                Div("family_name", css_class="col-md-4"),
                Div("date_of_birth", css_class="col-md-4"),
                css_class="row",
            ),
            Div(
                Div("phone", css_class="col-md-4"),
                Div("email", css_class="col-md-4"),
                Div("gp_practice", css_class="col-md-4"),
                css_class="row",
            ),
            Div(Div("address", css_class="col-md-8"), Div("postcode", css_class="col-md-4"), css_class="row"),
            "long_term_conditions",
        )

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        if born > timezone.localdate():
            raise ValidationError("The date of birth cannot be in the future.")
        return born


class ReferralForm(ServiceErrorsMixin, forms.Form):
    received_on = forms.DateField(label="Referral received on", initial=timezone.localdate, widget=date_input())
    source = forms.ChoiceField(label="Source of referral", choices=ReferralSource.choices)
    presenting_problem = forms.ChoiceField(label="Presenting problem", choices=PresentingProblem.choices)
    presenting_problem_code = forms.ChoiceField(
        label="ICD-10 code, if known",
        required=False,
        help_text="When given, the problem above follows it; it can also be recorded or refined after assessment.",
    )
    ltc_pathway = forms.BooleanField(label="Long-term condition (LTC) pathway", required=False)
    care_coordinator = forms.ModelChoiceField(
        label="Care coordinator",
        queryset=Staff.objects.none(),
        required=False,
        empty_label="Nobody yet: put it on the team's waiting list",
    )
    assess_now = forms.BooleanField(
        label="Record the assessment now",
        required=False,
        help_text="Opens the session form for the assessment (PHQ-9, GAD-7 and the first step).",
    )

    def __init__(self, *args, user, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["presenting_problem_code"].choices = [("", "Not known yet")] + problem_choices()
        allocating = permissions.may(user, "allocate")
        if allocating:
            # the referral is the user's team's, whoever registered the person first
            self.fields["care_coordinator"].queryset = staff_of_team(user.team_id, clinical=True)
        else:  # administrators book referrals onto the waiting list; clinicians and managers allocate
            del self.fields["care_coordinator"]
        recording = permissions.may(user, "record_care")  # an assessment is a clinical contact
        if not recording:
            del self.fields["assess_now"]
        if not self.is_bound:
            if recording:
                self.initial.setdefault("care_coordinator", user.pk)
                self.initial.setdefault("assess_now", True)
            self.initial.setdefault("ltc_pathway", bool(patient.long_term_conditions))
        self.helper = _helper(
            Div(
                Div("received_on", css_class="col-md-4"),
                Div("source", css_class="col-md-4"),
                Div("presenting_problem", css_class="col-md-4"),
                css_class="row",
            ),
            Div(Div("presenting_problem_code", css_class="col-md-8"), css_class="row"),
            *([Div(Div("care_coordinator", css_class="col-md-6"), css_class="row")] if allocating else []),
            "ltc_pathway",
            *(["assess_now"] if "assess_now" in self.fields else []),
        )


class SessionForm(ServiceErrorsMixin, forms.Form):
    """Log a session: contact details, PHQ-9, the measure the presenting problem calls for and GAD-7 item
    by item (any other measure on request), optional WSAS, risk note and, for a referral without a step
    yet, the first step with its reason."""

    date = forms.DateField(label="Date of the session", initial=timezone.localdate, widget=date_input())
    time = forms.TimeField(label="Time", required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    appointment_type = forms.ChoiceField(
        label="Appointment type", choices=coded(AppointmentType.choices), widget=forms.RadioSelect
    )
    attendance = forms.ChoiceField(
        label="Attendance",
        choices=coded(Attendance.choices),
        initial=Attendance.ATTENDED,
        widget=forms.RadioSelect,
    )
    mechanism = forms.ChoiceField(
        label="Consultation mechanism", choices=coded(Mechanism.choices), initial=Mechanism.FACE_TO_FACE
    )
    therapy_mode = forms.ChoiceField(
        label="Therapy mode", choices=coded(TherapyMode.choices), initial=TherapyMode.INDIVIDUAL
    )
    therapy_type = forms.ChoiceField(
        label="Therapy delivered",
        choices=[("", "Not recorded")] + list(TherapyType.choices),
        required=False,
        help_text="As the national data set codes it (SNOMED CT)",
    )
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)",
        required=False,
        min_value=0,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    ltc_service = forms.BooleanField(label="Long-term condition (LTC) service contact", required=False)
    group_participants = forms.IntegerField(label="Group participants", required=False, min_value=0)
    group_facilitators = forms.IntegerField(label="Group facilitators", required=False, min_value=0)
    notes = forms.CharField(label="Session notes", required=False, widget=forms.Textarea(attrs={"rows": 4}))
    homework = forms.CharField(label="Homework set", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    risk_note = forms.CharField(
        label="Risk assessment",
        required=False,
        help_text=f"Required when PHQ-9 item {RISK_ITEM} is above 0: what was asked, the answers, and the plan.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    first_step = forms.TypedChoiceField(
        label="First step",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "Decide later")] + list(Step.choices),
    )
    step_reason = forms.CharField(
        label="Reason for this step", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    confirm_duplicate = forms.BooleanField(
        label="Yes, save another contact of this type on this date",
        required=False,
        help_text="Only when the patient really had two; otherwise cancel, the first is already saved.",
    )

    # Service error keys → form fields (questionnaire errors are shown on their fieldsets).
    error_field_map = {"reason": "step_reason", "step": "first_step", "started_on": "first_step"}

    def __init__(self, *args, referral, problem=None, extra_measures=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.referral = referral
        self.questionnaire_errors = {}
        self.problem = problem
        self.called_for = measures_called_for(problem)
        shown = set(self.called_for) | {WSAS}
        self.extra = [code for code in INSTRUMENTS if code in set(extra_measures) and code not in shown]
        self.measures = [*self.called_for, *self.extra, WSAS]
        for code in self.measures:
            inst = INSTRUMENTS[code]
            prefix = field_prefix(code)
            if not inst.has_items:
                self.fields[f"{prefix}_score"] = forms.IntegerField(label=f"{inst.name} score", required=False)
                continue
            for number, text in enumerate(inst.items, start=1):
                # A plain integer, not a choice: an out-of-range answer reaches the scoring rules,
                # whose message names the questionnaire and the item.
                self.fields[f"{prefix}_{number}"] = forms.IntegerField(
                    label=f"{inst.name} item {number}: {text}",
                    required=False,
                    widget=forms.RadioSelect(choices=inst.answers),
                )
        if referral.current_step:
            del self.fields["first_step"], self.fields["step_reason"]
        if not self.is_bound:
            self.initial.setdefault(
                "appointment_type",
                AppointmentType.ASSESSMENT if referral.status == "awaiting_assessment" else AppointmentType.TREATMENT,
            )
            self.initial.setdefault("ltc_service", referral.ltc_pathway)
        self.details_helper = _helper(
            Div(
                Div(Field("date"), css_class="col-sm-6 col-lg-3"),
                Div(Field("time"), css_class="col-sm-6 col-lg-2"),
                Div(Field("mechanism"), css_class="col-sm-6 col-lg-4"),
                Div(Field("therapy_mode"), css_class="col-sm-6 col-lg-3"),
                css_class="row",
            ),
            InlineRadios("appointment_type"),
            InlineRadios("attendance"),
            Div(
                Div(Field("duration_minutes"), css_class="col-sm-6 col-lg-3"),
                Div(Field("therapy_type"), css_class="col-sm-6 col-lg-6"),
                css_class="row",
            ),
        )
        self.group_helper = _helper(
            Div(
                Div(Field("group_participants"), css_class="col-sm-6 col-lg-3"),
                Div(Field("group_facilitators"), css_class="col-sm-6 col-lg-3"),
                css_class="row",
            ),
            "ltc_service",
        )
        self.notes_helper = _helper("notes", "homework")
        self.step_helper = _helper(
            Div(
                Div(Field("first_step"), css_class="col-md-4"),
                Div(Field("step_reason"), css_class="col-md-8"),
                css_class="row",
            )
        )

    def answers(self, code):
        """The answers to one questionnaire: None when none was answered, else a list with None for
        each unanswered item (the service then names the missing item, or scores a skip it allows)."""
        prefix = field_prefix(code)
        values = [self.cleaned_data.get(f"{prefix}_{n}") for n in range(1, INSTRUMENTS[code].item_count + 1)]
        return None if all(v is None for v in values) else values

    def other_questionnaires(self):
        """The measures beyond PHQ-9, GAD-7 and WSAS that were answered, as the service takes them."""
        out = []
        for code in self.measures:
            if code in MEASURE_FIELDS:
                continue
            if INSTRUMENTS[code].has_items:
                answers = self.answers(code)
                if answers is not None:
                    out.append({"measure": code, "items": answers})
            elif self.cleaned_data.get(f"{field_prefix(code)}_score") is not None:
                out.append({"measure": code, "score": self.cleaned_data[f"{field_prefix(code)}_score"]})
        self.questionnaire_order = [q["measure"] for q in out]
        return out

    def service_arguments(self):
        data = self.cleaned_data
        return {
            "date": data["date"],
            "time": data.get("time"),
            "appointment_type": data["appointment_type"],
            "attendance": data["attendance"],
            "mechanism": data["mechanism"],
            "therapy_mode": data["therapy_mode"],
            "therapy_type": data.get("therapy_type") or None,
            "duration_minutes": data.get("duration_minutes"),
            "group_participants": data.get("group_participants"),
            "group_facilitators": data.get("group_facilitators"),
            "notes": data.get("notes", ""),
            "homework": data.get("homework", ""),
            "risk_note": data.get("risk_note", ""),
            "ltc_service": data.get("ltc_service", False),
            **{arg: self.answers(code) for code, arg in MEASURE_FIELDS.items()},
            "questionnaires": self.other_questionnaires(),
            "confirm_duplicate": bool(data.get("confirm_duplicate")),
        }

    def add_service_errors(self, exc):
        measures = {arg: code for code, arg in MEASURE_FIELDS.items()}
        order = getattr(self, "questionnaire_order", [])
        if hasattr(exc, "error_dict"):
            rest = {}
            for key, messages in exc.message_dict.items():
                listed = re.match(r"questionnaires\[(\d+)\]", key)
                if listed and int(listed.group(1)) < len(order):
                    self.questionnaire_errors.setdefault(order[int(listed.group(1))], []).extend(messages)
                elif key in measures:
                    self.questionnaire_errors[measures[key]] = messages
                else:
                    rest[key] = messages
            if rest:
                super().add_service_errors(ValidationError(rest))
            return
        super().add_service_errors(exc)

    def error_summary(self):
        out = super().error_summary()
        for code, messages in self.questionnaire_errors.items():
            out += [(f"q-{code.lower()}", str(m)) for m in messages]
        return out

    def has_errors(self):
        return bool(self.errors or self.questionnaire_errors)

    def questionnaires(self):
        """What the questionnaire fieldsets render: items with their current answer, scores when
        complete (shown before JavaScript runs and after a failed save)."""
        out = []
        for code in self.measures:
            inst = INSTRUMENTS[code]
            prefix = field_prefix(code)
            items, values = [], []
            for number, text in enumerate(inst.items, start=1):
                name = f"{prefix}_{number}"
                raw = self[name].value()
                current = "" if raw in (None, "") else str(raw)
                values.append(current)
                items.append(
                    {
                        "number": number,
                        "name": name,
                        "text": text,
                        "id": f"id_{name}",
                        "current": current,
                        "errors": self.errors.get(name, []) if self.is_bound else [],
                        "choices": [(str(v), label, f"id_{name}_{v}") for v, label in inst.answers],
                        "missing": bool(self.questionnaire_errors.get(code)) and current == "",
                        "risk": code == PHQ9 and number == RISK_ITEM,
                    }
                )
            answered = sum(1 for v in values if v != "")
            total = band = None
            score_field = None
            if inst.has_items and answered and answered >= inst.item_count - inst.max_missing:
                try:
                    result = score(code, [int(v) if v != "" else None for v in values])
                    total, band = inst.format(result.total), result.severity
                except (ScoringError, ValueError):
                    pass
            elif not inst.has_items:
                score_field = self[f"{prefix}_score"]
                answered = int(score_field.value() not in (None, ""))
            out.append(
                {
                    "code": code,
                    "slug": prefix,
                    "name": inst.name,
                    "title": inst.title,
                    "stem": inst.stem,
                    "items": items,
                    "has_items": inst.has_items,
                    "score_field": score_field,
                    "answered": answered,
                    "count": inst.item_count,
                    "max_missing": inst.max_missing,
                    "scoring": inst.scoring,
                    "max_total": inst.format(inst.total_max),
                    "total": total,
                    "severity": band,
                    "caseness": str(inst.caseness_threshold) if inst.caseness_threshold else None,
                    "errors": self.questionnaire_errors.get(code, []),
                    "optional": code == WSAS,
                    "extra": code in self.extra,
                    "adsm": inst.is_adsm,
                    "open": code != WSAS or answered > 0 or bool(self.questionnaire_errors.get(code)),
                }
            )
        return out

    def measures_to_add(self):
        """Measures that may be added on request (any other of the measures table)."""
        return [
            (code, INSTRUMENTS[code].name, INSTRUMENTS[code].title) for code in INSTRUMENTS if code not in self.measures
        ]


class StepForm(ServiceErrorsMixin, forms.Form):
    step = forms.TypedChoiceField(
        label="New step", required=False, coerce=int, empty_value=None, choices=[("", "Choose a step")] + Step.choices
    )
    reason = forms.CharField(
        label="Reason for the change",
        required=False,
        help_text="Required: it is kept in the step history.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    started_on = forms.DateField(
        label="Starts on",
        required=False,
        initial=timezone.localdate,
        widget=date_input(),
        help_text="The step's effective date: today unless it began earlier. The reviews count from it.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("step", "reason", "started_on", "version")


def problem_choices():
    """ICD-10 codes grouped by problem descriptor, as a select shows them."""
    groups = {}
    for code, (title, descriptor) in ICD10.items():
        groups.setdefault(DESCRIPTORS[descriptor], []).append((code, f"{code} {title}"))
    return list(groups.items())


class PresentingProblemForm(ServiceErrorsMixin, forms.Form):
    """A presenting problem as the data set keeps it (IDS603): ICD-10 code, primary or secondary, date."""

    code = forms.ChoiceField(label="Presenting problem (ICD-10)", required=False)
    significance = forms.ChoiceField(
        label="Significance",
        choices=Significance.choices,
        initial=Significance.PRIMARY,
        widget=forms.RadioSelect,
        required=False,
        help_text="The latest primary problem decides the anxiety measure of the outcome.",
    )
    recorded_on = forms.DateField(label="Recorded on", required=False, initial=timezone.localdate, widget=date_input())
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = [("", "Choose a code")] + problem_choices()
        self.helper = _helper("code", InlineRadios("significance"), "recorded_on", "version")


class DischargeForm(ServiceErrorsMixin, forms.Form):
    end_code = forms.ChoiceField(
        label="End code", required=False, choices=[("", "Choose an end code")] + coded(EndCode.choices)
    )
    discharged_on = forms.DateField(
        label="Discharged on", required=False, initial=timezone.localdate, widget=date_input()
    )
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("end_code", "discharged_on", "note", "version")


class AllocateForm(ServiceErrorsMixin, forms.Form):
    clinician = forms.ModelChoiceField(label="Allocate to", queryset=Staff.objects.none(), empty_label=None)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    error_field_map = {"care_coordinator": "clinician"}

    def __init__(self, *args, team_id, clinicians=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinician"].queryset = (
            clinicians if clinicians is not None else staff_of_team(team_id, clinical=True)
        )


class ContactErrorForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label="Why was this contact entered in error?", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
