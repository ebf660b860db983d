"""Presenters: turn referrals, scores and events into what the templates show, so that templates stay
free of logic. No queries here: the views hand in rows already fetched (with a fixed number of queries)
and ``today``, so that days-since and days-waited are plain arithmetic."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from outcomes import trajectories
from outcomes.charts import measure_chart, questionnaire_chart, sparkline
from outcomes.presenters import Score
from outcomes.presenters import score as score_cell
from outcomes.problems import ProblemRecord, deciding
from outcomes.scoring import GAD7, INSTRUMENTS, PHQ9, RISK_ITEM, WSAS, severity
from stepped_care.models import Step

from .codes import ReferralStatus

STEP_LABELS = dict(Step.choices)
SPARK_W, SPARK_H = 96, 28  # the caseload's trend lines (px)


def score_words(measure, value):
    """'PHQ-9 14 (moderate)', 'SPIN 40 (caseness)', 'MI alone 2.30 (caseness)'."""
    cell = score_cell(measure, value)
    if cell is None:
        return f"{INSTRUMENTS[measure].name} {value}"
    return f"{cell.name} {cell.display}" + (f" ({cell.severity})" if cell.severity else "")


def step_label(step):
    return STEP_LABELS.get(step, "Not yet assigned") if step else "Not yet assigned"


def short_step(step):
    return f"Step {step}" if step else "–"


@dataclass
class CaseloadRow:
    referral: object
    phq9: Score | None
    gad7: Score | None
    phq9_trend: str
    gad7_trend: str
    trend_points: int
    trend_summary: str
    flags: list
    days_since_contact: int | None
    risk: bool

    @property
    def patient(self):
        return self.referral.patient

    @property
    def not_on_track(self):
        """The open not-on-track flag (amber or red), kept current by the review engine, or None."""
        return not_on_track(self.flags)


def not_on_track(flags):
    return next((f for f in flags if f.rule == "not_on_track"), None)


def _trend_values(scores, measure):
    return [s.total for s in scores if s.measure == measure]


def _trend_summary(phq, gad):
    parts = []
    for name, values in (("PHQ-9", phq), ("GAD-7", gad)):
        if values:
            parts.append(f"{name} " + ", ".join(str(v) for v in values))
    return "; ".join(parts) or "No scores yet"


def caseload_rows(referrals, today: dt.date):
    """Rows for the caseload table from referrals annotated by ``with_list_facts`` and prefetched by
    ``with_trends_and_flags``."""
    rows = []
    y_max = max(INSTRUMENTS[PHQ9].max_total, INSTRUMENTS[GAD7].max_total)
    for r in referrals:
        phq = _trend_values(r.trend_scores, PHQ9)
        gad = _trend_values(r.trend_scores, GAD7)
        rows.append(
            CaseloadRow(
                referral=r,
                phq9=score_cell(PHQ9, r.phq9_last),
                gad7=score_cell(GAD7, r.gad7_last),
                phq9_trend=sparkline(phq, y_max=y_max, width=SPARK_W, height=SPARK_H),
                gad7_trend=sparkline(gad, y_max=y_max, width=SPARK_W, height=SPARK_H),
                trend_points=max(len(phq), len(gad)),
                trend_summary=_trend_summary(phq, gad),
                flags=list(r.open_flags),
                days_since_contact=(today - r.last_attended_on).days if r.last_attended_on else None,
                risk=bool(r.has_risk_flag or (r.phq9_latest_item9 or 0) > 0),
            )
        )
    return rows


@dataclass
class WaitingRow:
    referral: object
    days_waited: int
    mark: str  # "within", "past_6_weeks", "past_18_weeks"
    mark_label: str
    days_to_next_mark: int | None

    @property
    def patient(self):
        return self.referral.patient

    @property
    def weeks_waited(self):
        return self.days_waited // 7


def waiting_rows(referrals, today: dt.date, waits: dict):
    """Days waited since the referral was received, against the 6- and 18-week marks (standards)."""
    six, eighteen = waits["six_weeks_days"], waits["eighteen_weeks_days"]
    rows = []
    for r in referrals:
        days = (today - r.received_on).days
        if days > eighteen:
            mark, label, left = "past_18_weeks", "Past 18 weeks", None
        elif days > six:
            mark, label, left = "past_6_weeks", "Past 6 weeks", eighteen - days
        else:
            mark, label, left = "within", "Within 6 weeks", six - days
        rows.append(WaitingRow(r, days, mark, label, left))
    return rows


@dataclass
class ScoreRow:
    """One contact's questionnaires, as a row of the questionnaire table."""

    on: dt.date
    contact: object
    cells: dict = field(default_factory=dict)  # measure -> Score
    wsas: int | None = None
    wsas_severity: str | None = None
    item9: int | None = None
    by_patient: bool = False  # completed by the patient on their own (no contact)

    @property
    def phq9(self):
        return self.cells.get(PHQ9)

    @property
    def gad7(self):
        return self.cells.get(GAD7)

    @property
    def wsas_score(self):
        return score_cell(WSAS, self.wsas)


