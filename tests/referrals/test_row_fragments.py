"""The list rows built in one pass (referrals/tables.py, supervision/tables.py, issue 22) say exactly
what the templates they stand for say: each fragment is compared with the template rendered by
Django's engine for the same inputs, so the two cannot drift apart."""

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.template import engines
from django.template.loader import render_to_string

from outcomes.presenters import score
from outcomes.scoring import INSTRUMENTS
from referrals import tables
from referrals.queries import OpenFlag
from supervision import tables as supervision_tables
from supervision.rules import Reason, Trend

ALL_SCORES = [(m, t) for m in ("PHQ9", "GAD7", "WSAS") for t in range(INSTRUMENTS[m].max_total + 1)] + [("PHQ9", None)]


class Person:
    def __init__(self, nhs):
        self.nhs_number, self.date_of_birth = nhs, dt.date(1984, 2, 29)

    def __str__(self):
        return "O'BRIEN <X>, Jo & Ann"


@pytest.mark.parametrize(("measure", "total"), ALL_SCORES)
@pytest.mark.parametrize("switches", [{}, {"show_measure": True}, {"compact": True}])
def test_a_score_is_the_score_component(measure, total, switches):
    cell = score(measure, total)
    assert tables.score_cell_html(cell, **switches) == render_to_string(
        "components/score.html", {"score": cell, **switches}
    )


@pytest.mark.parametrize(("measure", "total"), ALL_SCORES[::5])
def test_the_score_cell_tag_is_the_score_include(measure, total):
    django_engine = engines["django"]
    tag = django_engine.from_string("{% load scores %}[{% score_cell s show_measure=True %}]")
    include = django_engine.from_string('[{% include "components/score.html" with score=s show_measure=True %}]')
    context = {"s": score(measure, total)}
    assert tag.render(context) == include.render(context)


@pytest.mark.parametrize("aria", [None, "ascending", "descending"])
@pytest.mark.parametrize("href", ["?sort=-patient", "?status=awaiting_treatment&sort=step", '?q="<x>"&sort=days'])
@pytest.mark.parametrize("label", ["Patient", "Days since <last> contact & more"])
def test_the_sort_th_tag_is_the_sort_header_include(aria, href, label):
    django_engine = engines["django"]
    tag = django_engine.from_string("{% load lists %}[{% sort_th label link %}][{% sort_th 'Step' link %}]")
    include = django_engine.from_string(
        '[{% include "referrals/_sort_th.html" with label=label link=link %}]'
        '[{% include "referrals/_sort_th.html" with label="Step" link=link %}]'
    )
    context = {"label": label, "link": {"href": href, "aria_sort": aria}}
    assert tag.render(context) == include.render(context)


@pytest.mark.parametrize("nhs", ["9434765919", "", None])
@pytest.mark.parametrize("href", [None, "/referrals/x/?a=1&b=2"])
@pytest.mark.parametrize("ids", [None, "inline"])
def test_a_patient_name_is_the_patient_name_component(nhs, href, ids):
    person = Person(nhs)
    context = {"patient": person, "href": href, "ids": ids}
    assert tables.patient_name_html(person, href, ids) == render_to_string("components/patient_name.html", context)


@pytest.mark.parametrize(("count", "dna"), [(0, 0), (None, None), (1, 1), (7, 2)])
def test_sessions_attended_is_the_component(count, dna):
    assert tables.sessions_attended_html(count, dna) == render_to_string(
        "components/sessions_attended.html", {"count": count, "dna": dna}
    )


@pytest.mark.parametrize("flag", [None, SimpleNamespace(severity="red", explanation='PHQ-9 "above" <band>')])
def test_not_on_track_is_the_component(flag):
    assert tables.not_on_track_html(flag) == render_to_string("components/not_on_track.html", {"flag": flag})


