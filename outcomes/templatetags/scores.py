"""Template helpers for questionnaire totals and the one meaning of "sessions attended"."""

from django import template

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
