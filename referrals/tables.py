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
from urllib.parse import quote

from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.safestring import mark_safe

from outcomes.presenters import score, score_html
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


_VERSION_MARK = -918273645  # stands for the record's version in a cached form's markup


@lru_cache(maxsize=32)
def _unbound_form_html(form_class, today):
    from crispy_forms.utils import render_crispy_form  # noqa: PLC0415 - crispy is a page concern, loaded on use

    return render_crispy_form(form_class(initial={"version": _VERSION_MARK}))


def unbound_form_html(form_class, version, today):
    """``{% crispy form_class(initial={"version": version}) %}`` of a form with a crispy helper: the same
    for every record but its version (and its dates' initial ``today``), so built once a day per form.
    The referral page holds three (step, problem, discharge), with hundreds of select options."""
    mark = f'value="{_VERSION_MARK}"'
    return mark_safe(_unbound_form_html(form_class, today).replace(mark, f'value="{int(version)}"'))  # noqa: S308  # nosec B308 B703


def _lines(value):
    """``{{ value|linebreaksbr }}``."""
    from django.template.defaultfilters import linebreaksbr  # noqa: PLC0415 - one filter, the template's own

    return linebreaksbr(value, autoescape=True)


def contacts_html(contacts, *, can_mark_error):
    """The referral page's contacts timeline (newest first), as templates/referrals/detail.html laid it
    out: each contact with its valid questionnaire totals (prefetched ``questionnaires``)."""
    out = []
    for c in contacts:
        time = f" {dateformat.time_format(c.time, 'H:i')}" if c.time else ""
        minutes = f" · {c.duration_minutes} min" if c.duration_minutes else ""
        in_error = (
            f'<div class="small text-danger">Entered in error: {escape(c.error_reason)}</div>'
            if c.entered_in_error
            else ""
        )
        answers = list(c.questionnaires.all())
        scores = (
            '<div class="small">'
            + "".join(
                f'<span class="me-2">{score_cell_html(score(q.measure, q.total), show_measure=True)}</span>'
                for q in answers
                if not q.entered_in_error
            )
            + "</div>"
            if answers
            else ""
        )
        risk = (
            f'<div class="small border-start border-danger border-3 ps-2 my-1"><strong>Risk assessment:</strong> {_lines(c.risk_note)}</div>'
            if c.risk_note
            else ""
        )
        notes = f'<div class="small">{_lines(c.notes)}</div>' if c.notes else ""
        homework = (
            f'<div class="small"><span class="text-muted">Homework:</span> {_lines(c.homework)}</div>'
            if c.homework
            else ""
        )
        mark = (
            f'<a class="small no-print" href="{link("referrals:contact_in_error", c.pk)}">Mark entered in error'
            f'<span class="visually-hidden"> (contact of {day_text(c.date)})</span></a>'
            if can_mark_error and not c.entered_in_error
            else ""
        )
        out.append(
            f"""
        <li class="timeline-item{" in-error" if c.entered_in_error else ""}" id="contact-{c.pk}">
          <div class="d-flex flex-wrap justify-content-between gap-2">
            <div><strong>{dateformat.format(c.date, "D j M Y")}</strong>{time}
              · {text(label(c, "appointment_type"))} <span class="text-muted small">({escape(c.appointment_type)})</span>
              · <span class="{"text-success" if c.attended else "text-danger"}">{text(label(c, "attendance"))}</span> <span class="text-muted small">({escape(c.attendance)})</span></div>
            <div class="small text-muted">{text(label(c, "mechanism"))} · {text(label(c, "therapy_mode"))}{minutes} · {text(c.clinician)}</div>
          </div>
          {in_error}
          {scores}
          {risk}
          {notes}
          {homework}
          {mark}
        </li>
        """
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped  # nosec B308 B703


def score_table_html(score_table, columns):
    """The body of the referral page's questionnaire table (``presenters.score_table``: (row, cells)
    oldest first), as templates/referrals/_trajectory.html laid it out; ``columns`` its measures."""
    if not score_table:
        return mark_safe(  # noqa: S308 - a number we formatted  # nosec B308 B703
            f'\n        <tr><td colspan="{len(columns) + 2}" class="text-muted">No questionnaires recorded.</td></tr>\n      '
        )
    out = []
    for row, cells in score_table:
        by = '<br><small class="text-muted">by the patient</small>' if row.by_patient else ""
        shown = []
        for n, cell in enumerate(cells):
            item9 = (
                f' <span class="badge text-bg-danger" title="PHQ-9 item 9 answered {text(row.item9)}">item 9: {text(row.item9)}</span>'
                if n == 0 and row.item9
                else ""
            )
            shown.append(f"<td>{score_cell_html(cell)}{item9}</td>")
        out.append(
            f"""
        <tr>
          <th scope="row" class="fw-normal text-nowrap">{day_text(row.on)}{by}</th>
          {"".join(shown)}
          <td>{score_cell_html(row.wsas_score)}</td>
        </tr>
      """
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped  # nosec B308 B703


def num(value):
    """``{{ value }}`` of a number inside ``{% localize off %}``: ``str`` for ints and plain floats (what
    Django's number formatting gives them), Django's own formatting for anything else."""
    if type(value) is int:
        return str(value)
    if type(value) is float:
        shown = str(value)
        if "e" not in shown and "n" not in shown:  # not 1e-05, inf or nan
            return shown
    from django.utils.formats import localize  # noqa: PLC0415 - the rare case

    return escape(str(localize(value, use_l10n=False)))


def _chart_grid(chart, indent):
    left, right = num(chart.left), num(chart.right)
    y_ticks = "".join(
        f'<line x1="{left}" x2="{right}" y1="{num(t.position)}" y2="{num(t.position)}"/>\n'
        f'{indent}<text class="tick" x="{left}" dx="-6" y="{num(t.position)}" dy="0.32em" text-anchor="end">'
        f"{text(t.label)}</text>"
        for t in chart.y_ticks
    )
    bottom = num(chart.bottom)
    x_ticks = "".join(
        f'<text class="tick" x="{num(t.position)}" y="{bottom}" dy="18" text-anchor="middle">{text(t.label)}</text>'
        for t in chart.x_ticks
    )
    return y_ticks, x_ticks


def _point_title(series, p):
    return f"<title>{text(series.name)} {num(p.value)} on {day_text(p.on)}</title>"


def trajectory_svg_html(chart, description):
    """The PHQ-9 and GAD-7 chart's SVG (``presenters.trajectory``), as templates/referrals/_trajectory.html
    laid it out inside ``{% localize off %}``."""
    y_ticks, x_ticks = _chart_grid(chart, " " * 8)
    left, right = num(chart.left), num(chart.right)
    thresholds = "".join(
        f"""
      <line class="caseness {text(line.code.lower())}" x1="{left}" x2="{right}" y1="{num(line.y)}" y2="{num(line.y)}"/>
      <text class="caseness-label {text(line.code.lower())}" x="{right}" y="{num(line.y)}" dy="{"12" if line.code == "GAD7" else "-4"}" text-anchor="end">{text(line.label)}</text>
      """
        for line in chart.thresholds
    )
    bands = "".join(
        f"""
      <g class="expected-band {text(band.code.lower())}"><title>Expected {text(band.name)} band for this intake (team's finished courses)</title>
        <polygon points="{text(band.area)}"/><polyline class="median" points="{text(band.median)}"/><polyline class="outer" points="{text(band.outer)}"/>
      </g>
      """
        for band in chart.bands
    )
    series = []
    for s in chart.series:
        if not s.points:
            continue
        if s.code == "GAD7":
            marks = "".join(
                f'<rect x="-4" y="-4" width="8" height="8" transform="translate({num(p.x)} {num(p.y)})">'
                f"{_point_title(s, p)}</rect>"
                for p in s.points
            )
        else:
            marks = "".join(
                f'<circle cx="{num(p.x)}" cy="{num(p.y)}" r="4.5">{_point_title(s, p)}</circle>' for p in s.points
            )
        series.append(
            f"""
      <g class="series {text(s.code.lower())}">
        <polyline points="{text(s.polyline)}"/>
        {marks}
      </g>
      """
        )
    return mark_safe(  # noqa: S308 - every value above is escaped  # nosec B308 B703
        f"""
    <svg class="trajectory w-100" viewBox="0 0 {num(chart.width)} {num(chart.height)}" role="img" aria-labelledby="chart-title chart-desc" preserveAspectRatio="xMidYMid meet">
      <title id="chart-title">PHQ-9 and GAD-7 totals by session date</title>
      <desc id="chart-desc">{text(description)}</desc>
      <g class="grid">
        {y_ticks}
        {x_ticks}
      </g>
      {thresholds}
      {bands}
      {"".join(series)}
    </svg>"""
    )


def measure_chart_html(mc):
    """One other measure's chart (``presenters.MeasureChart``) as templates/referrals/_measure_chart.html
    laid it out: its SVG and caption."""
    chart = mc.chart
    code = text(mc.code.lower())
    y_ticks, x_ticks = _chart_grid(chart, " " * 4)
    left, right = num(chart.left), num(chart.right)
    bands = "".join(
        f"""
  <g class="expected-band adsm"><title>Expected {text(band.name)} band for this intake (team's finished courses)</title>
    <polygon points="{text(band.area)}"/><polyline class="median" points="{text(band.median)}"/><polyline class="outer" points="{text(band.outer)}"/>
  </g>
  """
        for band in chart.bands
    )
    thresholds = "".join(
        f"""
  <line class="caseness adsm" x1="{left}" x2="{right}" y1="{num(line.y)}" y2="{num(line.y)}"/>
  <text class="caseness-label adsm" x="{right}" y="{num(line.y)}" dy="-4" text-anchor="end">{text(line.label)}</text>
  """
        for line in chart.thresholds
    )
    series = "".join(
        f"""
  <g class="series adsm">
    <polyline points="{text(s.polyline)}"/>
    {"".join(f'<circle cx="{num(p.x)}" cy="{num(p.y)}" r="4.5">{_point_title(s, p)}</circle>' for p in s.points)}
  </g>
  """
        for s in chart.series
        if s.points
    )
    caption = "".join(f" · dotted line: caseness ({text(line.label)})" for line in chart.thresholds)
    if chart.bands:
        caption += " · shaded: the expected band for this intake; above it amber, above the dotted outer line red"
    if mc.decides:
        caption += " · <strong>decides this referral's anxiety outcome</strong>"
    return mark_safe(  # noqa: S308 - every value above is escaped  # nosec B308 B703
        f"""

<figure class="mb-1" id="chart-{code}">
<svg class="trajectory w-100" viewBox="0 0 {num(chart.width)} {num(chart.height)}" role="img" aria-labelledby="chart-{code}-title chart-{code}-desc" preserveAspectRatio="xMidYMid meet">
  <title id="chart-{code}-title">{text(mc.name)} ({text(mc.title)}) by session date</title>
  <desc id="chart-{code}-desc">{text(mc.description)}</desc>
  <g class="grid">
    {y_ticks}
    {x_ticks}
  </g>
  {bands}
  {thresholds}
  {series}
</svg>
<figcaption class="small text-muted">{text(mc.name)}: {text(mc.title)}{caption}</figcaption>
</figure>
"""
    )


def measure_charts_html(charts):
    """templates/referrals/detail.html's ``{% for mc in measure_charts %}`` row of charts."""
    return mark_safe(  # noqa: S308 - built above, escaped  # nosec B308 B703
        "".join(f'<div class="col-lg-6">{measure_chart_html(mc)}</div>' for mc in charts)
    )


FLAG_BORDERS = {"red": "border-danger", "amber": "border-warning"}


def _moment_day(moment):
    """``{{ moment|date:"j M Y" }}`` of an aware datetime (shown in local time, as the template does)."""
    return day_text(timezone.localtime(moment).date()) if timezone.is_aware(moment) else day_text(moment.date())


@lru_cache(maxsize=4)
def _end_code_options(choices):
    return "".join(f'<option value="{text(code)}">{text(code)} {text(name)}</option>' for code, name in choices)


def flags_html(flags, *, resolver, csrf_token, path):
    """templates/components/flags.html for the referral page: the open flags (risk first) with their
    evidence and, when ``resolver`` (the rulebook's ``resolve_flag``), the accept/dismiss form of each;
    ``path`` is the page's own address (to come back to), ``csrf_token`` the form's token."""
    from referrals.codes import EndCode  # noqa: PLC0415 - the step-out form's end codes
    from stepped_care.review import evidence_lines  # noqa: PLC0415 - the review's words for its evidence

    if not flags:
        return mark_safe('\n\n\n\n<p class="text-muted mb-0">No open flags.</p>\n\n')  # noqa: S308  # nosec B308 B703
    back = escape(path)
    back_quoted = escape(quote(path, safe="/"))
    out = []
    for flag in flags:
        lines = evidence_lines(flag.rule, flag.evidence or {})
        evidence = (
            f"""
    <details class="small"><summary>Evidence</summary>
      <dl class="row mb-0">{"".join(f'<dt class="col-sm-4">{text(k)}</dt><dd class="col-sm-8">{text(v)}</dd>' for k, v in lines)}</dl>
    </details>
    """
            if lines
            else ""
        )
        recommendation = label(flag, "recommendation")
        form = ""
        if resolver:
            href = link("resolve_flag", flag.pk)
            step_out = (
                f"""
        <div class="mb-2">
          <label class="form-label" for="end-code-{flag.pk}">Referral end code (to accept: discharges the referral)</label>
          <select class="form-select form-select-sm" id="end-code-{flag.pk}" name="end_code">
            <option value="">Choose an end code</option>
            {_end_code_options(tuple(EndCode.choices))}
          </select>
        </div>
        """
                if flag.recommendation == "step_out"
                else ""
            )
            form = f"""
    <details class="small mt-1"><summary>Accept or dismiss</summary>
      <form method="post" action="{href}" class="mt-2">
        <input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">
        <input type="hidden" name="next" value="{back}">
        <div class="mb-2">
          <label class="form-label" for="reason-{flag.pk}">Reason <span class="text-muted">(required to dismiss)</span></label>
          <textarea class="form-control form-control-sm" id="reason-{flag.pk}" name="reason" rows="2"></textarea>
        </div>
        {step_out}
        <button type="submit" name="action" value="accept" class="btn btn-sm btn-primary">Accept: {text(recommendation.lower())}</button>
        <button type="submit" name="action" value="dismiss" class="btn btn-sm btn-outline-secondary">Dismiss</button>
        <a class="btn btn-sm btn-link" href="{href}?next={back_quoted}">More options</a>
      </form>
    </details>
    """
        updated = f", updated {_moment_day(flag.updated_at)}" if flag.updated_at else ""
        explanation = f'<div class="small">{text(flag.explanation)}</div>' if flag.explanation else ""
        out.append(
            f"""
  <li class="border-start border-4 ps-2 mb-3 {FLAG_BORDERS.get(flag.severity, "border-success")}" id="flag-{flag.pk}">
    <div>
      <span class="badge {SEVERITY_BADGES.get(flag.severity, "text-bg-success")}">{text(label(flag, "severity"))}</span>
      <strong>{text(label(flag, "rule"))}</strong> · {text(recommendation)}
      <span class="text-muted small">raised {_moment_day(flag.raised_at)}{updated}</span>
    </div>
    {explanation}
    {evidence}
    {form}
  </li>
  """
        )
    return mark_safe(  # noqa: S308 - every value above is escaped  # nosec B308 B703
        f'\n\n\n\n\n<ul class="list-unstyled mb-0 flag-list">\n  {"".join(out)}\n</ul>\n\n'
    )


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