def test_flag_badges_are_the_badges_partial():
    flags = [
        OpenFlag(1, "risk", "review", "red", "Item 9 <at> 2"),
        OpenFlag(2, "not_improving", "step_up", "amber", ""),
        OpenFlag(3, "recovered", "step_out", "green", "All below caseness"),
    ]
    as_models = [
        SimpleNamespace(
            severity=f.severity,
            explanation=f.explanation,
            get_recommendation_display=lambda f=f: f.recommendation_label,
            get_rule_display=lambda f=f: f.rule_label,
        )
        for f in flags
    ]
    assert tables.flag_badges_html(flags) == render_to_string("referrals/_flag_badges.html", {"flags": as_models})
    assert tables.flag_badges_html([]) == render_to_string("referrals/_flag_badges.html", {"flags": []})


TRENDS = [
    Trend(None, None, None, None, "none", ""),
    Trend(14, 14, "moderate", "moderate", "single", "One score so far"),
    Trend(20, 8, "severe", "mild", "improved", "Reliably improved <by 12>"),
]


@pytest.mark.parametrize("trend", TRENDS)
def test_a_supervision_trend_is_the_trend_partial(trend):
    context = {"t": trend, "measure": "PHQ9", "name": "PHQ-9"}
    assert supervision_tables.trend_html(trend, "PHQ9", "PHQ-9") == render_to_string("supervision/_trend.html", context)


@pytest.mark.parametrize(
    "reasons",
    [
        [],
        [
            Reason("risk", "Item 9 at 2 <today>", 0, "red"),
            Reason("new", "Assessed since the last session", 3, ""),
            Reason("dna", "Two DNAs", 4, "amber"),
            Reason("recovered", "Below caseness", 5, "green"),
        ],
    ],
)
def test_reasons_are_the_reasons_partial(reasons):
    assert supervision_tables.reasons_html(reasons) == render_to_string(
        "supervision/_reasons.html", {"reasons": reasons}
    )


@pytest.mark.parametrize(
    "decision",
    [
        None,
        {"label": "Step up", "to_step": 3, "date": dt.date(2026, 3, 1), "notes": "x" * 200},
        {"label": "Continue", "to_step": None, "date": dt.date(2026, 3, 1), "notes": ""},
    ],
)
def test_the_last_decision_is_the_partial(decision):
    assert supervision_tables.last_decision_html(decision) == render_to_string(
        "supervision/_last_decision.html", {"d": decision}
    )


# The referral page's contacts loop as templates/referrals/detail.html had it before the timeline was
# built in one pass (referrals.tables.contacts_html).
CONTACTS_LOOP = """{% load scores %}        {% for contact in contacts %}
        <li class="timeline-item{% if contact.entered_in_error %} in-error{% endif %}" id="contact-{{ contact.pk }}">
          <div class="d-flex flex-wrap justify-content-between gap-2">
            <div><strong>{{ contact.date|date:"D j M Y" }}</strong>{% if contact.time %} {{ contact.time|time:"H:i" }}{% endif %}
              · {{ contact.get_appointment_type_display }} <span class="text-muted small">({{ contact.appointment_type }})</span>
              · <span class="{% if contact.attended %}text-success{% else %}text-danger{% endif %}">{{ contact.get_attendance_display }}</span> <span class="text-muted small">({{ contact.attendance }})</span></div>
            <div class="small text-muted">{{ contact.get_mechanism_display }} · {{ contact.get_therapy_mode_display }}{% if contact.duration_minutes %} · {{ contact.duration_minutes }} min{% endif %} · {{ contact.clinician }}</div>
          </div>
          {% if contact.entered_in_error %}<div class="small text-danger">Entered in error: {{ contact.error_reason }}</div>{% endif %}
          {% with qs=contact.questionnaires.all %}{% if qs %}<div class="small">{% for q in qs %}{% if not q.entered_in_error %}<span class="me-2">{% score_cell q.measure|score:q.total show_measure=True %}</span>{% endif %}{% endfor %}</div>{% endif %}{% endwith %}
          {% if contact.risk_note %}<div class="small border-start border-danger border-3 ps-2 my-1"><strong>Risk assessment:</strong> {{ contact.risk_note|linebreaksbr }}</div>{% endif %}
          {% if contact.notes %}<div class="small">{{ contact.notes|linebreaksbr }}</div>{% endif %}
          {% if contact.homework %}<div class="small"><span class="text-muted">Homework:</span> {{ contact.homework|linebreaksbr }}</div>{% endif %}
          {% if can_mark_error and not contact.entered_in_error %}<a class="small no-print" href="{% url 'referrals:contact_in_error' contact.pk %}">Mark entered in error<span class="visually-hidden"> (contact of {{ contact.date|date:"j M Y" }})</span></a>{% endif %}
        </li>
        {% endfor %}
"""


