"""Presenters: the dashboard's numbers as tables (HTML, CSV) and charts, each number linked to its list.

One ``Table`` feeds the page, the CSV export and the chart beside it, so they cannot disagree. A
large service has hundreds of clinicians, so table bodies are rendered here in one pass (escaped)
rather than by nested template loops over thousands of cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape  # the standard library's: Django's lazy-aware wrapper costs more per cell
from urllib.parse import urlencode

from django.utils.safestring import mark_safe

from outcomes.queries import NONE
from referrals.codes import ReferralStatus
from stepped_care.models import Step

from . import charts
from .queries import FLAG_AGES

METRIC_LABELS = {
    "finished": "Finished a course of treatment and ended in the period",
    "not_caseness": "Not at caseness at the start",
    "at_caseness": "At caseness at the start, or not assessed (the recovery denominator)",
    "not_computable": "Not assessed (fewer than two PHQ-9 scores or two scores of the anxiety measure)",
    "specific_anxiety": "A specific anxiety disorder (its presenting problem has a disorder-specific measure)",
    "measured_with_adsm": "A specific anxiety disorder measured with its own disorder-specific measure (ADSM)",
    "recovered": "Recovered",
    "reliable_improvement": "Reliable improvement",
    "reliable_deterioration": "Reliable deterioration",
    "reliable_recovery": "Reliable recovery",
    "waits_measured": "First treatment recorded",
    "within_6_weeks": "First treatment within 6 weeks of referral",
    "within_18_weeks": "First treatment within 18 weeks of referral",
    "second_contact_measured": "Second treatment recorded",
    "hidden_waits": "Hidden wait: more than 90 days between first and second treatment",
    "with_dna": "At least one appointment not attended (DNA)",
    "active": "Active referrals",
    "sessions_month": "Seen this month",
    "waiting": "Waiting for treatment",
    "hidden_wait_now": "In a hidden wait now: first treatment over 90 days ago, no second yet",
    "open_flags": "With an open review flag",
}

RATE_NAMES = {
    "recovery_rate": "Recovery",
    "reliable_improvement_rate": "Reliable improvement",
    "reliable_recovery_rate": "Reliable recovery",
    "reliable_deterioration_rate": "Reliable deterioration",
}


class Cell:
    """One table cell: its text, its value for CSV, its drill-down link and CSS class.

    ``safe`` marks text that needs no escaping (numbers and percentages we formatted ourselves).
    """

    __slots__ = ("text", "value", "href", "css", "safe")

    def __init__(self, text, value=None, href=None, css="", safe=False):
        self.text, self.value, self.href, self.css, self.safe = text, value, href, css, safe


class LazyRows(Sequence):
    """A per-clinician table's rows, each built when it is first read: the dashboard shows the busiest
    few of hundreds (issue 22), so building every row's cells and links for it was wasted work; the
    whole table and the CSV read them all. Items come in display order."""

    def __init__(self, items, build):
        self._items = list(items)
        self._build = build
        self._built = {}

    def __len__(self):
        return len(self._items)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._items)))]
        if index < 0:
            index += len(self._items)
        row = self._built.get(index)
        if row is None:
            row = self._built[index] = self._build(self._items[index])
        return row

    def __eq__(self, other):
        return list(self) == list(other)


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Cell]] | LazyRows = field(default_factory=list)
    foot: list[list[Cell]] = field(default_factory=list)
    note: str = ""
    chart: charts.Chart | None = None
    # Per-clinician tables run to hundreds of rows in a large service: the dashboard shows the busiest
    # ``limit`` (rows come busiest first) and links to the whole table; the CSV always has every row.
    per_person: bool = False
    limit: int | None = None

    @property
    def shown_rows(self):
        return self.rows if self.limit is None else self.rows[: self.limit]

    @property
    def hidden_count(self):
        return len(self.rows) - len(self.shown_rows)

    @property
    def body_html(self):
        return mark_safe(_rows_html(self.shown_rows, "td"))  # noqa: S308 - every text is escaped in _rows_html  # nosec B308 B703

    @property
    def chart_html(self):
        return chart_html(self.chart, self.key) if self.chart else ""

    @property
    def foot_html(self):
        return mark_safe(_rows_html(self.foot, "td"))  # noqa: S308 - every text is escaped in _rows_html  # nosec B308 B703

    def csv_rows(self):
        yield self.columns
        for row in (*self.rows, *self.foot):
            yield [c.text if c.value is None else c.value for c in row]


def _rows_html(rows, tag):
    out = []
    append = out.append
    for row in rows:
        append("<tr>")
        for i, cell in enumerate(row):
            text = cell.text if cell.safe else escape(cell.text)
            if cell.href:
                # URL-encoded already: only the ampersands need escaping in an attribute.
                text = f'<a href="{cell.href.replace("&", "&amp;")}">{text}</a>'
            css = f' class="{cell.css}"' if cell.css else ""
            if i == 0:
                append(f'<th scope="row"{css}>{text}</th>')
            else:
                append(f"<{tag}{css}>{text}</{tag}>")
        append("</tr>")
    return "".join(out)


class Links:
    """Drill-down URLs: the dashboard's filter, the number's metric and the row's dimensions.

    The filter part is encoded once per set of overridden parameters; metric names and dimension
    values are plain identifiers, numbers and ISO months (nothing to encode), so each link is one
    string concatenation. A dimension overrides the filter's parameter of the same name (a
    clinician row, a step column). ``links.row(clinician=7)`` fixes a row's dimensions once.
    """

    def __init__(self, url, params, _fixed=None, _encoded=None):
        self.url = url
        self.params = {k: str(v) for k, v in params.items() if v is not None}
        self.fixed = _fixed or {}
        self._encoded = {} if _encoded is None else _encoded  # shared by the rows: excluded keys -> query
        self._prefixes = {}

    def row(self, **dims):
        fixed = {**self.fixed, **{k: v for k, v in dims.items() if v is not None}}
        return Links(self.url, self.params, fixed, self._encoded)

    def _prefix(self, keys):
        prefix = self._prefixes.get(keys)
        if prefix is None:
            excluded = frozenset(keys)
            rest = self._encoded.get(excluded)
            if rest is None:
                rest = self._encoded[excluded] = urlencode({k: v for k, v in self.params.items() if k not in excluded})
            fixed = "".join(f"&{k}={self.fixed[k]}" for k in self.fixed)
            prefix = self._prefixes[keys] = f"{self.url}?{rest}{fixed}"
        return prefix

    def __call__(self, metric, **dims):
        if dims:
            dims = {k: v for k, v in dims.items() if v is not None and k not in self.fixed}
        if not dims:
            return f"{self._prefix(tuple(self.fixed))}&metric={metric}"
        tail = "".join(f"&{k}={v}" for k, v in dims.items())
        return f"{self._prefix((*self.fixed, *dims))}{tail}&metric={metric}"


def count(n, links, metric, **dims):
    return Cell(str(n), n, links(metric, **dims) if links else None, "text-end", True)


def rate(value, target=None):
    css = "text-end"
    if target is not None and value is not None:
        css += " text-success" if value >= target else " text-danger"
    return Cell(charts.percent(value), None if value is None else round(value * 100, 1), None, css, True)


def plain(text, css=""):
    return Cell("" if text is None else str(text), text, None, css, isinstance(text, int))


def headline_table(data, links):
    m = data.outcomes
    c, r, targets, met = m["counts"], m["rates"], m["targets"], m["met"]
    rows = []

    def add(name, num_metric, den_metric, rate_key, num=None, den=None):
        target = targets.get(rate_key)
        verdict = met.get(rate_key)
        rows.append(
            [
                plain(name),
                count(c[num_metric] if num is None else num, links, num_metric),
                count(c[den_metric] if den is None else den, links, den_metric),
                rate(r.get(rate_key), target),
                plain(charts.percent(target) if target is not None else "No target", "text-end"),
                plain({True: "Met", False: "Not met", None: "–"}[verdict] if target is not None else "–"),
            ]
        )

    add("Recovery", "recovered", "at_caseness", "recovery_rate")
    add("Reliable improvement", "reliable_improvement", "finished", "reliable_improvement_rate")
    add("Reliable recovery", "reliable_recovery", "at_caseness", "reliable_recovery_rate")
    add("Reliable deterioration", "reliable_deterioration", "finished", "reliable_deterioration_rate")
    add("First treatment within 6 weeks", "within_6_weeks", "waits_measured", "wait_6_weeks_share")
    add("First treatment within 18 weeks", "within_18_weeks", "waits_measured", "wait_18_weeks_share")
    add(
        "Hidden waits (over 90 days from first to second treatment)",
        "hidden_waits",
        "second_contact_measured",
        "hidden_wait_share",
    )
    adsm_share = c["measured_with_adsm"] / c["specific_anxiety"] if c["specific_anxiety"] else None
    rows.append(
        [
            plain("Specific anxiety disorders measured with their own ADSM"),
            count(c["measured_with_adsm"], links, "measured_with_adsm"),
            count(c["specific_anxiety"], links, "specific_anxiety"),
            rate(adsm_share),
            plain("No target", "text-end"),
            plain("–"),
        ]
    )
    with_dna = c["with_dna"] / c["finished"] if c["finished"] else None
    rows.append(
        [
            plain("Referrals with an appointment not attended (DNA)"),
            count(c["with_dna"], links, "with_dna"),
            count(c["finished"], links, "finished"),
            rate(with_dna),
            plain("No target", "text-end"),
            plain("–"),
        ]
    )
    rows.append(
        [
            plain("DNA rate of their appointments (counts are appointments)"),
            plain(c["dna_count"], "text-end"),
            plain(c["contact_count"], "text-end"),
            rate(r.get("dna_rate")),
            plain("No target", "text-end"),
            plain("–"),
        ]
    )
    return Table(
        "outcomes",
        "Outcomes and waits against the national standards",
        ["Measure", "Referrals", "Of", "Rate", "Target", "Target met"],
        rows,
        note=(
            f"{c['finished']} referrals finished a course of treatment (ended, at least 2 attended treatment "
            f"contacts) in the period; {c['not_caseness']} were not at caseness at the start and "
            f"{c['not_computable']} are not assessed (fewer than two PHQ-9 scores or two scores of the anxiety "
            "measure). The anxiety measure is the one the presenting problem calls for (SPIN, PCL-5, OCI, PDSS, "
            "HAI, Mobility Inventory) when it has two or more scores, else GAD-7. The DNA rate counts the "
            "appointments of these referrals; the row above lists the referrals with a DNA."
        ),
    )


OUTCOME_COLUMNS = [
    "Finished",
    "At caseness",
    "Recovered",
    "Recovery",
    "Reliable improvement",
    "RI rate",
    "Reliable recovery",
    "RR rate",
    "Reliable deterioration",
    "RD rate",
    "Within 6 weeks",
    "Hidden waits",
    "DNA rate",
]


def outcome_cells(m, links, **dims):
    c, r, t = m["counts"], m["rates"], m["targets"]
    links = links.row(**dims)
    return [
        count(c["finished"], links, "finished"),
        count(c["at_caseness"], links, "at_caseness"),
        count(c["recovered"], links, "recovered"),
        rate(r["recovery_rate"], t.get("recovery_rate")),
        count(c["reliable_improvement"], links, "reliable_improvement"),
        rate(r["reliable_improvement_rate"], t.get("reliable_improvement_rate")),
        count(c["reliable_recovery"], links, "reliable_recovery"),
        rate(r["reliable_recovery_rate"], t.get("reliable_recovery_rate")),
        count(c["reliable_deterioration"], links, "reliable_deterioration"),
        rate(r["reliable_deterioration_rate"]),
        rate(r["wait_6_weeks_share"], t.get("wait_6_weeks_share")),
        count(c["hidden_waits"], links, "hidden_waits"),
        rate(r["dna_rate"]),
    ]


def trend_table(data, links):
    rows = []
    for month, m in data.by_month:
        rows.append([plain(month.strftime("%b %Y")), *outcome_cells(m, links, month=month.strftime("%Y-%m"))])
    labels = [month.strftime("%b %Y") for month, _ in data.by_month]
    series = [(key, name, [m["rates"][key] for _, m in data.by_month]) for key, name in RATE_NAMES.items()]
    targets = [(key, RATE_NAMES[key], data.outcomes["targets"].get(key)) for key in RATE_NAMES]
    chart = charts.rate_trend("Monthly outcome rates of referrals ending each month", labels, series, targets)
    return Table("trend", "Monthly trend (by month the referral ended)", ["Month", *OUTCOME_COLUMNS], rows, chart=chart)


def step_label(step):
    return "Not yet on a step" if step in (None, NONE) else Step(step).label


def by_step_table(data, links):
    rows = [[plain(step_label(step)), *outcome_cells(m, links, step=step or NONE)] for step, m in data.by_step]
    categories = [f"Step {step}" if step else "No step" for step, _ in data.by_step]
    series = [(key, name, [m["rates"][key] for _, m in data.by_step]) for key, name in RATE_NAMES.items()]
    chart = charts.grouped_bars("Outcome rates by step", categories, series)
    return Table(
        "by_step", "Outcomes by step (the referral's last step)", ["Step", *OUTCOME_COLUMNS], rows, chart=chart
    )


def staff_name(data, pk):
    if pk in (None, NONE):
        return "No care coordinator"
    person = data.staff.get(pk)
    return person["name"] if person else f"Staff {pk} (another team)"


def by_clinician_table(data, links):
    rows = LazyRows(
        sorted(data.by_clinician, key=lambda item: (-item[1]["counts"]["finished"], staff_name(data, item[0]))),
        lambda item: [plain(staff_name(data, item[0])), *outcome_cells(item[1], links, clinician=item[0] or NONE)],
    )
    return Table(
        "by_clinician",
        "Outcomes by clinician (care coordinator)",
        ["Clinician", *OUTCOME_COLUMNS],
        rows,
        note="Clinicians with the most courses finished in the period first.",
        per_person=True,
    )


def caseload_table(data, links):
    steps = sorted({s for _, s, _ in data.caseload if s != NONE} | {2, 3})
    cells = {}
    for clinician, step, n in data.caseload:
        cells.setdefault(clinician, {})[step] = n
    people = [pk for pk, s in data.staff.items() if s["clinical"] and s["active"]]
    people += [pk for pk in {*cells, *data.sessions} if pk not in people]
    # Referrals with no care coordinator first (they need allocating), then the busiest clinicians.
    people.sort(key=lambda pk: (pk != NONE, -sum(cells.get(pk, {}).values()), staff_name(data, pk)))
    columns = [
        "Clinician",
        "Role",
        *(f"Step {s}" for s in steps),
        "Not yet on a step",
        "Active referrals",
        "Sessions this month",
        "Patients seen this month",
        "DNAs this month",
        "Appointments this month",
    ]
    step_totals = {}
    totals = {"sessions": 0, "patients": 0, "dna": 0, "appointments": 0}
    for pk in people:  # the totals of the foot need every row's numbers, not its cells
        for s, n in cells.get(pk, {}).items():
            step_totals[s] = step_totals.get(s, 0) + n
        month = data.sessions.get(pk, {})
        for key in totals:
            totals[key] += month.get(key, 0)

    def row(pk):
        row_counts = cells.get(pk, {})
        month = data.sessions.get(pk, {})
        role = data.staff.get(pk, {}).get("role", "")
        out = [plain(staff_name(data, pk)), plain(role)]
        row_links = links.row(clinician=pk)
        for s in (*steps, NONE):
            out.append(count(row_counts.get(s, 0), row_links, "active", step=s))
        out.append(count(sum(row_counts.values()), row_links, "active"))
        out.append(plain(month.get("sessions", 0), "text-end"))
        out.append(count(month.get("patients", 0), row_links, "sessions_month") if pk != NONE else plain(0, "text-end"))
        out.append(plain(month.get("dna", 0), "text-end"))
        out.append(plain(month.get("appointments", 0), "text-end"))
        return out

    rows = LazyRows(people, row)
    foot = [
        [
            plain("All clinicians"),
            plain(""),
            *(count(step_totals.get(s, 0), links, "active", step=s) for s in (*steps, NONE)),
            count(sum(step_totals.values()), links, "active"),
            plain(totals["sessions"], "text-end"),
            plain(totals["patients"], "text-end"),
            plain(totals["dna"], "text-end"),
            plain(totals["appointments"], "text-end"),
        ]
    ]
    return Table(
        "caseload",
        "Caseload by clinician and step",
        columns,
        rows,
        foot,
        note="Active referrals by care coordinator and current step, the largest caseloads first; sessions are "
        "this calendar month's attended contacts held by each clinician (patients seen links to the referrals).",
        per_person=True,
    )


def waiting_table(data, links):
    w = data.waiting
    rows = []
    for status in w["statuses"]:
        rows.append(
            [
                plain(status["label"]),
                *(
                    count(n, links, "waiting", status=status["status"], band=band)
                    for band, n in status["bands"].items()
                ),
                count(sum(status["bands"].values()), links, "waiting", status=status["status"]),
            ]
        )
    foot = [
        [
            plain("Waiting"),
            *(count(n, links, "waiting", band=band) for band, n in w["totals"].items()),
            count(w["waiting"], links, "waiting"),
        ]
    ]
    categories = list(w["bands"].values())
    chart = charts.grouped_bars(
        "Waiting list by time since referral",
        categories,
        [(str(ReferralStatus(s["status"])), s["label"], list(s["bands"].values())) for s in w["statuses"]],
        as_rate=False,
    )
    return Table(
        "waiting",
        "Waiting list against the 6- and 18-week standards",
        ["Status", *w["bands"].values(), "Total"],
        rows,
        foot,
        note=(
            f"{charts.percent(w['share_within_6_weeks'])} of those waiting have waited up to 6 weeks and "
            f"{charts.percent(w['share_within_18_weeks'])} up to 18 weeks; the longest wait is "
            + (f"{w['longest_wait_days']} days." if w["longest_wait_days"] is not None else "–.")
        ),
        chart=chart,
    )


def hidden_waits_table(data, links):
    c, r = data.outcomes["counts"], data.outcomes["rates"]
    rows = [
        [
            plain("In a hidden wait now (active, first treatment over 90 days ago, no second yet)"),
            count(data.waiting["hidden_wait_now"], links, "hidden_wait_now"),
            plain("–", "text-end"),
        ],
        [
            plain("Ended in the period with over 90 days between first and second treatment"),
            count(c["hidden_waits"], links, "hidden_waits"),
            rate(r["hidden_wait_share"]),
        ],
    ]
    return Table("hidden_waits", "Hidden waits", ["Hidden waits", "Referrals", "Share"], rows)


def flags_table(data, links):
    rows = []
    for flag in data.flags:
        rows.append(
            [
                plain(flag["label"]),
                *(count(flag[key], links, "open_flags", rule=flag["rule"], age=key) for key, *_ in FLAG_AGES),
                count(flag["total"], links, "open_flags", rule=flag["rule"]),
            ]
        )
    return Table(
        "flags",
        "Open review flags by rule and age",
        ["Rule", *(label for _, label, *_ in FLAG_AGES), "Open"],
        rows,
        note="" if rows else "No open review flags for these referrals.",
    )


def supervision_table(data, links):
    s = data.supervision
    if not s.get("available"):
        return Table(
            "supervision",
            "Supervision compliance",
            ["Clinician", "Status"],
            [[plain("Not available"), plain(s.get("note", ""))]],
            note="Placeholder: supervision compliance is computed by the supervision module once it provides it.",
        )
    rows = []
    order = {False: 0, None: 2, True: 1}
    for person in sorted(s["rows"], key=lambda p: order[p["met"]]):  # stable: the module's own order within
        reqs = "; ".join(
            f"{req['label']}: {req['periods_met']} of {req['periods_due']} periods" for req in person["requirements"]
        )
        hi = person.get("hi_cases")
        rows.append(
            [
                plain(person["name"]),
                plain(person["role_display"]),
                plain({True: "Met", False: "Not met", None: "Not applicable"}[person["met"]]),
                plain(reqs or "–"),
                plain("–" if not hi else f"{hi['overdue_count']} of {hi['active']}", "text-end"),
                plain(person.get("unsigned_sessions", 0), "text-end"),
            ]
        )
    summary = s.get("summary") or {}
    return Table(
        "supervision",
        "Supervision compliance",
        ["Clinician", "Role", "Compliance", "Requirements met", "HI cases overdue a review", "Unsigned sessions"],
        rows,
        note=(
            f"{summary.get('met', 0)} of {summary.get('assessed', 0)} clinicians met every requirement "
            f"({charts.percent(summary.get('share'))}) over the last {s.get('weeks', '')} weeks; "
            "those who did not meet them first."
        ),
        per_person=True,
    )


BUILDERS = {
    "outcomes": headline_table,
    "trend": trend_table,
    "caseload": caseload_table,
    "waiting": waiting_table,
    "hidden_waits": hidden_waits_table,
    "by_step": by_step_table,
    "by_clinician": by_clinician_table,
    "flags": flags_table,
    "supervision": supervision_table,
}


def tables(data, links, only=None):
    return [build(data, links) for key, build in BUILDERS.items() if only is None or key == only]


# ---------------------------------------------------------------------------------------------
# Charts in one pass: the markup of templates/dashboard/_chart.html and _marker.html, built as a string
# (tests/stepped_care/test_dashboard_charts.py holds the two to the same bytes). The trend chart's
# markers were an include each, a fifth of the dashboard's Python (issue 22).

_MARKERS = {
    "square": '<rect x="-3.5" y="-3.5" width="7" height="7" fill="{}"/>',
    "triangle": '<polygon points="0,-4.5 4,3 -4,3" fill="{}"/>',
    "diamond": '<polygon points="0,-4.5 4.5,0 0,4.5 -4.5,0" fill="{}"/>',
}
_CIRCLE = '<circle r="3.5" fill="{}"/>'


def _v(value):
    """A value as a template variable prints it: ``str`` and escaped."""
    return escape(str(value))


def marker_html(marker, colour):
    return _MARKERS.get(marker, _CIRCLE).format(_v(colour)) + "\n"


def _left_less_6(left):
    try:  # the template's ``left|add:-6``: whole numbers
        return int(left) - 6
    except (TypeError, ValueError):
        return ""


def chart_html(chart, key):
    """One dashboard chart as inline SVG with its legend (the table below it holds the same numbers)."""
    c, k = chart, _v(key)
    left, right, bottom = _v(c.left), _v(c.right), _v(c.bottom)
    out = [
        '\n<figure class="mb-2">\n'
        f'  <svg viewBox="0 0 {_v(c.width)} {_v(c.height)}" width="{_v(c.width)}" height="{_v(c.height)}" '
        f'class="img-fluid" role="img" aria-labelledby="chart-{k}-title" focusable="false">\n'
        f'    <title id="chart-{k}-title">{_v(c.title)} (the numbers are in the table below)</title>\n    '
    ]
    for tick in c.y_ticks:
        p = _v(tick.position)
        out.append(
            f'\n    <line x1="{left}" x2="{right}" y1="{p}" y2="{p}" stroke="#dee2e6" stroke-width="1"/>\n'
            f'    <text x="{_left_less_6(c.left)}" y="{p}" dy="4" text-anchor="end" font-size="11" '
            f'fill="#495057">{_v(tick.label)}</text>\n    '
        )
    out.append("\n    ")
    for tick in c.x_ticks:
        out.append(
            f'\n    <text x="{_v(tick.position)}" y="{bottom}" dy="16" text-anchor="middle" font-size="11" '
            f'fill="#495057">{_v(tick.label)}</text>\n    '
        )
    out.append("\n    ")
    for target in c.targets:
        y, label = _v(target.y), _v(target.label)
        out.append(
            f'\n    <line class="target" x1="{left}" x2="{right}" y1="{y}" y2="{y}" stroke="#6c757d" '
            f'stroke-width="1" stroke-dasharray="4 4"><title>{label}</title></line>\n'
            f'    <text x="{right}" y="{y}" dy="-3" text-anchor="end" font-size="10" fill="#495057">{label}</text>\n    '
        )
    out.append("\n    ")
    for bar in c.bars:
        out.append(
            f'\n    <rect x="{_v(bar.x)}" y="{_v(bar.y)}" width="{_v(bar.width)}" height="{_v(bar.height)}" '
            f'fill="{_v(bar.colour)}"><title>{_v(bar.label)}</title></rect>\n    '
        )
    out.append("\n    ")
    for line in c.lines:
        dash = f' stroke-dasharray="{_v(line.dash)}"' if line.dash else ""
        mark, name = marker_html(line.marker, line.colour), _v(line.name)
        points = "".join(
            f'<g transform="translate({_v(x)} {_v(y)})">{mark}<title>{name}: {_v(label)}</title></g>'
            for x, y, label in line.points
        )
        out.append(
            f'\n    <g class="series" data-marker="{_v(line.marker)}">\n'
            f'    <polyline points="{_v(line.polyline)}" fill="none" stroke="{_v(line.colour)}" stroke-width="2"{dash}/>\n'
            f"    {points}\n    </g>\n    "
        )
    out.append(
        f'\n    <line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="#6c757d" stroke-width="1"/>\n'
        '  </svg>\n  <figcaption class="small text-muted">\n    '
    )
    for entry in c.legend:
        if c.lines:
            dash = f' stroke-dasharray="{_v(entry.dash)}"' if entry.dash else ""
            swatch = (
                '<svg width="30" height="12" viewBox="-15 -6 30 12" aria-hidden="true" focusable="false">'
                f'<line x1="-14" x2="14" y1="0" y2="0" stroke="{_v(entry.colour)}" stroke-width="2"{dash}/>'
                f"{marker_html(entry.marker, entry.colour)}</svg>"
            )
        else:
            swatch = (
                '<svg width="12" height="12" aria-hidden="true" focusable="false">'
                f'<rect width="12" height="12" fill="{_v(entry.colour)}"/></svg>'
            )
        out.append(f'<span class="me-3 text-nowrap">{swatch} {_v(entry.name)}</span>')
    out.append("\n    ")
    if c.targets:
        out.append('<span class="text-nowrap">Grey dashed lines: national targets.</span>')
    out.append("\n  </figcaption>\n</figure>\n")
    return mark_safe("".join(out))  # noqa: S308 - every value is escaped above  # nosec B308 B703
