"""The public forms, one per page of the self-referral and the questionnaire link. Error messages follow the
NHS design system ("Enter your date of birth"), and each names its field."""

import datetime as dt

from django import forms
from django.core.validators import validate_email
from django.utils import timezone

from outcomes.scoring import INSTRUMENTS
from referrals.validators import normalise_nhs_number, validate_nhs_number

from . import rules

CONTACT_CHOICES = (("sms", "Text message"), ("email", "Email"), ("letter", "Letter"))
YES_NO = (("yes", "Yes"), ("no", "No"))


def error_links(*forms_):
    """(element id, message) for the error summary: each links to its field's first input."""
    out = []
    for form in forms_:
        for name, errors in form.errors.items():
            if name not in form.fields:
                out.extend(("maincontent", e) for e in errors)
                continue
            bound = form[name]
            grouped = bound.widget_type in ("radioselect", "checkboxselectmultiple", "dateparts")
            out.append((f"{bound.auto_id}_0" if grouped else bound.auto_id, errors[0]))
    return out


def date_parts(values):
    return list(zip(values, ("Day", "Month", "Year"), (2, 2, 4), ("bday-day", "bday-month", "bday-year"), strict=True))


AUTOCOMPLETE = {
    "given_name": "given-name",
    "family_name": "family-name",
    "phone": "tel",
    "email": "email",
    "address": "street-address",
    "postcode": "postal-code",
}


class HoneypotMixin(forms.Form):
    """A field people never see (off-screen, hidden from screen readers, out of the tab order): a bot
    that fills every field fills it, and its submission is dropped."""

    website = forms.CharField(required=False, label="Leave this empty")

    def is_bot(self):
        return bool(self.data.get("website"))


class DateParts(forms.MultiValueField):
    """A date as three boxes (day, month, year), as the NHS design system asks for a date of birth."""

    def __init__(self, **kwargs):
        error = kwargs.pop("error", "Enter your date of birth")
        fields = (forms.CharField(), forms.CharField(), forms.CharField())
        super().__init__(fields=fields, require_all_fields=False, error_messages={"required": error}, **kwargs)
        self.error = error

    def compress(self, values):
        if not values or not any(values):
            raise forms.ValidationError(self.error)
        try:
            day, month, year = (int(str(v).strip()) for v in values)
            value = dt.date(year, month, day)
        except (TypeError, ValueError):
            real = self.error.replace("Enter your", "Enter a real")
            raise forms.ValidationError(f"{real}, for example 27 3 1985") from None
        if value.year < 1900 or value > timezone.localdate():
            raise forms.ValidationError("Date of birth must be in the past, for example 27 3 1985")
        return value


class DatePartsWidget(forms.MultiWidget):
    def __init__(self):
        super().__init__([forms.TextInput(), forms.TextInput(), forms.TextInput()])

    def decompress(self, value):
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                return [None, None, None]
        return [value.day, value.month, value.year] if value else [None, None, None]


class DatePartsMixin:
    def date_parts(self, name="date_of_birth"):
        """[day, month, year] as typed (a bound form) or from the initial date."""
        if self.is_bound:
            return [self.data.get(f"{self.add_prefix(name)}_{i}", "") for i in range(3)]
        return DatePartsWidget().decompress(self.initial.get(name))

    def dob_parts(self):
        return self.date_parts()


class CrisisForm(HoneypotMixin):
    crisis = forms.ChoiceField(
        choices=YES_NO,
        widget=forms.RadioSelect,
        label="Are you at risk of harming yourself or someone else right now, or do you need help urgently?",
        error_messages={"required": "Select yes if you need help urgently"},
    )


class EligibilityForm(DatePartsMixin, forms.Form):
    date_of_birth = DateParts(widget=DatePartsWidget(), label="What is your date of birth?")
    practice_id = forms.TypedChoiceField(
        coerce=int,
        label="Which GP practice are you registered with?",
        error_messages={"required": "Select your GP practice, or that it is not listed"},
    )

    def __init__(self, *args, practices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practice_id"].choices = [
            ("", "Select your GP practice"),
            *practices,
            (0, "My practice is not listed"),
        ]


