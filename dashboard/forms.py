"""The dashboard's filter: period, team (a manager's own only), clinician, step, presenting problem, LTC.

The same form parses the HTML page, the CSV export, the drill-down list and the API, so a link
carries its filter unchanged from one to the other. Choices are built from lists loaded once, so
validating and rendering the form costs no further queries.
"""

from __future__ import annotations

import datetime as dt

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from crispy_forms.utils import render_crispy_form
from django import forms
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import mark_safe

from outcomes.queries import NONE, MetricFilter
from referrals.codes import WAITING_STATUSES, PresentingProblem
from stepped_care.models import FlagRule, Step

from .queries import FLAG_AGES, METRICS, WAIT_BAND_CHOICES, default_period

LTC_CHOICES = [("", "Any"), ("yes", "On the LTC pathway"), ("no", "Not on the LTC pathway")]
MAX_PERIOD_DAYS = 366 * 5
FORM_TO_PARAM = {"start": "from", "end": "to"}  # form field -> URL parameter, where they differ


class QuickSelect(forms.Select):
    """A select rendered in Python: a large service has hundreds of clinicians, and Django renders
    each option through its own template, which cost more than the dashboard's queries."""

    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs)
        final["name"] = name
        chosen = {str(v) for v in self.format_value(value)}
        options = "".join(
            f'<option value="{escape(key)}"{" selected" if key in chosen else ""}>{escape(str(label))}</option>'
            for key, label in (("" if v is None else str(v), label) for v, label in self.choices)
        )
        return mark_safe(f"<select{flatatt(final)}>{options}</select>")  # noqa: S308 - every part escaped  # nosec B308 B703


class DashboardFilterForm(forms.Form):
    team = forms.TypedChoiceField(label="Team", coerce=int, required=False, widget=QuickSelect)
    start = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    clinician = forms.TypedChoiceField(
        label="Clinician", coerce=int, required=False, empty_value=None, widget=QuickSelect
    )
    step = forms.TypedChoiceField(label="Step", coerce=int, required=False, empty_value=None)
    problem = forms.ChoiceField(label="Presenting problem", required=False)
    ltc = forms.ChoiceField(label="Long-term condition pathway", required=False, choices=LTC_CHOICES)

    # URL parameter names of the fields whose form name differs
    PARAMS = FORM_TO_PARAM

    def __init__(self, data=None, *, teams, staff, today, **kwargs):
        """``teams``: [(id, name)] the user may see; ``staff``: id -> {"name", "clinical", ...}."""
        super().__init__(data, **kwargs)
        self.today = today
        self.teams = teams
        self.fields["team"].choices = teams
        # Clinicians first; other staff of the team too, in case one coordinates a referral.
        clinicians = [(pk, s["name"]) for pk, s in staff.items() if s["clinical"]]
        clinicians += [(pk, f"{s['name']} ({s['role']})") for pk, s in staff.items() if not s["clinical"]]
        self.fields["clinician"].choices = [("", "All clinicians"), (NONE, "No care coordinator"), *clinicians]
        self.fields["step"].choices = [("", "All steps"), (NONE, "Not yet on a step"), *Step.choices]
        self.fields["problem"].choices = [("", "All presenting problems"), *PresentingProblem.choices]
        start, end = default_period(today)
        self.fields["start"].widget.attrs["placeholder"] = start.isoformat()
        self.fields["end"].widget.attrs["placeholder"] = end.isoformat()
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_tag = True
        self.helper.attrs = {"aria-label": "Dashboard filters"}
        # Each filter as wide as its longest choice, so that team and clinician names show whole.
        self.helper.layout = Layout(
            Row(
                *(Column(name, css_class="col-auto") for name in ("team", "start", "end", "clinician")),
                *(Column(name, css_class="col-auto") for name in ("step", "problem", "ltc")),
                Column(Submit("apply", "Apply filters", css_class="mt-4"), css_class="col-auto"),
                css_class="align-items-start",
            )
        )

    def add_prefix(self, field_name):
        """Dates travel as ?from=&to= in URLs (the API's parameter names)."""
        return self.PARAMS.get(field_name, field_name)

    def clean_team(self):
        team = self.cleaned_data.get("team")
        if team in (None, ""):
            if not self.teams:
                raise forms.ValidationError("You have no team to see a dashboard of.")
            return self.teams[0][0]
        return team

    def clean(self):
        cleaned = super().clean()
        default_start, default_end = default_period(self.today)
        start = cleaned.get("start") or default_start
        end = cleaned.get("end") or default_end
        if "start" not in self.errors and "end" not in self.errors:
            if start > end:
                self.add_error("end", "The end of the period must not be before its start.")
            elif (end - start).days > MAX_PERIOD_DAYS:
                self.add_error("start", "Choose a period of at most five years.")
        cleaned["start"], cleaned["end"] = start, end
        return cleaned

    def metric_filter(self) -> MetricFilter:
        data = self.cleaned_data
        ltc = {"yes": True, "no": False}.get(data.get("ltc") or "")
        return MetricFilter(
            team=data["team"],
            start=data["start"],
            end=data["end"],
            clinician=data.get("clinician"),
            step=data.get("step"),
            presenting_problem=data.get("problem") or None,
            ltc_pathway=ltc,
        )


