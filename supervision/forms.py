"""Supervision forms: parsing only. Clinical rules live in rules.py and services.py, whose
ValidationErrors are put back onto these fields by the views."""

from crispy_forms.helper import FormHelper
from django import forms
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from referrals.codes import EndCode
from stepped_care.models import Step

from .models import Decision, SupervisionType

DECISION_CHOICES = [("", "Not discussed")] + list(Decision.choices)
STEP_CHOICES = [("", "Default (one step)")] + list(Step.choices)
END_CODE_CHOICES = [("", "—")] + [(c.value, f"{c.value} {c.label}") for c in EndCode]


class QuickSelect(forms.Select):
    """A plain select rendered in Python. A session form holds a few hundred options (three selects
    per case), and rendering each option through its own template dominated the page time."""

    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs)
        final["name"] = name
        chosen = {str(v) for v in self.format_value(value)}
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (key, " selected" if key in chosen else "", label)
                for key, label in ((("" if v is None else str(v)), label) for v, label in self.choices)
            ),
        )
        return format_html("<select{}>{}</select>", flatatt(final), options)


class SessionForm(forms.Form):
    """Date, length, kind, supervisor and supervisees of one session."""

    kind = forms.ChoiceField(label="Kind of supervision", choices=SupervisionType.choices)
    date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    minutes = forms.IntegerField(label="Length (minutes)", min_value=1, max_value=600)
    supervisor = forms.ModelChoiceField(label="Supervisor", queryset=None, empty_label=None)
    supervisees = forms.ModelMultipleChoiceField(
        label="Supervisees", queryset=None, widget=forms.CheckboxSelectMultiple
    )
    notes = forms.CharField(label="Session notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    sign_off = forms.BooleanField(
        label="Sign off as supervisor (the record is then closed to new decisions)", required=False
    )

    def __init__(self, *args, supervisors, supervisees, can_sign_off, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("date", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["supervisor"].queryset = supervisors
        self.fields["supervisees"].queryset = supervisees
        self.fields["supervisor"].label_from_instance = lambda s: s.get_full_name() or s.username
        self.fields["supervisees"].label_from_instance = lambda s: (
            f"{s.get_full_name() or s.username} ({s.get_role_display()})"
        )
        if not can_sign_off:
            del self.fields["sign_off"]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class DecisionForm(forms.Form):
    """One case of the list: what supervision decided (blank: not discussed this time)."""

    referral = forms.UUIDField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    decision = forms.ChoiceField(label="Decision", choices=DECISION_CHOICES, required=False, widget=QuickSelect)
    to_step = forms.TypedChoiceField(
        label="New step", choices=STEP_CHOICES, coerce=int, empty_value=None, required=False, widget=QuickSelect
    )
    end_code = forms.ChoiceField(label="End code", choices=END_CODE_CHOICES, required=False, widget=QuickSelect)
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            if isinstance(f.widget, forms.Select):
                f.widget.attrs.setdefault("class", "form-select form-select-sm")
            elif isinstance(f.widget, forms.Textarea):
                f.widget.attrs.setdefault("class", "form-control form-control-sm")


class ExtraDecisionForm(DecisionForm):
    """A case not on the prepared list that came up in the session."""

    referral = forms.TypedChoiceField(label="Other case", required=False, choices=(), coerce=str, widget=QuickSelect)

    def __init__(self, *args, cases=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["referral"].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["referral"].choices = [("", "Choose a case…")] + [
            (str(r.pk), f"{r.patient} (received {r.received_on:%d %b %Y})") for r in cases
        ]


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Why is this entered in error?", widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class CorrectionForm(ReasonForm):
    decision = forms.ChoiceField(label="Corrected decision", choices=Decision.choices)
    to_step = forms.TypedChoiceField(
        label="New step", choices=STEP_CHOICES, coerce=int, empty_value=None, required=False
    )
    end_code = forms.ChoiceField(label="End code", choices=END_CODE_CHOICES, required=False)
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    field_order = ["decision", "to_step", "end_code", "notes", "reason"]


class RelationshipForm(forms.Form):
    supervisor = forms.ModelChoiceField(label="Supervisor", queryset=None)
    supervisee = forms.ModelChoiceField(label="Supervisee", queryset=None)
    kind = forms.ChoiceField(label="Kind of supervision", choices=SupervisionType.choices)
    frequency_days = forms.IntegerField(
        label="Every (days)", min_value=1, max_value=365, required=False, help_text="Blank: the service default"
    )
    minutes = forms.IntegerField(
        label="Length (minutes)", min_value=1, max_value=600, required=False, help_text="Blank: the service default"
    )
    started_on = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supervisor"].queryset = staff
        self.fields["supervisee"].queryset = staff
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class ComplianceForm(forms.Form):
    weeks = forms.IntegerField(label="Weeks", min_value=1, max_value=52, required=False)