class DetailsForm(forms.Form):
    given_name = forms.CharField(
        max_length=100, label="First name", error_messages={"required": "Enter your first name"}
    )
    family_name = forms.CharField(
        max_length=100, label="Last name", error_messages={"required": "Enter your last name"}
    )
    nhs_number = forms.CharField(
        max_length=14, required=False, label="NHS number (optional)", help_text="A 10 digit number, like 485 777 3456"
    )

    def clean_nhs_number(self):
        value = self.cleaned_data.get("nhs_number", "")
        if not value.strip():
            return ""
        number = normalise_nhs_number(value)
        try:
            validate_nhs_number(number)
        except forms.ValidationError:
            raise forms.ValidationError("Enter a real NHS number, or leave it empty") from None
        return number


class ContactForm(forms.Form):
    contact_by = forms.MultipleChoiceField(
        choices=CONTACT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        label="How may we contact you?",
        error_messages={"required": "Select at least one way we may contact you"},
    )
    phone = forms.CharField(max_length=30, required=False, label="Mobile phone number")
    email = forms.CharField(max_length=254, required=False, label="Email address")
    address = forms.CharField(max_length=500, required=False, label="Address", widget=forms.Textarea(attrs={"rows": 3}))
    postcode = forms.CharField(max_length=10, required=False, label="Postcode")

    def clean_phone(self):
        value = self.cleaned_data.get("phone", "").strip()
        digits = "".join(ch for ch in value if ch.isdigit())
        if value and (not 10 <= len(digits) <= 13 or any(ch not in "0123456789 +-()" for ch in value)):
            raise forms.ValidationError("Enter a phone number, like 07700 900 982")
        return value

    def clean_email(self):
        value = self.cleaned_data.get("email", "").strip()
        if value:
            try:
                validate_email(value)
            except forms.ValidationError:
                raise forms.ValidationError(
                    "Enter an email address in the correct format, like name@example.com"
                ) from None
        return value

    def clean(self):
        data = super().clean()
        chosen = data.get("contact_by") or []
        if "sms" in chosen and not data.get("phone") and "phone" not in self.errors:
            self.add_error("phone", "Enter your mobile phone number, or do not select text message")
        if "email" in chosen and not data.get("email") and "email" not in self.errors:
            self.add_error("email", "Enter your email address, or do not select email")
        if "letter" in chosen and not data.get("address"):
            self.add_error("address", "Enter your address, or do not select letter")
        if "letter" in chosen and not data.get("postcode"):
            self.add_error("postcode", "Enter your postcode, or do not select letter")
        return data


class HelpForm(forms.Form):
    help_with = forms.ChoiceField(
        choices=[(key, words) for key, words, _ in rules.HELP_WITH],
        widget=forms.RadioSelect,
        label="What would you most like help with?",
        error_messages={"required": "Select what you would most like help with"},
    )
    help_words = forms.CharField(
        max_length=2000,
        required=False,
        label="Tell us more, in your own words (optional)",
        widget=forms.Textarea(attrs={"rows": 4}),
    )


for _form in (DetailsForm, ContactForm):
    for _name, _field in _form.base_fields.items():
        if _name in AUTOCOMPLETE:
            _field.widget.attrs["autocomplete"] = AUTOCOMPLETE[_name]


class MeasureForm(forms.Form):
    """One questionnaire, every item a required choice of the measure's own answers (from the measures table)."""

    def __init__(self, *args, measure, **kwargs):
        super().__init__(*args, **kwargs)
        self.measure = measure
        self.instrument = inst = INSTRUMENTS[measure]
        for number, text in enumerate(inst.items, start=1):
            self.fields[f"item_{number}"] = forms.TypedChoiceField(
                label=text,
                choices=[(value, words) for value, words in inst.answers],
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={
                    "required": f"Answer question {number}",
                    "invalid_choice": f"Choose one of the answers to question {number}",
                },
            )

    def answers(self):
        return [self.cleaned_data[f"item_{n}"] for n in range(1, self.instrument.item_count + 1)]


class CheckForm(HoneypotMixin):
    pass


class DateOfBirthForm(DatePartsMixin, HoneypotMixin):
    date_of_birth = DateParts(widget=DatePartsWidget(), label="What is your date of birth?")