def contact(**fields):
    from outcomes.models import QuestionnaireResponse
    from referrals.models import CareContact
    from stepped_care.models import Staff

    defaults = {
        "id": uuid.uuid4(),
        "date": dt.date(2026, 3, 2),
        "time": None,
        "appointment_type": "02",
        "attendance": "5",
        "mechanism": "01",
        "therapy_mode": "1",
        "duration_minutes": 45,
        "notes": "",
        "homework": "",
        "risk_note": "",
        "entered_in_error": False,
        "error_reason": "",
    }
    answers = fields.pop("answers", [])
    made = CareContact(**{**defaults, **fields})
    made.clinician = Staff(username="pwp9", first_name="Ann <b>", last_name="O'Neil")
    made._prefetched_objects_cache = {
        "questionnaires": [QuestionnaireResponse(measure=m, total=t, entered_in_error=e) for m, t, e in answers]
    }
    return made


@pytest.mark.parametrize("can_mark_error", [True, False])
def test_the_contacts_timeline_is_the_old_template_loop(can_mark_error):
    contacts = [
        contact(answers=[("PHQ9", 14, False), ("GAD7", 9, False), ("WSAS", 20, True)]),
        contact(time=dt.time(9, 5), attendance="3", duration_minutes=None, notes="Line one\nline <two> & more"),
        contact(risk_note="Plan in place.\nReviewed with 'supervisor'", homework="Diary\n\nweekly"),
        contact(entered_in_error=True, error_reason="Wrong patient <oops>", answers=[("PHQ9", 3, False)]),
        contact(appointment_type="01", attendance="2", answers=[]),
    ]
    old = engines["django"].from_string(CONTACTS_LOOP).render({"contacts": contacts, "can_mark_error": can_mark_error})
    # The loop sat in its template between an indented line and a line break.
    assert f"        {tables.contacts_html(contacts, can_mark_error=can_mark_error)}\n" == old


# The questionnaire table's loop as templates/referrals/_trajectory.html had it (now
# referrals.tables.score_table_html).
SCORE_TABLE_LOOP = """{% load scores %}      {% for row, cells in score_table %}
        <tr>
          <th scope="row" class="fw-normal text-nowrap">{{ row.on|date:"j M Y" }}{% if row.by_patient %}<br><small class="text-muted">by the patient</small>{% endif %}</th>
          {% for cell in cells %}<td>{% score_cell cell %}{% if forloop.first and row.item9 %} <span class="badge text-bg-danger" title="PHQ-9 item 9 answered {{ row.item9 }}">item 9: {{ row.item9 }}</span>{% endif %}</td>{% endfor %}
          <td>{% score_cell row.wsas_score %}</td>
        </tr>
      {% empty %}
        <tr><td colspan="{{ score_columns|length|add:2 }}" class="text-muted">No questionnaires recorded.</td></tr>
      {% endfor %}
"""


