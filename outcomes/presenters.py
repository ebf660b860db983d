"""Questionnaire totals as every page shows them (``templates/components/score.html``). No queries."""

from __future__ import annotations

from dataclasses import dataclass

from .scoring import INSTRUMENTS, ScoringError, severity


@dataclass(frozen=True)
class Score:
    """One total of one measure, with its severity band."""

    measure: str
    total: int

    @property
    def instrument(self):
        return INSTRUMENTS[self.measure]

    @property
    def name(self) -> str:
        return self.instrument.name

    @property
    def value(self) -> int:
        return self.total

    @property
    def severity(self) -> str:
        return severity(self.measure, self.total)

    @property
    def css(self) -> str:
        return "severity-" + self.severity.replace(" ", "-")

    @property
    def max_total(self) -> int:
        return self.instrument.max_total

    @property
    def is_case(self) -> bool:
        cut = self.instrument.caseness
        return cut is not None and self.total >= cut

    @property
    def band_index(self) -> int:
        """1 for the mildest band, up to ``band_count`` for the most severe."""
        return next(n for n, band in enumerate(self.instrument.bands, 1) if band.low <= self.total <= band.high)

    @property
    def band_count(self) -> int:
        return len(self.instrument.bands)

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