def score_rows(contacts, own_scores=()):
    """The questionnaire table: valid contacts with at least one valid questionnaire, and the scores the
    patient completed on their own (``own_scores``: responses without a contact, one row per day), oldest
    first; on a day with both, the patient's own come first (completed before the session)."""
    rows = []
    for contact in contacts:
        if contact.entered_in_error:
            continue
        responses = [q for q in contact.questionnaires.all() if not q.entered_in_error]
        if responses:
            rows.append(_score_row(ScoreRow(on=contact.date, contact=contact), responses))
    days = {}
    for q in own_scores:
        if not q.entered_in_error and q.contact_id is None:
            days.setdefault(q.completed_on, []).append(q)
    for on, responses in days.items():
        rows.append(_score_row(ScoreRow(on=on, contact=None, by_patient=True), responses))
    rows.sort(
        key=lambda r: (
            (r.on, not r.by_patient)
            + ((r.contact.time or dt.time.min, r.contact.created_at) if r.contact else (dt.time.min, dt.datetime.min))
        )
    )
    return rows


def _score_row(row, responses):
    for q in responses:
        if q.measure == WSAS:
            row.wsas, row.wsas_severity = q.total, severity(WSAS, q.total)
        else:
            row.cells[q.measure] = score_cell(q.measure, q.total)
        if q.measure == PHQ9:
            row.item9 = q.item_9
    return row


def patient_completed_words(rows, today):
    """What the patient completed on their own since their last session, for the next session form:
    "Completed by the patient yesterday: PHQ-9 14, GAD-7 9" (None when nothing is new)."""
    latest = rows[-1] if rows else None
    if latest is None or not latest.by_patient:
        return None
    days = (today - latest.on).days
    when = {0: "today", 1: "yesterday"}.get(days, f"on {latest.on:%d %b %Y}")
    cells = [latest.cells[code] for code in INSTRUMENTS if latest.cells.get(code)]
    scores = ", ".join(f"{cell.name} {cell.display}" for cell in cells)
    return f"Completed by the patient {when}: {scores}"


def expected_bands(points, curves, tolerance=trajectories.DEFAULT_TOLERANCE, outer=trajectories.DEFAULT_OUTER):
    """{measure: [(session, date, median, upper, outer, n)]}: the expected band for this patient's intake
    band at each of their scored sessions after the intake (empty without a fitted curve)."""
    if curves is None or curves.empty:
        return {}
    out = {}
    for measure, series in points.items():
        if len(series) < trajectories.FIRST_JUDGED_SESSION:
            continue
        path = trajectories.band_path(curves, measure, series[0][1], len(series), tolerance, outer)
        if path:
            out[measure] = [(s, series[s - 1][0], median, upper, top, n) for s, median, upper, top, n in path]
    return out


def band_words(measure, intake, path, tolerance, outer):
    """The expected band of ``measure`` at the patient's sessions, in words (for screen readers)."""
    band = trajectories.band_of(measure, intake)
    return (
        f"Expected {INSTRUMENTS[measure].name} band for intake {band} (the {tolerance}th and {outer}th "
        f"percentiles of the team's finished courses): "
        + "; ".join(
            f"session {s} {trajectories.format_number(m)}–{trajectories.format_number(u)}, red above "
            f"{trajectories.format_number(o)} (N = {n})"
            for s, _, m, u, o, n in path
        )
        + "."
    )


def trajectory(rows, curves=None, tolerance=trajectories.DEFAULT_TOLERANCE, outer=trajectories.DEFAULT_OUTER):
    """Chart geometry and an accessible description from the questionnaire table rows; with the team's
    expected curves, the expected band for the patient's intake band (DOMAIN §10)."""
    points = {PHQ9: [], GAD7: []}
    for row in rows:
        for measure in (PHQ9, GAD7):
            if measure in row.cells and row.cells[measure] is not None:
                points[measure].append((row.on, row.cells[measure].value))
    bands = expected_bands(points, curves, tolerance, outer)
    chart = questionnaire_chart(points, bands=bands)
    parts = []
    for measure, values in points.items():
        name = INSTRUMENTS[measure].name
        if not values:
            parts.append(f"no {name} scores")
        elif len(values) == 1:
            parts.append(f"{name} {values[0][1]} on {values[0][0]:%d %b %Y}")
        else:
            parts.append(
                f"{name} from {values[0][1]} on {values[0][0]:%d %b %Y} to {values[-1][1]} "
                f"on {values[-1][0]:%d %b %Y} over {len(values)} scores"
            )
    description = "; ".join(parts) + (
        f". Caseness lines at {INSTRUMENTS[PHQ9].name} {INSTRUMENTS[PHQ9].caseness} "
        f"and {INSTRUMENTS[GAD7].name} {INSTRUMENTS[GAD7].caseness}."
    )
    for measure, path in bands.items():
        description += " " + band_words(measure, points[measure][0][1], path, tolerance, outer)
    return chart, description


CHARTED_TOGETHER = (PHQ9, GAD7)  # the trajectory chart; every other measure gets a chart of its own