def filter_params(flt: MetricFilter) -> dict:
    """URL parameters that reproduce a filter (the inverse of the form)."""
    params = {"team": flt.team}
    if flt.start:
        params["from"] = flt.start.isoformat()
    if flt.end:
        params["to"] = flt.end.isoformat()
    if flt.clinician is not None:
        params["clinician"] = flt.clinician
    if flt.step is not None:
        params["step"] = flt.step
    if flt.presenting_problem:
        params["problem"] = flt.presenting_problem
    if flt.ltc_pathway is not None:
        params["ltc"] = "yes" if flt.ltc_pathway else "no"
    return params


class DrilldownForm(DashboardFilterForm):
    """The filter plus which number: metric and the row/column it sat in."""

    metric = forms.ChoiceField(label="Number", choices=[(m, m) for m in METRICS])
    month = forms.DateField(label="Month", required=False, input_formats=["%Y-%m", "%Y-%m-%d"])
    status = forms.ChoiceField(
        label="Waiting status", required=False, choices=[("", "Any"), *((s.value, s.label) for s in WAITING_STATUSES)]
    )
    band = forms.ChoiceField(label="Wait", required=False, choices=[("", "Any"), *WAIT_BAND_CHOICES])
    rule = forms.ChoiceField(label="Flag rule", required=False, choices=[("", "Any"), *FlagRule.choices])
    age = forms.ChoiceField(required=False, choices=[("", "Any"), *((k, label) for k, label, *_ in FLAG_AGES)])

    def clean_month(self):
        month = self.cleaned_data.get("month")
        return month.replace(day=1) if isinstance(month, dt.date) else None


class AlertValidationForm(forms.Form):
    """The managers' validation of the not-on-track alert: where to split the history, by which session
    a flag counts, and what share of active cases the team aims to flag."""

    split = forms.DateField(
        required=False,
        label="Hold out courses ending on or after",
        help_text="Empty: the latest fifth of the period",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    by_session = forms.IntegerField(min_value=2, max_value=20, initial=4, required=False, label="Flagged by session")
    target = forms.IntegerField(
        min_value=5,
        max_value=50,
        initial=20,
        required=False,
        label="Share of active cases to flag (%)",
        help_text="Practice: 15–25%",
    )
    min_n = forms.IntegerField(
        min_value=1, max_value=1000, required=False, label="Minimum courses per cell", help_text="Default 30"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.layout = Layout(
            Row(
                Column("split"),
                Column("by_session"),
                Column("target"),
                Column("min_n"),
                Column(Submit("go", "Validate", css_class="mt-4")),
            )
        )


_RENDERED_FILTERS: dict = {}
_RENDERED_FILTERS_KEPT = 64


def filter_form_html(form):
    """The valid filter form's HTML, rendered through crispy once per distinct filter, team list, staff
    list and day, then kept (the dashboard's layout of seven fields through crispy's templates cost
    more than several of its queries). The key holds everything the HTML is made of: a GET form has
    no CSRF token; a form with errors is rendered each time."""
    if form.errors:
        return render_crispy_form(form)
    key = (
        tuple(sorted((k, tuple(v)) for k, v in form.data.lists())),
        tuple(form.fields["team"].choices),
        tuple(form.fields["clinician"].choices),
        form.today,
    )
    html = _RENDERED_FILTERS.get(key)
    if html is None:
        if len(_RENDERED_FILTERS) >= _RENDERED_FILTERS_KEPT:
            _RENDERED_FILTERS.pop(next(iter(_RENDERED_FILTERS)))  # the oldest
        html = _RENDERED_FILTERS[key] = render_crispy_form(form)
    return html
