"""Forms of group workshops: parsing only; the services decide."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.utils import timezone

from appointments.models import GROUP
from appointments.services import length_of
from outcomes.scoring import GAD7, PHQ9, ScoringError, instrument
from referrals.codes import Attendance
from stepped_care.models import Staff
from stepped_care.queries import staff_of_team

from . import rules
from .codes import Delivery, GroupStep, Topic, WithdrawalReason


class CourseForm(forms.Form):
    title = forms.CharField(max_length=200, help_text='e.g. "Stress control, Bootle library, spring"')
    topic = forms.ChoiceField(choices=Topic.choices)
    step = forms.TypedChoiceField(choices=GroupStep.choices, coerce=int)
    facilitators = forms.ModelMultipleChoiceField(
        queryset=Staff.objects.none(), widget=forms.CheckboxSelectMultiple, help_text="One or more clinicians"
    )
    capacity = forms.IntegerField(min_value=1, max_value=200, initial=12, help_text="Places")
    delivery = forms.ChoiceField(choices=Delivery.choices, widget=forms.RadioSelect, initial=Delivery.VENUE)
    venue = forms.CharField(max_length=200, required=False, help_text="Where it meets (for a venue)")
    first_date = forms.DateField(label="First session", widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(label="Start time", required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    session_count = forms.IntegerField(label="Number of sessions", min_value=1, max_value=30, initial=4)
    every_days = forms.IntegerField(label="Days between sessions", min_value=1, max_value=31, initial=7)
    session_minutes = forms.IntegerField(label="Minutes per session", min_value=15, max_value=600, initial=90)

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facilitators"].queryset = staff_of_team(team, clinical=True)
        if team is not None:  # the team's group appointment length (diaries), unless changed here
            self.fields["session_minutes"].initial = length_of(team.pk, GROUP)
        self.fields["time"].help_text = "With a time, each session is held in the facilitators' diaries"
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", "Plan the course"))
        self.helper.layout = _layout(
            ["title"],
            ["topic", "step"],
            ["facilitators"],
            ["capacity", "delivery", "venue"],
            ["first_date", "time", "session_count", "every_days", "session_minutes"],
        )

    def clean_first_date(self):
        first = self.cleaned_data["first_date"]
        today = timezone.localdate()
        if abs((first - today).days) > 2 * 366:
            raise forms.ValidationError("The first session must be within two years of today.")
        return first

    def sessions(self):
        data = self.cleaned_data
        days = rules.schedule(data["first_date"], data["session_count"], data["every_days"])
        return [(day, data.get("time")) for day in days]


def _layout(*rows):
    return Layout(*(Row(*(Column(name, css_class="col-md") for name in row)) for row in rows))


class ReferralSearchForm(forms.Form):
    q = forms.CharField(
        label="Find a referral", max_length=100, required=False, help_text="Family name, given name or NHS number"
    )


class EnrolForm(forms.Form):
    """The enrol button's form: which referral (a hidden field, so a bad one is a crafted or stale page)."""

    referral = forms.UUIDField(
        error_messages={"required": "Choose a referral to enrol.", "invalid": "Choose a referral to enrol."}
    )


class WithdrawForm(forms.Form):
    reason = forms.ChoiceField(choices=[("", "Choose…"), *WithdrawalReason.choices])
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    withdrawn_on = forms.DateField(initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("withdraw", "Withdraw from the course", css_class="btn-danger"))


class CorrectEntryForm(forms.Form):
    reason = forms.CharField(label="Why was this row wrong?", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("correct", "Mark entered in error", css_class="btn-danger"))


class CourseStatusForm(forms.Form):
    status = forms.CharField()
    note = forms.CharField(required=False, max_length=2000)


class AnswersField(forms.CharField):
    """Questionnaire answers typed as a row of digits, the fastest way to copy a paper form."""

    def __init__(self, measure, **kwargs):
        self.measure = measure
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        try:
            return rules.parse_answers(self.measure, value)
        except ScoringError as exc:
            raise forms.ValidationError(exc.message) from None

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        inst = instrument(self.measure)
        attrs.update(
            {
                "class": "form-control form-control-sm font-monospace",
                "inputmode": "numeric",
                "autocomplete": "off",
                "spellcheck": "false",
                "size": inst.item_count + 3,
                "data-measure": self.measure,
                "data-items": inst.item_count,
                "data-max": inst.item_max,
            }
        )
        attrs.pop("maxlength", None)  # the server says what is wrong with an overlong entry
        return attrs


class RegisterRowForm(forms.Form):
    """One patient's row of the register."""

    enrolment = forms.UUIDField(widget=forms.HiddenInput)
    attendance = forms.ChoiceField(
        choices=[("", "—"), *Attendance.choices],
        widget=forms.Select(attrs={"class": "form-select form-select-sm", "data-attendance": ""}),
    )
    phq9 = AnswersField(PHQ9, label="PHQ-9 answers, items 1 to 9")
    gad7 = AnswersField(GAD7, label="GAD-7 answers, items 1 to 7")
    risk_note = forms.CharField(
        label="Risk assessment",
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm", "data-risk": ""}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Typing a complete questionnaire moves on: PHQ-9 → GAD-7 → the next patient's attendance.
        index = int(self.prefix.rsplit("-", 1)[-1]) if self.prefix and self.prefix[-1].isdigit() else None
        self.fields["phq9"].widget.attrs["data-next"] = self["gad7"].auto_id
        if index is not None:
            self.fields["gad7"].widget.attrs["data-next"] = f"id_row-{index + 1}-attendance"


RegisterFormSet = forms.formset_factory(RegisterRowForm, extra=0)
