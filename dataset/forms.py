"""The managers' forms: a reporting period to export, an extract to import."""

from django import forms

from . import rules


class ExportForm(forms.Form):
    period = forms.CharField(
        label="Reporting period",
        help_text="A calendar month, YYYY-MM (e.g. 2026-10)",
        max_length=17,
        widget=forms.TextInput(attrs={"type": "month", "autocomplete": "off"}),
    )

    def clean_period(self):
        try:
            return rules.parse_period(self.cleaned_data["period"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class ImportForm(forms.Form):
    extract = forms.FileField(label="Data set extract (a zip of the tables' CSV files)")
    dry_run = forms.BooleanField(
        label="Dry run: report what would be created and what is wrong, change nothing", required=False, initial=True
    )
