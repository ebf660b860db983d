"""Forms of the diary pages: book (one, or a weekly series), reschedule, cancel with a reason, leave with
cover, a working pattern."""

from datetime import datetime

from django import forms
from django.utils import timezone

from referrals.codes import AppointmentType, Mechanism
from referrals.forms import ServiceErrorsMixin, coded, date_input

from .models import Appointment, Location


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


class LeaveForm(ServiceErrorsMixin, forms.Form):
    """A clinician's leave (whole days) with a colleague of the team to cover; a manager or an
    administrator chooses whose leave it is, a clinician records their own."""

    clinician = forms.ModelChoiceField(queryset=None, label="Whose leave")
    starts_on = forms.DateField(label="First day of leave", widget=date_input())
    ends_on = forms.DateField(label="Last day of leave", widget=date_input())
    cover = forms.ModelChoiceField(
        queryset=None,
        label="Covered by",
        required=False,
        help_text="They see these days' appointments on their My day and may record their outcomes.",
    )

    def __init__(self, *args, staff, own=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cover"].queryset = staff
        if own is not None:  # a clinician's own leave: no choice of whose
            del self.fields["clinician"]
        else:
            self.fields["clinician"].queryset = staff
        self.own = own

    def whose(self):
        return self.own or self.cleaned_data["clinician"]


WEEKDAYS = [
    (1, "Monday"),
    (2, "Tuesday"),
    (3, "Wednesday"),
    (4, "Thursday"),
    (5, "Friday"),
    (6, "Saturday"),
    (7, "Sunday"),
]


class WorkingPatternForm(ServiceErrorsMixin, forms.Form):
    clinician = forms.ModelChoiceField(queryset=None, label="Whose pattern")
    weekday = forms.TypedChoiceField(label="Day", choices=WEEKDAYS, coerce=int)
    start = forms.TimeField(label="From", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    end = forms.TimeField(label="To", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    location = forms.ChoiceField(label="Where", choices=Location.choices, initial=Location.ROOM)
    room = forms.CharField(label="Room", required=False, max_length=100)
    valid_from = forms.DateField(label="From (date)", widget=date_input())
    valid_until = forms.DateField(label="Until (date)", required=False, widget=date_input(), help_text="Blank: no end")

    def __init__(self, *args, staff, own=None, **kwargs):
        super().__init__(*args, **kwargs)
        if own is not None:
            del self.fields["clinician"]
        else:
            self.fields["clinician"].queryset = staff
        self.own = own

    def whose(self):
        return self.own or self.cleaned_data["clinician"]