@pytest.mark.parametrize("empty", [False, True])
def test_the_score_table_is_the_old_template_loop(empty):
    columns = [("PHQ9", "PHQ-9"), ("GAD7", "GAD-7"), ("SPIN", "SPIN")]
    row = SimpleNamespace(on=dt.date(2026, 3, 2), by_patient=False, item9=2, wsas_score=score("WSAS", 21))
    own = SimpleNamespace(on=dt.date(2026, 3, 9), by_patient=True, item9=0, wsas_score=None)
    table = (
        [] if empty else [(row, [score("PHQ9", 19), None, score("SPIN", 40)]), (own, [None, score("GAD7", 3), None])]
    )
    old = engines["django"].from_string(SCORE_TABLE_LOOP).render({"score_table": table, "score_columns": columns})
    assert f"      {tables.score_table_html(table, columns)}\n" == old


# The charts' SVG as templates/referrals/_trajectory.html and _measure_chart.html had them (now
# referrals.tables.trajectory_svg_html and measure_chart_html).
TRAJECTORY_SVG = """{% load l10n %}{% localize off %}
    <svg class="trajectory w-100" viewBox="0 0 {{ chart.width }} {{ chart.height }}" role="img" aria-labelledby="chart-title chart-desc" preserveAspectRatio="xMidYMid meet">
      <title id="chart-title">PHQ-9 and GAD-7 totals by session date</title>
      <desc id="chart-desc">{{ chart_description }}</desc>
      <g class="grid">
        {% for tick in chart.y_ticks %}<line x1="{{ chart.left }}" x2="{{ chart.right }}" y1="{{ tick.position }}" y2="{{ tick.position }}"/>
        <text class="tick" x="{{ chart.left }}" dx="-6" y="{{ tick.position }}" dy="0.32em" text-anchor="end">{{ tick.label }}</text>{% endfor %}
        {% for tick in chart.x_ticks %}<text class="tick" x="{{ tick.position }}" y="{{ chart.bottom }}" dy="18" text-anchor="middle">{{ tick.label }}</text>{% endfor %}
      </g>
      {% for line in chart.thresholds %}
      <line class="caseness {{ line.code|lower }}" x1="{{ chart.left }}" x2="{{ chart.right }}" y1="{{ line.y }}" y2="{{ line.y }}"/>
      <text class="caseness-label {{ line.code|lower }}" x="{{ chart.right }}" y="{{ line.y }}" dy="{% if line.code == 'GAD7' %}12{% else %}-4{% endif %}" text-anchor="end">{{ line.label }}</text>
      {% endfor %}
      {% for band in chart.bands %}
      <g class="expected-band {{ band.code|lower }}"><title>Expected {{ band.name }} band for this intake (team's finished courses)</title>
        <polygon points="{{ band.area }}"/><polyline class="median" points="{{ band.median }}"/><polyline class="outer" points="{{ band.outer }}"/>
      </g>
      {% endfor %}
      {% for series in chart.series %}{% if series.points %}
      <g class="series {{ series.code|lower }}">
        <polyline points="{{ series.polyline }}"/>
        {% for p in series.points %}{% if series.code == 'GAD7' %}<rect x="-4" y="-4" width="8" height="8" transform="translate({{ p.x }} {{ p.y }})"><title>{{ series.name }} {{ p.value }} on {{ p.on|date:"j M Y" }}</title></rect>{% else %}<circle cx="{{ p.x }}" cy="{{ p.y }}" r="4.5"><title>{{ series.name }} {{ p.value }} on {{ p.on|date:"j M Y" }}</title></circle>{% endif %}{% endfor %}
      </g>
      {% endif %}{% endfor %}
    </svg>{% endlocalize %}"""

