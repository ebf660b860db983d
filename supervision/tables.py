"""Presenters: the rows of a prepared supervision case list as HTML, built in one pass.

The markup of templates/supervision/case_list.html's rows and the partials they included
(supervision/_patient.html, _trend.html, _reasons.html, _last_decision.html); the shared pieces come
from referrals.tables. tests/referrals/test_row_fragments.py keeps them equal to the templates.
"""

from __future__ import annotations

from html import escape  # the standard library's: Django's lazy-aware wrapper costs more per cell

from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from outcomes.presenters import score
from referrals.tables import (
    day_text,
    label,
    not_on_track_html,
    patient_name_html,
    score_cell_html,
    sessions_attended_html,
    text,
)

REASON_BADGES = {"red": " text-bg-danger", "amber": " text-bg-warning", "green": " text-bg-success"}


def case_patient_html(referral, referral_link=None):
    """templates/supervision/_patient.html; ``referral_link`` is (before, after) the referral id."""
    href = f"{referral_link[0]}{referral.pk}{referral_link[1]}" if referral_link else None
    return (
        f"\n{patient_name_html(referral.patient, href)}\n"
        f'<div class="small text-muted fw-normal">{text(label(referral, "presenting_problem"))}</div>\n'
    )


def trend_html(trend, measure, name):
    """templates/supervision/_trend.html: first and latest totals and the reliable-change direction."""
    if trend.first is None:
        return f'\n<span class="text-muted">No {escape(name)} yet</span>\n'
    latest = f"→ {score_cell_html(score(measure, trend.latest))}" if trend.direction != "single" else ""
    return (
        f"\n\n{score_cell_html(score(measure, trend.first))}\n{latest}\n"
        f'<div class="small trend-{escape(trend.direction)}">{escape(trend.label)}</div>\n'
    )


def reasons_html(reasons):
    """templates/supervision/_reasons.html: why a case is listed, most urgent first."""
    if not reasons:
        return '\n<span class="text-muted">Not due</span>\n'
    items = "".join(
        f'<li><span class="badge reason-{escape(r.kind)}{REASON_BADGES.get(r.severity, " text-bg-secondary")}">'
        f"{escape(str(r.label))}</span> {escape(r.text)}</li>"
        for r in reasons
    )
    return f'\n<ul class="list-unstyled mb-0 reasons">\n{items}\n</ul>\n'


def last_decision_html(decision):
    """templates/supervision/_last_decision.html."""
    if not decision:
        return '<span class="text-muted">Never discussed</span>\n'
    step = f" (to step {text(decision['to_step'])})" if decision["to_step"] else ""
    notes = f'<div class="small">{escape(Truncator(decision["notes"]).chars(120))}</div>' if decision["notes"] else ""
    return (
        f"<strong>{escape(str(decision['label']))}</strong>{step}\n"
        f'<div class="small text-muted">{day_text(decision["date"])}</div>{notes}\n\n'
    )


def case_rows_html(rows, referral_link=None):
    """The rows of a prepared list (``queries.case_list``), numbered, as case_list.html laid them out."""
    out = []
    for number, row in enumerate(rows, 1):
        risk = " row-risk" if row.reasons and row.reasons[0].kind == "risk" else ""
        step = text(row.step_label) if row.step else '<span class="text-muted">No step yet</span>'
        out.append(
            f"""
    <tr class="case-row{risk}" data-referral="{row.referral.pk}">
      <td>{number}</td>
      <th scope="row">{case_patient_html(row.referral, referral_link)}</th>
      <td>{step}</td>
      <td>{sessions_attended_html(row.sessions, row.dna_count)}</td>
      <td>{trend_html(row.trends["phq9"], "PHQ9", "PHQ-9")}{not_on_track_html(row.not_on_track)}</td>
      <td>{trend_html(row.trends["gad7"], "GAD7", "GAD-7")}</td>
      <td>{reasons_html(row.reasons)}</td>
      <td>{last_decision_html(row.last_decision)}</td>
    </tr>
  """
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped  # nosec B308 B703
