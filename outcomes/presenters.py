"""Questionnaire totals as every page shows them (``templates/components/score.html``). No queries."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from html import escape  # the standard library's: Django's lazy-aware wrapper costs more per cell

from .scoring import INSTRUMENTS, ScoringError, severity

CASENESS_BANDS = ("below caseness", "caseness")  # for measures with a cut-off but no published bands


@dataclass(frozen=True)
class Score:
    """One score of one measure, with its severity band (or, for a measure without published bands, whether
    it is at caseness). ``total`` is an int, or a Decimal for the Mobility Inventory's mean."""

    measure: str
    total: object

    @property
    def instrument(self):
        return INSTRUMENTS[self.measure]

    @property
    def name(self) -> str:
        return self.instrument.name

    @property
    def value(self):
        return self.total

    @property
    def display(self) -> str:
        """As the data set writes it: whole numbers, the Mobility Inventory as d.dd."""
        return self.instrument.format(self.total)

    @property
    def severity(self) -> str:
        """The band in words: the published severity band, else caseness, else nothing."""
        band = severity(self.measure, self.total)
        if band:
            return band
        case = self.instrument.is_case(self.total)
        return "" if case is None else CASENESS_BANDS[int(case)]

    @property
    def css(self) -> str:
        return "severity-" + self.severity.replace(" ", "-") if self.severity else ""

    @property
    def max_total(self):
        return self.instrument.max_total

    @property
    def is_case(self) -> bool:
        return bool(self.instrument.is_case(self.total))

    @property
    def band_index(self) -> int:
        """1 for the mildest band, up to ``band_count`` for the most severe (0 without bands)."""
        bands = self.instrument.bands
        if bands:
            return next(n for n, band in enumerate(bands, 1) if band.low <= self.total <= band.high)
        case = self.instrument.is_case(self.total)
        return 0 if case is None else 1 + int(case)

    @property
    def band_count(self) -> int:
        if self.instrument.bands:
            return len(self.instrument.bands)
        return len(CASENESS_BANDS) if self.instrument.caseness_threshold else 0

    @property
    def pips(self) -> list[bool]:
        """One marker per band, filled up to this total's band: severity told by shape, not only colour."""
        return [n <= self.band_index for n in range(1, self.band_count + 1)]


def score(measure, total) -> Score | None:
    """The Score of ``total`` on ``measure``, or None when there is no (valid) total."""
    if total is None or measure not in INSTRUMENTS:
        return None
    try:
        severity(measure, total)
    except ScoringError:
        return None
    return Score(measure, total)


# The HTML of templates/components/score.html, for list rows rendered in one pass (referrals.tables,
# supervision.tables): a score's markup depends only on its measure, total and two switches, so each is
# built once per process. tests/referrals/test_row_fragments.py keeps it equal to the template.
NO_SCORE_HTML = '<span class="text-muted">–</span>'


@lru_cache(maxsize=4096)
def _score_html(measure, total, show_measure, compact):
    cell = Score(measure, total)
    band, name = escape(cell.severity), escape(cell.name)
    label = f"{name} " if show_measure else f'<span class="visually-hidden">{name} </span>'
    pips = "".join('<span class="pip on"></span>' if on else '<span class="pip"></span>' for on in cell.pips)
    return (
        f'<span class="score {escape(cell.css)}">{label}<strong>{escape(cell.display)}</strong> '
        f'<span class="score-band{" visually-hidden" if compact else ""}">{band}</span>'
        f'<span class="score-pips" aria-hidden="true" title="{band}: band {cell.band_index} of {cell.band_count}">'
        f"{pips}</span></span>"
    )


def score_html(cell, *, show_measure=False, compact=False):
    """``components/score.html`` for ``cell`` (a Score or None), as a plain (escaped) string."""
    if not cell:
        return NO_SCORE_HTML
    return _score_html(cell.measure, cell.total, bool(show_measure), bool(compact))