MEASURE_CHART = """{# One measure (SPIN, PCL-5, the Mobility Inventory ...) on its own scale with its caseness line: inline SVG, described in words. #}
{% load l10n %}
<figure class="mb-1" id="chart-{{ mc.code|lower }}">{% localize off %}
<svg class="trajectory w-100" viewBox="0 0 {{ mc.chart.width }} {{ mc.chart.height }}" role="img" aria-labelledby="chart-{{ mc.code|lower }}-title chart-{{ mc.code|lower }}-desc" preserveAspectRatio="xMidYMid meet">
  <title id="chart-{{ mc.code|lower }}-title">{{ mc.name }} ({{ mc.title }}) by session date</title>
  <desc id="chart-{{ mc.code|lower }}-desc">{{ mc.description }}</desc>
  <g class="grid">
    {% for tick in mc.chart.y_ticks %}<line x1="{{ mc.chart.left }}" x2="{{ mc.chart.right }}" y1="{{ tick.position }}" y2="{{ tick.position }}"/>
    <text class="tick" x="{{ mc.chart.left }}" dx="-6" y="{{ tick.position }}" dy="0.32em" text-anchor="end">{{ tick.label }}</text>{% endfor %}
    {% for tick in mc.chart.x_ticks %}<text class="tick" x="{{ tick.position }}" y="{{ mc.chart.bottom }}" dy="18" text-anchor="middle">{{ tick.label }}</text>{% endfor %}
  </g>
  {% for band in mc.chart.bands %}
  <g class="expected-band adsm"><title>Expected {{ band.name }} band for this intake (team's finished courses)</title>
    <polygon points="{{ band.area }}"/><polyline class="median" points="{{ band.median }}"/><polyline class="outer" points="{{ band.outer }}"/>
  </g>
  {% endfor %}
  {% for line in mc.chart.thresholds %}
  <line class="caseness adsm" x1="{{ mc.chart.left }}" x2="{{ mc.chart.right }}" y1="{{ line.y }}" y2="{{ line.y }}"/>
  <text class="caseness-label adsm" x="{{ mc.chart.right }}" y="{{ line.y }}" dy="-4" text-anchor="end">{{ line.label }}</text>
  {% endfor %}
  {% for series in mc.chart.series %}{% if series.points %}
  <g class="series adsm">
    <polyline points="{{ series.polyline }}"/>
    {% for p in series.points %}<circle cx="{{ p.x }}" cy="{{ p.y }}" r="4.5"><title>{{ series.name }} {{ p.value }} on {{ p.on|date:"j M Y" }}</title></circle>{% endfor %}
  </g>
  {% endif %}{% endfor %}
</svg>{% endlocalize %}
<figcaption class="small text-muted">{{ mc.name }}: {{ mc.title }}{% for line in mc.chart.thresholds %} · dotted line: caseness ({{ line.label }}){% endfor %}{% if mc.chart.bands %} · shaded: the expected band for this intake; above it amber, above the dotted outer line red{% endif %}{% if mc.decides %} · <strong>decides this referral's anxiety outcome</strong>{% endif %}</figcaption>
</figure>
"""


def chart(codes=("PHQ9", "GAD7"), bands=True, points=True):
    from outcomes.charts import Chart, ExpectedBand, Point, Series, Threshold, Tick

    series = tuple(
        Series(
            code,
            f"{code} <name>",
            (Point(40.0, 12.5, 14, dt.date(2026, 3, 2)), Point(83.33333333333333, 7.25, 9, dt.date(2026, 3, 9)))
            if points
            else (),
        )
        for code in codes
    )
    return Chart(
        width=640,
        height=260,
        left=36.0,
        top=12.0,
        right=628.0,
        bottom=230.5,
        series=series,
        thresholds=tuple(Threshold(code, 120.25, 10, f"{code} caseness & 10") for code in codes),
        y_ticks=(Tick(230.5, "0"), Tick(12.0, "27")),
        x_ticks=(Tick(40.0, "2 Mar"), Tick(83.3, "9 Mar")),
        bands=(ExpectedBand(codes[0], "PHQ-9 <b>", "1,2 3,4", "5,6", "7,8", ()),) if bands else (),
    )


