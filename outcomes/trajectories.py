"""Expected recovery curves ("not on track"): fitted from a service's own finished courses, and a
patient's scores judged against them. Pure: no ORM, no clock (DOMAIN §10).

Published practice (Lambert's OQ system, Lutz et al. 2006, Delgadillo et al. 2018) compares each
patient's score, session by session, with the paths of similar past patients: same measure, similar
intake severity. The published curve tables were not obtainable, so the curves are fitted from the
service's finished courses, and the method is a named, swappable strategy (``METHODS``).

Words used here:

- a *course* is one finished referral's scores of one measure in date order; its first score is the
  *intake* (session 1), the next scored session is session 2, and so on (sessions count scores of that
  measure, whatever the contacts in between);
- the *intake band* is the measure's severity band of the intake score (PHQ-9 15-19 "moderately
  severe"...); a measure without published bands (the ADSMs) is split at its caseness cut-off and the
  middle of the range above it;
- a *cell* is one (measure, intake band, session): how many courses reached it (N) and the percentiles
  ``PERCENTILES`` (50th, 55th ... 95th) of the strategy's value there, interpolated linearly between
  ranks (what PostgreSQL's ``percentile_cont`` computes, so the database and this module agree). A cell
  with fewer than ``min_n`` courses is left out: no curve is better than a noisy one.

Judging: the latest score is compared with the cell of its session (or the last fitted session before
it, once a patient outlasts the curve). Scores are symptoms, so *higher is worse*: above the tolerance
percentile (default the 75th) the patient is **amber** (above the expected path), above the outer
percentile (default the 90th) **red** (above its outer band); otherwise on track. The tolerance is a
team setting: ``tune`` picks the percentile that flags a chosen share of the active cases (published
practice aims at roughly 15-25%).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .scoring import GAD7, HAI, INSTRUMENTS, MI_ALONE, OCI, PCL5, PDSS, PHQ9, SPIN

# The measures curves are fitted for: PHQ-9, GAD-7 and every ADSM with a published cut-off.
FITTED_MEASURES = (PHQ9, GAD7, SPIN, PDSS, PCL5, OCI, HAI, MI_ALONE)
PERCENTILES = (50, 55, 60, 65, 70, 75, 80, 85, 90, 95)
DEFAULT_MIN_N = 30
DEFAULT_MAX_SESSION = 20  # step 3 runs up to about 20 sessions (Delgadillo et al. 2018)
DEFAULT_TOLERANCE = 75
DEFAULT_OUTER = 90
FIRST_JUDGED_SESSION = 2  # session 1 is the intake itself

ON_TRACK, AMBER, RED = "on_track", "amber", "red"
STATUS_LABELS = {ON_TRACK: "On track", AMBER: "Not on track (amber)", RED: "Not on track (red)"}


# ---------------------------------------------------------------------------------------------
# Intake bands


@dataclass(frozen=True, slots=True)
class IntakeBand:
    index: int
    low: float
    high: float
    label: str

    def __str__(self):
        return f"{format_number(self.low)}–{format_number(self.high)}"


def format_number(value) -> str:
    value = float(value)
    return str(int(value)) if value == int(value) else f"{value:.2f}"


def bands(measure: str) -> tuple[IntakeBand, ...]:
    """The intake-severity bands of a measure: its published severity bands, or (for a measure with
    none) below caseness, caseness to the middle of the rest, and the upper half."""
    inst = INSTRUMENTS[measure]
    if inst.bands:
        return tuple(IntakeBand(i, b.low, b.high, b.label) for i, b in enumerate(inst.bands))
    low, high = float(inst.total_min), float(inst.total_max)
    cut = float(inst.caseness) if inst.caseness is not None else (low + high) / 2
    step = 0.01 if inst.decimals else 1
    middle = round((cut + high) / 2, 2) if inst.decimals else float((int(cut) + int(high)) // 2)
    return (
        IntakeBand(0, low, round(cut - step, 2), "below caseness"),
        IntakeBand(1, cut, middle, "caseness"),
        IntakeBand(2, round(middle + step, 2), high, "upper range"),
    )


def band_of(measure: str, intake) -> IntakeBand | None:
    value = float(intake)
    for band in bands(measure):
        if value <= band.high + 1e-9:
            return band if value >= band.low - 1e-9 else None
    return None


def band_cases(measure: str, column: str) -> str:
    """SQL CASE giving the band index of ``column`` for ``measure`` (the database's fit uses it)."""
    whens = " ".join(f"WHEN {column} <= {b.high} THEN {b.index}" for b in bands(measure))
    return f"CASE {whens} END"


# ---------------------------------------------------------------------------------------------
# Strategies


@dataclass(frozen=True, slots=True)
class Method:
    """A way of fitting: what value the percentiles are taken of, and how a cell becomes a patient's
    expected score. ``change`` methods take percentiles of the change from intake and add the patient's
    own intake back, so patients at either end of a wide band are compared fairly."""

    name: str
    change: bool
    description: str

    def value(self, intake: float, score: float) -> float:
        return score - intake if self.change else score

    def expected(self, cell_value: float, intake: float) -> float:
        return cell_value + intake if self.change else cell_value


EMPIRICAL = Method(
    "empirical-percentiles-v1",
    False,
    "Percentiles of the score at each session, per measure and intake band, over finished courses.",
)
CHANGE = Method(
    "change-from-intake-v1",
    True,
    "Percentiles of the change from intake at each session, per measure and intake band, added to the "
    "patient's own intake.",
)
METHODS = {m.name: m for m in (EMPIRICAL, CHANGE)}
DEFAULT_METHOD = EMPIRICAL.name


def method(name: str) -> Method:
    try:
        return METHODS[name]
    except KeyError:
        raise ValueError(f"Unknown trajectory method {name!r}; known ones are {', '.join(METHODS)}.") from None


# ---------------------------------------------------------------------------------------------
# Fitting


def percentile(ordered: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile of sorted values, interpolated linearly between ranks (``percentile_cont``)."""
    if not ordered:
        raise ValueError("no values")
    rank = (len(ordered) - 1) * pct / 100
    below = int(rank)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (rank - below)


@dataclass(frozen=True, slots=True)
class Cell:
    measure: str
    band: int
    session: int
    n: int
    values: tuple[float, ...]  # one per PERCENTILES

    def at(self, pct: int) -> float:
        return self.values[PERCENTILES.index(pct)]


@dataclass(frozen=True, slots=True)
class Course:
    """One finished course of one measure: its scores in session order (the first is the intake)."""

    measure: str
    scores: tuple[float, ...]
    ended_on: dt.date | None = None


def cell_from_values(measure, band, session, values: Iterable[float]) -> Cell:
    ordered = sorted(float(v) for v in values)
    return Cell(measure, band, session, len(ordered), tuple(round(percentile(ordered, p), 4) for p in PERCENTILES))


def keep(cells: Iterable[Cell], min_n: int) -> list[Cell]:
    """The cells with at least ``min_n`` courses, in (measure, band, session) order."""
    return sorted((c for c in cells if c.n >= min_n), key=lambda c: (c.measure, c.band, c.session))


def fit(
    courses: Iterable[Course],
    *,
    method_name: str = DEFAULT_METHOD,
    min_n: int = DEFAULT_MIN_N,
    max_session: int = DEFAULT_MAX_SESSION,
) -> list[Cell]:
    """Fit the curves from finished courses: per measure, intake band and session (2 to ``max_session``),
    the percentiles of the method's value; cells under ``min_n`` courses are left out."""
    how = method(method_name)
    groups: dict[tuple, list[float]] = {}
    for course in courses:
        if course.measure not in FITTED_MEASURES or len(course.scores) < FIRST_JUDGED_SESSION:
            continue
        intake = float(course.scores[0])
        band = band_of(course.measure, intake)
        if band is None:
            continue
        for session, score in enumerate(course.scores[1:max_session], start=FIRST_JUDGED_SESSION):
            groups.setdefault((course.measure, band.index, session), []).append(how.value(intake, float(score)))
    return keep((cell_from_values(*key, values) for key, values in groups.items()), min_n)


# ---------------------------------------------------------------------------------------------
# Judging


@dataclass(frozen=True)
class Curves:
    """A fit as the judge reads it: the cells by (measure, band, session) and what the fit rests on."""

    method_name: str
    cells: Mapping[tuple[str, int, int], Cell]
    version: int | None = None
    courses: int = 0
    fitted_from: dt.date | None = None
    fitted_to: dt.date | None = None
    last_session: Mapping[tuple[str, int], int] = field(default_factory=dict)

    @classmethod
    def of(cls, method_name, cells: Iterable[Cell], **facts):
        by_key = {(c.measure, c.band, c.session): c for c in cells}
        last: dict = {}
        for measure, band, session in by_key:
            last[(measure, band)] = max(last.get((measure, band), 0), session)
        return cls(method_name, by_key, last_session=last, **facts)

    def cell(self, measure, band, session) -> Cell | None:
        """The cell of this session, or of the last fitted session before it (the curve has flattened
        by then); None before the first fitted session or where nothing was fitted."""
        found = self.cells.get((measure, band, session))
        if found is not None:
            return found
        last = self.last_session.get((measure, band))
        if last is not None and session > last:
            return self.cells.get((measure, band, last))
        return None

    @property
    def empty(self):
        return not self.cells


@dataclass(frozen=True, slots=True)
class Judgement:
    """A patient's latest score of one measure against the expected band for its session."""

    measure: str
    status: str
    session: int
    compared_session: int  # the fitted session compared with (= session unless the curve ended)
    score: float
    on: dt.date | None
    intake: float
    band: IntakeBand
    n: int
    median: float
    upper: float  # the tolerance percentile: above it, amber
    outer: float  # the outer percentile: above it, red
    tolerance: int
    outer_pct: int
    method_name: str

    @property
    def not_on_track(self) -> bool:
        return self.status != ON_TRACK

    @property
    def label(self):
        return STATUS_LABELS[self.status]

    def words(self) -> str:
        """'PHQ-9 17 at session 4; expected 8–13 for intake 15–19, N = 412'."""
        name = INSTRUMENTS[self.measure].name
        at = f"session {self.session}"
        if self.compared_session != self.session:
            at += f" (compared with session {self.compared_session}, the last fitted)"
        return (
            f"{name} {format_number(self.score)} at {at}; expected {format_number(self.median)}–"
            f"{format_number(self.upper)} for intake {self.band}, N = {self.n}"
        )

    def evidence(self) -> dict:
        return {
            "measure": self.measure,
            "status": self.status,
            "session": self.session,
            "compared_session": self.compared_session,
            "score": _plain(self.score),
            "scored_on": self.on.isoformat() if self.on else None,
            "intake": _plain(self.intake),
            "intake_band": str(self.band),
            "n": self.n,
            "expected_median": _plain(self.median),
            "expected_upper": _plain(self.upper),
            "expected_outer": _plain(self.outer),
            "tolerance_percentile": self.tolerance,
            "outer_percentile": self.outer_pct,
            "method": self.method_name,
        }


def _plain(value):
    value = round(float(value), 2)
    return int(value) if value == int(value) else value


def check_percentiles(tolerance: int, outer: int):
    if tolerance not in PERCENTILES or outer not in PERCENTILES or outer <= tolerance:
        raise ValueError(
            f"Choose a tolerance and an outer percentile from {', '.join(map(str, PERCENTILES))}, the outer higher."
        )


def expected_at(curves: Curves, measure, intake, session, tolerance=DEFAULT_TOLERANCE, outer=DEFAULT_OUTER):
    """(cell, median, upper, outer) expected at ``session`` for a patient with this intake, or None."""
    band = band_of(measure, intake)
    if band is None:
        return None
    cell = curves.cell(measure, band.index, session)
    if cell is None:
        return None
    how = method(curves.method_name)
    intake = float(intake)
    return (
        cell,
        how.expected(cell.at(50), intake),
        how.expected(cell.at(tolerance), intake),
        how.expected(cell.at(outer), intake),
    )


def judge(
    curves: Curves,
    measure: str,
    scores: Sequence[tuple[dt.date | None, float]],
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    outer: int = DEFAULT_OUTER,
    upto: int | None = None,
) -> Judgement | None:
    """Judge the latest of a patient's scores of ``measure`` ((date, score) in date order; the first is
    the intake), or the score of session ``upto``. None when there is nothing to compare with: one score
    only, an intake outside the bands, or no fitted cell for this intake band and session."""
    check_percentiles(tolerance, outer)
    if upto is not None:
        scores = scores[:upto]
    if len(scores) < FIRST_JUDGED_SESSION:
        return None
    intake = float(scores[0][1])
    session = len(scores)
    found = expected_at(curves, measure, intake, session, tolerance, outer)
    if found is None:
        return None
    cell, median, upper, top = found
    on, score = scores[-1]
    score = float(score)
    status = RED if score > top else AMBER if score > upper else ON_TRACK
    return Judgement(
        measure,
        status,
        session,
        cell.session,
        score,
        on,
        intake,
        band_of(measure, intake),
        cell.n,
        median,
        upper,
        top,
        tolerance,
        outer,
        curves.method_name,
    )


def worst(judgements: Iterable[Judgement | None]) -> Judgement | None:
    """The most concerning judgement (red before amber before on track; PHQ-9 first on a tie)."""
    rank = {RED: 0, AMBER: 1, ON_TRACK: 2}
    found = [j for j in judgements if j is not None]
    return min(found, key=lambda j: (rank[j.status], j.measure != PHQ9)) if found else None


def band_path(curves: Curves, measure, intake, sessions: int, tolerance=DEFAULT_TOLERANCE, outer=DEFAULT_OUTER):
    """[(session, median, upper, outer, n)] for sessions 2..``sessions``: the expected band the chart draws."""
    path = []
    for session in range(FIRST_JUDGED_SESSION, sessions + 1):
        found = expected_at(curves, measure, intake, session, tolerance, outer)
        if found is not None:
            cell, median, upper, top = found
            path.append((session, median, upper, top, cell.n))
    return path


# ---------------------------------------------------------------------------------------------
# Validation and tuning


@dataclass(frozen=True, slots=True)
class HeldOut:
    """A held-out finished course: its scores per measure ((date, score) in order) and whether it recovered."""

    scores: Mapping[str, Sequence[tuple[dt.date | None, float]]]
    recovered: bool | None


def flagged_by(curves, scores: Mapping, by_session: int, tolerance=DEFAULT_TOLERANCE, outer=DEFAULT_OUTER) -> bool:
    """Whether any score of sessions 2..``by_session`` of any measure was above the expected band."""
    for measure, series in scores.items():
        for session in range(FIRST_JUDGED_SESSION, min(by_session, len(series)) + 1):
            found = judge(curves, measure, series, tolerance=tolerance, outer=outer, upto=session)
            if found is not None and found.not_on_track:
                return True
    return False


@dataclass(frozen=True, slots=True)
class Validation:
    courses: int  # held-out courses with a recovery outcome
    flagged: int
    true_positive: int  # flagged and not recovered
    false_positive: int
    true_negative: int
    false_negative: int
    by_session: int
    tolerance: int

    @staticmethod
    def _ratio(a, b):
        return a / b if b else None

    @property
    def flagged_share(self):
        return self._ratio(self.flagged, self.courses)

    @property
    def sensitivity(self):
        return self._ratio(self.true_positive, self.true_positive + self.false_negative)

    @property
    def specificity(self):
        return self._ratio(self.true_negative, self.true_negative + self.false_positive)

    @property
    def ppv(self):
        return self._ratio(self.true_positive, self.true_positive + self.false_positive)


def validate(
    curves: Curves, held_out: Iterable[HeldOut], *, by_session=4, tolerance=DEFAULT_TOLERANCE, outer=DEFAULT_OUTER
) -> Validation:
    """How well a flag by ``by_session`` predicts non-recovery on courses the fit never saw."""
    check_percentiles(tolerance, outer)
    tp = fp = tn = fn = 0
    for course in held_out:
        if course.recovered is None:
            continue
        flagged = flagged_by(curves, course.scores, by_session, tolerance, outer)
        if flagged:
            tp, fp = (tp + 1, fp) if not course.recovered else (tp, fp + 1)
        else:
            fn, tn = (fn + 1, tn) if not course.recovered else (fn, tn + 1)
    return Validation(tp + fp + tn + fn, tp + fp, tp, fp, tn, fn, by_session, tolerance)


def share_flagged(curves, active: Iterable[Mapping], tolerance, outer=DEFAULT_OUTER) -> tuple[int, int]:
    """(flagged, judged) among active cases, at their latest scores."""
    flagged = judged = 0
    for scores in active:
        found = worst(judge(curves, m, s, tolerance=tolerance, outer=outer) for m, s in scores.items())
        if found is None:
            continue
        judged += 1
        flagged += found.not_on_track
    return flagged, judged


def tune(curves, active: Sequence[Mapping], target: float = 0.20, outer=DEFAULT_OUTER) -> list[tuple[int, float, bool]]:
    """For each tolerance percentile below the outer one: (percentile, share of active cases flagged,
    whether it is the one closest to ``target``). The share falls as the percentile rises."""
    active = list(active)
    rows = []
    for pct in PERCENTILES:
        if pct >= outer:
            break
        flagged, judged = share_flagged(curves, active, pct, outer)
        rows.append((pct, flagged / judged if judged else 0.0))
    if not rows:
        return []
    best = min(rows, key=lambda r: (abs(r[1] - target), -r[0]))[0]
    return [(pct, share, pct == best) for pct, share in rows]
