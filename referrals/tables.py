"""Presenters: the rows of the caseload and the waiting list as HTML, built in one pass.

A list page holds dozens of rows of a dozen cells, each with a patient's name, scores and badges; as
nested template includes they cost several times the page's SQL (issue 22). Here each row is one
f-string, every value escaped (the standard library's ``html.escape``, as Django's), the repeated
pieces (a score's markup, a date's words, the link to a referral) built once. The markup is that of
the templates it stands for (templates/components/*.html, templates/referrals/_flag_badges.html);
tests/referrals/test_row_fragments.py keeps the two equal.
"""

from __future__ import annotations

import uuid
from functools import lru_cache
from html import escape  # the standard library's: Django's lazy-aware wrapper costs more per cell

from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.safestring import mark_safe

from outcomes.presenters import score_html
from stepped_care.models import Role

from .presenters import nhs_number_display, not_on_track

_PLACEHOLDER = uuid.UUID(int=0)


@lru_cache(maxsize=64)
def link_pattern(name):
    """(before, after) the referral id in the address of ``name`` (one ``reverse`` per process)."""
    before, after = reverse(name, args=[_PLACEHOLDER]).split(str(_PLACEHOLDER))
    return before, after


def link(name, pk):
    before, after = link_pattern(name)
    return f"{before}{pk}{after}"


@lru_cache(maxsize=8192)
def day_text(day):
    """``{{ day|date:"j M Y" }}``: "4 Dec 2026"."""
    return dateformat.format(day, "j M Y")


@lru_cache(maxsize=4096)
def _label(model, field, value):
    return str(dict(model._meta.get_field(field).flatchoices).get(value, value))


def label(record, field):
    """``record.get_<field>_display()``, each label looked up once (Django rebuilds the choices per call)."""
    return _label(type(record), field, getattr(record, field))


def text(value):
    """``{{ value }}`` of a string or number (None as the template shows it)."""
    return escape(str(value))


def nhs_number_html(value, missing=""):
    """templates/components/nhs_number.html."""
    if value:
        return f'<span class="nhs-number text-nowrap">{escape(nhs_number_display(value))}</span>\n'
    if missing:
        return f'<span class="text-muted">{escape(missing)}</span>\n'
    return "\n"


def patient_name_html(patient, href=None, ids=None):
    """templates/components/patient_name.html."""
    name = escape(str(patient))
    shown = (
        f'<a class="patient-name" href="{escape(href)}">{name}</a>'
        if href
        else f'<span class="patient-name">{name}</span>'
    )
    tag = "span" if ids == "inline" else "div"
    nhs = f' · <span class="text-nowrap">NHS {nhs_number_html(patient.nhs_number)}</span>' if patient.nhs_number else ""
    return (
        f'\n{shown}\n<{tag} class="patient-ids small text-muted fw-normal"><span class="text-nowrap">born '
        f"{day_text(patient.date_of_birth)}</span>{nhs}</{tag}>\n"
    )


def sessions_attended_html(count, dna=None):
    """templates/components/sessions_attended.html."""
    shown = f'\n<span class="sessions-attended">{text(count or 0)}</span>'
    if dna:
        shown += f' <span class="small text-muted text-nowrap">({text(dna)} DNA{"" if dna == 1 else "s"})</span>'
    return shown + "\n"


def score_cell_html(cell, **switches):
    """templates/components/score.html as an include renders it (its comment leaves a line before)."""
    return f"\n{score_html(cell, **switches)}\n"


def not_on_track_html(flag):
    """templates/components/not_on_track.html."""
    if not flag:
        return "\n\n"
    severity = escape(str(flag.severity))
    return (
        f'\n<span class="badge on-track-{severity} not-on-track" title="{escape(str(flag.explanation))}">'
        f"Not on track ({severity})</span>\n"
    )


SEVERITY_BADGES = {"red": "text-bg-danger", "amber": "text-bg-warning"}


def flag_badges_html(flags):
    """templates/referrals/_flag_badges.html: the open flags of a list row (``queries.OpenFlag``), risk
    first."""
    badges = []
    for flag in flags:
        explanation = f": {escape(flag.explanation)}" if flag.explanation else ""
        badges.append(
            f'<span class="badge {SEVERITY_BADGES.get(flag.severity, "text-bg-success")} me-1" '
            f'title="{escape(flag.recommendation_label)}{explanation}">'
            f"{escape(flag.rule_label)}</span>"
        )
    return "\n" + "".join(badges) + "\n"


def step_cell(step):
    return f"Step {text(step)}" if step else '<span class="text-muted">–</span>'