@pytest.mark.parametrize("bands", [True, False])
@pytest.mark.parametrize("points", [True, False])
def test_the_trajectory_chart_is_the_old_template(bands, points):
    shown = chart(bands=bands, points=points)
    context = {"chart": shown, "chart_description": "PHQ-9 from 14 to 9 <over> 2 scores & more"}
    old = engines["django"].from_string(TRAJECTORY_SVG).render(context)
    assert tables.trajectory_svg_html(shown, context["chart_description"]) == old


@pytest.mark.parametrize("bands", [True, False])
@pytest.mark.parametrize("decides", [True, False])
@pytest.mark.parametrize("thresholds", [True, False])
def test_a_measure_chart_is_the_old_template(bands, decides, thresholds):
    from referrals.presenters import MeasureChart

    shown = chart(codes=("SPIN",), bands=bands)
    if not thresholds:
        shown = dataclasses.replace(shown, thresholds=())
    mc = MeasureChart("SPIN", "SPIN", "Social <phobia> inventory", shown, "SPIN from 40 & 30", decides)
    assert tables.measure_chart_html(mc) == engines["django"].from_string(MEASURE_CHART).render({"mc": mc})


@pytest.mark.parametrize("value", [0, 7, -3, 12.5, 1 / 3, 1e-05, 2.5e17, Decimal("10.50"), Decimal("1E+1")])
def test_a_number_is_shown_as_the_template_shows_it_unlocalized(value):
    template = engines["django"].from_string("{% load l10n %}{% localize off %}{{ v }}{% endlocalize %}")
    assert tables.num(value) == template.render({"v": value})


# templates/components/flags.html, as the referral page included it (now referrals.tables.flags_html),
# its rulebook tag left out: ``resolver`` is given (the page asks the rulebook the same question).
FLAGS_MAY = '{% may "resolve_flag" referral as resolver %}'
FLAGS = engines["django"].engine.find_template("components/flags.html")[0].source.replace(FLAGS_MAY, "")


def flag(**fields):
    from stepped_care.models import ReviewFlag

    defaults = {
        "id": uuid.uuid4(),
        "rule": "not_improving",
        "recommendation": "review",
        "severity": "amber",
        "explanation": "PHQ-9 <14> & not improving",
        "evidence": {},
        "raised_at": dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC),  # 1 Mar in London (GMT)
        "updated_at": None,
    }
    return ReviewFlag(**{**defaults, **fields})


EVIDENCE = {
    "measures": {
        "PHQ9": {
            "first": 17,
            "first_on": "2026-01-05",
            "latest": 16,
            "latest_on": "2026-03-02",
            "change": -1,
            "reliable_change": "no",
        },
    },
    "sessions": [{"on": "2026-03-02", "phq9": 16, "gad7": 12}],
}


@pytest.mark.parametrize("resolver", [True, False])
def test_the_open_flags_are_the_old_component(resolver, rf):
    flags = [
        flag(rule="risk", recommendation="risk", severity="red", explanation="", evidence=EVIDENCE),
        flag(
            recommendation="step_out", severity="green", updated_at=dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)
        ),  # 1 Jul (BST)
        flag(evidence={"sessions": [{"on": "2026-03-02", "phq9": "<b>", "gad7": 3}]}),
    ]
    request = rf.get("/referrals/x/", {"a": "1 & 2", "b": "<x>"})
    context = {"flags": flags, "resolver": resolver, "request": request, "csrf_token": "tok<en>"}
    old = engines["django"].from_string(FLAGS).render(context)
    new = tables.flags_html(flags, resolver=resolver, csrf_token="tok<en>", path=request.get_full_path())
    assert new == old


def test_no_open_flags_is_the_old_component(rf):
    old = engines["django"].from_string(FLAGS).render({"flags": [], "resolver": True})
    assert tables.flags_html([], resolver=True, csrf_token="x", path="/") == old
