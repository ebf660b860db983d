"""Forms of the diary pages: book (one, or a weekly series), reschedule, cancel with a reason."""

from datetime import datetime

from django import forms
from django.utils import timezone

from referrals.codes import AppointmentType, Mechanism
from referrals.forms import ServiceErrorsMixin, coded, date_input

from .models import Appointment


def _aware(day, at):
    return timezone.make_aware(datetime.combine(day, at))


class BookForm(ServiceErrorsMixin, forms.Form):
    error_field_map = {"starts_at": "time", "count": "count"}

    clinician = forms.ModelChoiceField(queryset=None, label="Clinician")
    date = forms.DateField(label="Date", widget=date_input())
    time = forms.TimeField(label="Time", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    appointment_type = forms.ChoiceField(label="Appointment type", choices=coded(AppointmentType.choices))
    mechanism = forms.ChoiceField(
        label="Consultation mechanism", choices=coded(Mechanism.choices), initial=Mechanism.FACE_TO_FACE
    )
    count = forms.IntegerField(
        label="Weekly sessions to book", min_value=1, max_value=20, initial=1, help_text="1 for a single appointment."
    )

    def __init__(self, *args, clinicians, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinician"].queryset = clinicians

    def starts_at(self):
        return _aware(self.cleaned_data["date"], self.cleaned_data["time"])


class RescheduleForm(ServiceErrorsMixin, forms.Form):
    error_field_map = {"starts_at": "time"}

    date = forms.DateField(label="New date", widget=date_input())
    time = forms.TimeField(label="New time", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    version = forms.IntegerField(widget=forms.HiddenInput)

    def starts_at(self):
        return _aware(self.cleaned_data["date"], self.cleaned_data["time"])


class CancelForm(ServiceErrorsMixin, forms.Form):
    reason = forms.ChoiceField(
        label="Who cancelled",
        choices=[(v, label) for v, label in Appointment.CancelReason.choices if v != "rescheduled"],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label="Reason", required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)
    version = forms.IntegerField(widget=forms.HiddenInput)