def caseload_rows_html(rows):
    """The caseload table's rows (``presenters.caseload_rows``), as templates/referrals/caseload.html
    laid them out."""
    out = []
    for row in rows:
        r = row.referral
        if row.trend_points > 1:
            summary = escape(row.trend_summary)
            phq = f'<polyline class="phq9" points="{escape(row.phq9_trend)}"/>' if row.phq9_trend else ""
            gad = f'<polyline class="gad7" points="{escape(row.gad7_trend)}"/>' if row.gad7_trend else ""
            trend = (
                f'\n        <svg class="sparkline" width="96" height="28" viewBox="0 0 96 28" role="img" '
                f'aria-label="Trend: {summary}">\n          <title>{summary}</title>\n          {phq}\n'
                f"          {gad}\n        </svg>"
            )
        else:
            trend = f'<span class="text-muted small">{escape(row.trend_summary)}</span>'
        item9 = (
            '<span class="badge text-bg-danger" title="PHQ-9 item 9 above 0 at the last score">Item 9</span>'
            if row.risk and not r.has_risk_flag
            else ""
        )
        days = (
            '<span class="text-muted">not seen yet</span>' if row.days_since_contact is None else row.days_since_contact
        )
        out.append(
            f"""
    <tr{' class="row-risk"' if row.risk else ""}>
      <th scope="row">{patient_name_html(r.patient, link("referrals:detail", r.pk))}
        <div class="small text-muted fw-normal">{text(label(r, "presenting_problem"))}{" · LTC" if r.ltc_pathway else ""}</div></th>
      <td class="text-nowrap">{step_cell(r.current_step)}</td>
      <td>{text(label(r, "status"))}</td>
      <td>{sessions_attended_html(r.sessions_attended, r.dna_count)}</td>
      <td class="text-nowrap">{score_cell_html(row.phq9)}</td>
      <td class="text-nowrap">{score_cell_html(row.gad7)}</td>
      <td>{trend}{not_on_track_html(not_on_track(row.flags))}</td>
      <td>{flag_badges_html(row.flags)}{item9}</td>
      <td>{days}</td>
    </tr>
  """
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped  # nosec B308 B703


def waiting_rows_html(rows, *, can_allocate):
    """The waiting list's rows (``presenters.waiting_rows``), as templates/referrals/waiting_list.html
    laid them out; with the allocate button of each when the viewer may allocate."""
    out = []
    for row in rows:
        r = row.referral
        patient = r.patient
        left = row.days_to_next_mark
        next_mark = (
            f' <span class="small text-muted">{left} days to the {"6" if row.mark == "within" else "18"}-week mark</span>'
            if left is not None
            else ""
        )
        coordinator = r.care_coordinator
        booked_at = getattr(r, "next_appointment", None)
        booked = (
            dateformat.format(timezone.localtime(booked_at), "D j M, H:i")
            if booked_at
            else f'<span class="text-muted">Not booked</span> <a class="small" href="{link("appointments:book", r.pk)}'
            f'{"?type=01" if r.status == "awaiting_assessment" else ""}">Book'
            f'<span class="visually-hidden"> {escape(str(patient))}</span></a>'
        )
        allocate = (
            f"""<td>
        <input type="hidden" name="version-{r.pk}" value="{r.version}" form="allocate-form">
        <button class="btn btn-sm btn-outline-primary text-nowrap" type="submit" form="allocate-form" formaction="{link("referrals:allocate", r.pk)}" aria-label="Allocate {escape(str(patient))}">Allocate</button></td>"""
            if can_allocate
            else ""
        )
        out.append(
            f"""
    <tr>
      <th scope="row">{patient_name_html(patient, link("referrals:detail", r.pk))}
        <div class="small text-muted fw-normal">Received {day_text(r.received_on)} · {text(label(r, "source"))}{" · LTC pathway" if r.ltc_pathway else ""}</div></th>
      <td><strong>{row.days_waited}</strong> <span class="small text-muted">({row.weeks_waited} wk)</span><br>
        <span class="badge wait-{escape(row.mark)}">{escape(row.mark_label)}</span>{next_mark}</td>
      <td>{text(label(r, "status"))}</td>
      <td class="text-nowrap">{step_cell(r.current_step)}</td>
      <td>{text(label(r, "presenting_problem"))}</td>
      <td>{text(coordinator) if coordinator else '<span class="text-muted">Not allocated</span>'}</td>
      <td>{booked}</td>
      {allocate}
    </tr>
  """
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped  # nosec B308 B703


def clinician_options_html(clinicians, me):
    """The "allocate to" list's options from the team's clinicians as plain rows (pk, first name, family
    name, username, role: ``stepped_care.queries.clinician_rows``), the viewer ``me`` (a pk) first chosen
    and named "Me". Built once per list and viewer: the list is read on every page (the team's
    clinicians as they are now), its hundreds of options named and escaped only when it changes."""
    return mark_safe(_clinician_options(tuple(clinicians), me))  # noqa: S308 - escaped below  # nosec B308 B703


@lru_cache(maxsize=64)
def _clinician_options(clinicians, me):
    out = []
    for pk, first, last, username, role in clinicians:
        name = f"{first} {last}".strip() or username
        if pk == me:
            out.append(f'<option value="{pk}" selected>Me ({escape(name)})</option>')
        else:
            out.append(f'<option value="{pk}">{escape(name)} · {escape(str(ROLE_LABELS.get(role, role)))}</option>')
    return "".join(out)


ROLE_LABELS = dict(Role.choices)


def sort_th_html(label, link):
    """templates/referrals/_sort_th.html as an include renders it (its closing line break too): a list's
    column header, a link that sorts by it, ``aria-sort`` and the arrow on the column sorted by."""
    aria = link.get("aria_sort") if link else None
    href = escape(link.get("href", "")) if link else ""
    arrow = {"ascending": ' <span aria-hidden="true">▲</span>', "descending": ' <span aria-hidden="true">▼</span>'}
    return mark_safe(  # noqa: S308 - every value is escaped  # nosec B308 B703
        f'<th scope="col"{f" aria-sort={chr(34)}{escape(aria)}{chr(34)}" if aria else ""}>'
        f'<a class="link-dark text-decoration-none" href="{href}">{escape(label)}{arrow.get(aria, "")}</a></th>\n'
    )