def _other_measures(rows, outcome):
    """Measures other than PHQ-9, GAD-7 and WSAS with scores on this referral, the anxiety measure in use
    (or the one the presenting problem calls for) first, then in the order of the measures table."""
    present = {m for row in rows for m in row.cells if m not in CHARTED_TOGETHER}
    first = [m for m in (outcome.anxiety_measure, outcome.adsm) if m and m not in CHARTED_TOGETHER]
    return list(dict.fromkeys([*[m for m in first if m in present], *[m for m in INSTRUMENTS if m in present]]))


def score_columns(rows, outcome):
    """Columns of the questionnaire table: PHQ-9, GAD-7, then every other measure recorded (WSAS last)."""
    return [(m, INSTRUMENTS[m].name) for m in (*CHARTED_TOGETHER, *_other_measures(rows, outcome))]


def score_table(rows, columns):
    """(row, [cell per column]) for the questionnaire table."""
    return [(row, [row.cells.get(code) for code, _ in columns]) for row in rows]


@dataclass(frozen=True)
class MeasureChart:
    code: str
    name: str
    title: str
    chart: object
    description: str
    decides: bool  # the anxiety measure the outcome uses


def measure_charts(
    rows, outcome, curves=None, tolerance=trajectories.DEFAULT_TOLERANCE, outer=trajectories.DEFAULT_OUTER
):
    """One chart per other measure with scores (SPIN, PCL-5, the Mobility Inventory ...), each on its own
    scale with its caseness line and, with the team's expected curves, the expected band for the
    patient's intake (as the trajectory chart draws PHQ-9's); described in words for screen readers."""
    out = []
    for code in _other_measures(rows, outcome):
        inst = INSTRUMENTS[code]
        points = [(row.on, row.cells[code].value) for row in rows if row.cells.get(code) is not None]
        values = [inst.format(v) for _, v in points]
        if len(points) == 1:
            words = f"{inst.name} {values[0]} on {points[0][0]:%d %b %Y}"
        else:
            words = (
                f"{inst.name} from {values[0]} on {points[0][0]:%d %b %Y} to {values[-1]} on "
                f"{points[-1][0]:%d %b %Y} over {len(points)} scores"
            )
        if inst.caseness_threshold:
            words += f". Caseness: {inst.caseness_threshold}."
        bands = expected_bands({code: points}, curves, tolerance, outer)
        if code in bands:
            words += " " + band_words(code, points[0][1], bands[code], tolerance, outer)
        chart = measure_chart(code, points, bands=bands)
        out.append(MeasureChart(code, inst.name, inst.title, chart, words, code == outcome.anxiety_measure))
    return out


def deciding_record(problems):
    """The record (model instance) of the presenting problem that decides the anxiety measure, or None."""
    records = [ProblemRecord(p.code, p.significance, p.recorded_on, p.created_at, p.problem) for p in problems]
    chosen = deciding(records)
    return problems[records.index(chosen)] if chosen else None


@dataclass(frozen=True)
class HistoryItem:
    at: dt.datetime
    title: str
    detail: str
    by: object
    kind: str


def history(events, steps):
    """Referral events (received, allocated, status, discharged) and step changes, newest first."""
    items = [
        HistoryItem(
            at=e.at,
            title=(
                f"Allocated to {e.to_value}"
                if e.kind == "allocated"
                else (f"{e.get_kind_display()}: {e.to_value}" if e.to_value else e.get_kind_display())
            ),
            detail=(f"Previously {e.from_value}. " if e.from_value else "") + (e.note or ""),
            by=e.by,
            kind=e.kind,
        )
        for e in events
    ]
    items += [
        HistoryItem(
            at=s.created_at,
            title=f"{step_label(s.step)} from {s.started_on:%d %b %Y}",
            detail=f"{s.get_source_display()}: {s.reason}",
            by=s.decided_by,
            kind="step",
        )
        for s in steps
    ]
    return sorted(items, key=lambda i: i.at, reverse=True)


def is_open(referral):
    return referral.status != ReferralStatus.DISCHARGED


def nhs_number_display(value):
    """NHS numbers are read in 3-3-4 groups."""
    if not value or len(value) != 10:
        return value or ""
    return f"{value[:3]} {value[3:6]} {value[6:]}"


def age_on(born: dt.date, today: dt.date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def questionnaire_spec():
    """The measures as the session form's script needs them (items, scoring, bands, caseness)."""
    return {
        code: {
            "name": inst.name,
            "count": inst.item_count,
            "max": inst.format(inst.total_max),
            "item_min": inst.item_min,
            "item_max": inst.item_max,
            "scoring": inst.scoring,
            "missing": inst.missing,
            "max_missing": inst.max_missing,
            "reverse": list(inst.reverse_items),
            "bands": [[b.low, b.high, b.label] for b in inst.bands],
            "caseness": float(inst.caseness) if inst.caseness is not None else None,
            "caseness_op": inst.caseness_threshold.op if inst.caseness_threshold else None,
            "risk_item": RISK_ITEM if code == PHQ9 else None,
        }
        for code, inst in INSTRUMENTS.items()
    }
