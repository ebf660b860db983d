"""Template helpers for questionnaire totals and the one meaning of "sessions attended"."""

from django import template
from django.utils.safestring import mark_safe

from outcomes import presenters
from outcomes.metrics import SESSIONS_ATTENDED, SESSIONS_ATTENDED_MEANS

register = template.Library()


@register.filter
def score(measure, total):
    """``{% include "components/score.html" with score="PHQ9"|score:total %}``: a Score, or None."""
    return presenters.score(measure, total)


@register.simple_tag
def sessions_attended_label():
    return SESSIONS_ATTENDED


@register.simple_tag
def sessions_attended_means():
    return SESSIONS_ATTENDED_MEANS


@register.simple_tag
def score_cell(cell, show_measure=False, compact=False):
    """``{% score_cell score %}``: what ``{% include "components/score.html" with score=score %}`` renders
    (line breaks included), from ``presenters.score_html``, which builds each score's markup once."""
    return mark_safe(f"\n{presenters.score_html(cell, show_measure=show_measure, compact=compact)}\n")  # noqa: S308  # nosec B308 B703
